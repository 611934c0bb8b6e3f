# plot.py — Goodhart curves from a results folder: gold and proxy against sqrt(KL), with Gao fits and peaks.
# Contract: reads DIR/metrics.csv and DIR/runs.csv (and DIR/manifest.json if present); writes a PNG and an SVG.
"""Plot a goodhart results folder.

    python3 python/goodhart/plot.py RESULTS_DIR [--out FILE.png]

or, from Python, ``plot_results(results_dir, out=None)``, which returns the path of the PNG.
"""
import argparse
import csv
import json
import math
import sys
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

FIRST_SWEPT_AFTER = "optimizer"
LAST_SWEPT_BEFORE = "param_name"
MANY_CURVES = 4  # above this, the legend goes below the panels


def _number(cell):
    """A CSV cell as a float; an empty cell (not applicable) is NaN."""
    return float(cell) if cell not in ("", None) else math.nan


def _read_csv(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames or [], list(reader)


def _swept_keys(fieldnames):
    """The columns between 'optimizer' and 'param_name' of metrics.csv, less 'seed'."""
    if FIRST_SWEPT_AFTER not in fieldnames or LAST_SWEPT_BEFORE not in fieldnames:
        raise ValueError(f"metrics.csv needs columns {FIRST_SWEPT_AFTER!r} and {LAST_SWEPT_BEFORE!r}")
    first = fieldnames.index(FIRST_SWEPT_AFTER) + 1
    last = fieldnames.index(LAST_SWEPT_BEFORE)
    return [k for k in fieldnames[first:last] if k != "seed"]


def _mean(values):
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def _mean_and_se(values, row_ses):
    """Mean over seeds with its standard error across seeds, or the row's own standard error for one seed."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    m = sum(values) / len(values)
    if len(values) >= 2:
        var = sum((v - m) ** 2 for v in values) / (len(values) - 1)
        return m, math.sqrt(var / len(values))
    return m, _mean(row_ses)


def _curve_name(row, metrics_row):
    """The optimizer, with its beta for dpo (each beta of a dpo entry is a separate training run)."""
    beta = row.get("beta", "")
    if beta and (not metrics_row or row.get("param_name") == "step"):
        return f"{row['optimizer']} beta={beta}"
    return row["optimizer"]


def _curves(rows, swept):
    """One curve per (optimizer, swept values): points sorted by sqrt_kl, averaged over seeds per param value."""
    groups = {}
    for row in rows:
        key = (_curve_name(row, True), tuple(row.get(k, "") for k in swept))
        groups.setdefault(key, []).append(row)
    curves = []
    for key, group in groups.items():
        by_param = {}
        for row in group:
            by_param.setdefault(_number(row["param"]), []).append(row)
        points = []
        for same in by_param.values():
            gold, gold_se = _mean_and_se([_number(r["gold_mean"]) for r in same],
                                         [_number(r["gold_se"]) for r in same])
            proxy, proxy_se = _mean_and_se([_number(r["proxy_mean"]) for r in same],
                                           [_number(r["proxy_se"]) for r in same])
            points.append((_mean([_number(r["sqrt_kl"]) for r in same]), gold, gold_se, proxy, proxy_se))
        points = sorted(p for p in points if not math.isnan(p[0]))
        if points:
            curves.append({"key": key, "param_name": group[0]["param_name"], "points": points})
    return curves


def _fit_coefficients(runs, swept, key, form):
    """Gao coefficients of one curve's form, averaged over the seeds in runs.csv; None when absent."""
    optimizer, values = key
    matching = [r for r in runs
                if _curve_name(r, False) == optimizer and tuple(r.get(k, "") for k in swept) == values]
    alpha = _mean([_number(r.get(f"{form}_alpha", "")) for r in matching])
    beta = _mean([_number(r.get(f"{form}_beta", "")) for r in matching])
    return None if math.isnan(alpha) or math.isnan(beta) else (alpha, beta)


def _gao(form, alpha, beta, d):
    if form == "bon":
        return d * (alpha - beta * d)
    return 0.0 if d <= 0 else d * (alpha - beta * math.log(d))


def _title(results_dir):
    manifest = results_dir / "manifest.json"
    try:
        name = json.loads(manifest.read_text())["scenario"]["name"]
        if isinstance(name, str) and name:
            return name
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return results_dir.resolve().name


def _label(curve, swept, coefficients):
    optimizer, values = curve["key"]
    parts = [optimizer] + [f"{k}={v}" for k, v in zip(swept, values) if v != ""]
    label = ", ".join(parts)
    if coefficients:
        label += f" (alpha={coefficients[0]:.2f}, beta={coefficients[1]:.2f})"
    return label


def _draw_band(ax, xs, ys, ses, color):
    lo = [y - s if not math.isnan(s) else y for y, s in zip(ys, ses)]
    hi = [y + s if not math.isnan(s) else y for y, s in zip(ys, ses)]
    ax.fill_between(xs, lo, hi, color=color, alpha=0.2, linewidth=0)


def plot_results(results_dir, out=None):
    """Draw gold (left) and proxy (right) against sqrt(KL); write out (default DIR/goodhart.png) and its .svg."""
    results_dir = Path(results_dir)
    fieldnames, rows = _read_csv(results_dir / "metrics.csv")
    swept = _swept_keys(fieldnames)
    runs_path = results_dir / "runs.csv"
    runs = _read_csv(runs_path)[1] if runs_path.exists() else []
    curves = _curves(rows, swept)

    # two panels; colours from a qualitative map, enough for every curve
    fig = Figure(figsize=(12, 5.0), layout="constrained")
    gold_ax, proxy_ax = fig.subplots(1, 2, sharex=True)
    palette = colormaps["tab10" if len(curves) <= 10 else "tab20"]

    for i, curve in enumerate(curves):
        color = palette(i % palette.N)
        xs, gold, gold_se, proxy, proxy_se = (list(c) for c in zip(*curve["points"]))
        # gold: mean, band, Gao fit (best-of-n form for n sweeps, RL form otherwise), empirical peak
        form = "bon" if curve["param_name"] == "n" else "rl"
        coefficients = _fit_coefficients(runs, swept, curve["key"], form)
        gold_ax.plot(xs, gold, color=color, marker="o", markersize=2.5, linewidth=1.5,
                     label=_label(curve, swept, coefficients))
        _draw_band(gold_ax, xs, gold, gold_se, color)
        if coefficients:
            top = max(xs)
            ds = [top * j / 200 for j in range(201)]
            gold_ax.plot(ds, [_gao(form, *coefficients, d) for d in ds], color=color, linestyle="--", linewidth=1)
        finite = [(g, j) for j, g in enumerate(gold) if not math.isnan(g)]
        if finite:
            peak = max(finite, key=lambda gj: (gj[0], -gj[1]))[1]
            gold_ax.plot([xs[peak]], [gold[peak]], color=color, marker="o", markersize=7,
                         markeredgecolor="black", linestyle="none")
        # proxy: mean and band
        proxy_ax.plot(xs, proxy, color=color, marker="o", markersize=2.5, linewidth=1.5)
        _draw_band(proxy_ax, xs, proxy, proxy_se, color)

    # axes, title, legend
    for ax, name in ((gold_ax, "gold reward"), (proxy_ax, "proxy reward")):
        ax.set_xlabel("sqrt(KL(pi || pi_ref))")
        ax.set_ylabel(name)
        ax.axhline(0.0, color="grey", linewidth=0.5)
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    gold_ax.set_title("gold (dashed: Gao fit, dot: empirical peak)", fontsize=10)
    proxy_ax.set_title("proxy", fontsize=10)
    # heavy-tailed proxies span many orders of magnitude: a symmetric log scale keeps every curve visible
    proxy_values = [abs(p[3]) for c in curves for p in c["points"] if math.isfinite(p[3])]
    if proxy_values and max(proxy_values) > 100.0:
        proxy_ax.set_yscale("symlog", linthresh=1.0)
        lowest = min(p[3] for c in curves for p in c["points"] if math.isfinite(p[3]))
        proxy_ax.set_ylim(bottom=min(0.0, lowest) - 1.0)
        proxy_ax.set_title("proxy (symmetric log scale)", fontsize=10)
    fig.suptitle(_title(results_dir))
    if curves:
        handles, labels = gold_ax.get_legend_handles_labels()
        if len(curves) > MANY_CURVES:  # below the figure; bbox_inches="tight" grows the canvas to hold it
            fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize="x-small",
                       frameon=False)
        else:
            gold_ax.legend(fontsize="x-small")

    # png and svg side by side
    png = Path(out) if out else results_dir / "goodhart.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(png.with_suffix(".svg"), bbox_inches="tight")
    return png


def main(argv=None):
    parser = argparse.ArgumentParser(description="Goodhart curves from a goodhart results folder.")
    parser.add_argument("results_dir", help="folder with metrics.csv and runs.csv")
    parser.add_argument("--out", help="PNG path (an SVG is written beside it); default RESULTS_DIR/goodhart.png")
    args = parser.parse_args(argv)
    try:
        print(plot_results(args.results_dir, args.out))
    except (OSError, ValueError, KeyError) as e:
        print(f"goodhart plot: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
