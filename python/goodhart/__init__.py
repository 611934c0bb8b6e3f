# __init__.py — `import goodhart`: run scenarios, load results, fit Gao curves, plot (see api.py, results.py, plot.py).
"""goodhart: a reward-model overoptimization simulator with a known gold reward.

    df = goodhart.run("scenarios/gao_bon_learned.yaml", overrides={"optimizer.pool": 4096, "optimizer.n": "~"})
    goodhart.plot.curves(df).savefig("goodhart.png")
"""
from importlib import metadata

from . import plot, scenarios
from .api import compare, exact_tilt, fit_gao, run, validate
from .errors import CoreMissing, RunRefused, ScenarioError
from .results import load

try:
    __version__ = metadata.version("goodhart-sim")  # CMakeLists.txt's project(VERSION), through pyproject.toml
except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "unknown"
__all__ = ["scenarios", "run", "load", "validate", "fit_gao", "compare", "exact_tilt", "plot", "ScenarioError", "RunRefused", "CoreMissing"]
