# test_plot.py — goodhart.plot.curves / save and `goodhart plot DIR`: panels, files written, errors.
import pytest

import goodhart
from conftest import run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_curves_has_a_gold_and_a_proxy_axis_per_panel(tiny_results):
    df = goodhart.load(tiny_results)
    fig = goodhart.plot.curves(df)  # panels per proxy.model (one optimizer)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 * df["proxy.model"].nunique()
    gold_axes = [ax for ax in visible if ax.get_ylabel() == "gold reward"]
    titles = sorted(ax.get_title() for ax in gold_axes)
    assert titles == ["proxy.model=linear", "proxy.model=quadratic"]
    # per panel: one curve per n_pairs, its Gao fit (dashed) and its peak marker
    for ax in gold_axes:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert len(labels) == df["preferences.n_pairs"].nunique()
        assert all("Gao bon: alpha=" in label for label in labels)
        assert sum(line.get_linestyle() == "--" for line in ax.get_lines()) == len(labels)


def test_panel_by_a_swept_key_and_a_bad_one(tiny_results):
    df = goodhart.load(tiny_results)
    fig = goodhart.plot.curves(df, panel_by="preferences.n_pairs")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    single = goodhart.plot.curves(df, panel_by=None)
    assert len([ax for ax in single.axes if ax.get_visible()]) == 2
    assert len(single.axes[0].get_legend().get_texts()) == 4
    with pytest.raises(ValueError, match="panel_by"):
        goodhart.plot.curves(df, panel_by="nonsense")


def test_save_writes_png_and_svg(tiny_results, tmp_path):
    png = goodhart.plot.save(goodhart.plot.curves(goodhart.load(tiny_results)), tmp_path / "c.png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert b"<svg" in png.with_suffix(".svg").read_bytes()[:2000]


def test_goodhart_plot_command(tiny_results, tmp_path):
    out = tmp_path / "fig.png"
    result = run_cli("plot", tiny_results, "--out", out)
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
