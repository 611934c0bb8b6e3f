# detect_plot.py — the figure of `goodhart detect`: each signal's ROC (alarms in time on runs that turn over
# against false alarms on runs that do not) with its AUC, and the lead time of in-time alarms against the
# false-alarm rate.
# Contract: reads DIR/detect.csv and DIR/detect_signals.csv (written by the engine; nothing is recomputed here) with
# pandas, draws with matplotlib's object API (no global state) and writes DIR/detect.png and .svg.
"""Plot the onset detectors of a folder.

    goodhart detect RESULTS_DIR                  # writes RESULTS_DIR/detect*.csv
    python -m goodhart plot RESULTS_DIR          # draws detect.png too when detect.csv is there

From Python: ``goodhart.plot.detect(directory, out=None)`` returns the path of the PNG.
"""
import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from .plot import save
from .results import load


def figure(results_dir):
    """Two panels: the ROC of every signal, and the median lead of in-time alarms against the false-alarm rate."""
    roc = load(results_dir, "detect")
    signals = load(results_dir, "detect_signals")
    if roc.empty:
        raise ValueError(f"{results_dir}: detect.csv has no row (no signal has a value on any curve)")
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    ax_roc, ax_lead = fig.subplots(1, 2)
    colors = colormaps["tab10"](np.linspace(0, 1, 10))
    for i, row in enumerate(signals.itertuples()):
        rows = roc[roc["signal"] == row.signal].iloc[::-1]  # descending thresholds: the ROC from (0, 0)
        if rows.empty or not math.isfinite(row.auc):
            continue
        fpr = np.concatenate([[0.0], rows["fpr"].to_numpy()])
        tpr = np.concatenate([[0.0], rows["tpr"].to_numpy()])
        color = colors[i % 10]
        ax_roc.plot(fpr, tpr, color=color, label=f"{row.signal} (AUC {row.auc:.2f})")
        ax_lead.plot(rows["fpr"], rows["lead_median"], marker="o", markersize=3, color=color, label=row.signal)
    ax_roc.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
    turning, others = int(signals["turning"].max()), int(signals["others"].max())
    k = signals["k"].iloc[0]
    ax_roc.set(xlabel=f"false alarms (of {others} runs that do not turn over)",
               ylabel=f"alarms by the onset (of {turning} runs that turn over)",
               title=f"onset detectors against gold (onset: {k:g} se below the running max)")
    ax_roc.legend(fontsize=7, loc="lower right")
    ax_lead.set(xlabel="false-alarm rate", ylabel="median lead of in-time alarms (evaluations)",
                title="how early an in-time alarm comes")
    ax_lead.axhline(0, color="0.7", linewidth=1)
    return fig


def plot_detect(results_dir, out=None):
    """Write the detector figure (default DIR/detect.png, and .svg beside it); returns the PNG's path."""
    return save(figure(results_dir), Path(out) if out else Path(results_dir) / "detect.png")
