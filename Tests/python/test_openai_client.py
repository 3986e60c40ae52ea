#!/usr/bin/env python3
"""The official `openai` client against a running `lmlab serve` (started by
Tests/LMLabTests/ServeOpenAITests.swift, or by hand):

    LMLAB_BASE_URL=http://127.0.0.1:PORT/v1 LMLAB_TEST_KEY=KEY LMLAB_BIN=.build/release/lmlab \
        python3 Tests/python/test_openai_client.py

The served model is SmolLM2 under the name `smollm2`. Greedy answers are checked
against the lab's own `gen --temp 0 --json --probs` on the same prompt, run in a
separate process: same tokens, same probabilities.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import openai

BASE = os.environ["LMLAB_BASE_URL"]
KEY = os.environ["LMLAB_TEST_KEY"]
BIN = os.environ["LMLAB_BIN"]
MODEL = "smollm2"
client = openai.OpenAI(base_url=BASE, api_key=KEY, max_retries=0, timeout=120)
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def lab_gen(prompt, max_tokens):
    """`gen PROMPT --temp 0 --json --probs` in the lab itself (a script, so the prompt may span lines)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lab", delete=False) as f:
        f.write("load smollm2\n")
        # A """ block drops one newline next to each quote: add one where the prompt has its own.
        block = ("\n" if prompt.startswith("\n") else "") + prompt + ("\n" if prompt.endswith("\n") else "")
        f.write('gen """%s""" --temp 0 --max %d --json --probs\n' % (block, max_tokens))
        path = f.name
    try:
        out = subprocess.run([BIN, "run", path], capture_output=True, text=True, timeout=300)
    finally:
        os.unlink(path)
    assert out.returncode == 0, out.stderr
    line = [l for l in out.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line)


def raw_post(path, body, key=KEY):
    """A POST the official client would never send (a malformed body)."""
    root = BASE[: -len("/v1")] if BASE.endswith("/v1") else BASE
    req = urllib.request.Request(root + path, data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# 1. The model list.
models = [m.id for m in client.models.list().data]
check(MODEL in models, "models.list names %s (got %s)" % (MODEL, models))

# 2. A greedy completion equals the lab's own greedy continuation.
prompt = "The capital of France is"
completion = client.completions.create(model=MODEL, prompt=prompt, max_tokens=8, temperature=0)
lab = lab_gen(prompt, 8)
check(completion.choices[0].text == lab["text"],
      "completion text %r equals gen's %r" % (completion.choices[0].text, lab["text"]))
check(completion.usage.prompt_tokens == lab["prompt_tokens"] and completion.usage.completion_tokens == lab["new_tokens"],
      "completion usage %d+%d equals gen's %d+%d" % (completion.usage.prompt_tokens, completion.usage.completion_tokens,
                                                      lab["prompt_tokens"], lab["new_tokens"]))

# 3. A chat answer in the chat template, with usage.
chat = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 2+2?"}],
                                      max_tokens=24, temperature=0)
answer = chat.choices[0].message.content
check(chat.choices[0].message.role == "assistant" and len(answer.strip()) > 0, "chat answers: %r" % answer)
check(chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens and chat.usage.prompt_tokens > 10,
      "chat usage adds up (%s)" % chat.usage)
check(chat.choices[0].finish_reason in ("stop", "length"), "chat finish_reason %s" % chat.choices[0].finish_reason)

# 4. A streamed chat with logprobs: the tokens and their probabilities equal the lab's.
system = "You are a helpful assistant."
question = "Name a colour."
stream = client.chat.completions.create(
    model=MODEL, messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
    max_tokens=12, temperature=0, stream=True, logprobs=True, top_logprobs=3,
    stream_options={"include_usage": True})
text, tokens, finish, usage, chunks = "", [], None, None, 0
for chunk in stream:
    chunks += 1
    if chunk.usage:
        usage = chunk.usage
    for choice in chunk.choices:
        text += choice.delta.content or ""
        if choice.logprobs and choice.logprobs.content:
            tokens += choice.logprobs.content
        finish = choice.finish_reason or finish
