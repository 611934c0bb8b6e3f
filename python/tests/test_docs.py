# test_docs.py — every code block of the documentation runs against the tool, so the docs cannot drift from it.
# Contract: the fenced blocks of DOCS and the examples of the module docstrings of DOCSTRINGS are each handled by
# their fence's language, the first word of its info string:
#   sh, bash, shell, console  run by bash -euo pipefail in a scratch folder (console: only its `$ ` lines)
#   python                    run by this interpreter in a scratch folder
#   yaml                      with `schema_version`: a scenario, `goodhart validate` must accept it; without: a
#                             fragment, which must validate merged over at least one tiny library scenario
#   text, or no language      a synopsis (every line starts with `goodhart `): each subcommand exists and each
#                             --option it shows is in `goodhart SUBCOMMAND --help`; or a folder tree (lines
#                             `name/  what it holds`): each top-level folder exists
# A block that is none of these fails, naming its file and line, so new docs are covered. A docstring's example is
# its indented lines: the Python statements run in one namespace (plot.py's after __init__.py's), and the other
# lines are synopses of `python -m goodhart SUBCOMMAND ...`, checked like the `goodhart` ones.
# The same rewriting for every block, so that documented commands run at test size on one core:
#   scenarios/X.yaml -> scenarios/tiny/X.yaml (every library scenario has its tiny copy, same name);
#   OMP_NUM_THREADS=1 (the thread count of `goodhart run` without --threads, and of goodhart.run);
#   `goodhart` on PATH and build/release/goodhart are the binary under test; MPLBACKEND=Agg.
# A scratch folder per block holds scenarios/ (a link to the library) and build/release/goodhart, so results/
# is written there. A block is left unrun only when one of its lines matches SKIP (a command that cannot run
# here) or it is listed in NOT_RUN, each with its reason; an entry that matches no block fails too.
import ast
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, goodhart_binary

DOCS = ["README.md", "scenarios/README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
        "notebooks/README.md"]
DOCSTRINGS = ["python/goodhart/__init__.py", "python/goodhart/plot.py"]  # run in this order, in one namespace

# commands that cannot run here: a block with a line matching one of these is reported as skipped, with the reason
SKIP = {
    r"^\s*make\b": "make builds the C++ and the Python package (minutes) and installs missing packages",
    r"^\s*cmake\b": "configures and builds a separate build tree (minutes); these tests use the existing binary",
    r"\bsbatch\b|\bsrun\b": "needs a Slurm cluster",
    r"--backend cuda\b|\bbuild/cuda/": "needs the CUDA build and an NVIDIA device",
}
# blocks that are not meant to run, by (file, first line): the reason
NOT_RUN = {
    ("docs/scenario-keys.md", "schema_version: 1          # required, must be 1"):
        "the layout of a scenario file, with `{...}` placeholders for the sections; not a scenario",
}

SHELL = {"sh", "bash", "shell", "console"}
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
LIBRARY = re.compile(r"(?<![\w/])scenarios/([A-Za-z0-9_]+)\.yaml")
TREE_LINE = re.compile(r"^([A-Za-z0-9_.-]+)/(\s|$)")
BLOCK_TIMEOUT_S = 120


@dataclass
class Block:
    source: str  # file, relative to the repository
    line: int    # line of the opening fence (or of the docstring)
    lang: str
    text: str

    @property
    def id(self):
        return f"{self.source}:{self.line}:{self.lang or 'plain'}"

    @property
    def first_line(self):
        return self.text.splitlines()[0] if self.text.strip() else ""


def fenced_blocks():
    blocks = []
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        for m in FENCE.finditer(text):
            info = m.group(1).split()
            blocks.append(Block(doc, text.count("\n", 0, m.start()) + 1, info[0].lower() if info else "", m.group(2)))
    return blocks


BLOCKS = fenced_blocks()


def tiny(text):
    """The rewriting rule: a library scenario becomes its tiny copy."""
    def swap(m):
        return f"scenarios/tiny/{m.group(1)}.yaml" if (ROOT / "scenarios" / "tiny" / f"{m.group(1)}.yaml").is_file() \
            else m.group(0)
    return LIBRARY.sub(swap, text)


def skip_reason(block):
    for line in block.text.splitlines() if block.lang in SHELL else []:
        for pattern, reason in SKIP.items():
            if re.search(pattern, line):
                return f"`{line.strip()}`: {reason}"
    return NOT_RUN.get((block.source, block.first_line))


@pytest.fixture
def scratch(tmp_path):
    """A working folder with the library scenarios and the binary where the docs say they are."""
    binary = Path(goodhart_binary()).resolve()
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    (tmp_path / "build" / "release").mkdir(parents=True)
    (tmp_path / "build" / "release" / "goodhart").symlink_to(binary)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "goodhart").symlink_to(binary)
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg", PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    return tmp_path, env


def run(args, cwd, env, what):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
    assert r.returncode == 0, \
        f"{what} exited {r.returncode}\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}"
    return r


# --- the handlers, one per kind of block ---

def run_shell(block, cwd, env):
    text = block.text
    if block.lang == "console":
        text = "\n".join(line[2:] for line in text.splitlines() if line.startswith("$ "))
    script = "set -euo pipefail\n" + tiny(text)
    run(["bash", "-c", script], cwd, env, f"{block.id}, run as\n{script}\n")


def run_python(code, cwd, env, what):
    path = cwd / "block.py"
    path.write_text(code)
    run([sys.executable, str(path)], cwd, env, f"{what}, run as\n{code}\n")


