# test_api.py — goodhart.run / load / validate / fit_gao / exact_tilt against the command-line tool, the engine's
# runs.csv and a plain NumPy reference; errors carry the engine's messages.
import json
import math

import numpy as np
import pandas as pd
import pytest

import goodhart
from conftest import ROOT, TINY, run_cli


def test_run_writes_the_same_files_as_the_command_line(tiny_results, tmp_path):
    df = goodhart.run(TINY, out=tmp_path / "py")
    for name in ("metrics.csv", "runs.csv"):
        assert (tmp_path / "py" / name).read_bytes() == (tiny_results / name).read_bytes(), name
    expected = goodhart.load(tiny_results)
    pd.testing.assert_frame_equal(df, expected, check_exact=True)
    assert df.attrs["manifest"]["scenario"]["name"] == "gao_bon_learned_tiny"


def test_run_is_identical_at_one_and_two_threads(tmp_path):
    one = goodhart.run(TINY, threads=1, out=tmp_path / "one")
    two = goodhart.run(TINY, threads=2, out=tmp_path / "two")
    assert (tmp_path / "one" / "metrics.csv").read_bytes() == (tmp_path / "two" / "metrics.csv").read_bytes()
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_run_without_out_leaves_nothing_and_returns_tidy_metrics():
    one_model = {"method": "grid", "parameters": {"proxy.model": {"values": ["linear"]}}}
    df = goodhart.run(TINY, overrides={"sweep": one_model})
    assert "results_dir" not in df.attrs
    assert set(df["proxy.model"]) == {"linear"}
    assert set(df["optimizer"]) == {"best_of_n"}
    # best-of-n KL is log n - (n - 1) / n exactly
    n = df["param"].to_numpy()
    assert np.allclose(df["kl"], np.log(n) - (n - 1) / n, rtol=1e-12, atol=1e-15)
    assert df["point_id"].map(type).eq(str).all()


def test_overrides_dict_reaches_the_engine():
    config, points = goodhart.validate(TINY, overrides={"optimizer.pool": 256, "optimizer.n": [1, 4, 16]})
    assert config["optimizers"][0]["pool"] == 256
    assert config["optimizers"][0]["n"] == [1, 4, 16]
    assert list(points.columns) == ["index", "point_id", "proxy.model", "preferences.n_pairs"]
    assert len(points) == 4


def test_dict_scenario_runs_like_its_file(tmp_path):
    scenario = {
        "schema_version": 1, "name": "from_dict", "description": "a tiny best-of-n run", "seed": 0,
        "world": {"type": "gaussian", "dim": 4, "prompts": 8},
        "gold": {"type": "linear"},
        "proxy": {"type": "noisy", "noise": {"distribution": "gaussian", "scale": 1.0}},
        "optimizer": {"type": "best_of_n", "pool": 256, "n": [1, 2, 4, 16, 64]},
    }
    df = goodhart.run(scenario, out=tmp_path / "dict")
    assert (tmp_path / "dict" / "scenario.yaml").is_file()
    again = goodhart.run(tmp_path / "dict" / "scenario.yaml")
    pd.testing.assert_frame_equal(df, again, check_exact=True)


def test_dict_scenario_errors_point_into_its_json_text():
    scenario = {"schema_version": 1, "name": "bad", "description": "x", "seed": 0,
                "world": {"type": "gaussian", "dim": -3, "prompts": 8}, "gold": {"type": "linear"},
                "proxy": {"type": "noisy"}, "optimizer": {"type": "best_of_n", "pool": 16, "n": [1, 2]}}
    with pytest.raises(goodhart.ScenarioError) as caught:
        goodhart.run(scenario)
    text = json.dumps(scenario, indent=2).splitlines()
    line = next(i + 1 for i, t in enumerate(text) if '"dim": -3' in t)
    assert caught.value.key == "world.dim"
    assert caught.value.where.startswith(f"<dict>:{line}:")
    assert str(caught.value) == f"{caught.value.where}: world.dim: {caught.value.expected}"


@pytest.mark.parametrize("bad", sorted((ROOT / "tests" / "bad").glob("*.yaml")), ids=lambda p: p.name)
def test_scenario_errors_have_the_command_line_message(bad):
    cli = run_cli("validate", bad, check=False)
    assert cli.returncode == 2
    with pytest.raises(goodhart.ScenarioError) as caught:
        goodhart.validate(bad)
    assert f"error: {caught.value}" == cli.stderr.strip().splitlines()[-1]
    # located in the scenario, or in the score file it reads (scored_bad_cell.csv beside it)
    assert str(caught.value).startswith((f"{bad}:", f"{bad.with_suffix('.csv')}:"))


