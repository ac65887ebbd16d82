"""The real-MNIST fixture also works for a user who cloned the repository alone: it falls back on Keras' cache."""

import json
import os
import shutil
import subprocess
import sys

import conftest
import pytest

from cnn_note.backend import keras

FIND = "import json, conftest; print(json.dumps(conftest.find_mnist()))"


def find_in_a_clone(tmp_path, **env) -> tuple[str | None, str]:
    """find_mnist() in a fresh process: no MNIST_PATH, no ../shared/data, not CI, Keras' home in tmp_path."""
    clean = {key: value for key, value in os.environ.items() if key not in ("MNIST_PATH", "CI")}
    clean.update(KERAS_HOME=str(tmp_path / "keras_home"), PYTHONPATH=os.path.dirname(__file__), **env)
    code = f"import conftest; conftest.SHARED_MNIST = {str(tmp_path / 'no-shared.npz')!r}; " + FIND
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean, timeout=300)
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_falls_back_on_a_keras_cache_shaped_copy_without_a_network(tmp_path, tiny_npz):
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    shutil.copy(tiny_npz, cache / "mnist.npz")
    assert find_in_a_clone(tmp_path) == (str(cache / "mnist.npz"), "Keras' cache")


def test_skips_with_the_reason_when_keras_cannot_download_either(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(conftest, "SHARED_MNIST", str(tmp_path / "no-shared.npz"))
    monkeypatch.setattr(keras.utils, "get_file", offline)
    path, why = conftest.find_mnist()
    assert path is None and "could not download" in why and "MNIST_PATH" in why


def test_ci_never_falls_back_and_a_missing_mnist_path_is_named(monkeypatch, tmp_path):
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(conftest, "SHARED_MNIST", str(tmp_path / "no-shared.npz"))
    assert conftest.find_mnist() == (None, f"real MNIST not found at {tmp_path / 'no-shared.npz'}: set MNIST_PATH")
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "gone.npz"))
    path, why = conftest.find_mnist()
    assert path is None and "gone.npz" in why
