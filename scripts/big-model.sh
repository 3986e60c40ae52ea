#!/usr/bin/env bash
# A large model on this host, lmlab beside llama.cpp on the same file: load time, resident
# memory right after loading, and decode speed (tg16, 2 threads), alternated per round so
# both see the same machine. The file is a random-weight llama of Llama-3.1-8B's shape in
# Q4_K_M (`lmlab synth llama --like llama3.1-8b`, 7.5B parameters with the head tied,
# 4.4 GiB), written once under $WORK. Prints the host's CPU line and the rows BENCHMARKS.md
# carries. Run by developers, never by CI.
#
#   scripts/big-model.sh                     # 2 rounds
#   ROUNDS=3 LIKE=llama3.2-3b scripts/big-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
LIKE=${LIKE:-llama3.1-8b}
WORK=${WORK:-/tmp/lmlab-big-model}
LAB=.build/release/lmlab
FILE="$WORK/$LIKE-q4_k_m.gguf"
mkdir -p "$WORK"

BIN=$(scripts/llamacpp-build.sh --print-bin 2>/dev/null) || BIN=$(scripts/llamacpp-build.sh | tail -1)
SRC=$(cd "$BIN/../../../.." && pwd)                         # …/vendor/llama.cpp/build/bin → the sdist
[ -x "$LAB" ] || swift build -c release --product lmlab
"$LAB" -c "synth llama --like $LIKE --type q4_k_m --seed 8 --keep --out $FILE" > /dev/null

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
family=$(grep -m1 "cpu family" /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
simd=$(grep -m1 "^flags" /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16|avx512_fp16)$' | tr '\n' ' ')
echo "Host: $cpu (family $family), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; SIMD: $simd"
echo "File: $FILE ($(du -h "$FILE" | cut -f1))"

# Load time and resident memory after load (the peak, VmHWM, of a process that only
# loads): llama.cpp through its own C API (the sdist's Python bindings over the same
# libllama as llama-bench; the interpreter's own ~30 MiB included), lmlab through `load`,
# each in a fresh process with the file already in the page cache.
cat "$FILE" > /dev/null
llama_load() {
    LLAMA_CPP_LIB_PATH="$BIN" PYTHONPATH="$SRC" python3 - "$FILE" <<'PY'
import ctypes, sys, time, json
import llama_cpp as L
silent = L.llama_log_callback(lambda *a: None)   # kept alive: llama.cpp calls it later
L.llama_log_set(silent, ctypes.c_void_p())
L.llama_backend_init()
t = time.perf_counter()
m = L.llama_model_load_from_file(sys.argv[1].encode(), L.llama_model_default_params())
seconds = time.perf_counter() - t
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) * 1024
print(json.dumps({"load_s": seconds, "rss_mib": rss / 2**20}))
PY
}
lab_load() {
    /usr/bin/time -f "maxrss %M" "$LAB" -c "load $FILE" 2>&1 | python3 -c '
import json, re, sys
text = sys.stdin.read()
load = float(re.search(r"load time\s+([0-9.]+) s", text).group(1))
rss = int(re.search(r"maxrss (\d+)", text).group(1)) / 1024
print(json.dumps({"load_s": load, "rss_mib": rss}))'
}

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round" >&2
    ll=$(llama_load); lb=$(lab_load)
    tg=$("$BIN/llama-bench" -m "$FILE" -p 0 -n 16 -t "$THREADS" -r 1 -o json 2> /dev/null \
         | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["avg_ts"])')
    lab=$("$LAB" -c "set threads $THREADS; load $FILE; bench --prompt 8 --gen 16 --reps 1 --json" | tail -1 \
          | python3 -c 'import json,sys,statistics; r=json.load(sys.stdin)["result"]; print(statistics.median(r["decode"]), r["peakResidentBytes"]/2**20)')
    echo "{\"round\": $round, \"llama_load\": $ll, \"lab_load\": $lb, \"llama_tg\": $tg, \"lab_tg\": ${lab% *}, \"lab_peak_mib\": ${lab#* }}"
done > "$WORK/runs.jsonl"

python3 - "$WORK/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = lambda f: statistics.median(f(r) for r in runs)
print("| engine | load s | resident after load MiB | tg16 tok/s |")
print("|---|---:|---:|---:|")
for name, key, tg in (("llama.cpp", "llama_load", "llama_tg"), ("lmlab", "lab_load", "lab_tg")):
    print(f"| {name} | {med(lambda r: r[key]['load_s']):.2f} | {med(lambda r: r[key]['rss_mib']):,.0f} | {med(lambda r: r[tg]):.2f} |")
print(f"decode ratio lmlab/llama.cpp: {statistics.median(r['lab_tg'] / r['llama_tg'] for r in runs):.2f}x; "
      f"lmlab peak resident while decoding: {med(lambda r: r['lab_peak_mib']):,.0f} MiB")
PY