def test_bad_override_names_the_command_line():
    with pytest.raises(goodhart.ScenarioError, match=r"^<command line>: optimizer.pool: "):
        goodhart.validate(TINY, overrides={"optimizer.pool": -1})


def test_a_folder_of_another_scenario_is_refused(tiny_results):
    other = ROOT / "scenarios" / "tiny" / "regressional_gaussian.yaml"
    with pytest.raises(goodhart.RunRefused, match="another scenario|differ"):
        goodhart.run(other, out=tiny_results, resume=True)


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="backend"):
        goodhart.run(TINY, backend="tpu")


def test_fit_gao_reproduces_runs_csv(tiny_results):
    fits = goodhart.fit_gao(goodhart.load(tiny_results))
    runs = goodhart.load(tiny_results, "runs")
    assert len(fits) == len(runs)
    for column in ("bon_alpha", "bon_beta", "bon_r2", "bon_peak_sqrt_kl", "rl_alpha", "rl_beta", "rl_r2"):
        np.testing.assert_allclose(fits[column], runs[column], rtol=1e-12, err_msg=column)
    assert list(fits["curve_id"]) == list(runs["curve_id"])
    assert list(fits["point_id"]) == list(runs["point_id"])


def test_fit_gao_recovers_known_coefficients():
    d = np.linspace(0.1, 4.0, 40)
    df = pd.DataFrame({"curve_id": "p-0", "point_id": "p", "seed": 0, "optimizer": "best_of_n", "param_name": "n", "param": d,
                       "beta": math.nan, "sqrt_kl": d, "gold_mean": d * (1.5 - 0.4 * d)})
    fit = goodhart.fit_gao(df).iloc[0]
    assert fit["bon_alpha"] == pytest.approx(1.5, rel=1e-12)
    assert fit["bon_beta"] == pytest.approx(0.4, rel=1e-12)
    assert fit["bon_peak_sqrt_kl"] == pytest.approx(1.5 / 0.8, rel=1e-12)


def test_exact_tilt_matches_numpy():
    rng = np.random.default_rng(7)
    prompts, candidates = 64, 33
    logits = rng.normal(size=(prompts, candidates))
    log_ref = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(np.float32)
    proxy = rng.normal(size=(prompts, candidates)).astype(np.float32)
    gold = (0.5 * proxy + rng.normal(size=(prompts, candidates))).astype(np.float32)
    betas = np.array([0.05, 0.3, 1.0, 10.0])
    table = goodhart.exact_tilt(log_ref, proxy, betas, {"gold": gold}, backend="cpu")
    lr, px, g = (a.astype(np.float64) for a in (log_ref, proxy, gold))
    for b, row in zip(betas, table.itertuples()):
        z = lr + px / b
        pi = np.exp(z - z.max(1, keepdims=True))
        pi /= pi.sum(1, keepdims=True)
        kl = (pi * (np.log(pi) - lr)).sum(1).mean()
        assert row.kl == pytest.approx(kl, rel=1e-4, abs=1e-6)
        assert row.proxy == pytest.approx((pi * px).sum(1).mean(), rel=1e-4, abs=1e-6)
        assert row.gold == pytest.approx((pi * g).sum(1).mean(), rel=1e-4, abs=1e-6)
    with pytest.raises(ValueError, match="shape of log_ref"):
        goodhart.exact_tilt(log_ref, proxy[:, :5], betas)