check(chunks >= 3, "stream came in %d chunks" % chunks)
rendered = "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n" % (system, question)
lab = lab_gen(rendered, 12)
check(text == lab["text"], "streamed chat %r equals gen's %r on the rendered template" % (text, lab["text"]))
check(len(tokens) == len(lab["probabilities"]), "one logprob per token: %d vs gen's %d" % (len(tokens), len(lab["probabilities"])))
check("".join(t.token for t in tokens) == text, "the logprob tokens spell the text")
agree = all(abs(math.exp(t.logprob) - p) < 1e-3 for t, p in zip(tokens, lab["probabilities"]))
check(agree, "exp(logprob) equals gen's probability for every token: %s vs %s" %
      ([round(math.exp(t.logprob), 4) for t in tokens], [round(p, 4) for p in lab["probabilities"]]))
check(all(len(t.top_logprobs) == 3 and t.top_logprobs[0].token == t.token
          and abs(t.top_logprobs[0].logprob - t.logprob) < 1e-9 for t in tokens),
      "greedy: each token is the first of its 3 top_logprobs")
check(usage is not None and usage.completion_tokens == len(tokens), "the usage chunk counts %s tokens" % (usage and usage.completion_tokens))
check(finish in ("stop", "length"), "stream ends with finish_reason %s" % finish)

# 5. Stop strings: the answer ends before the stop string.
full = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0).choices[0].text
stopped = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0, stop=[" 7"])
check(" 7" in full and stopped.choices[0].text == full[: full.index(" 7")] and stopped.choices[0].finish_reason == "stop",
      "stop=[' 7'] cuts %r to %r" % (full, stopped.choices[0].text))

# 6. A wrong key is refused with 401.
try:
    openai.OpenAI(base_url=BASE, api_key="not-the-key", max_retries=0).models.list()
    check(False, "a wrong key is refused")
except openai.AuthenticationError as e:
    check(e.status_code == 401 and e.body.get("code") == "invalid_api_key", "a wrong key gets 401 invalid_api_key")

# 7. An unknown model is 404.
try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}], max_tokens=4)
    check(False, "an unknown model is refused")
except openai.NotFoundError as e:
    check(e.status_code == 404 and e.body.get("code") == "model_not_found", "an unknown model gets 404 model_not_found")

# 8. A malformed body is 400, through the client and raw.
try:
    client.chat.completions.create(model=MODEL, messages="hello", max_tokens=4)
    check(False, "messages as a string is refused")
except openai.BadRequestError as e:
    check(e.status_code == 400 and "messages" in e.message, "messages as a string gets 400 naming 'messages'")
status, body = raw_post("/v1/chat/completions", b'{"model": "smollm2", "messages": [')
check(status == 400 and body["error"]["type"] == "invalid_request_error", "truncated JSON gets 400 in OpenAI's shape")
try:
    client.completions.create(model=MODEL, prompt="hi", max_tokens=4, temperature=7)
    check(False, "temperature 7 is refused")
except openai.BadRequestError as e:
    check(e.status_code == 400 and "temperature" in e.message, "temperature 7 gets 400 naming temperature")

# 9. llama-server's /tokenize and /detokenize round-trip.
status, tok = raw_post("/tokenize", json.dumps({"content": "Hello world", "with_pieces": True}).encode())
ids = [t["id"] for t in tok["tokens"]]
check(status == 200 and "".join(t["piece"] for t in tok["tokens"]) == "Hello world", "tokenize gives pieces %s" % tok)
status, detok = raw_post("/detokenize", json.dumps({"tokens": ids}).encode())
check(status == 200 and detok["content"] == "Hello world", "detokenize gives back %r" % detok.get("content"))

print("%d checks failed" % len(failures) if failures else "all checks passed")
sys.exit(1 if failures else 0)
