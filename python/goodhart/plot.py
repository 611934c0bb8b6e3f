# plot.py — Goodhart curves: gold and proxy against sqrt(KL), one panel per optimizer or swept value, seeds as
# bands (mean ± standard error), Gao fits dashed with their coefficients, the empirical peak marked.
# Contract: pure Python (pandas, matplotlib's object API: no global state, no display needed); reads a tidy
# metrics table; any table `goodhart run` or `merge` writes plots (any optimizers, sweeps, seeds, dpo betas, single
# points, empty cells); legends sit below their panel and the figure grows to hold them, so axes keep their size;
# `python -m goodhart plot DIR` (and `goodhart plot DIR`) writes DIR/goodhart.png and .svg (and the leaderboard,
# scaling and KL-audit figures where compare, scaling and audit-kl wrote their tables; a folder with only
# kl_audit.csv gets the audit figure alone).
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
from matplotlib.transforms import offset_copy

from .results import load, swept_columns

PANELS_PER_ROW = 4
PANEL_SIZE = (4.6, 7.0)  # inches per panel (gold above proxy), legend excluded
LEGEND_CHARS = 56        # a legend line wraps here, so that a legend is never wider than its panel
TITLE_CHARS = 44         # the same for a panel's title (a larger font)
LEGEND_GAP = 34          # points from a proxy axes' bottom to its legend: room for tick labels and the x label
REQUIRED = ("optimizer", "param_name", "sqrt_kl", "gold_mean")
OPTIONAL = ("curve_id", "seed", "param", "beta", "gold_se", "proxy_mean", "proxy_se")
DPO_BETA = "dpo beta"    # a curve key: the beta of a dpo curve when no swept key tells them apart (a list of betas)


def _table(df):
    """A copy of a metrics table with every optional column present (empty: NaN) and its curve keys.

    The curve keys tell curves apart; seeds are averaged within a curve. They are the optimizer, the dpo beta when
    one optimizer of one point trained several, and the swept keys."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"expected a goodhart metrics table (no {missing[0]!r} column)")
    swept = swept_columns(df)
    df = df.copy()
    df.attrs = {}  # pandas deep-copies attrs (the manifest) on every operation: seconds on a large table
    for column in OPTIONAL:
        if column not in df.columns:
            df[column] = math.nan
    keys = ["optimizer"]
    dpo = (df["param_name"] == "step") & df["beta"].notna()
    if dpo.any():
        betas = df[dpo].groupby(["optimizer", "seed", *swept], dropna=False)["beta"].nunique()
        if (betas > 1).any():
            df[DPO_BETA] = df["beta"].where(dpo)  # not "beta" itself: that is also kl_optimum's x parameter
            keys.append(DPO_BETA)
    return df, keys + swept


def _varying(df, keys):
    return [k for k in keys if df[k].nunique(dropna=False) > 1]


def _panel_key(df, keys, panel_by):
    """The column panels are drawn by, or None for a single panel.

    auto: the first key that varies (the optimizer first) and leaves something varying within a panel, so that a
    panel compares curves; when none does (several optimizers alone, one swept key, zipped keys), one panel."""
    if panel_by is None or (isinstance(panel_by, str) and panel_by.lower() == "none"):
        return None
    if panel_by == "auto":
        for key in _varying(df, keys):
            rest = [k for k in keys if k != key]
            if any(_varying(panel, rest) for _, panel in df.groupby(key, sort=False, dropna=False)):
                return key
        return None
    if panel_by in keys or panel_by == "seed":
        return panel_by
    choices = [*keys, "seed", "none", "auto"]
    raise ValueError(f"panel_by: expected one of {', '.join(choices)}, got {panel_by!r}")


def _short_names(keys, columns):
    """Each key by its shortest dotted suffix that no other key ends with and no column is named
    (proxy.noise.scale -> scale; proxy.optimizer stays, since "optimizer" is a column)."""
    names = {}
    for key in keys:
        words = ("beta" if key == DPO_BETA else key).split(".")
        for n in range(1, len(words) + 1):
            name = ".".join(words[-n:])
            shared = any(k != key and (k == name or k.endswith("." + name)) for k in keys)
            if n == len(words) or not (shared or (name != key and name in columns)):
                break
        names[key] = name
    return names


def _text(key, value, names=None):
    """key=value as a label shows it: the optimizer bare, numbers without trailing zeros, empty cells as n/a."""
    if pd.isna(value):
        value = "n/a"
    elif isinstance(value, (float, np.floating)):
        value = f"{value:g}"
    name = (names or {}).get(key, "beta" if key == DPO_BETA else key)
    return f"{value}" if key == "optimizer" else f"{name}={value}"


def _wrap(parts, width=LEGEND_CHARS):
    """Join parts with ', ' into lines of at most ``width`` characters (a longer part gets a line of its own);
    a part in parentheses follows with a space."""
    lines = []
    for part in parts:
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += (" " if part.startswith("(") else ", ") + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _curve_parts(within, values, names, optimizer):
    """What a curve's legend entry names: the keys that vary in its panel, less those that do not apply to it."""
    parts = [_text(k, v, names) for k, v in zip(within, values) if not pd.isna(v)]
    return parts or [_text(k, v, names) for k, v in zip(within, values)] or [str(optimizer)]


