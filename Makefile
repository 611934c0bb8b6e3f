# Makefile — the README's two commands (make demo, make test) and their building blocks.
JOBS ?= $(shell nproc)
BIN := build/release/goodhart

.PHONY: deps build demo test test-release bench clean

deps:
	bash scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# the default scenario end to end: results folder and a plot of gold and proxy vs sqrt(KL)
demo: build
	bash scripts/install-deps.sh --python
	$(BIN) run scenarios/gao_bon_learned.yaml --out results/gao_bon_learned
	python3 python/goodhart/plot.py results/gao_bon_learned
	@echo "results: results/gao_bon_learned (metrics.csv, runs.csv, manifest.json, goodhart.png)"

# every test: a short fuzz of scenario parsing, the suite under ASan/UBSan, then the suite in Release
test: build
	bash scripts/fuzz.sh 30 -seed=1
	bash scripts/sanitize-tests.sh
	ctest --preset release

# the Release suite alone (quick iteration)
test-release: build
	ctest --preset release

# the hot ops on the CPU backend beside their double references (figures go to bench/RESULTS.md)
bench: build
	build/release/goodhart_bench

clean:
	rm -rf build results
