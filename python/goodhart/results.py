# results.py — reading a results folder into pandas: metrics.csv (tidy), runs.csv, leaderboard.csv, scaling.csv,
# manifest.json.
# Contract: pure Python (no C++ extension needed); point_id stays text; empty cells (not applicable) are NaN.
"""Load goodhart results folders as pandas DataFrames."""
import json
from pathlib import Path

import pandas as pd

TABLES = ("metrics", "runs", "leaderboard", "scaling", "kl_audit", "detect", "detect_curves", "detect_signals")


def load(results_dir, table="metrics"):
    """One table of a results folder as a DataFrame.

    ``table`` is "metrics" (one row per observation: the default), "runs" (one row per curve: peaks and Gao
    fits), "leaderboard" (written by ``goodhart compare``), "scaling" (written by ``goodhart scaling``) or "kl_audit"
    (written by ``goodhart audit-kl``). ``df.attrs["manifest"]`` holds manifest.json when
    the folder has one, and ``df.attrs["results_dir"]`` the folder.
    """
    if table not in TABLES:
        raise ValueError(f"table: expected one of {', '.join(TABLES)}, got {table!r}")
    results_dir = Path(results_dir)
    path = results_dir / f"{table}.csv"
    if not path.is_file():
        hint = {"leaderboard": " (run goodhart compare first)", "scaling": " (run goodhart scaling first)",
                "kl_audit": " (run goodhart audit-kl first)", "detect": " (run goodhart detect first)",
                "detect_curves": " (run goodhart detect first)", "detect_signals": " (run goodhart detect first)"}.get(table, "")
        raise FileNotFoundError(f"{path}: no such file; expected a goodhart results folder{hint}")
    df = pd.read_csv(path, dtype={"point_id": str}, keep_default_na=False, na_values=[""])
    manifest = results_dir / "manifest.json"
    if manifest.is_file():
        df.attrs["manifest"] = json.loads(manifest.read_text())
    df.attrs["results_dir"] = str(results_dir)
    return df


def swept_columns(df):
    """The swept keys of a metrics or runs table: its columns between 'optimizer' and the first metric."""
    columns = list(df.columns)
    if "optimizer" not in columns:
        raise ValueError("expected a goodhart metrics or runs table (no 'optimizer' column)")
    first = columns.index("optimizer") + 1
    last = first
    while last < len(columns) and columns[last] not in ("param_name", "rm_heldout_accuracy"):
        last += 1
    return [c for c in columns[first:last] if c != "seed"]
