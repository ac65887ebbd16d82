"""Atomic writes: a failed write leaves the earlier file as it was."""

import os

import pytest

from cnn_note.errors import InputError
from cnn_note.io import writing


def test_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "metrics.json"
    writing.write_json(str(path), {"run": 1})
    with pytest.raises(RuntimeError):
        with writing.atomic_path(str(path)) as tmp:
            open(tmp, "w").write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == '{\n  "run": 1\n}\n'
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_unwritable_directory_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot write"):
        writing.ensure_writable(str(blocker / "results"))


def test_written_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        writing.write_text(str(tmp_path / "a.txt"), "x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
