"""The docs' Python runs as written: every ```pycon block of docs/*.md is a doctest, a page's blocks run in order in
one namespace and every output shown is checked; no Python is shown any other way; the README's From Python block is
python.md's, word for word. A sentence the code no longer bears out (a refusal it no longer makes, a number it no
longer gives) fails here once it is an example."""

from __future__ import annotations

import doctest
import glob
import os
import re

import pytest
from conftest import ROOT

PYCON = re.compile(r"^```pycon\n(.*?)^```$", re.S | re.M)
# Keras' progress when stdout is not a terminal (a line an epoch, as a log file shows it): what a reader sees as a bar,
# and no example's output.
PROGRESS = re.compile(r"^(?:Epoch \d+/\d+|\d+/\d+ - .*)\n", re.M)
# A code block's line that is Python with the package: an import of it, or a call of `cn.`.
PYTHON = re.compile(r"^\s*(?:>>> )?(?:import cnn_note|from cnn_note|.*\bcn\.\w+\()", re.M)
PAGES = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
SLOW = {"python.md", "transformers.md"}  # train the note's CNN, and the ViT, with its recipe (about 40 s each on 2 cores)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def blocks(text: str) -> list[tuple[int, str]]:
    """Each ```pycon block's text and the line it starts on."""
    return [(text.count("\n", 0, match.start(1)), match.group(1)) for match in PYCON.finditer(text)]


class Checker(doctest.OutputChecker):
    """doctest's own comparison, Keras' progress lines left out of what was printed."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return super().check_output(want, PROGRESS.sub("", got), optionflags)


def run_examples(path: str) -> tuple[int, int, str]:
    """Run a page's examples as doctest does; (examples tried, failed, the report of each failure)."""
    namespace: dict = {}
    runner = doctest.DocTestRunner(checker=Checker(), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for line, block in blocks(read(path)):
        test = doctest.DocTestParser().get_doctest(block, namespace, os.path.basename(path), path, line)
        runner.run(test, out=report.append, clear_globs=False)
        namespace = test.globs  # a DocTest runs in a copy of what it is given: the next block goes on from this one's
    return runner.tries, runner.failures, "".join(report)


@pytest.mark.parametrize("page", [pytest.param(os.path.basename(path), marks=[pytest.mark.slow] if os.path.basename(path) in SLOW else [])
                                  for path in PAGES if blocks(read(path))])
def test_each_pages_examples_run_as_written(page, mnist_path, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", mnist_path)
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    tried, failed, report = run_examples(os.path.join(ROOT, "docs", page))
    assert tried and not failed, report


def test_the_checker_fails_an_example_whose_output_is_not_what_the_page_shows(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```pycon\n>>> print(1 + 1)\n3\n```\n\n```pycon\n>>> print('Epoch 1/2'); print(2)\n2\n```\n")
    tried, failed, report = run_examples(str(page))
    assert (tried, failed) == (2, 1) and "Expected:\n    3\nGot:\n    2" in report


def test_no_page_shows_python_but_as_an_example_that_runs():
    """Python with the package in an indented or other fenced block would be shown and never run."""
    for path in [*PAGES, os.path.join(ROOT, "README.md"), os.path.join(ROOT, "README.zh-TW.md")]:
        text = PYCON.sub("", read(path))
        indented = re.findall(r"(?:^ {4}.*\n)+", text, re.M)
        fenced = re.findall(r"^```.*\n(.*?)^```$", text, re.S | re.M)
        shown = [block for block in indented + fenced if PYTHON.search(block)]
        assert not shown, (os.path.basename(path), shown)


def test_the_readmes_from_python_block_is_python_md_s():
    from_python = blocks(read(os.path.join(ROOT, "docs", "python.md")))[0][1]
    for name in ("README.md", "README.zh-TW.md"):
        assert from_python in [block for _, block in blocks(read(os.path.join(ROOT, name)))], name
