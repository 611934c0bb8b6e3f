# plot.py — Goodhart curves: gold and proxy against sqrt(KL), one panel per optimizer or swept value, seeds as
# bands (mean ± standard error), Gao fits dashed with their coefficients, the empirical peak marked.
# Contract: pure Python (pandas, matplotlib's object API: no global state, no display needed); reads a tidy
# metrics table; `python -m goodhart plot DIR` (and `goodhart plot DIR`) writes DIR/goodhart.png and .svg.
"""Plot goodhart results.

    fig = goodhart.plot.curves(df)            # df: goodhart.run(...) or goodhart.load(dir)
    goodhart.plot.save(fig, "curves.png")     # and curves.svg
    python -m goodhart plot RESULTS_DIR       # DIR/goodhart.png and .svg (also: goodhart plot RESULTS_DIR)

In a notebook, run ``%matplotlib inline`` once so that a returned Figure is drawn.
"""
import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from .results import load, swept_columns

PANELS_PER_ROW = 4
MANY_CURVES = 4  # above this, a panel's legend goes below the figure


def _curve_names(df):
    """The optimizer of each row, with its beta for dpo (each beta of a dpo entry is a separate training run)."""
    names = df["optimizer"].astype(str)
    if "beta" in df.columns:
        dpo = (df["param_name"] == "step") & df["beta"].notna()
        names = names.where(~dpo, names + " beta=" + df["beta"].map("{:g}".format))
    return names


def _default_panels(df, swept):
    """A panel per optimizer when there are several, else per value of the first swept key, else one."""
    if df["curve"].nunique() > 1 and df["optimizer"].nunique() > 1:
        return "curve"
    return swept[0] if swept else None


def _mean_se(group, value, se):
    """Mean over seeds and its standard error across seeds; one seed: the row's own standard error."""
    values = group[value].dropna()
    if len(values) >= 2:
        return values.mean(), values.std(ddof=1) / math.sqrt(len(values))
    return (values.mean(), group[se].mean()) if len(values) else (math.nan, math.nan)


def _points(curve):
    """One curve's points averaged over seeds at each grid value, sorted by sqrt(KL)."""
    rows = []
    for _, same in curve.groupby("param", sort=False):
        gold, gold_se = _mean_se(same, "gold_mean", "gold_se")
        proxy, proxy_se = _mean_se(same, "proxy_mean", "proxy_se")
        rows.append((same["sqrt_kl"].mean(), gold, gold_se, proxy, proxy_se))
    points = pd.DataFrame(rows, columns=["d", "gold", "gold_se", "proxy", "proxy_se"])
    return points.dropna(subset=["d"]).sort_values("d", kind="stable").reset_index(drop=True)


def _coefficients(fits, curve_ids, form):
    """Mean Gao coefficients over the curves (the seeds) drawn as one line, found by curve_id, or None."""
    if fits is None:
        return None
    rows = fits[fits["curve_id"].isin(curve_ids)]
    alpha, beta = rows[f"{form}_alpha"].mean(), rows[f"{form}_beta"].mean()
    return None if pd.isna(alpha) or pd.isna(beta) else (alpha, beta)


def _gao(form, alpha, beta, d):
    if form == "bon":
        return d * (alpha - beta * d)
    return np.where(d > 0, d * (alpha - beta * np.log(np.maximum(d, 1e-300))), 0.0)


def _draw_curve(gold_ax, proxy_ax, curve_rows, label, color, fits):
    points = _points(curve_rows)
    if points.empty:
        return
    form = "bon" if curve_rows["param_name"].iloc[0] == "n" else "rl"
    coefficients = _coefficients(fits, curve_rows["curve_id"].unique(), form)
    if coefficients:
        label += f"  (Gao {form}: alpha={coefficients[0]:.2f}, beta={coefficients[1]:.2f})"
    d = points["d"].to_numpy()
    gold_ax.plot(d, points["gold"], color=color, marker="o", markersize=2.5, linewidth=1.5, label=label)
    gold_ax.fill_between(d, points["gold"] - points["gold_se"].fillna(0), points["gold"] + points["gold_se"].fillna(0),
                         color=color, alpha=0.2, linewidth=0)
    if coefficients:
        ds = np.linspace(0.0, d.max(), 201)
        gold_ax.plot(ds, _gao(form, *coefficients, ds), color=color, linestyle="--", linewidth=1)
    if points["gold"].notna().any():
        peak = points["gold"].idxmax()
        gold_ax.plot([d[peak]], [points["gold"][peak]], color=color, marker="o", markersize=7,
                     markeredgecolor="black", linestyle="none")
    proxy_ax.plot(d, points["proxy"], color=color, marker="o", markersize=2.5, linewidth=1.5)
    proxy_ax.fill_between(d, points["proxy"] - points["proxy_se"].fillna(0),
                          points["proxy"] + points["proxy_se"].fillna(0), color=color, alpha=0.2, linewidth=0)


def _style_axes(gold_ax, proxy_ax, panel_title):
    for ax, name in ((gold_ax, "gold reward"), (proxy_ax, "proxy reward")):
        ax.set_xlabel("sqrt(KL(pi || pi_ref))")
        ax.set_ylabel(name)
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    gold_ax.set_title(panel_title, fontsize=10)
    # heavy-tailed proxies span many orders of magnitude: a symmetric log scale keeps every curve visible
    lines = [line.get_ydata() for line in proxy_ax.get_lines()]
    values = np.concatenate([np.asarray(v, dtype=float) for v in lines]) if lines else np.array([])
    values = values[np.isfinite(values)]
    if values.size and np.abs(values).max() > 100.0:
        proxy_ax.set_yscale("symlog", linthresh=1.0)
        proxy_ax.set_ylabel("proxy reward (symmetric log scale)")


