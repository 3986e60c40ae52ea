#!/usr/bin/env python3
"""llama.cpp's greedy tokens and top-5 logits for a GGUF file, the way the golden files
in ../shared were made: fresh context per prompt, n_ctx 512, n_batch 512, 2 threads, flash
attention auto, f16 KV cache; ids from llama_tokenize(add_special, parse_special) for text
prompts, or given as ids; argmax per step, ties to the lowest id.

Needs libllama from scripts/llamacpp.sh (LLAMA_CPP_LIB_PATH) and the llama_cpp Python
bindings of the same sdist on PYTHONPATH; scripts/differential.sh sets both.

    llamacpp_reference.py MODEL.gguf PROMPTS.jsonl OUT.json [--steps 16]
PROMPTS.jsonl: one {"text": "..."} or {"ids": [...]} per line.
"""
import ctypes, json, sys, argparse
import numpy as np
import llama_cpp as L

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model"); ap.add_argument("prompts"); ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--max-total", type=int, default=256, help="skip prompts whose tokens plus steps pass this (past 256 "
                    "cached tokens llama.cpp's decoding splits attention across threads, an order lmlab doesn't follow)")
    ap.add_argument("--synth", metavar="TYPE:SEED", help="the file came from lmlab synth with this type and seed: "
                    "record its shape (read with gguf-py) so the suite can write it again")
    a = ap.parse_args()
    # llama.cpp logs every tensor and graph node to stderr; keep only the run's own lines.
    silent = L.llama_log_callback(lambda level, text, user_data: None)
    L.llama_log_set(silent, ctypes.c_void_p())
    L.llama_backend_init()
    mp = L.llama_model_default_params()
    model = L.llama_model_load_from_file(a.model.encode(), mp)
    if not model:
        sys.exit(f"llama.cpp can't load {a.model}")
    vocab = L.llama_model_get_vocab(model)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    cases, skipped = [], 0
    for line in open(a.prompts, encoding="utf-8"):
        if not line.strip():
            continue
        p = json.loads(line)
        if "ids" in p:
            ids = list(p["ids"])
        else:
            raw = p["text"].encode("utf-8")
            buf = (L.llama_token * (len(raw) + 16))()
            n = L.llama_tokenize(vocab, raw, len(raw), buf, len(buf), True, True)
            ids = list(buf[:n])
        if len(ids) + a.steps > a.max_total:
            skipped += 1
            continue
        cp = L.llama_context_default_params()
        cp.n_ctx = a.ctx; cp.n_batch = a.ctx; cp.n_ubatch = a.ctx
        cp.n_threads = 2; cp.n_threads_batch = 2
        ctx = L.llama_init_from_model(model, cp)
        arr = (L.llama_token * len(ids))(*ids)
        if L.llama_decode(ctx, L.llama_batch_get_one(arr, len(ids))) != 0:
            sys.exit("llama_decode failed on the prompt")
        generated, top5 = [], []
        for step in range(a.steps):
            row = np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, -1), shape=(n_vocab,)).copy()
            # the five largest, ties to the lowest id (a stable sort of the negated logits)
            order = np.argsort(-row, kind="stable")[:5]
            best = int(order[0])
            top5.append([[int(i), float(row[i])] for i in order])
            generated.append(best)
            if L.llama_vocab_is_eog(vocab, best):
                break
            one = (L.llama_token * 1)(best)
            if L.llama_decode(ctx, L.llama_batch_get_one(one, 1)) != 0:
                sys.exit("llama_decode failed")
        L.llama_free(ctx)
        cases.append({"prompt": p.get("text"), "kind": p.get("kind"), "prompt_ids": ids, "generated_ids": generated, "top5_per_step": top5})
    if skipped:
        print(f"{skipped} prompts skipped: more than {a.max_total} tokens with the steps", file=sys.stderr)
    out = {"model": a.model.split("/")[-1], "steps": a.steps, "n_ctx": a.ctx, "cases": cases}
    if a.synth:
        from gguf import GGUFReader   # vendor/llama.cpp/gguf-py
        r = GGUFReader(a.model)
        def field(key):
            f = r.fields.get(key)
            return None if f is None else f.contents()
        arch = field("general.architecture")
        shape = {"layers": field(f"{arch}.block_count"), "embedding": field(f"{arch}.embedding_length"),
                 "heads": field(f"{arch}.attention.head_count"), "kvHeads": field(f"{arch}.attention.head_count_kv"),
                 "feedForward": field(f"{arch}.feed_forward_length"),
                 "vocabulary": len(field("tokenizer.ggml.tokens")), "headSize": field(f"{arch}.attention.key_length")}
        t, seed = a.synth.split(":")
        out.update({"architecture": arch, "shape": shape, "type": t, "seed": int(seed)})
    json.dump(out, open(a.out, "w"))

if __name__ == "__main__":
    main()
