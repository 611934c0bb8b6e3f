# leaderboard.py — the leaderboard of `goodhart compare` as a picture: where each variant peaks, and whether
# a more accurate reward model ends up with more gold.
# Contract: reads DIR/leaderboard.csv (standard library csv) and the rank correlation from DIR/leaderboard.json (the
# engine computes it; nothing is recomputed here) and writes DIR/leaderboard.png and .svg (matplotlib's object API,
# no global state).
"""Plot a goodhart leaderboard.

    goodhart compare RESULTS_DIR... [--out DIR]
    python -m goodhart leaderboard DIR [--out FILE.png]   (goodhart plot DIR draws it too)

Left: peak gold against sqrt(KL) at the peak, one labelled point per variant (error bars: one standard error
across seeds). Right: RM accuracy (rm_heldout_accuracy when every variant has it, else rm_accuracy_ref) against
gold at the largest KL budget that some variant reaches, with Spearman's rank correlation across all variants
(ties: average ranks; from leaderboard.json, scope "all") in the title. From Python: ``plot_leaderboard(directory, out=None)`` returns the path of the PNG.
"""
import argparse
import csv
import json
import math
import sys
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure

BUDGET_PREFIX = "gold_at_kl_"


def _number(cell):
    """A CSV cell as a float; an empty cell (not applicable) is NaN."""
    return float(cell) if cell not in ("", None) else math.nan


def _read(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames or [], list(reader)


def _label(row, several_folders):
    label = (row["folder"] + "/" if several_folders else "") + row["optimizer"]
    return label + (" " + row["variant"] if row.get("variant") else "")


def _budgets(fieldnames):
    """The KL budgets of the gold_at_kl_<b> columns, ascending, as (budget, column)."""
    out = []
    for name in fieldnames:
        if name.startswith(BUDGET_PREFIX) and not name.endswith("_se"):
            out.append((float(name[len(BUDGET_PREFIX):]), name))
    return sorted(out)


def _correlation(directory, budget):
    """Spearman's rho of RM accuracy and gold at a KL budget across every variant, with its n and the accuracy column
    it used, as `goodhart compare` computed it (leaderboard.json, scope "all")."""
    data = json.loads((directory / "leaderboard.json").read_text())
    for c in data["spearman"]:
        if c["scope"] == "all":
            rho = c["spearman_gold_at_kl"].get(budget)
            return (math.nan if rho is None else rho), c["n"], c["accuracy"]
    raise ValueError(f"{directory / 'leaderboard.json'}: no correlation of scope 'all' (run goodhart compare again)")


def plot_leaderboard(directory, out=None):
    directory = Path(directory)
    fieldnames, rows = _read(directory / "leaderboard.csv")
    if not rows:
        raise ValueError(f"{directory / 'leaderboard.csv'} has no variants")
    several = len({r["folder"] for r in rows}) > 1
    colors = colormaps["tab10"] if len(rows) <= 10 else colormaps["viridis"].resampled(len(rows))

    fig = Figure(figsize=(13, 5.5), layout="constrained")
    left, right = fig.subplots(1, 2)

    # left: where each variant peaks
    for i, row in enumerate(rows):
        x, y = _number(row["peak_sqrt_kl"]), _number(row["peak_gold"])
        if math.isnan(x) or math.isnan(y):
            continue
        xe, ye = _number(row.get("peak_sqrt_kl_se")), _number(row.get("peak_gold_se"))
        color = colors(i % colors.N) if len(rows) <= 10 else colors(i)
        left.errorbar(x, y, xerr=None if math.isnan(xe) else xe, yerr=None if math.isnan(ye) else ye, fmt="o",
                      color=color, capsize=3, markersize=6)
        left.annotate(f"{row['rank']}. {_label(row, several)}", (x, y), textcoords="offset points", xytext=(5, 4),
                      fontsize=7, color=color)
    left.set_xlabel("sqrt(KL) at the peak (nats^0.5)")
    left.set_ylabel("peak gold (empirical, standardized)")
    left.set_title("Peak gold and where it is reached")
    left.grid(alpha=0.3)
    left.margins(x=0.25, y=0.15)

    # right: RM accuracy against gold at the largest budget some variant reaches
    budget, column = None, None
    for b, name in reversed(_budgets(fieldnames)):
        if any(not math.isnan(_number(r[name])) for r in rows):
            budget, column = b, name
            break
    if column is None:
        right.text(0.5, 0.5, "no variant reaches any KL budget", ha="center", va="center",
                   transform=right.transAxes)
        right.set_title("RM accuracy and gold")
    else:
        rho, n, accuracy_column = _correlation(directory, column[len(BUDGET_PREFIX):])
        accuracy = [_number(r.get(accuracy_column)) for r in rows]
        gold = [_number(r[column]) for r in rows]
        for i, (a, g, r) in enumerate(zip(accuracy, gold, rows)):
            if math.isnan(a) or math.isnan(g):
                continue
            color = colors(i % colors.N) if len(rows) <= 10 else colors(i)
            se = _number(r.get(column + "_se"))
            right.errorbar(a, g, yerr=None if math.isnan(se) else se, fmt="o", color=color, capsize=3, markersize=6)
            right.annotate(r["rank"], (a, g), textcoords="offset points", xytext=(5, 4), fontsize=7, color=color)
        rho_text = "n/a" if math.isnan(rho) else f"{rho:+.2f}"
        right.set_title(f"RM accuracy vs gold at KL = {budget:g}: Spearman rho = {rho_text} (n = {n})")
        right.set_ylabel(f"gold at KL = {budget:g} (interpolated)")
        right.margins(x=0.15, y=0.15)
        right.set_xlabel(f"RM accuracy ({accuracy_column})")
    right.grid(alpha=0.3)

    fig.suptitle(f"goodhart leaderboard: {', '.join(sorted({r['folder'] for r in rows}))}", fontsize=11)
    png = Path(out) if out else directory / "leaderboard.png"
    fig.savefig(png, dpi=150, bbox_inches="tight")
    fig.savefig(png.with_suffix(".svg"), bbox_inches="tight")
    return png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="folder holding leaderboard.csv (from goodhart compare)")
    parser.add_argument("--out", help="PNG to write (default DIR/leaderboard.png)")
    args = parser.parse_args(argv)
    try:
        png = plot_leaderboard(args.directory, args.out)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(png)
    return 0

