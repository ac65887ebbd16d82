"""The library speaks Python: below cli/, no string says a flag (`--size`) but through errors.Argument or errors.Command,
which name it as the voice asks (`size=5000` in a notebook, `--size 5000` from a script). Docstrings and comments may
name flags: they are read by people who know both."""

from __future__ import annotations

import ast
import os
import re

from conftest import ROOT

PACKAGE = os.path.join(ROOT, "cnn_note")
FLAG = re.compile(r"(?<![\w-])--[a-zA-Z]")
VOICED = {"Argument", "Command"}  # what they are given is said in the voice asked for
# (file, text the flag is in): why it stays. Each is a line of output that is no refusal (errors.InputError speaks
# either way; a printed line has one voice), or a flag that is not ours.
ALLOWED = {
    ("dataset_examples/ranking.py", "examples_from= (--examples-from)"): "a log line, in both voices already",
    ("io/imaging.py", " (--max-side "): "a log line (imaging.shrink's note); changing it would change deep_dream.py's output",
    ("core/heads.py", "; --head regression explains"): "Head.describe: a line only the scripts print",
    ("note/reporting.py", "`python train_cnn.py --layout note` trains it"): "REPORT.md's text, a committed output",
    ("network_atlas/on_ray.py", "`ray start --head`"): "Ray's own command, not a flag of ours",
    ("core/held.py", "held= or --inputs FILE.npz"): "a log line (held_line), in both voices already",
}


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the module's, classes' and functions' docstring nodes."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def voiced(tree: ast.Module) -> set[int]:
    """The ids of every node inside an Argument(...) or Command(...) call."""
    return {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in VOICED for inner in ast.walk(node)}


def flag_text(source: str) -> list[tuple[int, str]]:
    """Each string constant (f-strings' pieces included) that holds a flag, outside docstrings, Argument and Command, with
    its line."""
    tree = ast.parse(source)
    skipped = docstrings(tree) | voiced(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skipped and FLAG.search(node.value)]


def below_cli() -> dict[str, str]:
    """Every module of the package outside cli/, by its path under cnn_note/, and its source."""
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, PACKAGE).replace(os.sep, "/")
            if name.endswith(".py") and not relative.startswith("cli/"):
                with open(path, encoding="utf-8") as handle:
                    found[relative] = handle.read()
    return found


def test_no_flag_is_spelled_out_below_the_command_line():
    used, stray = set(), []
    for path, source in sorted(below_cli().items()):
        for line, text in flag_text(source):
            allowed = [key for key in ALLOWED if key[0] == path and key[1] in text]
            used.update(allowed)
            if not allowed:
                stray.append(f"cnn_note/{path}:{line}: {text!r}")
    assert not stray, "flag text a notebook would hear; say it with errors.Argument parts:\n" + "\n".join(stray)
    assert used == set(ALLOWED), f"allowed, but no longer there: {sorted(set(ALLOWED) - used)}"


def test_the_search_finds_flags_in_plain_strings_and_f_strings_only():
    source = '''"""Module: --size in a docstring."""
from cnn_note.errors import Argument
a = "use a smaller --size"
b = f"{x} then --tile {y}"
c = Argument("size", flag="--size N")
d = "a--b and x-- y, 1 --2"  # --comment
'''
    assert flag_text(source) == [(3, "use a smaller --size"), (4, " then --tile ")]