def curves(df, fits=None, panel_by="auto", title=None):
    """A matplotlib Figure of a tidy metrics table: gold (top) and proxy (bottom) against sqrt(KL).

    One panel per value of ``panel_by``: "optimizer", a swept key, None for a single panel, or "auto" (the
    default: the optimizer when there are several, else the first swept key). Within a panel, one curve per remaining key,
    averaged over seeds with a band of ± one standard error. Dashed: Gao et al.'s fit (best-of-n form for n
    grids, RL form otherwise) from ``fits`` (a runs table, or ``goodhart.fit_gao(df)``; computed here when
    omitted and the C++ extension is built). Large dot: the empirical peak of gold.
    """
    df = df.copy()
    swept = swept_columns(df)
    df["curve"] = _curve_names(df)
    if fits is None:
        fits = _fits_or_none(df.drop(columns="curve"))
    if panel_by == "auto":
        panel_by = _default_panels(df, swept)
    elif panel_by == "optimizer":
        panel_by = "curve"
    if panel_by is not None and panel_by not in df.columns:
        raise ValueError(f"panel_by: expected 'optimizer' or a swept key ({', '.join(swept) or 'none'}), "
                         f"got {panel_by!r}")
    panels = list(df.groupby(panel_by, sort=False)) if panel_by else [(None, df)]
    within = [k for k in ["curve"] + swept if k != panel_by]

    columns = min(len(panels), PANELS_PER_ROW)
    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(4.6 * columns + 1.0, 7.0 * rows), layout="constrained")
    axes = fig.subplots(2 * rows, columns, squeeze=False, sharex="col")
    for i, (panel_value, panel) in enumerate(panels):
        gold_ax, proxy_ax = axes[2 * (i // columns)][i % columns], axes[2 * (i // columns) + 1][i % columns]
        groups = list(panel.groupby(within, sort=False))
        palette = colormaps["tab10" if len(groups) <= 10 else "tab20"]
        for j, (values, curve_rows) in enumerate(groups):
            values = values if isinstance(values, tuple) else (values,)
            shown = [f"{v}" if k == "curve" else f"{k}={v}" for k, v in zip(within, values)
                     if not (k == "curve" and panel["curve"].nunique() == 1 and len(within) > 1)]
            _draw_curve(gold_ax, proxy_ax, curve_rows, ", ".join(shown), palette(j % palette.N), fits)
        heading = "all" if panel_by is None else (f"{panel_value}" if panel_by == "curve" else f"{panel_by}={panel_value}")
        _style_axes(gold_ax, proxy_ax, heading)
        handles, labels = gold_ax.get_legend_handles_labels()
        if handles:
            gold_ax.legend(handles, labels, fontsize="xx-small" if len(handles) > MANY_CURVES else "x-small")
    for k in range(len(panels), rows * columns):  # empty cells of the last row
        axes[2 * (k // columns)][k % columns].set_visible(False)
        axes[2 * (k // columns) + 1][k % columns].set_visible(False)
    fig.suptitle((title or _title(df)) + "\n(dashed: Gao fit; large dot: empirical peak; band: ± 1 s.e.)",
                 fontsize=11)
    return fig


def _fits_or_none(df):
    from .api import fit_gao
    from .errors import CoreMissing
    try:
        return fit_gao(df)
    except CoreMissing:
        return None


def _title(df):
    manifest = df.attrs.get("manifest") or {}
    name = (manifest.get("scenario") or {}).get("name") if isinstance(manifest, dict) else None
    if isinstance(name, str) and name:
        return name
    return Path(df.attrs["results_dir"]).resolve().name if "results_dir" in df.attrs else "goodhart"


def save(fig, path):
    """Write the figure as PNG at ``path`` and as SVG beside it; returns the PNG's path."""
    png = Path(path).with_suffix(".png")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(png.with_suffix(".svg"), bbox_inches="tight")
    return png


def plot_results(results_dir, out=None, panel_by="auto"):
    """Curves of a results folder, with the fits of its runs.csv; writes ``out`` (default DIR/goodhart.png)."""
    results_dir = Path(results_dir)
    metrics = load(results_dir)
    fits = load(results_dir, "runs") if (results_dir / "runs.csv").is_file() else None
    return save(curves(metrics, fits=fits, panel_by=panel_by), out or results_dir / "goodhart.png")


def leaderboard(results_dir, out=None):
    """The leaderboard figure of `goodhart compare` (leaderboard.py); returns the PNG's path."""
    from .leaderboard import plot_leaderboard
    return plot_leaderboard(results_dir, out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="goodhart plot", description="Goodhart curves from a results folder.")
    parser.add_argument("results_dir", help="folder with metrics.csv (and runs.csv, leaderboard.csv)")
    parser.add_argument("--out", help="PNG path (an SVG is written beside it); default RESULTS_DIR/goodhart.png")
    parser.add_argument("--panel-by", default="auto",
                        help="'optimizer', a swept key, or 'auto' (the default: chosen from the table)")
    args = parser.parse_args(argv)
    try:
        print(plot_results(args.results_dir, args.out, args.panel_by))
        if (Path(args.results_dir) / "leaderboard.csv").is_file() and not args.out:
            print(leaderboard(args.results_dir))
    except (OSError, ValueError, KeyError) as e:
        print(f"error: goodhart plot: {e}", file=sys.stderr)
        return 2
    return 0

