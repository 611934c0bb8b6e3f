# api.py — run, validate and fit from Python through the C++ engine (goodhart._core).
# Contract: the same engine, files and numbers as the command-line tool; engine errors arrive as
# goodhart.ScenarioError / RunRefused / ValueError with the engine's message unchanged.
"""Run scenarios, validate them and fit Gao et al.'s curves from Python."""
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import scenarios
from .distributed import run_on_executor
from .errors import CoreMissing
from .results import load, swept_columns

DICT_NAME = "<dict>"  # where a scenario given as a dict is said to be in error messages


def _core():
    try:
        from . import _core as core
    except ImportError as e:
        raise CoreMissing("goodhart's C++ extension is not built: install the package with `pip install .` "
                          "from the repository") from e
    return core


def _plain(value):
    """numpy scalars and arrays as the Python numbers and lists they hold (json.dumps cannot write them)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"a scenario value must be a number, string, boolean, list or dict, got {type(value).__name__}")


def _override_text(value):
    """A Python value as the YAML text of a command-line override."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=_plain)
    return str(value)


def _overrides(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={_override_text(v)}" for k, v in overrides.items()]
    return [str(o) for o in overrides]


def _scenario_text(scenario):
    """A dict scenario as YAML text (JSON is YAML): line numbers in errors point into this text. A file it names
    (a scored world's ``world.path``) is relative to the working folder, as the dict has no folder of its own: the
    text names it by its absolute path, so the copy saved beside the results reads the same file."""
    world = scenario.get("world") if isinstance(scenario, dict) else None
    if isinstance(world, dict) and isinstance(world.get("path"), str) and world["path"]:
        scenario = {**scenario, "world": {**world, "path": os.path.abspath(world["path"])}}
    return json.dumps(scenario, indent=2, default=_plain)


def _scenario_file(scenario):
    """A scenario path as given, or the library's file it names (``"gao_bon_learned"``, ``"tiny/frontier.yaml"``)
    when there is no such file here: the command line's rule (sim/cli/library.h)."""
    path = Path(scenario)
    if path.exists() or path.is_absolute():
        return path
    for candidate in (scenarios.DIR / path, scenarios.DIR / f"{path}.yaml"):
        if candidate.is_file():
            return candidate
    return path


def validate(scenario, overrides=None):
    """Check a scenario (a path, a library scenario's name, or a dict) and return ``(resolved_config, points)``.

    ``resolved_config`` is the validated configuration with every default filled in (a dict); ``points`` is a
    DataFrame with one row per sweep point: index, point_id and each swept key. Raises ScenarioError.
    """
    core = _core()
    if isinstance(scenario, dict):
        resolved, points = core.validate("", _scenario_text(scenario), DICT_NAME, _overrides(overrides))
    else:
        resolved, points = core.validate(os.fspath(_scenario_file(scenario)), "", "", _overrides(overrides))
    rows = [{"index": i, "point_id": pid, **dict(swept)} for i, pid, swept in points]
    return json.loads(resolved), pd.DataFrame(rows)


def run(scenario, overrides=None, backend="auto", out=None, threads=None, resume=False, force=False, quiet=True,
        executor=None):
    """Run a scenario (a YAML path, a library scenario's name, or a dict) and return its tidy metrics.

    ``overrides`` maps dotted keys to values (``{"optimizer.pool": 4096}``) like ``key=value`` on the command
    line. ``out`` keeps the results folder (metrics.csv, runs.csv, manifest.json, points/); without it the run
    goes to a temporary folder that is removed. A dict scenario is checked first, so its errors read
    ``<dict>:line:col: key: expected`` with lines of ``json.dumps(scenario, indent=2)``, and it is saved as
    ``scenario.yaml`` next to the results when ``out`` is given. Ctrl-C finishes the point in flight, keeps it
    and raises KeyboardInterrupt (rerun with ``resume=True``).

    ``executor``: any ``concurrent.futures.Executor`` (a ProcessPoolExecutor, ``dask.distributed.Client(...)
    .get_executor()``, Ray's or mpi4py's): one task per point, each with ``threads`` threads, merged into results
    identical to a single run's (docs/cluster.md). Workers need goodhart-sim and, for a path scenario, the file.
    """
    core = _core()
    overrides = _overrides(overrides)
    if out is not None and os.fspath(out) == "":
        raise ValueError("out: an empty path: name a folder, or pass None for a temporary one")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, (int, np.integer))
                                or not 1 <= threads <= 1024):
        raise ValueError(f"threads: expected an integer from 1 to 1024 (or None for every core), got {threads!r}")
    with tempfile.TemporaryDirectory(prefix="goodhart-") as scratch:
        results_dir = Path(out) if out is not None else Path(scratch) / "results"
        text = None
        if isinstance(scenario, dict):
            text = _scenario_text(scenario)
            core.validate("", text, DICT_NAME, overrides)
            keep = Path(out) if out is not None else Path(scratch)
            keep.mkdir(parents=True, exist_ok=True)
            path = keep / "scenario.yaml"
            path.write_text(text + "\n")
        else:
            path = _scenario_file(scenario)
        if executor is not None:
            points = len(validate(path, overrides)[1])
            run_on_executor(core, executor, path, text, points, overrides, results_dir, backend, int(threads or 0),
                            resume)
        else:
            outcome = core.run(os.fspath(path), overrides, os.fspath(results_dir), backend, int(threads or 0),
                               resume, force, quiet)
            if outcome["left"]:
                where = f"; finished points are kept in {results_dir}: rerun with resume=True" if out else ""
                raise KeyboardInterrupt(f"stopped after {outcome['ran']} new points, {outcome['left']} left{where}")
        df = load(results_dir)
        if out is None:
            del df.attrs["results_dir"]
        return df


