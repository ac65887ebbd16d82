"""The package's layering is a rule: each subpackage's (and each top-level module's) docstring says what it may import,
in a line `May import: a, b, c.`, and every import of every module, read from its source (lazy ones inside functions
included), is one the line allows. Imports for annotations alone (under `if TYPE_CHECKING:`) are not dependencies."""

from __future__ import annotations

import ast
import os
import re
import sys

import pytest
from conftest import ROOT

PACKAGE = os.path.join(ROOT, "cnn_note")
RULE = re.compile(r"May import: (.*?)\.(?:\s|$)")


def units() -> dict[str, str]:
    """Each layer of the package, by name (a subpackage, or a module at the top), and the file that states its rule."""
    found = {}
    for name in sorted(os.listdir(PACKAGE)):
        path = os.path.join(PACKAGE, name)
        if os.path.isfile(os.path.join(path, "__init__.py")):
            found[name] = os.path.join(path, "__init__.py")
        elif name.endswith(".py") and name != "__init__.py":
            found[name[:-3]] = path
    return found


def allowed(path: str) -> set[str] | None:
    """The names a docstring's `May import:` line gives (dotted for a module of a subpackage); None for "everything"."""
    with open(path, encoding="utf-8") as handle:
        docstring = ast.get_docstring(ast.parse(handle.read())) or ""
    said = RULE.search(re.sub(r"\([^)]*\)", "", " ".join(docstring.split())))
    assert said, f"{os.path.relpath(path, ROOT)} says nothing of what it may import (a line `May import: a, b.`)"
    names = {name.strip() for name in re.split(r",|\band\b", said.group(1)) if name.strip()}
    return None if names == {"everything"} else names - {"nothing"}


def type_only(tree: ast.Module) -> set[int]:
    """The line numbers of the imports under `if TYPE_CHECKING:`."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            lines |= {child.lineno for statement in node.body for child in ast.walk(statement)
                      if isinstance(child, ast.ImportFrom | ast.Import)}
    return lines


def imports(path: str) -> list[tuple[int, str]]:
    """Every cnn_note module a file imports at run time, as `unit` or `unit.module` (cnn_note. left off), with its line."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    skipped, found = type_only(tree), []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:  # from cnn_note import api; from cnn_note.note import data: a module named after `import` is that module
            names = [f"{node.module}.{alias.name}" if node.module == "cnn_note" or is_module(f"{node.module}.{alias.name}")
                     else node.module or "" for alias in node.names]
        found += [(node.lineno, name.removeprefix("cnn_note.")) for name in names if name.startswith("cnn_note.")]
    return found


def is_module(name: str) -> bool:
    path = os.path.join(os.path.dirname(PACKAGE), *name.split("."))
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))


def files_of(unit: str) -> list[str]:
    path = os.path.join(PACKAGE, unit)
    if not os.path.isdir(path):
        return [path + ".py"]
    return sorted(os.path.join(folder, name) for folder, _, names in os.walk(path) for name in names if name.endswith(".py"))


def broken(unit: str, rule: set[str] | None) -> list[str]:
    """Each import of the unit's files that its rule does not allow."""
    if rule is None:
        return []
    wrong = []
    for path in files_of(unit):
        for line, name in imports(path):
            top = name.split(".")[0]
            if top != unit and not any(name == ok or name.startswith(ok + ".") for ok in rule):
                wrong.append(f"{os.path.relpath(path, ROOT)}:{line} imports cnn_note.{name}")
    return wrong


@pytest.mark.parametrize("unit", sorted(units()))
def test_every_import_is_one_the_docstring_allows(unit):
    assert not broken(unit, allowed(units()[unit]))


def test_nothing_imports_in_a_circle():
    """The units' rules, read as arrows, run one way: no unit may (through others) import itself."""
    rules = {unit: allowed(path) for unit, path in units().items()}
    arrows = {unit: {name.split(".")[0] for name in (rule or set())} for unit, rule in rules.items() if rule is not None}

    def reaches(start: str, seen: set[str]) -> set[str]:
        for nxt in arrows.get(start, set()) - seen:
            seen.add(nxt)
            reaches(nxt, seen)
        return seen

    assert not [unit for unit in arrows if unit in reaches(unit, set())]


def test_the_rule_fails_an_import_it_does_not_allow(tmp_path, monkeypatch):
    """A planted upward import (core importing the api) is caught, with its file and line."""
    folder = tmp_path / "cnn_note" / "core"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text('"""The core. May import: errors, settings (the defaults), backend, and io."""\n')
    (folder / "views.py").write_text("import os\nfrom cnn_note.io import writing\n\ndef f():\n    from cnn_note import api\n")
    (folder / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cnn_note.api import explain\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", str(tmp_path / "cnn_note"))
    monkeypatch.setattr(sys.modules[__name__], "ROOT", str(tmp_path))
    rule = allowed(str(folder / "__init__.py"))
    assert rule == {"errors", "settings", "backend", "io"}
    assert broken("core", rule) == ["cnn_note/core/views.py:5 imports cnn_note.api"]
