# kl_audit_plot.py — the figure of `goodhart audit-kl` (docs/kl-estimators.md): for each configuration of a KL
# penalty, the relative error of its expected gradient against grad KL(pi || pi_ref) and its variance per sample,
# against the KL of the state audited; on-policy and off-policy side by side.
# Contract: reads DIR/kl_audit.csv (written by the engine; nothing is recomputed here) with pandas, draws with
# matplotlib's object API (no global state) and writes DIR/kl_audit.png and .svg. A configuration whose expected
# gradient is grad KL (an error of rounding) is drawn at the floor of the log axis, FLOOR.
"""Plot the KL-estimator gradient audit of a folder.

    goodhart audit-kl SCENARIO --out DIR         # writes DIR/kl_audit.csv
    python -m goodhart plot DIR                  # draws DIR/kl_audit.png (also: goodhart plot DIR)

From Python: ``goodhart.plot.kl_audit(directory, out=None)`` returns the path of the PNG.
"""
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from .plot import save
from .results import load

FLOOR = 1e-4      # where an error below it (an unbiased configuration's rounding, ~1e-16) is drawn on the log axis
ESTIMATORS = ("k1", "k2", "k3")
STYLES = {("reward", "none"): "-", ("reward", "ratio"): "-.", ("loss", "none"): "--", ("loss", "ratio"): ":",
          ("loss", "ratio_detached"): (0, (1, 3))}
MARKERS = {"k1": "o", "k2": "s", "k3": "^"}


def _label(row):
    return f"{row['estimator']} in {row['kl_in']}, {row['correction'].replace('_', ' ')}"


def figure(results_dir):
    """Two rows (error against grad KL, variance per sample) by two columns (on-policy, off-policy)."""
    audit = load(results_dir, "kl_audit")
    audit = audit[audit["descends"].notna() & (audit["descends"] != "")]  # pi = pi_ref: every gradient is 0
    if audit.empty:
        raise ValueError(f"{results_dir}: kl_audit.csv has no state away from pi_ref to draw")
    behind = sorted(audit["off_policy_steps"].unique())
    fig = Figure(figsize=(6.4 * len(behind), 9.0), layout="constrained")
    axes = fig.subplots(2, len(behind), squeeze=False)
    colors = dict(zip(ESTIMATORS, colormaps["viridis"](np.linspace(0.1, 0.8, len(ESTIMATORS)))))
    for col, m in enumerate(behind):
        rows = audit[audit["off_policy_steps"] == m]
        for (e, kl_in, correction), curve in rows.groupby(["estimator", "kl_in", "correction"], sort=False):
            curve = curve.sort_values("kl")
            style = dict(color=colors[e], linestyle=STYLES[(kl_in, correction)], marker=MARKERS[e], markersize=4)
            label = f"{_label(curve.iloc[0])}: {curve['descends'].iloc[-1].replace('_', ' ')}"
            axes[0, col].plot(curve["kl"], np.maximum(curve["rel_err_kl"], FLOOR), label=label, **style)
            variance = curve["variance_per_sample"].where(curve["variance_per_sample"] > 0)  # 0: off the log axis
            axes[1, col].plot(curve["kl"], variance, **style)
        when = "on-policy" if m == 0 else f"{m} updates off-policy (samples from pi_old)"
        axes[0, col].set_title(f"{when}\n||E[g] - grad KL|| / ||grad KL|| (exact: drawn at {FLOOR:g})")
        axes[1, col].set_title(f"{when}\nvariance per sample, tr Cov")
        for row in range(2):
            axes[row, col].set_yscale("log")
            axes[row, col].set_xlabel("KL(pi || pi_ref) of the policy audited")
            axes[row, col].grid(True, alpha=0.3)
        axes[0, col].legend(fontsize=7, loc="lower right", title="configuration: what it descends",
                            title_fontsize=7)
    return fig


def plot_kl_audit(results_dir, out=None):
    """Write the audit figure (default DIR/kl_audit.png, and .svg beside it); returns the PNG's path."""
    return save(figure(results_dir), Path(out) if out else Path(results_dir) / "kl_audit.png")