def _folders(results_dirs, command):
    """One results folder or several, as a list of paths (text); ValueError for none."""
    if isinstance(results_dirs, (str, os.PathLike)):
        results_dirs = [results_dirs]
    dirs = [os.fspath(d) for d in results_dirs]
    if not dirs:
        raise ValueError(f"{command}: expected at least one results folder")
    return dirs


def compare(results_dirs, out=None, kl_budgets=(0.5, 1, 2, 4)):
    """A leaderboard of the optimizer variants of results folders, as ``goodhart compare`` writes it.

    Writes ``out`` (default: the first folder)/leaderboard.csv and .json and returns the leaderboard table:
    one row per variant with peak gold, sqrt(KL) at the peak, gold at each KL budget, the drop from the peak,
    Gao fits, RM accuracy and the proxy's correlation with the bias feature (a length-biased world). Draw it
    with ``goodhart.plot.leaderboard(out)``.
    """
    core = _core()
    dirs = _folders(results_dirs, "compare")
    out = os.fspath(out) if out is not None else dirs[0]
    core.compare(dirs, out, [float(b) for b in kl_budgets])
    return load(out, "leaderboard")


def scaling(results_dir, out=None):
    """Gao et al.'s coefficient scaling of a results folder, as ``goodhart scaling`` writes it.

    Each curve's alpha_bon, beta_bon, fitted peak (bon_peak_sqrt_kl, bon_peak_gold) and empirical peak are
    regressed on log10 of the proxy's parameters (runs.csv's proxy_parameters) and log10 of preferences.n_pairs.
    Writes ``out`` (default: the folder)/scaling.csv and returns it: one row per optimizer, target and regressor
    with the slope per decade, its standard error, R^2 and the number of curves. Draw it with
    ``goodhart.plot.scaling(results_dir)``.
    """
    core = _core()
    results_dir = os.fspath(results_dir)
    out = os.fspath(out) if out is not None else results_dir
    core.scaling(results_dir, out)
    return load(out, "scaling")


def detect(results_dirs, out=None, k=2.0):
    """Onset detectors of the training runs of results folders, scored against gold, as ``goodhart detect`` does.

    For each policy_gradient or dpo curve the true onset is the first evaluation where gold falls ``k`` standard
    errors below its running maximum; each signal a practitioner has without gold (kl, kl_growth, kl_acceleration,
    entropy_drop, ensemble_disagreement, validation_drop, proxy_validation_gap, accuracy_drop) alarms at the first
    evaluation where it reaches a threshold. Writes ``out`` (default: the first folder)/detect.csv (the ROC: every
    threshold's detections in time, late ones, misses, false alarms and lead times), detect_curves.csv and
    detect_signals.csv, and returns the last (per signal: AUC and the best threshold). Draw the ROC with
    ``goodhart.plot.detect(out)``.
    """
    core = _core()
    dirs = _folders(results_dirs, "detect")
    out = os.fspath(out) if out is not None else dirs[0]
    core.detect(dirs, float(k), out)
    return load(out, "detect_signals")