def _heading(df, keys, panel_by, value, panel):
    """A panel's title: its value of panel_by and of every other key that varies across panels but not in it."""
    if panel_by is None:
        names = panel["optimizer"].dropna().unique()
        return "no rows" if not len(names) else str(names[0]) if len(names) == 1 else "all optimizers"
    fixed = [k for k in _varying(df, keys) if k != panel_by and k not in _varying(panel, keys)]
    parts = [_text(panel_by, value)] + [_text(k, panel[k].iloc[0]) for k in fixed if not pd.isna(panel[k].iloc[0])]
    return _wrap(parts, TITLE_CHARS)


def _mean_se(group, value, se):
    """Mean over seeds and its standard error across seeds; one seed: the row's own standard error."""
    values = group[value].dropna()
    if len(values) >= 2:
        return values.mean(), values.std(ddof=1) / math.sqrt(len(values))
    return (values.mean(), group[se].mean()) if len(values) else (math.nan, math.nan)


def _points(curve):
    """One curve's points averaged over seeds at each grid value, sorted by sqrt(KL)."""
    by = curve["param"] if curve["param"].notna().any() else pd.Series(range(len(curve)), index=curve.index)
    rows = []
    for _, same in curve.groupby(by, sort=False, dropna=False):
        gold, gold_se = _mean_se(same, "gold_mean", "gold_se")
        proxy, proxy_se = _mean_se(same, "proxy_mean", "proxy_se")
        rows.append((same["sqrt_kl"].mean(), gold, gold_se, proxy, proxy_se))
    points = pd.DataFrame(rows, columns=["d", "gold", "gold_se", "proxy", "proxy_se"])
    points = points[np.isfinite(points["d"].astype(float))]
    return points.sort_values("d", kind="stable").reset_index(drop=True)


def _coefficients(fits, curve_rows, form):
    """Mean Gao coefficients over the curves (the seeds) drawn as one line, found by curve_id, or None."""
    columns = ("curve_id", f"{form}_alpha", f"{form}_beta")
    if fits is None or any(c not in fits.columns for c in columns):
        return None
    rows = fits[fits["curve_id"].isin(curve_rows["curve_id"].dropna().unique())]
    alpha, beta = rows[f"{form}_alpha"].mean(), rows[f"{form}_beta"].mean()
    return None if pd.isna(alpha) or pd.isna(beta) else (alpha, beta)


def _gao(form, alpha, beta, d):
    if form == "bon":
        return d * (alpha - beta * d)
    return np.where(d > 0, d * (alpha - beta * np.log(np.maximum(d, 1e-300))), 0.0)


def _draw_curve(gold_ax, proxy_ax, curve_rows, parts, color, fits):
    """One curve on both axes: points joined, a band of ± 1 s.e., the Gao fit dashed, the peak of gold marked."""
    points = _points(curve_rows)
    form = "bon" if (curve_rows["param_name"] == "n").all() else "rl"
    coefficients = _coefficients(fits, curve_rows, form)
    if coefficients:
        parts = parts + [f"(Gao {form}: alpha={coefficients[0]:.2f}, beta={coefficients[1]:.2f})"]
    if points.empty:
        parts = parts + ["(no finite sqrt(KL))"]
    d = points["d"].to_numpy(dtype=float)
    for ax, value in ((gold_ax, "gold"), (proxy_ax, "proxy")):
        mean, se = points[value].to_numpy(dtype=float), points[f"{value}_se"].fillna(0).to_numpy(dtype=float)
        label = _wrap(parts) if ax is proxy_ax else None
        ax.plot(d, mean, color=color, marker="o", markersize=2.5, linewidth=1.5, label=label)
        ax.fill_between(d, mean - se, mean + se, color=color, alpha=0.2, linewidth=0)
    if coefficients and d.size:
        ds = np.linspace(0.0, d.max(), 201)
        gold_ax.plot(ds, _gao(form, *coefficients, ds), color=color, linestyle="--", linewidth=1)
    if points["gold"].notna().any():
        peak = points["gold"].idxmax()
        gold_ax.plot([d[peak]], [points["gold"][peak]], color=color, marker="o", markersize=7,
                     markeredgecolor="black", linestyle="none")


