# scenarios/__init__.py — the scenario library as package data: the installed package holds a copy of the
# repository's scenarios/ (python/CMakeLists.txt puts it here); run from a source tree, the repository's own.
"""The scenario library: ``goodhart.scenarios.path("gao_bon_learned")`` is the file ``goodhart.run`` takes.

``names()`` lists the library (``goodhart list`` on the command line); ``path(name, tiny=True)`` is a scenario's
test-size copy (scenarios/tiny/), which runs in seconds.
"""
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# installed: the YAML files beside this module; a source tree: the repository's scenarios/ (python/goodhart/..)
DIR = _HERE if (_HERE / "README.md").is_file() else _HERE.parents[2] / "scenarios"


def names(tiny=False):
    """The library's scenario names (file names without .yaml), sorted."""
    return sorted(p.stem for p in (DIR / "tiny" if tiny else DIR).glob("*.yaml"))


def path(name, tiny=False):
    """The library file of scenario ``name`` (with or without .yaml); ``tiny``: its test-size copy."""
    stem = name[:-5] if name.endswith(".yaml") else name
    if stem not in names(tiny):
        raise ValueError(f"no library scenario {name!r}; the library holds: {', '.join(names(tiny))}")
    return DIR / ("tiny" if tiny else "") / f"{stem}.yaml"
