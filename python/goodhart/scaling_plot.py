# scaling_plot.py — the figure of `goodhart scaling`, in the style of Gao et al. 2022's coefficient plots: each
# curve's alpha_bon, beta_bon, fitted peak sqrt(KL) and peak gold against log10 of the proxy's parameters, one line
# per number of preference pairs (seeds averaged), with the fitted slope per decade in each panel's title.
# Contract: reads DIR/runs.csv and DIR/scaling.csv (both written by the engine; nothing is refitted here) with
# pandas, draws with matplotlib's object API (no global state) and writes DIR/scaling.png and .svg.
"""Plot the coefficient scaling of a results folder.

    goodhart scaling RESULTS_DIR                 # writes RESULTS_DIR/scaling.csv
    python -m goodhart plot RESULTS_DIR          # draws scaling.png too when scaling.csv is there

From Python: ``goodhart.plot.scaling(directory, out=None)`` returns the path of the PNG.
"""
import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from .results import load

PAIRS = "preferences.n_pairs"
PANELS = (("bon_alpha", "alpha_bon"), ("bon_beta", "beta_bon"), ("bon_peak_sqrt_kl", "fitted peak sqrt(KL)"),
          ("peak_gold", "peak gold"))


def _values(runs, target):
    """A target per curve: the runs.csv column, or the fitted peak alpha / (2 beta) where beta > 0."""
    if target == "bon_peak_sqrt_kl":
        beta = runs["bon_beta"].where(runs["bon_beta"] > 0)
        return runs["bon_alpha"] / (2.0 * beta)
    return runs[target]


def _slope_text(slopes, optimizer, target):
    parts = []
    for regressor, label in (("log10_parameters", "params"), ("log10_pairs", "pairs")):
        row = slopes[(slopes["optimizer"] == optimizer) & (slopes["target"] == target) &
                     (slopes["regressor"] == regressor)]
        if len(row):
            slope, se = float(row["slope"].iloc[0]), float(row["se"].iloc[0])
            parts.append(f"{slope:+.3f}" + (f" ± {se:.3f}" if math.isfinite(se) else "") + f" / decade of {label}")
    return "\n".join(parts)


def figure(results_dir):
    """The coefficient figure of a results folder with runs.csv and scaling.csv: one row of panels per optimizer."""
    runs = load(results_dir, "runs")
    slopes = load(results_dir, "scaling")
    runs = runs[runs["proxy_parameters"].notna()] if "proxy_parameters" in runs.columns else runs.iloc[0:0]
    optimizers = list(dict.fromkeys(slopes["optimizer"]))
    if runs.empty or not optimizers:
        raise ValueError(f"{results_dir}: no curve with proxy_parameters to draw (run goodhart scaling first)")
    fig = Figure(figsize=(4.2 * len(PANELS), 3.8 * len(optimizers)), layout="constrained")
    axes = fig.subplots(len(optimizers), len(PANELS), squeeze=False)
    pairs = sorted(runs[PAIRS].unique()) if PAIRS in runs.columns else [None]
    colors = colormaps["viridis"](np.linspace(0.1, 0.85, max(len(pairs), 1)))
    for row, optimizer in enumerate(optimizers):
        of = runs[runs["optimizer"] == optimizer]
        for col, (target, label) in enumerate(PANELS):
            ax = axes[row][col]
            for color, n in zip(colors, pairs):
                part = of if n is None else of[of[PAIRS] == n]
                y = _values(part, target)
                mean = y.groupby(part["proxy_parameters"]).mean().dropna()
                ax.plot(np.log10(mean.index.to_numpy(dtype=float)), mean.to_numpy(), "o-", color=color,
                        label=f"{int(n)} pairs" if n is not None else None)
            ax.set_xlabel("log10 proxy parameters")
            ax.set_ylabel(label)
            ax.set_title(f"{optimizer}: {label}\n{_slope_text(slopes, optimizer, target)}", fontsize=9)
            ax.grid(alpha=0.3)
        if pairs != [None]:
            axes[row][0].legend(fontsize=8)
    return fig


def plot_scaling(results_dir, out=None):
    """Write the coefficient figure (default RESULTS_DIR/scaling.png, and .svg beside it); returns the PNG's path."""
    png = Path(out) if out else Path(results_dir) / "scaling.png"
    fig = figure(results_dir)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png.with_suffix(".png"), dpi=150)
    fig.savefig(png.with_suffix(".svg"))
    return png.with_suffix(".png")