def audit_kl(scenario, out, overrides=None, point=None, off_policy_steps=None):
    """The KL-estimator gradient audit of ``goodhart audit-kl`` (docs/kl-estimators.md), returned as a DataFrame.

    The scenario's first policy_gradient optimizer is trained by the exact-gradient trainer; at every evaluation
    each of k1, k2 and k3, in the reward or in the loss, with the importance ratio or without, on-policy and
    ``off_policy_steps`` updates behind, gets its exact expected KL gradient against grad KL(pi || pi_ref), its
    cosine, relative error, variance per sample and the divergence it descends (``descends``). Needs a world with
    candidates. Writes ``out``/kl_audit.csv.
    """
    core = _core()
    if os.fspath(out) == "":
        raise ValueError("out: an empty path: name a folder")
    path = core.audit_kl(os.fspath(_scenario_file(scenario)), _overrides(overrides), os.fspath(out),
                         -1 if point is None else int(point), 0 if off_policy_steps is None else int(off_policy_steps))
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def fit_gao(df):
    """Gao et al.'s fits of every curve of a tidy metrics table, with the same numbers as runs.csv.

    A curve is the rows of one curve_id (one optimizer of one point; one beta of a dpo optimizer). Returns one row
    per curve: curve_id, point_id, seed, optimizer, the swept keys and beta (a dpo curve's), then bon_alpha,
    bon_beta, bon_r2, bon_peak_sqrt_kl, bon_peak_gold (gold = d (alpha - beta d)) and the rl_ columns
    (gold = d (alpha - beta log d)), where d = sqrt(KL).
    """
    core = _core()
    for column in ("curve_id", "optimizer", "param_name", "sqrt_kl", "gold_mean"):
        if column not in df.columns:
            raise ValueError(f"fit_gao: expected a goodhart metrics table (no {column!r} column)")
    keys = [c for c in ("curve_id", "point_id", "seed", "optimizer") if c in df.columns] + swept_columns(df)
    rows = []
    for _, curve in df.groupby("curve_id", sort=False):
        first = curve.iloc[0]
        row = {k: first[k] for k in keys}
        row["beta"] = first["beta"] if first["param_name"] == "step" and "beta" in df.columns else math.nan
        d = np.ascontiguousarray(curve["sqrt_kl"].to_numpy(dtype=np.float64))
        gold = np.ascontiguousarray(curve["gold_mean"].to_numpy(dtype=np.float64))
        for form, fit in (("bon", core.fit_gao_bon(d, gold)), ("rl", core.fit_gao_rl(d, gold))):
            row.update({f"{form}_{name}": value for name, value in fit.items()})
        rows.append(row)
    fits = [f"{form}_{name}" for form in ("bon", "rl") for name in ("alpha", "beta", "r2", "peak_sqrt_kl", "peak_gold")]
    return pd.DataFrame(rows, columns=keys + ["beta"] + fits)


def exact_tilt(log_ref, proxy, betas, values=None, backend="auto"):
    """The exact KL-regularized optimum pi_beta(k|p) ∝ pi_ref(k|p) exp(proxy(p, k) / beta) of given candidates.

    ``log_ref`` and ``proxy`` are P x K arrays (prompts x candidates); ``values`` maps names to more P x K
    arrays (e.g. ``{"gold": gold}``). Returns one row per beta: kl, sqrt_kl, entropy, ess and the expectation
    of the proxy and of each value under pi_beta, each a mean over prompts.
    """
    core = _core()
    values = dict(values or {})
    # C-contiguous float32 arrays pass through unchanged and are read in place by the engine
    log_ref, proxy = (np.ascontiguousarray(a, dtype=np.float32) for a in (log_ref, proxy))
    arrays = [proxy] + [np.ascontiguousarray(v, dtype=np.float32) for v in values.values()]
    for name, a in zip(["log_ref", "proxy"] + [f"values[{k!r}]" for k in values], [log_ref] + arrays):
        if a.ndim != 2:
            raise ValueError(f"{name}: expected a P x K array (prompts x candidates), got shape {a.shape}")
    betas = np.ascontiguousarray(np.atleast_1d(betas), dtype=np.float64)
    if betas.ndim != 1:
        raise ValueError(f"betas: expected a number or a 1-D list of numbers, got shape {betas.shape}")
    table = core.tilt(log_ref, proxy, arrays, betas, backend)
    names = ["kl", "entropy", "ess", "proxy"] + list(values)
    df = pd.DataFrame(table, columns=names)
    df.insert(0, "beta", betas)
    df.insert(2, "sqrt_kl", np.sqrt(df["kl"]))
    return df
