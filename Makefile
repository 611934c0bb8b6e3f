# Makefile — the README's two commands (make demo, make test) and their building blocks.
JOBS ?= $(shell nproc)
BIN := build/release/goodhart

.PHONY: deps build python demo test test-release soak bench clean

deps:
	bash scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# the Python package (import goodhart), built by pip from this tree; incremental in build/python
python: build
	PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --no-build-isolation .

# the default scenario end to end: results folder and a plot of gold and proxy vs sqrt(KL)
demo: build
	$(BIN) run scenarios/gao_bon_learned.yaml --out results/gao_bon_learned
	$(BIN) plot results/gao_bon_learned
	@echo "results: results/gao_bon_learned (metrics.csv, runs.csv, manifest.json, goodhart.png)"

# every test: a short fuzz of scenario parsing, the suite under ASan/UBSan, the suite in Release, the Python
# package's tests and the notebooks at their small size (pytest), then the sdist and wheel installed in a fresh venv
test: build python
	bash scripts/fuzz.sh 30 -seed=1
	bash scripts/sanitize-tests.sh
	ctest --preset release
	GOODHART_BINARY=$(BIN) python3 -m pytest -q
	bash scripts/check-package.sh

# the Release suite alone (quick iteration)
test-release: build
	ctest --preset release

# ten minutes of random tiny scenarios killed with SIGKILL and resumed, each compared byte for byte with an
# uninterrupted run (not part of `make test`: run it after a change to how results are written or resumed)
soak: python
	python3 scripts/soak.py --minutes 10 --seed 1 --binary $(BIN)

# BENCHMARKS.md's workloads W1-W3 beside the NumPy and PyTorch peers, then the hot ops beside their double
# references (figures go to bench/RESULTS.md); built for this machine's instruction set (the bench preset)
bench: deps
	cmake --preset bench >/dev/null
	cmake --build --preset bench -j $(JOBS)
	python3 bench/run_workloads.py --device cpu --build build/bench --out build/bench-results
	build/bench/bench/goodhart_bench

clean:
	rm -rf build results
