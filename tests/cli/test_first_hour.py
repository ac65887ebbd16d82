"""A newcomer's first hour, as the README promises it: the commands as written, run where a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

COMMITTED_ATLAS = os.path.join(ROOT, "results", "atlas", "cnn")


def manifest(folder) -> dict:
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.slow  # an atlas of the note's 75 units, twice
def test_the_default_atlas_command_after_training_your_own_cnn_replaces_the_committed_atlas(trained_cnn_file, mnist_path, tmp_path):
    """The committed atlas in results/atlas/cnn/ (made from weights trained on another processor), the user's own CNN in
    results/cnn/, then `python atlas.py`: the default folder is theirs, replaced with a line; the same command again
    resumes it; an --out they name that holds another model's atlas is still refused."""
    from cnn_note.backend import keras
    from cnn_note.network_atlas.plan import weights_digest

    clone = tmp_path / "clone"
    shutil.copytree(COMMITTED_ATLAS, clone / "results" / "atlas" / "cnn")
    (clone / "results" / "cnn").mkdir(parents=True)
    shutil.copy(trained_cnn_file, clone / "results" / "cnn" / "model.keras")
    committed = manifest(COMMITTED_ATLAS)["weights"]
    ours = weights_digest(keras.saving.load_model(trained_cnn_file, compile=False))
    assert ours != committed

    def atlas(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, os.path.join(ROOT, "atlas.py"), "--data", mnist_path, "--steps", "2", *flags],
                              cwd=clone, capture_output=True, text=True, timeout=600)

    made = atlas()
    assert made.returncode == 0, made.stderr
    assert f"held the atlas of other weights ({committed}; these are {ours}): replaced" in made.stdout
    assert "atlas written to results/atlas/cnn/" in made.stdout
    written = clone / "results" / "atlas" / "cnn"
    assert manifest(written)["weights"] == ours
    # Nothing of the committed atlas is left that this one did not write: its pages and pictures are all this model's.
    assert all(path.stat().st_mtime_ns >= (written / "manifest.json").stat().st_mtime_ns for path in written.rglob("*") if path.is_file())

    again = atlas()
    assert again.returncode == 0, again.stderr
    assert "75 of 75 units found done" in again.stdout and "replaced" not in again.stdout

    shutil.copytree(COMMITTED_ATLAS, clone / "theirs")
    named = atlas("--out", "theirs")
    assert named.returncode == 2, named.stderr
    assert f"--out theirs holds the atlas of other weights ({committed} there, {ours} now)" in named.stderr, named.stderr
    assert manifest(clone / "theirs")["weights"] == committed
