#!/usr/bin/env python3
"""Writes Tests/Fixtures/pretokenizer-splits.json: how each pre-tokenizer family llama.cpp knows
splits a fixed corpus of texts into words, computed with the Python `regex` module (an
independent regex engine) from the patterns llama.cpp's llama-vocab.cpp lists per family.
PreTokenizerTests holds the lab's hand-written splitter to it.

    python3 -m pip install regex
    python3 scripts/pretokenizer-fixture.py            # rewrites the fixture
    python3 scripts/pretokenizer-fixture.py --check    # exits 1 when the fixture is stale

Families given as several patterns (smollm's, `default`) apply them one after another as
llama.cpp does: each pattern splits every piece the previous one left, and the text between
matches stays a piece of its own.
"""
import json, os, sys
import regex

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
def llama3(digits):
    return (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}" + digits +
            r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# One tokenizer.ggml.pre name per family, and the patterns llama.cpp applies for it.
FAMILIES = {
    "gpt2": [GPT2],
    "smollm": [r"\p{N}", GPT2],
    "llama-bpe": [llama3("{1,3}")],
    "qwen2": [llama3("")],
    "bloom": [llama3("+")],
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
}

CORPUS = [
    "Hello, world! It's a test.",
    "I'M SURE THEY'LL COME, AREN'T THEY? We've done what you'd say.",
    "  leading spaces and trailing spaces   ",
    "multiple   spaces\tand\ttabs\n\nand blank lines\n",
    "line one\r\nline two\r\n\r\n  indented after CRLF",
    "text  \n  more text\n\n\n   end",
    "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
    "def f(x):\n    return {'k': [1, 2, 3]}  # comment\n",
    "if (x != y && z >= 10) { printf(\"%d\\n\", x); }",
    "$PATH=/usr/bin:/bin ~user |pipe| ^caret `tick` <tag attr=\"v\"/>",
    "1234567 3.14159 2026-12-03 10,000,000 007 12a34",
    "Phone: +1 (555) 123-4567, ext. 89",
    "中文文本没有空格，但是有标点。",
    "日本語のテキスト、カタカナとひらがな。",
    "Русский текст с цифрами 123 и знаками!",
    "العربية نص مع أرقام ١٢٣٤",
    "हिन्दी पाठ में मात्राएँ हैं।",
    "Emoji 👍🏽 and family 👨‍👩‍👧 and flags 🇫🇷!",
    "café naïve résumé Ünïcödé",
    "a\u00a0non-breaking\u2003em space\u3000ideographic",
    "quotes “curly” ‘single’ — dash – en… ellipsis",
    "'s 'S 't 'T 're 'RE 've 'VE 'm 'M 'll 'LL 'd 'D '",
    "x'y don't O'Neil rock'n'roll",
    "\n",
    "   ",
    "a",
    "??!!...;;;",
    "<|im_start|>user\nHi<|im_end|>",
    "tab\t\t\tseparated\tvalues\t1\t22\t333\t4444",
    "mixed123abc456def 7,8,9",
]

def split(patterns, text):
    pieces = [text]
    for pattern in patterns:
        compiled = regex.compile(pattern)
        out = []
        for piece in pieces:
            at = 0
            for m in compiled.finditer(piece):
                if m.start() > at:
                    out.append(piece[at:m.start()])
                if m.end() > m.start():
                    out.append(m.group())
                at = m.end()
            if at < len(piece):
                out.append(piece[at:])
        pieces = out
    return pieces

def main():
    fixture = {
        "generator": "scripts/pretokenizer-fixture.py (Python regex %s)" % regex.__version__,
        "patterns": FAMILIES,
        "cases": [{"text": t, "words": {name: split(p, t) for name, p in FAMILIES.items()}} for t in CORPUS],
    }
    text = json.dumps(fixture, ensure_ascii=False, indent=1) + "\n"
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "pretokenizer-splits.json")
    if "--check" in sys.argv:
        same = os.path.exists(path) and open(path, encoding="utf-8").read() == text
        print("fixture up to date" if same else "fixture is stale: run scripts/pretokenizer-fixture.py")
        sys.exit(0 if same else 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote", os.path.normpath(path), "-", len(CORPUS), "texts x", len(FAMILIES), "families")

main()
