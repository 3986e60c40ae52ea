#!/usr/bin/env bash
# The differential harness: every architecture the lab runs, held to llama.cpp on the same
# random-weight files (lmlab synth), token for token and top-5 logit by logit. Run by
# developers, never by CI (it needs llama.cpp built beside the project).
#
#   scripts/differential.sh [OUT_DIR] [PROMPTS_PER_ARCHITECTURE]
#   ARCHS="gemma3" TYPES="q8_0" REAL=0 scripts/differential.sh    # one file, no real models
#   ARCHS= REAL_N=330 scripts/differential.sh                      # the real models only
#
# LMLAB_LLAMACPP_SRC: the unpacked llama-cpp-python sdist, its vendored llama.cpp built
# into vendor/llama.cpp/build (scripts/llamacpp-build.sh does both).
# Leaves OUT_DIR/ARCH.json reports, then runs DifferentialTests over them; copy a sample
# (a few cases per file) into Tests/Fixtures/differential/ to commit.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${LMLAB_LLAMACPP_SRC:?set LMLAB_LLAMACPP_SRC to the unpacked llama-cpp-python sdist}
OUT=${1:-/tmp/lmlab-differential}
N=${2:-300}
mkdir -p "$OUT"
# The sdist's Python bindings import diskcache (and numpy) at load.
python3 -c "import diskcache, numpy" 2>/dev/null || python3 -m pip install -q diskcache numpy
# libllama for the golden files' instruction set, not -march=native: on a host with
# AVX512-FP16 the native build's f16 arithmetic moves Gemma-3's logits by up to ~0.3.
LIB=$(LMLAB_LLAMACPP_DIR="$(dirname "$SRC")" scripts/llamacpp-build.sh --libs zen5 | tail -1)
export LLAMA_CPP_LIB_PATH="$LIB"
export PYTHONPATH="$SRC:$SRC/vendor/llama.cpp/gguf-py"
LMLAB=.build/release/lmlab
[ -x "$LMLAB" ] || swift build -c release --product lmlab
for ARCH in ${ARCHS-llama qwen2 qwen3 phi3 gemma2 gemma3}; do
  for TYPE in ${TYPES:-q8_0 q4_0 q5_k q6_k}; do
    FILE="$OUT/$ARCH-$TYPE.gguf"
    LMLAB_HOME="$OUT/home" "$LMLAB" -c "synth $ARCH --params 20M --type $TYPE --seed 7 --out $FILE" >/dev/null
    # Prompts: token ids of varied lengths (1…200) drawn from the byte tokens and the rest of
    # the table, seeded by the architecture's name so every run asks the same.
    python3 - "$N" "$ARCH" > "$OUT/$ARCH-prompts.jsonl" <<'PY'
import json, random, sys
n, arch = int(sys.argv[1]), sys.argv[2]
rng = random.Random(arch)
for i in range(n):
    length = rng.choice([1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 200])
    print(json.dumps({"ids": [rng.randrange(32000) for _ in range(length)]}))
PY
    python3 scripts/llamacpp_reference.py "$FILE" "$OUT/$ARCH-prompts.jsonl" "$OUT/$ARCH-$TYPE.json" --steps 16 --synth "$TYPE:7"
    echo "llama.cpp: $OUT/$ARCH-$TYPE.json"
  done
done
# The two real models, on text prompts (scripts/differential_prompts.py: prose, code, digits,
# non-Latin scripts, emoji, odd whitespace, the chat template), tokenized by each engine.
# REAL_N prompts each, fewer after those too long for llama.cpp's one attention order.
if [ "${REAL:-1}" = 1 ]; then
  "$LMLAB" -c "pull smollm2; pull gemma3" >/dev/null
  for MODEL in SmolLM2-135M-Instruct.Q4_1.gguf:chatml gemma-3-270m-q4_k_m.gguf:gemma; do
    FILE=${MODEL%%:*}; TEMPLATE=${MODEL##*:}; NAME=${FILE%.gguf}
    python3 scripts/differential_prompts.py "${REAL_N:-330}" "$TEMPLATE" > "$OUT/$NAME-prompts.jsonl"
    python3 scripts/llamacpp_reference.py "models/$FILE" "$OUT/$NAME-prompts.jsonl" "$OUT/$NAME.json" --steps 16
    echo "llama.cpp: $OUT/$NAME.json"
  done
fi
LMLAB_DIFFERENTIAL_DIR="$OUT" swift test -c release --filter DifferentialTests 2>&1 | grep -E "cases|first differing|error|Executed"
