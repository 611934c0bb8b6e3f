# __init__.py — `import goodhart`: run scenarios, load results, fit Gao curves, plot (see api.py, results.py, plot.py).
"""goodhart: a reward-model overoptimization simulator with a known gold reward.

    df = goodhart.run("scenarios/gao_bon_learned.yaml", overrides={"optimizer.pool": 4096, "optimizer.n": "~"})
    goodhart.plot.curves(df).savefig("goodhart.png")
"""
from . import plot
from .api import compare, exact_tilt, fit_gao, run, validate
from .errors import CoreMissing, RunRefused, ScenarioError
from .results import load

__version__ = "0.1.0"
__all__ = ["run", "load", "validate", "fit_gao", "compare", "exact_tilt", "plot", "ScenarioError", "RunRefused", "CoreMissing"]
