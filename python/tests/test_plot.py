# test_plot.py — goodhart.plot.curves / save and `goodhart plot DIR`: panels, legends, files written, errors;
# every library scenario (scenarios/tiny/*.yaml, found by glob) run once, plotted by both entry points and by
# every panel choice, with no axes squeezed or covered by a legend.
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import goodhart
from conftest import ROOT, run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY_LIBRARY = sorted((ROOT / "scenarios" / "tiny").glob("*.yaml"))
MIN_AXES_INCHES = 1.5  # a panel's axes are 4.6 x ~2.8 in: a legend that squeezes them lands far below this


def _legends(fig):
    return [ax.get_legend() for ax in fig.axes if ax.get_visible() and ax.get_legend()]


def _panels(fig):
    """(title, legend labels) of each panel, in order: titles sit on the gold axes, legends under the proxy axes."""
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_ylabel() == "gold reward"]
    return list(zip(titles, ([t.get_text() for t in legend.get_texts()] for legend in _legends(fig)), strict=True))


def _assert_readable(fig):
    """After the layout runs: every visible axes keeps a readable size and no legend covers any axes."""
    fig.draw_without_rendering()
    width, height = fig.get_size_inches()
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert visible
    for ax in visible:
        box = ax.get_position()
        assert box.width * width >= MIN_AXES_INCHES and box.height * height >= MIN_AXES_INCHES, ax.get_title()
    for legend in _legends(fig):
        drawn = legend.get_window_extent()
        assert not any(drawn.overlaps(ax.get_window_extent()) for ax in visible)


def _assert_picture(png):
    """A PNG of a real figure (not a blank or tiny one) and an SVG beside it."""
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 600 and height >= 600
    svg = png.with_suffix(".svg").read_text()
    assert "<svg" in svg[:2000] and svg.count("<path") > 50


def _python_m(*args):
    """`python -m goodhart ...` with the package these tests import."""
    env = dict(os.environ)
    package_dir = str(Path(goodhart.__file__).absolute().parents[1])
    env["PYTHONPATH"] = package_dir + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "goodhart", *map(str, args)], capture_output=True, text=True,
                          env=env)


@pytest.fixture(scope="module", params=TINY_LIBRARY, ids=lambda path: path.stem)
def library_results(request, tmp_path_factory):
    """One tiny library scenario run once through the command line: its results folder."""
    out = tmp_path_factory.mktemp(request.param.stem) / "results"
    run_cli("run", request.param, "--out", out, "--quiet", "--threads", "1")
    return out


def test_curves_has_a_gold_and_a_proxy_axis_per_panel(tiny_results):
    df = goodhart.load(tiny_results)
    fig = goodhart.plot.curves(df, fits=goodhart.load(tiny_results, "runs"))  # panels per proxy.model
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 * df["proxy.model"].nunique()
    gold_axes = [ax for ax in visible if ax.get_ylabel() == "gold reward"]
    titles = sorted(ax.get_title() for ax in gold_axes)
    assert titles == ["proxy.model=linear", "proxy.model=quadratic"]
    # per panel: one curve per n_pairs, its Gao fit (dashed) and its peak marker; the legend under the proxy axes
    legends = _legends(fig)
    assert len(legends) == len(gold_axes)
    for ax, legend in zip(gold_axes, legends):
        labels = [t.get_text() for t in legend.get_texts()]
        assert len(labels) == df["preferences.n_pairs"].nunique()
        assert all(label.startswith("n_pairs=") and "Gao bon: alpha=" in label for label in labels)
        assert sum(line.get_linestyle() == "--" for line in ax.get_lines()) == len(labels)


def test_panel_by_a_swept_key_and_a_bad_one(tiny_results):
    df = goodhart.load(tiny_results)
    fig = goodhart.plot.curves(df, panel_by="preferences.n_pairs")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    for single in (goodhart.plot.curves(df, panel_by=None), goodhart.plot.curves(df, panel_by="none")):
        assert len([ax for ax in single.axes if ax.get_visible()]) == 2
        assert len(_legends(single)[0].get_texts()) == 4
    with pytest.raises(ValueError, match="panel_by.*preferences.n_pairs"):
        goodhart.plot.curves(df, panel_by="nonsense")


