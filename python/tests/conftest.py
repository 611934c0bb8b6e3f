# conftest.py — shared fixtures of the Python package's tests: the repository root, the command-line tool, and a
# tiny scenario that runs in about a second.
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny" / "gao_bon_learned.yaml"


def goodhart_binary():
    """The command-line tool: GOODHART_BINARY, else the Release build, else the one pip installed."""
    for candidate in (os.environ.get("GOODHART_BINARY"), ROOT / "build" / "release" / "goodhart",
                      shutil.which("goodhart")):
        if candidate and Path(candidate).is_file():
            return str(Path(candidate).resolve())
    pytest.skip("the goodhart command-line tool is not built (make build)")


def run_cli(*args, check=True):
    result = subprocess.run([goodhart_binary(), *map(str, args)], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"goodhart {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}")
    return result


@pytest.fixture(scope="session")
def tiny_results(tmp_path_factory):
    """The tiny scenario run once through the command line: its results folder."""
    out = tmp_path_factory.mktemp("cli") / "results"
    run_cli("run", TINY, "--out", out, "--quiet")
    return out