def _style_axes(gold_ax, proxy_ax, panel_title):
    for ax, name in ((gold_ax, "gold reward"), (proxy_ax, "proxy reward")):
        ax.set_xlabel("sqrt(KL(pi || pi_ref))")
        ax.set_ylabel(name)
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_xlim(left=0)
        if ax.get_xlim()[1] < 1e-3:  # only points at sqrt(KL) = 0 (n = 1, step 0): an axis a reader can read
            ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
    gold_ax.set_title(panel_title, fontsize=10)
    # heavy-tailed proxies span many orders of magnitude: a symmetric log scale keeps every curve visible
    lines = [line.get_ydata() for line in proxy_ax.get_lines()]
    values = np.concatenate([np.asarray(v, dtype=float) for v in lines]) if lines else np.array([])
    values = values[np.isfinite(values)]
    if values.size and np.abs(values).max() > 100.0:
        proxy_ax.set_yscale("symlog", linthresh=1.0)
        proxy_ax.set_ylabel("proxy reward (symmetric log scale)")
        # a band of ± 1e9 would spend half the axis on decades below zero that no mean reaches: cut it there
        bottom = -0.5 if values.min() >= 0 else 1.5 * values.min()
        proxy_ax.set_ylim(bottom=max(proxy_ax.get_ylim()[0], bottom))


def _legend_below(fig, proxy_ax):
    """The panel's legend under its proxy axes (constrained layout reserves the room); returns it or None."""
    handles, labels = proxy_ax.get_legend_handles_labels()
    if not handles:
        return None
    short = max(len(line) for label in labels for line in label.split("\n")) <= LEGEND_CHARS // 2 - 4
    return proxy_ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                           bbox_transform=offset_copy(proxy_ax.transAxes, fig=fig, y=-LEGEND_GAP, units="points"),
                           ncols=2 if short and len(handles) > 3 else 1, fontsize="x-small", frameon=False)


def curves(df, fits=None, panel_by="auto", title=None):
    """A matplotlib Figure of a tidy metrics table: gold (top) and proxy (bottom) against sqrt(KL).

    One panel per value of ``panel_by``: "optimizer", a swept key, "seed", None (or "none") for a single panel, or
    "auto" (the default: the first of the optimizer and the swept keys that varies and leaves something varying
    within its panels, else one panel). Within a panel, one curve per value of the keys that vary there
    (optimizer, dpo beta, swept keys), averaged over seeds with a band of ± one standard error; the legend below
    the panel names only what varies, and an empty cell (a key that does not apply) is left out. Dashed: Gao et
    al.'s fit (best-of-n form for n grids, RL form otherwise) from ``fits`` (a runs table, or
    ``goodhart.fit_gao(df)``; computed here when omitted and the C++ extension is built). Large dot: the
    empirical peak of gold.
    """
    title = title or _title(df)
    df, keys = _table(df)
    if fits is None:
        fits = _fits_or_none(df)
    elif fits.attrs:
        fits = fits.copy(deep=False)
        fits.attrs = {}
    panel_by = _panel_key(df, keys, panel_by)
    panels = list(df.groupby(panel_by, sort=False, dropna=False)) if panel_by and len(df) else [(None, df)]

    columns = min(len(panels), PANELS_PER_ROW)
    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(PANEL_SIZE[0] * columns + 1.0, PANEL_SIZE[1] * rows), layout="constrained")
    axes = fig.subplots(2 * rows, columns, squeeze=False)
    legends = []
    for i, (panel_value, panel) in enumerate(panels):
        gold_ax, proxy_ax = axes[2 * (i // columns)][i % columns], axes[2 * (i // columns) + 1][i % columns]
        proxy_ax.sharex(gold_ax)
        within = _varying(panel, [k for k in keys if k != panel_by])
        names = _short_names(within, set(df.columns))
        groups = list(panel.groupby(within, sort=False, dropna=False)) if within else [((), panel)]
        groups = [(values, group) for values, group in groups if len(group)]  # an empty table: an empty panel
        palette = _palette(len(groups))
        for j, (values, curve_rows) in enumerate(groups):
            values = values if isinstance(values, tuple) else (values,)
            # name what varies in the panel; a key that does not apply to this curve (an empty cell) is left out
            parts = _curve_parts(within, values, names, curve_rows["optimizer"].iloc[0])
            _draw_curve(gold_ax, proxy_ax, curve_rows, parts, palette(j % palette.N), fits)
        _style_axes(gold_ax, proxy_ax, _heading(df, keys, panel_by, panel_value, panel))
        legends.append((i, _legend_below(fig, proxy_ax)))
    for k in range(len(panels), rows * columns):  # empty cells of the last row
        axes[2 * (k // columns)][k % columns].set_visible(False)
        axes[2 * (k // columns) + 1][k % columns].set_visible(False)
    fig.suptitle(title + "\n(dashed: Gao fit; large dot: empirical peak; band: ± 1 s.e.)",
                 fontsize=11)
    _make_room(fig, legends, rows, columns)
    return fig


def _palette(n):
    """Distinct colours for n curves: the tab10 or tab20 cycle, else n evenly spaced colours."""
    return colormaps["tab10"] if n <= 10 else colormaps["tab20"] if n <= 20 else colormaps["turbo"].resampled(n)


def _make_room(fig, legends, rows, columns):
    """Grow the figure by each row's tallest legend and each column's widest, so the axes keep PANEL_SIZE."""
    tall, wide = [0.0] * rows, [0.0] * columns
    for i, legend in legends:
        if legend is not None:
            box = legend.get_window_extent()
            tall[i // columns] = max(tall[i // columns], box.height / fig.dpi)
            wide[i % columns] = max(wide[i % columns], box.width / fig.dpi)
    width = sum(max(PANEL_SIZE[0], w + 0.4) for w in wide) + 1.0
    fig.set_size_inches(width, PANEL_SIZE[1] * rows + sum(tall) + 0.3 * rows)


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


def scaling(results_dir, out=None):
    """The coefficient figure of `goodhart scaling` (scaling_plot.py); returns the PNG's path."""
    from .scaling_plot import plot_scaling
    return plot_scaling(results_dir, out)


def kl_audit(results_dir, out=None):
    """The KL-estimator audit figure of `goodhart audit-kl` (kl_audit_plot.py); returns the PNG's path."""
    from .kl_audit_plot import plot_kl_audit
    return plot_kl_audit(results_dir, out)


def detect(results_dir, out=None):
    """The onset-detector figure of `goodhart detect` (detect_plot.py); returns the PNG's path."""
    from .detect_plot import plot_detect
    return plot_detect(results_dir, out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="goodhart plot", description="Goodhart curves from a results folder.")
    parser.add_argument("results_dir", help="folder with metrics.csv (and runs.csv, leaderboard.csv, scaling.csv, detect.csv) "
                                            "or kl_audit.csv")
    parser.add_argument("--out", help="PNG path (an SVG is written beside it); default RESULTS_DIR/goodhart.png")
    parser.add_argument("--panel-by", default="auto",
                        help="'optimizer', a swept key, 'seed', 'none' (one panel) or 'auto' (the default: chosen "
                             "from the table)")
    args = parser.parse_args(argv)
    try:
        if (Path(args.results_dir) / "kl_audit.csv").is_file() and not (Path(args.results_dir) / "metrics.csv").is_file():
            print(kl_audit(args.results_dir, args.out))  # an audit-kl folder
            return 0
        print(plot_results(args.results_dir, args.out, args.panel_by))
        if (Path(args.results_dir) / "kl_audit.csv").is_file() and not args.out:
            print(kl_audit(args.results_dir))
        if (Path(args.results_dir) / "leaderboard.csv").is_file() and not args.out:
            print(leaderboard(args.results_dir))
        if (Path(args.results_dir) / "scaling.csv").is_file() and not args.out:
            print(scaling(args.results_dir))
        if (Path(args.results_dir) / "detect.csv").is_file() and not args.out:
            print(detect(args.results_dir))
    except (OSError, ValueError, KeyError) as e:
        print(f"error: goodhart plot: {e}", file=sys.stderr)
        return 2
    return 0