@pytest.mark.parametrize("log_ref, proxy, betas, message", [
    (np.zeros((3, 0)), np.zeros((3, 0)), [1.0], "P >= 1 prompts and K >= 1 candidates, got 3 x 0"),
    (np.zeros((0, 4)), np.zeros((0, 4)), [1.0], "got 0 x 4"),
    (np.zeros(4), np.zeros(4), [1.0], r"log_ref: expected a P x K array .* shape \(4,\)"),
    (np.zeros((2, 3)), np.zeros((2, 3)), [0.0], "betas: expected finite numbers > 0.*got 0 at index 0"),
    (np.zeros((2, 3)), np.zeros((2, 3)), [1.0, -1.0], "got -1 at index 1"),
    (np.zeros((2, 3)), np.zeros((2, 3)), [math.nan], "got nan"),
    (np.zeros((2, 3)), np.zeros((2, 3)), [math.inf], "got inf"),
    (np.zeros((2, 3)), np.zeros((2, 3)), [], "at least one beta"),
    (np.zeros((2, 3)), np.full((2, 3), math.nan), [1.0], "proxy: expected finite numbers, got nan at row 0"),
    (np.full((2, 3), -math.inf), np.zeros((2, 3)), [1.0], "row 0 is -inf everywhere"),
    (np.full((2, 3), math.nan), np.zeros((2, 3)), [1.0], "log_ref: expected log-probabilities"),
])
def test_exact_tilt_refuses_what_is_not_a_tilt(log_ref, proxy, betas, message):
    with pytest.raises(ValueError, match=message):
        goodhart.exact_tilt(log_ref, proxy, betas)


def test_exact_tilt_takes_a_scalar_beta_and_a_never_drawn_candidate():
    log_ref = np.array([[math.log(0.5), math.log(0.5), -math.inf]])  # the third candidate has pi_ref = 0
    table = goodhart.exact_tilt(log_ref, np.array([[0.0, 1.0, 5.0]]), 1.0, backend="cpu")
    p = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    assert table["proxy"].iloc[0] == pytest.approx(p[1], rel=1e-5)


def test_numpy_scalars_and_arrays_are_scenario_values(tmp_path):
    scenario = {"schema_version": np.int64(1), "name": "np", "description": "numpy values", "seed": np.int32(0),
                "world": {"type": "gaussian", "dim": np.int64(2), "prompts": np.int64(4)},
                "gold": {"type": "linear"}, "proxy": {"type": "noisy", "noise": {"scale": np.float32(0.5)}},
                "optimizer": {"type": "best_of_n", "pool": np.int64(16), "n": np.array([1, 2, 4])}}
    resolved, points = goodhart.validate(scenario, overrides={"seed": np.int64(3), "proxy.noise.scale": np.float64(0.25)})
    assert resolved["world"]["dim"] == 2 and resolved["seed"] == 3 and resolved["optimizers"][0]["n"] == [1, 2, 4]
    assert resolved["proxy"]["noise"]["scale"] == 0.25
    assert len(goodhart.run(scenario, threads=np.int64(1))) == 3
    with pytest.raises(TypeError, match="got object"):
        goodhart.validate({**scenario, "name": object()})


@pytest.mark.parametrize("kwargs, message", [({"out": ""}, "out: an empty path"),
                                             ({"threads": 0}, "threads: expected an integer from 1 to 1024"),
                                             ({"threads": 100000000}, "1 to 1024"),
                                             ({"threads": 1.5}, "1 to 1024")])
def test_run_refuses_bad_targets_before_running(kwargs, message):
    with pytest.raises(ValueError, match=message):
        goodhart.run(TINY, **kwargs)


def test_compare_writes_the_leaderboard_of_the_command_line(tiny_results, tmp_path):
    board = goodhart.compare([tiny_results], out=tmp_path / "py")
    run_cli("compare", tiny_results, "--out", tmp_path / "cli", "--quiet")
    assert (tmp_path / "py" / "leaderboard.csv").read_bytes() == (tmp_path / "cli" / "leaderboard.csv").read_bytes()
    assert len(board) == 4  # two proxy models x two data sizes
    assert board["peak_gold"].is_monotonic_decreasing


def test_scaling_writes_the_slopes_of_the_command_line_and_draws_them(tiny_results, tmp_path):
    slopes = goodhart.scaling(tiny_results, out=tmp_path / "py")
    run_cli("scaling", tiny_results, "--out", tmp_path / "cli", "--quiet")
    assert (tmp_path / "py" / "scaling.csv").read_bytes() == (tmp_path / "cli" / "scaling.csv").read_bytes()
    # linear (9 parameters) and quadratic (17) proxies at two data sizes: both regressors, every target
    assert set(slopes["regressor"]) == {"log10_parameters", "log10_pairs"}
    assert set(slopes["target"]) >= {"bon_alpha", "bon_beta", "peak_gold", "peak_sqrt_kl"}
    assert (slopes["curves"] == 4).all()
    runs = goodhart.load(tiny_results, "runs")
    assert sorted(runs["proxy_parameters"].unique()) == [9, 17]
    # the slope of peak_gold on the parameters, redone with numpy
    x = np.column_stack([np.ones(4), np.log10(runs["proxy_parameters"]), np.log10(runs["preferences.n_pairs"])])
    beta = np.linalg.lstsq(x, runs["peak_gold"].to_numpy(), rcond=None)[0]
    row = slopes[(slopes["target"] == "peak_gold") & (slopes["regressor"] == "log10_parameters")]
    assert float(row["slope"].iloc[0]) == pytest.approx(beta[1], rel=1e-9, abs=1e-12)
    import shutil  # the figure reads runs.csv beside scaling.csv

    shutil.copy(tiny_results / "runs.csv", tmp_path / "py" / "runs.csv")
    png = goodhart.plot.scaling(tmp_path / "py")
    assert png.is_file() and png.with_suffix(".svg").is_file()


