"""REPORT.md's sections that read the committed arrays: what they say, word for word as the committed report."""

import json
import os

from conftest import ROOT

from cnn_note.note import reporting

RESULTS = os.path.join(ROOT, "results")


def test_the_dataset_examples_section_read_from_the_committed_examples_is_the_committed_reports():
    with open(os.path.join(RESULTS, "run.json"), encoding="utf-8") as handle:
        stage = json.load(handle)["visualize_filters"]
    section = "\n".join(reporting.dataset_examples(RESULTS, stage, lambda path, alt: f"![{alt}]({path})"))
    with open(os.path.join(RESULTS, "REPORT.md"), encoding="utf-8") as handle:
        report = handle.read()
    assert "| conv2 | 8x8 | 1.03 | 0.64 | 50 of 50 | 2.73 | 2.97 | 0 of 50 |" in section
    assert section in report