def test_save_writes_png_and_svg(tiny_results, tmp_path):
    png = goodhart.plot.save(goodhart.plot.curves(goodhart.load(tiny_results)), tmp_path / "c.png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert b"<svg" in png.with_suffix(".svg").read_bytes()[:2000]


def test_goodhart_plot_command(tiny_results, tmp_path):
    out = tmp_path / "fig.png"
    result = run_cli("plot", tiny_results, "--out", out, "--panel-by", "preferences.n_pairs")
    assert out.read_bytes().startswith(PNG_MAGIC) and out.with_suffix(".svg").is_file()
    assert str(out) in result.stdout


def test_goodhart_plot_of_a_missing_folder_exits_2(tmp_path):
    result = run_cli("plot", tmp_path / "nowhere", check=False)
    assert result.returncode == 2
    assert "metrics.csv" in result.stderr and result.stderr.startswith("error: goodhart plot:")


def test_leaderboard_figure_after_compare(tiny_results, tmp_path):
    goodhart.compare([tiny_results], out=tmp_path)
    png = goodhart.plot.leaderboard(tmp_path)
    assert png == tmp_path / "leaderboard.png"
    assert png.read_bytes().startswith(PNG_MAGIC) and png.with_suffix(".svg").is_file()


def test_goodhart_plot_draws_every_library_scenario(library_results):
    result = run_cli("plot", library_results)
    assert str(library_results / "goodhart.png") in result.stdout
    _assert_picture(library_results / "goodhart.png")


def test_python_m_goodhart_plot_draws_every_library_scenario_in_one_panel(library_results):
    out = library_results / "one_panel.png"
    result = _python_m("plot", library_results, "--panel-by", "none", "--out", out)
    assert result.returncode == 0, result.stderr
    _assert_picture(out)


def test_every_panel_choice_of_every_library_scenario_is_readable(library_results):
    metrics, fits = goodhart.load(library_results), goodhart.load(library_results, "runs")
    swept = goodhart.results.swept_columns(metrics)
    several = [key for key in ("optimizer", "seed") if metrics[key].nunique() > 1]  # else the same as None
    for panel_by in ("auto", None, *several, *swept):
        fig = goodhart.plot.curves(metrics, fits=fits, panel_by=panel_by)
        _assert_readable(fig)
        # each curve (optimizer and swept values, seeds averaged) in one panel, or in each of its seeds' panels
        entries = sum(len(labels) for _, labels in _panels(fig))
        # a trained entry with several betas (dpo's list) draws a curve per beta
        keyed = metrics.assign(run_beta=metrics["beta"].where(metrics["param_name"] == "step"))
        curves = len(keyed[["optimizer", *swept, "run_beta"]].astype(str).drop_duplicates())
        assert entries >= curves if panel_by == "seed" else entries == curves, panel_by


def test_a_dpo_entry_with_several_betas_draws_a_curve_per_beta(tmp_path):
    frontier = ROOT / "scenarios" / "tiny" / "frontier.yaml"
    run_cli("run", frontier, "optimizers[5].beta=[0.1, 0.3]", "--out", tmp_path, "--quiet", "--threads", "1")
    fig = goodhart.plot.curves(goodhart.load(tmp_path), fits=goodhart.load(tmp_path, "runs"))
    _assert_readable(fig)
    panels = dict(_panels(fig))  # a panel per optimizer, since the dpo panel then compares its two betas
    assert list(panels) == ["best_of_n", "kl_optimum", "rloo", "ppo", "grpo", "dpo"]
    assert [label.split(" ")[0] for label in panels["dpo"]] == ["beta=0.1", "beta=0.3"]


def test_degenerate_tables_still_plot(tiny_results):
    df = goodhart.load(tiny_results)
    tables = {
        "no rows": df.iloc[:0],
        "one row": df.iloc[:1],
        "no sqrt(KL)": df.assign(sqrt_kl=math.nan),
        "empty proxy and standard errors": df.assign(proxy_mean=math.nan, proxy_se=math.nan, gold_se=math.nan),
        "only the required columns": df[["optimizer", "param_name", "sqrt_kl", "gold_mean"]],
        "a key empty in some rows": df.assign(**{"proxy.model": df["proxy.model"].where(df.index % 2 == 0)}),
    }
    for name, table in tables.items():
        fig = goodhart.plot.curves(table, fits=None)
        _assert_readable(fig)
        assert all(np.isfinite(ax.get_xlim()).all() for ax in fig.axes), name
    with pytest.raises(ValueError, match="gold_mean"):
        goodhart.plot.curves(df.drop(columns="gold_mean"))
