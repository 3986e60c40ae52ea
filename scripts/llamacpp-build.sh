#!/usr/bin/env bash
# Builds llama.cpp, the reference the lab is compared against, OUTSIDE the repository:
# the llama.cpp vendored in the llama-cpp-python sdist on PyPI (the only source the
# machine can reach), configured Release for the native CPU, with the tools the
# differential tests use: llama-cli, llama-simple, llama-bench, llama-server,
# llama-tokenize, llama-quantize.
#
#   scripts/llamacpp-build.sh                 # cache in $LMLAB_LLAMACPP_DIR or /work/llamacpp
#   LMLAB_LLAMACPP_DIR=~/llamacpp JOBS=4 scripts/llamacpp-build.sh
#   scripts/llamacpp-build.sh --print-bin     # only print the bin folder (fails if not built)
#   scripts/llamacpp-build.sh --configure-only  # download, unpack and configure; no compiling
#   scripts/llamacpp-build.sh --libs zen5    # only libllama, for a named instruction set (below)
#
# --libs ISA builds libllama alone into vendor/llama.cpp/build-ISA (for the Python bindings:
# LLAMA_CPP_LIB_PATH=that/bin) with a fixed instruction set instead of -march=native, since
# llama.cpp's results depend on it and hosts of this machine kind differ:
#   zen5  AVX-512 F/BW/DQ/VL, VBMI, VNNI, BF16 and AVX-VNNI, no AVX512-FP16: the build the
#         golden files in ../shared came from. A native build on a host with AVX512-FP16
#         (Sapphire Rapids) does f16 arithmetic in half precision and moves Gemma-3's logits
#         by up to ~0.3 against the golden ones.
#   avx2  AVX2, FMA and F16C only (a Zen 3 host's native build).
#
# Every step is skipped when its result is already there (the sdist, the unpacked
# tree, the configured build, each binary), so re-running is cheap; the last line
# printed is the folder holding the binaries. Runs under `nice` with JOBS=2 by
# default because the machine's cores are shared. Never commit anything it makes.
set -euo pipefail

DIR=${LMLAB_LLAMACPP_DIR:-/work/llamacpp}
JOBS=${JOBS:-2}
NICE=${NICE:-15}
VERSION=${LLAMA_CPP_PYTHON_VERSION:-}       # empty: the newest sdist on PyPI
TOOLS=(llama-cli llama-simple llama-bench llama-server llama-tokenize llama-quantize)

bin_dir() {
    # The unpacked sdist's folder name carries the version; take the newest one present.
    local src
    src=$(ls -d "$DIR"/llama_cpp_python-*/ 2>/dev/null | sort -V | tail -1)
    [ -n "$src" ] && echo "${src%/}/vendor/llama.cpp/build/bin"
}

if [ "${1:-}" = "--print-bin" ]; then
    bin=$(bin_dir || true)
    if [ -n "$bin" ] && [ -x "$bin/llama-tokenize" ]; then echo "$bin"; exit 0; fi
    echo "llama.cpp is not built in $DIR (run scripts/llamacpp-build.sh)" >&2
    exit 1
fi

case "$DIR" in
    "$(cd "$(dirname "$0")/.." && pwd)"*) echo "refusing to build inside the repository: $DIR" >&2; exit 1 ;;
esac
mkdir -p "$DIR"
cd "$DIR"

# 1. cmake, installed from Debian when missing (pip reads the sdist's metadata through
#    scikit-build-core, which already asks for cmake).
if ! command -v cmake >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq && $sudo apt-get install -y -qq cmake >/dev/null
fi

# 2. The sdist. pip builds nothing here (--no-deps, --no-build-isolation); it only
#    needs scikit-build-core importable to read the sdist's metadata.
if ! ls llama_cpp_python-*.tar.gz >/dev/null 2>&1; then
    python3 -c "import scikit_build_core" 2>/dev/null || python3 -m pip install -q scikit-build-core
    spec=llama-cpp-python${VERSION:+==$VERSION}
    echo "downloading the $spec sdist from PyPI into $DIR ..."
    python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$DIR" "$spec"
fi
tarball=$(ls llama_cpp_python-*.tar.gz | sort -V | tail -1)

# 3. Unpacked once.
src=${tarball%.tar.gz}
[ -d "$src" ] || tar xzf "$tarball"
llama="$DIR/$src/vendor/llama.cpp"
[ -f "$llama/CMakeLists.txt" ] || { echo "no vendored llama.cpp in $tarball" >&2; exit 1; }

# 4. Configure: Release, -march=native for ggml's CPU backend, no tests, no GPU.
if [ ! -f "$llama/build/CMakeCache.txt" ]; then
    cmake -S "$llama" -B "$llama/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_TOOLS=ON \
        -DLLAMA_BUILD_SERVER=ON -DLLAMA_CURL=OFF > "$DIR/cmake.log"
fi

if [ "${1:-}" = "--configure-only" ]; then echo "configured: $llama/build"; exit 0; fi

if [ "${1:-}" = "--libs" ]; then
    isa=${2:?--libs needs an instruction set: zen5 or avx2}
    case "$isa" in
        zen5) flags=(-DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX_VNNI=ON) ;;
        avx2) flags=(-DGGML_AVX512=OFF) ;;
        *) echo "unknown instruction set '$isa' (zen5 or avx2)" >&2; exit 1 ;;
    esac
    out="$llama/build-$isa"
    if [ ! -f "$out/bin/libllama.so" ]; then
        cmake -S "$llama" -B "$out" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
            -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON "${flags[@]}" -DBUILD_SHARED_LIBS=ON -DLLAMA_CURL=OFF \
            -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF > "$DIR/cmake-$isa.log"
        echo "building libllama for $isa with -j$JOBS under nice -n $NICE (about 5 minutes); log: $DIR/build-$isa.log"
        nice -n "$NICE" cmake --build "$out" --config Release -j"$JOBS" --target llama > "$DIR/build-$isa.log" 2>&1 \
            || { tail -20 "$DIR/build-$isa.log" >&2; exit 1; }
    fi
    echo "libllama for $isa in:"
    echo "$out/bin"
    exit 0
fi

# 5. Build only the tools that are missing.
missing=()
for t in "${TOOLS[@]}"; do [ -x "$llama/build/bin/$t" ] || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "building ${missing[*]} with -j$JOBS under nice -n $NICE (15+ minutes on 2 shared cores); log: $DIR/build.log"
    nice -n "$NICE" cmake --build "$llama/build" --config Release -j"$JOBS" --target "${missing[@]}" > "$DIR/build.log" 2>&1 \
        || { tail -20 "$DIR/build.log" >&2; exit 1; }
fi
for t in "${TOOLS[@]}"; do [ -x "$llama/build/bin/$t" ] || { echo "missing after the build: $t" >&2; exit 1; }; done
echo "llama.cpp ($(basename "$src")) tools in:"
echo "$llama/build/bin"
