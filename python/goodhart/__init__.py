# __init__.py — `import goodhart`: run scenarios, load results, fit Gao curves, plot (see api.py, results.py, plot.py).
"""goodhart: a reward-model overoptimization simulator with a known gold reward.

    df = goodhart.run("scenarios/gao_bon_learned.yaml", overrides={"optimizer.pool": 4096, "optimizer.n": "~"})
    goodhart.plot.curves(df).savefig("goodhart.png")
"""
import os
from importlib import metadata

# before the engine (and libgomp with it) loads: waiting OpenMP threads spin briefly and then sleep, as in the
# command line (sim/cli/main.cpp says why), unless the user chose
if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = "30000"

from . import plot, scenarios
from .api import audit_kl, compare, detect, exact_tilt, fit_gao, run, scaling, validate
from .errors import CoreMissing, RunRefused, ScenarioError
from .results import load

try:
    __version__ = metadata.version("goodhart-sim")  # CMakeLists.txt's project(VERSION), through pyproject.toml
except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "unknown"
__all__ = ["scenarios", "run", "load", "validate", "fit_gao", "compare", "scaling", "detect", "audit_kl", "exact_tilt", "plot", "ScenarioError", "RunRefused", "CoreMissing"]
