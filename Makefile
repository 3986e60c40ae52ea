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

models:
	@scripts/fetch-model.sh smollm2
	@scripts/fetch-model.sh gemma3

test: models
	@scripts/setup.sh --test
	LMLAB_REQUIRE_MODELS=1 swift test -c release
