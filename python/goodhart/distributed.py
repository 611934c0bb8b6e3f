# distributed.py — goodhart.run(..., executor=E): a sweep spread over any concurrent.futures.Executor, one task per
# point (ProcessPoolExecutor, dask.distributed's Client.get_executor(), Ray's and mpi4py's pool executors).
# Contract: the merged metrics.csv and runs.csv equal a single run's byte for byte (the engine's merge, as for
# shards); a task returns its point's files, so workers need the scenario file (a path scenario is read where it
# lies: a shared filesystem) and goodhart-sim of the same version, not the caller's results folder.
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .errors import RunRefused


def run_point(scenario_path, scenario_text, index, overrides, backend, threads):
    """One point of a sweep, run where the executor puts it: ``{relative path: bytes}`` of its results folder.

    ``scenario_text`` (a dict scenario's YAML) is written to a scratch file first; otherwise ``scenario_path`` is
    read. Engine errors are raised as in ``goodhart.run``.
    """
    from . import _core as core  # imported in the worker

    with tempfile.TemporaryDirectory(prefix="goodhart-point-") as scratch:
        path = Path(scratch) / "scenario.yaml" if scenario_text is not None else Path(scenario_path)
        if scenario_text is not None:
            path.write_text(scenario_text + "\n")
        results = Path(scratch) / "results"
        core.run(os.fspath(path), overrides, os.fspath(results), backend, threads, False, False, True, index)
        return {p.relative_to(results).as_posix(): p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()}


def _write_task(folder, files):
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def run_on_executor(core, executor, scenario_path, scenario_text, point_count, overrides, results_dir, backend,
                    threads, resume):
    """Submit every point to ``executor``, wait, and merge the points into ``results_dir`` (goodhart.run's path
    with an executor; the caller has validated the scenario)."""
    if resume:
        raise ValueError("resume: not with an executor (it runs every point); resume a stopped run without one")
    context = getattr(executor, "_mp_context", None) if isinstance(executor, ProcessPoolExecutor) else None
    if context is not None and context.get_start_method() == "fork":
        # a child forked after the engine's OpenMP threads started waits for them forever (libgomp is not fork-safe)
        raise ValueError("executor: a ProcessPoolExecutor that forks its workers can hang in the engine's OpenMP "
                         "runtime; create it with mp_context=multiprocessing.get_context('forkserver') (or 'spawn')")
    results_dir = Path(results_dir)
    if results_dir.exists() and any(p.name != "scenario.yaml" for p in results_dir.iterdir()):
        raise RunRefused(f"{results_dir} already holds results: an executor run writes a new folder (remove it, "
                         "or run without an executor to resume it)")
    path = None if scenario_path is None else os.fspath(Path(scenario_path).resolve())
    futures = [executor.submit(run_point, path, scenario_text, k, overrides, backend, threads)
               for k in range(point_count)]
    try:
        with tempfile.TemporaryDirectory(prefix="goodhart-tasks-") as scratch:
            folders = []
            for k, future in enumerate(futures):
                folder = Path(scratch) / f"point-{k}"
                _write_task(folder, future.result())
                folders.append(os.fspath(folder))
            core.merge(folders, os.fspath(results_dir))
    finally:
        for future in futures:
            future.cancel()
