#!/usr/bin/env bash
# lmlab against llama.cpp on the same host and the same files, alternated: for each round,
# for each file, llama-bench then `lmlab bench` (2 threads, pp128 and tg64, 3 repetitions
# each), so both engines see the same machine state. Prints the host's CPU line and the
# table of lmlab/llama.cpp ratios (median over rounds of each round's ratio) that
# BENCHMARKS.md carries. Run by developers, never by CI.
#
#   scripts/vs-llamacpp.sh                  # all five files, 2 rounds
#   ROUNDS=3 FILES="smollm2-q4_0 gemma3" scripts/vs-llamacpp.sh
#
# The files: SmolLM2-135M as pulled (Q4_1) and requantized to Q4_0 and Q8_0 by
# llama-quantize (speed only: requantizing a Q4_1 file costs quality), Gemma-3-270M as
# pulled (Q4_K_M), and a random-weight 1B llama written by `lmlab synth --type q4_k_m`.
# They are made once under $WORK (default /tmp/lmlab-vs-llamacpp). llama.cpp comes from
# scripts/llamacpp-build.sh (built outside the repository, cached).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
FILES=${FILES:-smollm2-q4_0 smollm2-q8_0 smollm2-q4_1 gemma3-q4_k_m synth1b-q4_k_m}
WORK=${WORK:-/tmp/lmlab-vs-llamacpp}
OUT="$WORK/runs.jsonl"
LAB=.build/release/lmlab
mkdir -p "$WORK"

BIN=$(scripts/llamacpp-build.sh --print-bin 2>/dev/null) || BIN=$(scripts/llamacpp-build.sh | tail -1)
[ -x "$LAB" ] || swift build -c release --product lmlab
[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] && [ -f models/gemma-3-270m-q4_k_m.gguf ] \
    || "$LAB" -c "pull smollm2; pull gemma3" > /dev/null

path_of() {
    case "$1" in
        smollm2-q4_1) echo models/SmolLM2-135M-Instruct.Q4_1.gguf ;;
        gemma3-q4_k_m) echo models/gemma-3-270m-q4_k_m.gguf ;;
        *) echo "$WORK/$1.gguf" ;;
    esac
}

for name in $FILES; do
    file=$(path_of "$name")
    [ -f "$file" ] && continue
    case "$name" in
        smollm2-q4_0|smollm2-q8_0)
            type=$(echo "${name#smollm2-}" | tr a-z A-Z)
            "$BIN/llama-quantize" --allow-requantize models/SmolLM2-135M-Instruct.Q4_1.gguf "$file" "$type" 2 > "$WORK/quantize.log" 2>&1 ;;
        synth1b-q4_k_m)
            "$LAB" -c "synth llama --params 1B --type q4_k_m --seed 1 --out $file" > /dev/null ;;
        *) echo "unknown file '$name'" >&2; exit 1 ;;
    esac
done

# The host, as every figure must name it.
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
family=$(grep -m1 "cpu family" /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
simd=$(grep -m1 "^flags" /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16)$' | tr '\n' ' ')
host="$cpu (family $family), $(nproc) cores; SIMD: $simd"

: > "$OUT"
for round in $(seq 1 "$ROUNDS"); do
    for name in $FILES; do
        file=$(path_of "$name")
        echo "round $round: $name" >&2
        llama=$("$BIN/llama-bench" -m "$file" -p 128 -n 64 -t "$THREADS" -r 3 -o json 2> /dev/null)
        lab=$("$LAB" -c "set threads $THREADS; load $file; bench --prompt 128 --gen 64 --reps 3 --json" | tail -1)
        python3 - "$round" "$name" "$llama" "$lab" >> "$OUT" <<'PY'
import json, statistics, sys
round_, name, llama, lab = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
pp = next(t["avg_ts"] for t in llama if t["n_prompt"] > 0 and t["n_gen"] == 0)
tg = next(t["avg_ts"] for t in llama if t["n_gen"] > 0 and t["n_prompt"] == 0)
r = lab["result"]
print(json.dumps({"round": int(round_), "file": name, "llamacpp_pp": pp, "llamacpp_tg": tg,
                  "lmlab_pp": statistics.median(r["prefill"]), "lmlab_tg": statistics.median(r["decode"]),
                  "lmlab_peak_mib": r["peakResidentBytes"] / 2**20}))
PY
    done
done

python3 - "$OUT" "$host" "$ROUNDS" "$THREADS" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
print(f"Host: {sys.argv[2]}")
print(f"{sys.argv[3]} rounds alternating llama-bench and lmlab bench, {sys.argv[4]} threads, pp128 / tg64, 3 repetitions each\n")
print("| file | llama.cpp pp128 | lmlab pp128 | **prefill ratio** | llama.cpp tg64 | lmlab tg64 | **decode ratio** |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in dict.fromkeys(r["file"] for r in runs):
    rs = [r for r in runs if r["file"] == name]
    med = lambda k: statistics.median(r[k] for r in rs)
    pr = statistics.median(r["lmlab_pp"] / r["llamacpp_pp"] for r in rs)
    dr = statistics.median(r["lmlab_tg"] / r["llamacpp_tg"] for r in rs)
    print(f"| {name} | {med('llamacpp_pp'):.1f} | {med('lmlab_pp'):.1f} | **{pr:.2f}×** | "
          f"{med('llamacpp_tg'):.1f} | {med('lmlab_tg'):.1f} | **{dr:.2f}×** |")
PY
