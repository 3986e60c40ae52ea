#!/usr/bin/env python3
"""Text prompts for the differential harness on real models: prose, code with semicolons and
braces, digits, non-Latin scripts, emoji, odd whitespace, and the model's chat template, of
lengths from a few tokens to a couple of hundred. Every word comes from the lists below,
drawn by a seeded generator, so a run asks the same prompts every time.

    differential_prompts.py N TEMPLATE [SEED] > prompts.jsonl
TEMPLATE: chatml (SmolLM2, Qwen), gemma, or none. One {"text": ..., "kind": ...} per line.
"""
import json, random, sys

SUBJECTS = ["the old fisherman", "a small robot", "my neighbour", "the committee", "every student", "the red fox",
            "our teacher", "a tired engineer", "the river", "this model", "the little girl", "the captain"]
VERBS = ["walked to", "looked at", "wrote about", "forgot", "carried", "painted", "measured", "counted",
         "argued with", "listened to", "built", "repaired"]
OBJECTS = ["the lighthouse", "a wooden box", "three letters", "the market", "an empty bottle", "the blue door",
           "a long report", "the garden wall", "seven apples", "the broken clock", "a quiet song", "the map"]
ADVERBS = ["slowly", "again", "before dawn", "without a word", "in the rain", "twice", "at last", "carefully"]
QUESTIONS = ["Why is the sky blue?", "What is the capital of France?", "How do plants make food?",
             "Explain recursion to a child.", "Write a haiku about winter.", "What is 17 times 23?",
             "Name three planets.", "How does a bicycle stay upright?", "Translate 'good morning' into Spanish.",
             "Summarize the story of the tortoise and the hare."]
NON_LATIN = ["今天天气很好。", "我喜欢读书和写字。", "机器学习很有趣", "こんにちは、世界！", "東京は大きな都市です。",
             "Привет, как дела?", "Москва — столица России.", "Καλημέρα σε όλους.", "Το μάθημα αρχίζει τώρα.",
             "مرحبا بالعالم", "اللغة العربية جميلة", "नमस्ते दुनिया", "मुझे चाय पसंद है।", "안녕하세요, 반갑습니다.",
             "שלום עולם", "สวัสดีครับ", "Xin chào thế giới", "Größe, Maß und Übermut", "ça va très bien, merci"]
EMOJI = ["😀", "🚀", "🌍", "❤️", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🎉", "🤖", "🍕", "✨", "🔥", "🙈", "🧠"]
NAMES = ["sum", "count", "total", "buf", "idx", "node", "value", "result", "len", "acc", "ptr", "head"]


def sentence(rng):
    s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    if rng.random() < 0.5:
        s += " " + rng.choice(ADVERBS)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "!", "?", ";", ","])


def prose(rng):
    return " ".join(sentence(rng) for _ in range(rng.choice([1, 1, 2, 3, 5, 8, 12])))


def c_code(rng):
    a, b = rng.sample(NAMES, 2)
    n = rng.randrange(2, 1000)
    lines = [f"int {a} = 0;", f"for (int i = 0; i < {n}; i++) {{", f"    {a} += {b}[i];"]
    if rng.random() < 0.5:
        lines += [f"    if ({a} > {rng.randrange(10, 99)}) {{", f"        {a} -= {b}[i - 1];", "    }"]
    lines.append("}")
    if rng.random() < 0.5:
        lines.append(f"return {a};")
    return "\n".join(lines[:rng.randrange(2, len(lines) + 1)])


def python_code(rng):
    a, b = rng.sample(NAMES, 2)
    body = [f"def f_{a}({b}):", f"    {a} = []", f"    for x in {b}:", f"        if x % {rng.randrange(2, 9)} == 0:",
            f"            {a}.append(x * {rng.randrange(2, 50)})", f"    return {a}"]
    return "\n".join(body[:rng.randrange(2, len(body) + 1)])


def digits(rng):
    parts = [str(rng.randrange(10 ** rng.randrange(1, 12))) for _ in range(rng.randrange(1, 6))]
    forms = [" + ".join(parts) + " =", ", ".join(parts), f"{rng.randrange(1, 31)}/{rng.randrange(1, 13)}/{rng.randrange(1900, 2100)}",
             f"{rng.uniform(-1000, 1000):.4f}", f"Call 555-{rng.randrange(1000, 9999)} before {rng.randrange(1, 12)}:{rng.randrange(10, 59)} pm",
             f"The answer is {rng.randrange(100000)}."]
    return rng.choice(forms)


def non_latin(rng):
    return " ".join(rng.choice(NON_LATIN) for _ in range(rng.randrange(1, 5)))


def emoji(rng):
    words = prose(rng).split(" ")
    for _ in range(rng.randrange(1, 6)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(EMOJI))
    return " ".join(words)


def whitespace(rng):
    s = prose(rng)
    return s.replace(" ", rng.choice(["  ", "\t", "\n", " \n ", "\r\n"]), rng.randrange(1, 4)) + rng.choice(["", " ", "\n", "\n\n"])


def chat(rng, template):
    question = rng.choice([rng.choice(QUESTIONS), prose(rng), c_code(rng) + "\nWhat does this code do?", non_latin(rng)])
    if template == "chatml":
        system = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" if rng.random() < 0.5 else ""
        return f"{system}<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
    if template == "gemma":
        return f"<start_of_turn>user\n{question}<end_of_turn>\n<start_of_turn>model\n"
    return question


def main():
    n, template = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20)
    kinds = [("prose", prose), ("c", c_code), ("python", python_code), ("digits", digits), ("non-latin", non_latin),
             ("emoji", emoji), ("whitespace", whitespace)]
    if template != "none":
        kinds.append(("chat", lambda r: chat(r, template)))
    for i in range(n):
        kind, make = kinds[i % len(kinds)]
        print(json.dumps({"text": make(rng), "kind": kind}, ensure_ascii=False))


if __name__ == "__main__":
    main()
