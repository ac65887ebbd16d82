"""REPORT.md's sections that read the committed arrays: what they say, word for word as the committed report (the
files as committed, which a user's own reproduce.py rewrites with its numbers in the working tree)."""

import json

from conftest import committed

from cnn_note.note import reporting


def test_the_dataset_examples_section_read_from_the_committed_examples_is_the_committed_reports(tmp_path):
    (tmp_path / "filters").mkdir()
    (tmp_path / "filters" / "examples.npz").write_bytes(committed("results/filters/examples.npz"))
    stage = json.loads(committed("results/run.json"))["visualize_filters"]
    section = "\n".join(reporting.dataset_examples(str(tmp_path), stage, lambda path, alt: f"![{alt}]({path})"))
    assert "| conv2 | 8x8 | 1.03 | 0.64 | 50 of 50 | 2.73 | 2.97 | 0 of 50 |" in section
    assert section in committed("results/REPORT.md").decode("utf-8")
