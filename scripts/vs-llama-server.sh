#!/usr/bin/env bash
# The lab as a client of llama.cpp's llama-server: the API side of the lab (load api:,
# gen, chat, the cascade's API tier, failures) checked against the server most people
# run locally, on loopback, with the same SmolLM2 file the lab runs in process. Run by
# developers, never by CI (llama-server is built outside the repository by
# scripts/llamacpp-build.sh).
#
#   LMLAB_LLAMACPP_DIR=/work/llamacpp scripts/vs-llama-server.sh
#
# Checks, each printed as ok or FAIL, exit 1 on any FAIL:
#   1. load api:… finds the model in llama-server's /v1/models and measures a round trip;
#   2. greedy `gen` over llama-server's streamed /v1/completions writes the text the lab
#      writes in process (both engines are held to llama.cpp's tokens);
#   3. the server's `usage` counts the same prompt tokens as the lab's tokenizer;
#   4. `chat` streams an answer through llama-server's /v1/chat/completions;
#   5. a cascade with llama-server as the API tier runs, its confidence from the server's
#      logprobs, tokens from its usage, and scores at least what the local tier scores;
#   6. with the server stopped, `gen` on the API model fails in one line and the lab goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=.build/release/lmlab
PORT=${PORT:-18181}
WORK=${WORK:-/tmp/lmlab-vs-llama-server}
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
mkdir -p "$WORK"
export LMLAB_HOME="$WORK/home" NO_COLOR=1

BIN=$(scripts/llamacpp-build.sh --print-bin 2>/dev/null) || BIN=$(scripts/llamacpp-build.sh | tail -1)
[ -x "$LAB" ] || swift build -c release --product lmlab
[ -f "$MODEL" ] || "$LAB" -c "pull smollm2" > /dev/null
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') · llama-server $("$BIN/llama-server" --version 2>&1 | grep -m1 version || true)"

"$BIN/llama-server" -m "$MODEL" --alias smollm2 --host 127.0.0.1 --port "$PORT" -c 2048 -t 2 \
    > "$WORK/llama-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break
    sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/health" > /dev/null || { echo "llama-server did not start:"; tail -5 "$WORK/llama-server.log"; exit 1; }

URL="http://127.0.0.1:$PORT/v1"
PROMPT="The capital of France is a city where"
fails=0
check() { if [ "$1" = ok ]; then echo "ok   $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi; }

"$LAB" -c "load smollm2; gen \"$PROMPT\" --temp 0 --max 24 --json; \
    load api:$URL#smollm2 as server; gen \"$PROMPT\" --temp 0 --max 24 --json; \
    chat \"Name one colour of the sky.\"; \
    load tiny-stories; cascade tier server price_in=0.1 price_out=0.2; \
    cascade run --workload factual --limit 10 --tiers tiny-stories,server" > "$WORK/run.txt" 2>&1 || true

python3 - "$WORK/run.txt" <<'PY' > "$WORK/checks.txt"
import json, re, sys
text = open(sys.argv[1]).read()
objs = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
ok = lambda c: "ok" if c else "fail"
load = re.search(r"loaded server: API model 'smollm2' .*round trip ([0-9]+) ms measured", text)
print(ok(load), "load api: finds smollm2 at llama-server, round trip", load.group(1) + " ms" if load else "?")
if len(objs) >= 2:
    local, served = objs[0], objs[1]
    print(ok(local["text"] == served["text"]), "greedy text over llama-server equals the lab's in process:", json.dumps(served["text"][:60]))
    print(ok(local["prompt_tokens"] == served.get("prompt_tokens")), "prompt tokens: lab", local["prompt_tokens"], "· llama-server's usage", served.get("prompt_tokens"))
    ttft = served.get("time_to_first_token_s")
    print(ok(ttft is not None), "first token over the API: %s ms, %s tok/s after it" % (
        round(ttft * 1000) if ttft else "?", round(served.get("decode_tokens_per_s") or 0, 1)))
else:
    print("fail", "gen --json did not print two objects")
chat = re.search(r"measured over the API", text.split("chat")[-1] if "chat" in text else "")
print(ok("Name one colour" not in text or chat), "chat streams through /v1/chat/completions")
acc = re.findall(r"always (\S+)\s+([0-9.]+)%", text)
conf = re.search(r"confidence: .*", text)
d = dict(acc)
print(ok(len(acc) == 2 and float(d.get("server", 0)) >= float(d.get("tiny-stories", 100))),
      "cascade tiny-stories → llama-server:", ", ".join(f"{n} {a}%" for n, a in acc))
print(ok(conf and "n/a" not in conf.group(0)), "confidence router from llama-server's logprobs:", conf.group(0).strip() if conf else "none")
PY
while read -r verdict rest; do check "$verdict" "$rest"; done < "$WORK/checks.txt"

kill $SERVER; wait $SERVER 2>/dev/null || true
"$LAB" -c "load api:$URL#smollm2 as server" > "$WORK/down.txt" 2>&1 || true
lines=$(grep -c . "$WORK/down.txt" || true)
grep -q "can't load server" "$WORK/down.txt" && [ "$lines" = 1 ] && r=ok || r=fail
check $r "server down: one line — $(head -1 "$WORK/down.txt")"

echo "full output: $WORK/run.txt · server log: $WORK/llama-server.log"
[ $fails = 0 ] && echo "all checks passed" || { echo "$fails check(s) failed"; exit 1; }