def validate_yaml(block, cwd, env):
    data = yaml.safe_load(block.text)
    assert isinstance(data, dict), f"{block.id}: a YAML block should be a scenario or a fragment of one (a mapping)"
    path = cwd / "block.yaml"
    if "schema_version" in data:
        path.write_text(block.text)
        run([goodhart_binary(), "validate", str(path)], cwd, env, f"{block.id}: goodhart validate")
        return
    # a fragment: its top-level keys replace a base scenario's; some tiny library scenario must take it
    errors = []
    for base_file in sorted((ROOT / "scenarios" / "tiny").glob("*.yaml")):
        base = yaml.safe_load(base_file.read_text())
        for one, many in (("optimizer", "optimizers"), ("optimizers", "optimizer")):
            if one in data:
                base.pop(many, None)
        path.write_text(yaml.safe_dump({**base, **data}, sort_keys=False))
        r = subprocess.run([goodhart_binary(), "validate", str(path)], cwd=cwd, env=env, capture_output=True,
                           text=True, timeout=BLOCK_TIMEOUT_S)
        if r.returncode == 0:
            return
        errors.append(f"{base_file.name}: {r.stderr.strip()}")
    pytest.fail(f"{block.id}: the fragment validates over no tiny library scenario:\n" + "\n".join(errors))


def logical_lines(text):
    """Lines without comments, a line indented under the previous one joined to it."""
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if raw[:1].isspace() and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def check_synopsis(lines, command, cwd, env, what):
    """Each `goodhart SUBCOMMAND ...` line names a subcommand whose --help lists every --option shown."""
    for line in lines:
        words = line.split()
        n = len(command)
        assert words[:n] == command and len(words) > n, f"{what}: `{line}` is not `{' '.join(command)} SUBCOMMAND ...`"
        help_text = run(command_args(command) + [words[n], "--help"], cwd, env, f"{what}: `{line}`").stdout
        usage = next((l for l in help_text.splitlines() if l.lower().startswith("usage:")), "")
        assert re.search(rf"\s{re.escape(words[n])}(\s|$)", usage), \
            f"{what}: `{line}`: {words[n]} is not a subcommand of {' '.join(command)} (its help: {usage!r})"
        for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line):
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text), \
                f"{what}: `{line}` shows {option}, which `{' '.join(command)} {words[n]} --help` does not list"


def command_args(command):
    if command == ["goodhart"]:
        return [goodhart_binary()]
    if command == ["python", "-m", "goodhart"]:
        return [sys.executable, "-m", "goodhart"]
    raise AssertionError(command)


def check_plain(block, cwd, env):
    lines = logical_lines(block.text)
    if lines and all(line.split()[0] == "goodhart" for line in lines):
        check_synopsis(lines, ["goodhart"], cwd, env, block.id)
        return
    if lines and TREE_LINE.match(lines[0]):
        for raw in block.text.splitlines():
            if m := TREE_LINE.match(raw):
                assert (ROOT / m.group(1)).is_dir(), f"{block.id}: the tree names {m.group(1)}/, which does not exist"
        return
    pytest.fail(f"{block.id}: a block without a language that is neither a synopsis (`goodhart ...` lines) nor a "
                f"folder tree; tag it sh, python, yaml or text:\n{block.text}")


# --- the tests ---

@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_doc_block(block, scratch):
    cwd, env = scratch
    if reason := skip_reason(block):
        pytest.skip(reason)
    if block.lang in SHELL:
        run_shell(block, cwd, env)
    elif block.lang == "python":
        pytest.importorskip("goodhart._core")
        run_python(tiny(block.text), cwd, env, block.id)
    elif block.lang == "yaml":
        validate_yaml(block, cwd, env)
    elif block.lang in ("", "text"):
        check_plain(block, cwd, env)
    else:
        pytest.fail(f"{block.id}: no rule runs a `{block.lang}` block (sh, bash, shell, console, python, yaml, text)")


def docstring_examples(module):
    """The indented lines of a module docstring: Python statements, and command lines (`python -m goodhart ...`)."""
    doc = ast.get_docstring(ast.parse((ROOT / module).read_text()), clean=False) or ""
    code, commands = [], []
    for line in textwrap.dedent("\n".join(l for l in doc.splitlines() if l.startswith("    "))).splitlines():
        try:
            ast.parse(line)
            code.append(line)
        except SyntaxError:
            commands.append(line)
    return code, commands


def test_module_docstring_examples(scratch):
    # the examples of __init__.py and plot.py, in that order: plot's uses the df of the first
    pytest.importorskip("goodhart._core")
    cwd, env = scratch
    code, commands = [], []
    for module in DOCSTRINGS:
        c, k = docstring_examples(module)
        code += c
        commands += k
    assert code, "no docstring example found"
    run_python(tiny("import goodhart\n" + "\n".join(code) + "\n"), cwd, env, " and ".join(DOCSTRINGS))
    check_synopsis(logical_lines("\n".join(commands)), ["python", "-m", "goodhart"], cwd, env, "docstring command")


def test_every_allowance_is_used():
    # a stale entry would hide nothing today and anything tomorrow: each must match a block
    for pattern in SKIP:
        assert any(re.search(pattern, line) for b in BLOCKS if b.lang in SHELL for line in b.text.splitlines()), \
            f"SKIP entry {pattern!r} matches no documentation block: remove it"
    for source, first in NOT_RUN:
        assert any(b.source == source and b.first_line == first for b in BLOCKS), \
            f"NOT_RUN entry {source}: {first!r} matches no block: remove it"


def test_docs_have_blocks():
    # the extraction itself: every doc is read, and the fences found are well formed (an odd count of ``` lines
    # would swallow the rest of a file into one block)
    for doc in DOCS:
        fences = [line for line in (ROOT / doc).read_text().splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, f"{doc}: an unclosed ``` fence"
    assert len(BLOCKS) >= 10