def test_detect_writes_the_command_lines_tables_and_draws_the_roc(tmp_path):
    # a small onset study: RLOO with and without a KL penalty against a noisy mlp ensemble, a validation RM
    scenario = {
        "schema_version": 1, "name": "onset_py", "description": "turning and stable runs", "seed": 0,
        "world": {"type": "categorical", "dim": 6, "prompts": 32, "candidates": 64},
        "gold": {"type": "concave", "penalty": 0.5},
        "preferences": {"n_pairs": 200, "label_noise": 0.25, "heldout_pairs": 200},
        "proxy": {"type": "learned", "model": "mlp", "hidden": [8], "epochs": 5, "ensemble_members": 3},
        "optimizer": {"type": "policy_gradient", "policy": "tabular", "learning_rate": 0.2, "steps": 60,
                      "eval_every": 10, "early_stopping": "monitor"},
        "sweep": {"method": "grid", "parameters": {"optimizer.kl_coef": {"values": [0.0, 1.0]}}},
    }
    goodhart.run(scenario, out=tmp_path / "runs")
    signals = goodhart.detect(tmp_path / "runs", out=tmp_path / "py", k=1.0)
    run_cli("detect", tmp_path / "runs", "--k", "1", "--out", tmp_path / "cli", "--quiet")
    for table in ("detect.csv", "detect_curves.csv", "detect_signals.csv"):
        assert (tmp_path / "py" / table).read_bytes() == (tmp_path / "cli" / table).read_bytes()
    assert list(signals["signal"]) == ["kl", "kl_growth", "kl_acceleration", "entropy_drop", "ensemble_disagreement",
                                       "validation_drop", "proxy_validation_gap", "accuracy_drop"]
    assert (signals["curves"] <= 2).all() and (signals.loc[signals["signal"] == "kl", "curves"] == 2).all()
    assert (signals["k"] == 1.0).all()
    metrics = goodhart.load(tmp_path / "runs")
    assert metrics["ensemble_disagreement"].notna().all() and metrics["validation_proxy"].notna().all()
    png = goodhart.plot.detect(tmp_path / "py")
    assert png.is_file() and png.with_suffix(".svg").is_file()
    with pytest.raises(ValueError, match="--k"):
        goodhart.detect(tmp_path / "runs", out=tmp_path / "bad", k=-1)
    assert not (tmp_path / "bad").exists()


def test_an_odin_proxy_loses_the_bias_and_compare_shows_it(tmp_path):
    # labellers who reward feature 3 ("length"); the plain proxy leans on it, odin's quality head does not
    scenario = {
        "schema_version": 1, "name": "odin_py", "description": "plain against odin", "seed": 0,
        "world": {"type": "gaussian", "dim": 4, "prompts": 8},
        "gold": {"type": "linear", "weights": [1, 1, 1, 0]},
        "preferences": {"n_pairs": 1000, "bias_feature": 3, "bias_weight": 1.0},
        "proxy": {"type": "learned", "optimizer": "lbfgs", "bias_feature": 3},
        "optimizer": {"type": "best_of_n", "pool": 1024, "n": [1, 16, 256, 1024]},
        "sweep": {"method": "grid", "parameters": {"proxy.disentangle": {"values": ["none", "odin"]}}},
    }
    goodhart.run(scenario, out=tmp_path / "odin")
    runs = goodhart.load(tmp_path / "odin", "runs").set_index("proxy.disentangle")
    # the plain proxy's share on length is about 1/sqrt(2) (a linear proxy: the closed form under pi_ref)
    assert runs.loc["none", "proxy_bias_correlation"] == pytest.approx(math.sqrt(0.5), abs=0.06)
    assert abs(runs.loc["odin", "proxy_bias_correlation"]) < 0.03
    assert runs.loc["odin", "rm_accuracy_ref"] > runs.loc["none", "rm_accuracy_ref"] + 0.1
    assert runs.loc["odin", "final_gold"] > runs.loc["none", "final_gold"]
    board = goodhart.compare([tmp_path / "odin"], out=tmp_path / "board").set_index("variant")
    assert board.loc["proxy.disentangle=odin", "proxy_bias_correlation"] == pytest.approx(
        runs.loc["odin", "proxy_bias_correlation"], rel=1e-12)


