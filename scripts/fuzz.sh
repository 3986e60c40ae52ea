#!/usr/bin/env bash
# Builds and runs the libFuzzer target for LMEngine's file readers
# (Fuzz/FuzzGGUF.swift: GGUF reader, tokenizer loaders, model loader).
#
#   scripts/fuzz.sh [SECONDS]        build, then fuzz for SECONDS (default 600)
#   scripts/fuzz.sh --build          build only
#   scripts/fuzz.sh --seeds          rewrite the seed corpus Fuzz/corpus/ from GGUFSeeds
#   scripts/fuzz.sh --replay FILE…   run the target once on each file (reproduce a crash)
#
# One process, no -jobs (the machine is shared); new inputs that add coverage go to
# .build-fuzz/corpus (git-ignored), seeded from Fuzz/corpus. Crashes are
# written to .build-fuzz/crashes/: fix the reader, then copy the input to
# Fuzz/regressions/ so the test suite replays it (FuzzRegressionTests).
set -euo pipefail
cd "$(dirname "$0")/.."

out=.build-fuzz
binary=$out/fuzz-gguf

build() {
    mkdir -p "$out"
    # Up to date when no source is newer than the binary.
    if [ -x "$binary" ] && [ -z "$(find Sources/LMEngine Fuzz/FuzzGGUF.swift Tests/LMEngineTests/GGUFSeeds.swift \
            -name '*.swift' -newer "$binary" | head -1)" ]; then
        return
    fi
    # One module: the engine's sources, the target and the seed builders.
    # (GGUFSeeds.swift's `import LMEngine` is ignored here, with a warning.)
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -target-cpu haswell \
        -module-name LMEngine -suppress-warnings \
        $(find Sources/LMEngine -name '*.swift' | sort) Fuzz/FuzzGGUF.swift Tests/LMEngineTests/GGUFSeeds.swift \
        -o "$binary"
}

case "${1:-600}" in
--build)
    build ;;
--seeds)
    build
    rm -f Fuzz/corpus/*.fuzz
    LMLAB_FUZZ_WRITE_SEEDS=Fuzz/corpus "$binary"
    ls -l Fuzz/corpus ;;
--replay)
    shift
    [ -x "$binary" ] || build
    "$binary" "$@" ;;
*)
    seconds=${1:-600}
    build
    mkdir -p "$out/corpus" "$out/crashes"
    # malloc_limit: no single allocation above 256 MiB (the bound the mutation test states).
    "$binary" "$out/corpus" Fuzz/corpus Fuzz/regressions \
        -max_total_time="$seconds" -max_len=65536 \
        -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 \
        -artifact_prefix="$out/crashes/" -print_final_stats=1 ;;
esac
