# frontdesk: two commands on a fresh machine.
#   make run    installs what is missing, fetches and converts the models,
#               builds, and serves the demo clinic on embedded SQLite
#   make test   the same set-up, then every test
SHELL := /bin/bash
CARGO ?= cargo
export FRONTDESK_MODELS_DIR ?= $(CURDIR)/models
# Tests read the shared corpus from ../shared/corpus when it exists.
export FRONTDESK_CORPUS_DIR ?= $(abspath $(CURDIR)/../shared/corpus)

.PHONY: run test deps models build build-release test-build fmt lint bench fuzz train-intents clean-models

deps:
	@./scripts/install-deps.sh

# Release binary for serving; `frontdesk models` is idempotent and quick
# when everything is already in place.
build-release: deps
	$(CARGO) build --release --bin frontdesk

models-release: build-release
	$(CARGO) run --release --quiet --bin frontdesk -- models

run: models-release
	$(CARGO) run --release --quiet --bin frontdesk -- serve

# Tests build with the dev profile (dependencies optimised, see Cargo.toml),
# so `make test` compiles whisper.cpp once, not twice.
test-build: deps
	$(CARGO) build --bin frontdesk

models: test-build
	$(CARGO) run --quiet --bin frontdesk -- models

test: models
	@./scripts/ensure-postgres.sh
	$(CARGO) test --all-targets -- --test-threads=2

bench: models-release
	$(CARGO) run --release --quiet --bin frontdesk -- bench calls --calls 1 --rounds 5
	$(CARGO) run --release --quiet --bin frontdesk -- bench calls --calls 8 --rounds 2
	$(CARGO) run --release --quiet --bin frontdesk -- bench nlu

# Every fuzz target for ten minutes (FRONTDESK_FUZZ_SECONDS), two at a
# time, keeping new inputs in fuzz/corpus/ (docs/fuzzing.md). `make test`
# runs each for ten seconds. The dev build the tests use (dependencies
# optimised), so no second build of whisper.cpp.
fuzz: deps
	FRONTDESK_FUZZ_SECONDS=$${FRONTDESK_FUZZ_SECONDS:-600} nice -n 10 \
		$(CARGO) test --test fuzz_short -- --ignored --nocapture --test-threads=2

# Retrains the intent classifier from fixtures/intents/ (needs Python; pins
# in scripts/requirements-train.txt) and rewrites models/intent/.
train-intents:
	python3 -m pip install --quiet -r scripts/requirements-train.txt
	python3 scripts/train_intent.py

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