def test_load_rejects_what_is_not_a_results_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.csv"):
        goodhart.load(tmp_path)
    with pytest.raises(ValueError, match="table"):
        goodhart.load(tmp_path, "nonsense")


def test_ctrl_c_keeps_finished_points_and_resume_finishes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "interrupted"
    many_seeds = {"method": "grid", "parameters": {"proxy.model": {"values": ["linear", "quadratic"]},
                                                   "seed": {"range": [0, 16]}}}
    script = (f"import goodhart; goodhart.run({str(TINY)!r}, overrides={{'sweep': {many_seeds!r}}}, "
              f"out={str(out)!r}, threads=1)")
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "points").is_dir() or not any((out / "points").iterdir()):
        assert child.poll() is None and time.monotonic() < deadline, "no point finished"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode != 0 and "KeyboardInterrupt" in stderr and "resume=True" in stderr, stderr
    kept = len(list((out / "points").iterdir()))
    assert 0 < kept < 32 and not (out / "metrics.csv").exists()
    df = goodhart.run(TINY, overrides={"sweep": many_seeds}, out=out, resume=True)
    assert df["point_id"].nunique() == 32


def test_audit_kl_writes_the_command_lines_table_and_its_closed_forms_hold(tmp_path):
    scenario = ROOT / "scenarios" / "tiny" / "kl_estimator_audit.yaml"
    audit = goodhart.audit_kl(scenario, out=tmp_path / "py")
    run_cli("audit-kl", scenario, "--out", tmp_path / "cli", "--quiet")
    assert (tmp_path / "py" / "kl_audit.csv").read_bytes() == (tmp_path / "cli" / "kl_audit.csv").read_bytes()
    moved = audit[audit["step"] > 0]
    on = moved[moved["off_policy_steps"] == 0].set_index(["step", "estimator", "kl_in", "correction"])["descends"]
    for step in moved["step"].unique():
        assert on[(step, "k1", "loss", "none")] == "zero"
        assert on[(step, "k2", "loss", "none")] == "kl"
        assert on[(step, "k3", "loss", "none")] == "reverse_kl"
        assert on[(step, "k1", "reward", "none")] == "kl"
    # the KL the trainer logs: k1's and k3's expectations under pi are KL itself
    k3 = moved[(moved["off_policy_steps"] == 0) & (moved["estimator"] == "k3") & (moved["kl_in"] == "reward")]
    assert np.allclose(k3["kl_estimated"], k3["kl"], rtol=1e-9)
    # a point out of range and a world without candidates are the command line's errors
    with pytest.raises(ValueError, match="--point 3"):
        goodhart.audit_kl(scenario, out=tmp_path / "bad", point=3)
    with pytest.raises(goodhart.ScenarioError, match="world.type"):
        goodhart.audit_kl(ROOT / "scenarios" / "tiny" / "gao_rl_pg.yaml", out=tmp_path / "bad", point=0)
    assert not (tmp_path / "bad").exists()
    png = goodhart.plot.kl_audit(tmp_path / "py")
    assert png.is_file() and png.with_suffix(".svg").is_file()


def test_runs_report_the_proven_bounds_each_curve_was_checked_against(tiny_results):
    runs = goodhart.load(tiny_results, "runs")
    # gao_bon_learned: best-of-n in the gaussian world; a linear proxy is gaussian, so Donsker-Varadhan applies
    linear = runs[runs["proxy.model"] == "linear"] if "proxy.model" in runs.columns else runs
    assert (linear["bounds_checked"] == "proxy_subgaussian").all()
    assert runs["bounds_violated"].isna().all()  # empty: no bound is broken
