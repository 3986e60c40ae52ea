#!/usr/bin/env bash
# How cost grows with work: decode/prefill speed and peak memory against parameter
# count (random-weight `synth` models) and against a filled context (`bench --depth`).
# Writes one JSON object per measurement to $OUT (default /tmp/lmlab-scaling.jsonl),
# then prints the markdown section BENCHMARKS.md carries (scripts/scaling_report.py).
#
#   scripts/scaling.sh                 # sizes 50M 135M 350M 1B 3B, depths 0,512,2048
#   SIZES="50M 1B" DEPTHS=0,512 scripts/scaling.sh
#
# Needs a release build (make build) and, for the depth runs, the pulled models.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB=.build/release/lmlab
OUT=${OUT:-/tmp/lmlab-scaling.jsonl}
SIZES=${SIZES:-50M 135M 350M 1B 3B}
DEPTHS=${DEPTHS:-0,512,2048}
TYPE=${TYPE:-q4_0}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
: > "$OUT"

for size in $SIZES; do
    file="$WORK/synth-$size.gguf"
    "$LAB" -c "synth llama --params $size --type $TYPE --out $file" > /dev/null
    bytes=$(stat -c %s "$file")
    json=$("$LAB" -c "load $file; bench --prompt 32 --gen 32 --reps 3 --json" | tail -1)
    echo "{\"kind\":\"size\",\"size\":\"$size\",\"type\":\"$TYPE\",\"fileBytes\":$bytes,\"bench\":$json}" >> "$OUT"
    rm -f "$file"
done

for model in smollm2 gemma3; do
    json=$("$LAB" -c "load $model; bench --prompt 128 --gen 32 --reps 3 --depth $DEPTHS --json" | tail -1)
    echo "{\"kind\":\"depth\",\"model\":\"$model\",\"bench\":$json}" >> "$OUT"
done

python3 scripts/scaling_report.py "$OUT"
