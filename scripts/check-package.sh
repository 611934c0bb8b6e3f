#!/usr/bin/env bash
# check-package.sh — the distribution as a user installs it: `python -m build` makes the sdist and, from it, the
# wheel; a fresh virtual environment installs the wheel alone, and away from any checkout `goodhart version`,
# `goodhart list`, `goodhart run` of a library scenario by name, `goodhart plot` and `import goodhart` (its version,
# its scenario library, a run) work. Exit 1 with the failing step's output when one does not.
# Usage: scripts/check-package.sh   (part of `make test`; a few minutes: the wheel compiles the engine from the sdist)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { echo "check-package: $*"; }
step "python -m build (sdist, then the wheel from it)"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
if ! python3 -m build --no-isolation --outdir "$work/dist" -C cmake.define.GOODHART_CUDA=OFF "$root" \
     >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log"
  exit 1
fi
ls "$work"/dist/goodhart_sim-*.tar.gz "$work"/dist/goodhart_sim-*.whl >/dev/null

step "a fresh venv with the wheel alone (numpy, pandas, matplotlib from the machine: no network)"
python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-deps --force-reinstall "$work"/dist/goodhart_sim-*.whl

step "the command line and the package, outside any checkout"
mkdir "$work/user"
cd "$work/user"
unset GOODHART_SCENARIOS GOODHART_BINARY GOODHART_PYTHON PYTHONPATH
bin="$work/venv/bin"
"$bin/goodhart" version
"$bin/goodhart" list | grep -q '^gao_bon_learned.yaml$'
"$bin/goodhart" run tiny/gao_bon_learned --out results --quiet
test -s results/metrics.csv
"$bin/goodhart" plot results
test -s results/goodhart.png
"$bin/python" - <<'PY'
import sys
from importlib import metadata

import goodhart

assert goodhart.__file__.startswith(sys.prefix), f"goodhart imported from {goodhart.__file__}, not the venv"
assert goodhart.__version__ == metadata.version("goodhart-sim") != "unknown"
assert str(goodhart.scenarios.DIR).startswith(sys.prefix), goodhart.scenarios.DIR
assert "gao_bon_learned" in goodhart.scenarios.names()
df = goodhart.run("tiny/regressional_gaussian")
assert len(df) > 0 and df["gold_mean"].notna().all()
print(f"goodhart-sim {goodhart.__version__}: {len(goodhart.scenarios.names())} library scenarios, a run of "
      f"{len(df)} rows")
PY
step "ok"
