# test_notebooks.py — the teaching notebooks in notebooks/ run without error at their small size, and are
# committed without outputs.
# Contract: each notebook is executed by nbclient with the python3 kernel (ipykernel), with
# GOODHART_NOTEBOOK_SIZE=small and notebooks/ as the working directory; any cell error (including a failed
# `assert` that checks the lesson's claim) fails the test. Skipped when nbclient, nbformat or ipykernel is missing.
import os
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ["01_objective_mismatch.ipynb", "02_scaling_laws.ipynb", "03_catastrophic_goodhart.ipynb",
            "04_mitigations.ipynb"]
CELL_TIMEOUT_S = 600


def test_every_lesson_is_present():
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_stripped(name):
    # outputs stay out of git: every code cell has no outputs and no execution count
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{name}: cells {dirty} have outputs or execution counts; strip them before committing"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_at_small_size(name, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("goodhart._core")
    monkeypatch.setenv("GOODHART_NOTEBOOK_SIZE", "small")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the figures
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    seconds = time.perf_counter() - started
    print(f"{name}: {seconds:.1f} s at GOODHART_NOTEBOOK_SIZE={os.environ['GOODHART_NOTEBOOK_SIZE']}")
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors
