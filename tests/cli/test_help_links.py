"""Every place a script's --help sends the reader is there: docs/<page>.md and its section, never a README section that
moved away (the training scripts' help once cited "README: Speed" after that section went to docs/speed.md)."""

from __future__ import annotations

import importlib
import os
import re
import unicodedata

import pytest
from conftest import ROOT

SCRIPTS = ("train_dnn", "train_cnn", "visualize_filters", "deep_dream", "why_cnn", "explain", "atlas", "reproduce")
LINK = re.compile(r"docs/([\w-]+\.md)(?:#([\w-]+))?")


def anchor(heading: str) -> str:
    """A Markdown heading's anchor as the docs site makes it (Python-Markdown's toc slugify)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    return re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", text).strip().lower())


def help_text(script: str, capsys) -> str:
    with pytest.raises(SystemExit):
        importlib.import_module(f"cnn_note.cli.{script}").main(["--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps a long path over two lines


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_page_and_section_the_help_names_is_there(script, capsys):
    text = help_text(script, capsys)
    assert "README:" not in text and "README.md#" not in text, text
    for page, section in LINK.findall(text):
        path = os.path.join(ROOT, "docs", page)
        assert os.path.isfile(path), page
        with open(path, encoding="utf-8") as handle:
            headings = [anchor(line.lstrip("#").strip()) for line in handle if line.startswith("#")]
        assert not section or section in headings, (page, section, headings)


def test_the_anchor_is_the_sites():
    assert anchor("The scripts against the note's") == "the-scripts-against-the-notes"
    assert anchor("Training in bfloat16: `--mixed-precision`") == "training-in-bfloat16-mixed-precision"


def test_the_training_help_names_the_speed_pages_sections(capsys):
    # The links above are checked where they are; this says there are some to check.
    assert len(LINK.findall(help_text("train_cnn", capsys))) == 2
