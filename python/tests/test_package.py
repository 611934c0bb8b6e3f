# test_package.py — the distribution as a user meets it: one version everywhere, the scenario library as package
# data and by name, and sweeps spread over concurrent.futures executors (ProcessPoolExecutor, a dask LocalCluster)
# merged into the same bytes as a single run. (The wheel in a fresh venv: scripts/check-package.sh.)
import multiprocessing
import os
import re
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from importlib import metadata

import pytest

import goodhart
from conftest import ROOT, goodhart_binary

SWEEP = "tiny/gao_bon_learned"  # four points, a learned proxy each


def process_pool():
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))


def test_the_version_is_written_once_and_read_everywhere():
    cmake = re.search(r"project\(goodhart VERSION ([0-9.]+)", (ROOT / "CMakeLists.txt").read_text()).group(1)
    tool = subprocess.run([goodhart_binary(), "version"], capture_output=True, text=True, check=True).stdout.split()[1]
    from goodhart import _core

    assert cmake == tool == goodhart.__version__ == _core.__version__ == metadata.version("goodhart-sim")


def test_the_library_ships_with_the_package_and_matches_the_repository():
    assert goodhart.scenarios.names() == sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert goodhart.scenarios.names(tiny=True) == sorted(p.stem for p in (ROOT / "scenarios" / "tiny").glob("*.yaml"))
    for name in goodhart.scenarios.names():
        assert goodhart.scenarios.path(name).read_bytes() == (ROOT / "scenarios" / f"{name}.yaml").read_bytes()
    assert goodhart.scenarios.path("frontier.yaml", tiny=True).parent.name == "tiny"
    with pytest.raises(ValueError, match="no library scenario 'nope'; the library holds: adaptive_kl"):
        goodhart.scenarios.path("nope")


def test_a_library_name_is_a_scenario_for_run_validate_and_the_command_line(tmp_path):
    _, points = goodhart.validate(SWEEP)
    assert len(points) == 4
    df = goodhart.run("tiny/regressional_gaussian.yaml")
    assert set(df["optimizer"]) == {"best_of_n"}
    # the command line: a name found in the library when no such file is here
    r = subprocess.run([goodhart_binary(), "validate", "regressional_gaussian"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and "valid: 3 points" in r.stdout, r.stderr
    r = subprocess.run([goodhart_binary(), "validate", "no_such_scenario"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "there is no file no_such_scenario" in r.stderr


def single_run_tables(tmp_path, scenario):
    out = tmp_path / "single"
    goodhart.run(scenario, out=out, threads=1)
    return {f: (out / f).read_bytes() for f in ("metrics.csv", "runs.csv")}


@pytest.mark.parametrize("make_executor", [process_pool, lambda: ThreadPoolExecutor(1)],
                         ids=["processes", "thread"])
def test_an_executor_run_equals_a_single_run_byte_for_byte(tmp_path, make_executor):
    want = single_run_tables(tmp_path, SWEEP)
    out = tmp_path / "spread"
    with make_executor() as pool:
        df = goodhart.run(SWEEP, out=out, threads=1, executor=pool)
    assert {f: (out / f).read_bytes() for f in want} == want
    assert len(list((out / "points").iterdir())) == 4 and df.attrs["results_dir"] == str(out)


def test_an_executor_run_of_a_dict_scenario_saves_it_and_matches(tmp_path):
    scenario = {"schema_version": 1, "name": "spread", "description": "three seeds", "world": {"type": "gaussian", "dim": 2, "prompts": 64},
                "gold": {"type": "linear", "weights": [1.0, 0.5]},
                "proxy": {"type": "noisy", "noise": {"distribution": "gaussian", "scale": 1.0}},
                "optimizer": {"type": "best_of_n", "pool": 256, "n": [1, 4, 16]},
                "sweep": {"parameters": {"seed": {"values": [0, 1, 2]}}}}
    want = single_run_tables(tmp_path, scenario)
    out = tmp_path / "spread"
    with process_pool() as pool:
        goodhart.run(scenario, out=out, executor=pool)
    assert {f: (out / f).read_bytes() for f in want} == want
    assert (out / "scenario.yaml").is_file()


def test_a_dict_scored_world_reads_its_file_from_the_working_folder_on_every_path(tmp_path, monkeypatch):
    # world.path of a dict is relative to the working folder: a single run, an executor's workers and the copy
    # saved beside the results all read the same file
    (tmp_path / "scores.csv").write_bytes((goodhart.scenarios.DIR / "data" / "example_scores.csv").read_bytes())
    monkeypatch.chdir(tmp_path)
    scenario = {"schema_version": 1, "name": "dump", "description": "two ensembles of the example dump",
                "world": {"type": "scored", "path": "scores.csv"}, "gold": {"type": "scored"},
                "proxy": {"type": "scored", "columns": ["proxy_0", "proxy_1", "proxy_2"]},
                "optimizer": {"type": "best_of_n", "n": [1, 8, 64]},
                "sweep": {"parameters": {"proxy.aggregate": {"values": ["mean", "min"]}}}}
    want = single_run_tables(tmp_path, scenario)
    with ThreadPoolExecutor(2) as pool:
        goodhart.run(scenario, out=tmp_path / "spread", executor=pool)
    assert {f: (tmp_path / "spread" / f).read_bytes() for f in want} == want
    saved = tmp_path / "spread" / "scenario.yaml"
    assert len(goodhart.validate(saved)[1]) == 2


def test_an_executor_run_refuses_what_it_cannot_do_and_reports_a_workers_error(tmp_path):
    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError, match="resume: not with an executor"):
            goodhart.run(SWEEP, out=tmp_path / "r", resume=True, executor=pool)
        goodhart.run("tiny/regressional_gaussian", out=tmp_path / "full")
        with pytest.raises(goodhart.RunRefused, match="already holds results"):
            goodhart.run("tiny/regressional_gaussian", out=tmp_path / "full", executor=pool)
        # a point that fails in the worker raises the engine's error here, and nothing is written
        with pytest.raises(ValueError, match="proxy.l2"):
            goodhart.run("tiny/gao_bon_learned", overrides={"proxy.l2": 1e300}, out=tmp_path / "bad", executor=pool)
        assert not (tmp_path / "bad").exists()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as forking:
        with pytest.raises(ValueError, match="forks its workers"):
            goodhart.run(SWEEP, executor=forking)


def test_a_dask_local_cluster_runs_the_sweep_to_the_same_bytes(tmp_path):
    distributed = pytest.importorskip("distributed")
    want = single_run_tables(tmp_path, SWEEP)
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            goodhart.run(SWEEP, out=out, threads=1, executor=client.get_executor())
    assert {f: (out / f).read_bytes() for f in want} == want


def test_import_bounds_openmp_spinning_unless_the_user_chose():
    # on a busy machine libgomp's long spin made the default thread count slower than one (bench/RESULTS.md)
    code = "import os, goodhart; print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))"
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    for extra, want in (({}, "30000 None"), ({"OMP_WAIT_POLICY": "ACTIVE"}, "None ACTIVE"),
                        ({"GOMP_SPINCOUNT": "10"}, "10 None")):
        r = subprocess.run([sys.executable, "-c", code], env={**base, **extra}, capture_output=True, text=True)
        assert r.stdout.strip() == want, (extra, r.stdout, r.stderr)
