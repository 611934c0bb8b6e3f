# errors.py — the exceptions the engine raises into Python (the C++ extension raises these very classes).
# Contract: the message is the engine's, unchanged: "file:line:col: key.path: what was expected" for scenarios.
"""Exceptions raised by goodhart."""


class ScenarioError(ValueError):
    """A scenario or usage error: the message names the file, line and column, the key and what was expected.

    Attributes ``where`` ("file:line:col" or "<command line>"), ``key`` and ``expected`` hold its three parts.
    """

    where = ""
    key = ""
    expected = ""


class RunRefused(ValueError):
    """A run refused before it wrote anything: another scenario's results folder, or a sweep too big for memory."""


class CoreMissing(ImportError):
    """The C++ extension goodhart._core is not built (install the package with `pip install .`)."""
