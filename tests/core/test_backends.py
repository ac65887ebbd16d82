"""Keras 3 on JAX and PyTorch (core.autodiff): the same .keras weights give every tool's answers on each backend as on
TensorFlow (attributions, feature maps, filter pictures by pixels and by Fourier spectra, class pictures, a dream, dataset
examples, an atlas and its live page, the note's training recipe), and each backend's gradient is that backend's own
autodiff written by hand and finite differences (tests/backend_probe.py, a process each; TensorFlow's answers by the
same calls in this process)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import backend_probe
import numpy as np
import pytest
from conftest import ROOT

import cnn_note as cn
from cnn_note.backend import keras

BACKENDS = ("jax", "torch")


def installed(backend: str) -> None:
    """Skip, with the reason, where the backend's package is missing; under CI=true that is a failure, as for the browser."""
    if importlib.util.find_spec(backend) is None:
        why = f"{backend} is not installed: pip install -r requirements-{backend}.txt"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small CNN with smooth activations (no ReLU kink for a float's rounding to flip), saved by TensorFlow, and pictures.
    An odd size: a moved picture's centre then falls on a whole pixel, where a bilinear weight taken from x - floor(x)
    read the wrong neighbour on JAX."""
    keras.utils.set_random_seed(0)
    pictures = keras.Input((13, 13, 1))
    x = keras.layers.Conv2D(6, 3, activation="tanh", name="conv")(pictures)
    x = keras.layers.Flatten()(keras.layers.AveragePooling2D(2)(x))
    x = keras.layers.Dense(5, name="logits")(keras.layers.Dense(16, activation="tanh")(x))
    model = keras.Model(pictures, keras.layers.Activation("softmax")(x))
    folder = tmp_path_factory.mktemp("backends")
    model.save(folder / "model.keras")
    x = np.random.default_rng(0).random((3, 13, 13, 1)).astype("float32")
    classes = np.array([0, 3, 4])
    np.savez(folder / "pictures.npz", pictures=x, classes=classes)
    (folder / "tensorflow").mkdir()
    keras.utils.set_random_seed(1)
    cn.build_cnn().save(folder / "note_cnn.keras")
    digits = np.random.default_rng(1).random((64, 28, 28, 1)).astype("float32")
    np.savez(folder / "digits.npz", x=digits, y=np.eye(10, dtype="float32")[np.arange(64) % 10])
    return folder, {**backend_probe.answers(model, x, classes, str(folder / "tensorflow")), **backend_probe.trained(str(folder))}


def probe(folder, backend: str) -> dict:
    out = folder / f"{backend}.npz"
    ran = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "backend_probe.py"), str(folder / "model.keras"),
                          str(folder / "pictures.npz"), str(out)], env={**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": ROOT},
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr[-3000:]
    with np.load(out) as found:
        return dict(found)


@pytest.mark.slow  # a process per backend: TensorFlow, Keras and the backend load in each, and every tool runs (about 60 s)
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_answers_as_tensorflow_does_with_its_own_gradient(backend, saved):
    installed(backend)
    folder, tensorflow = saved
    found = probe(folder, backend)
    assert str(found["backend"]) == backend
    for name, ours in tensorflow.items():
        theirs = found[name]
        if ours.dtype.kind in "iuUb":  # dataset examples' indices, the live page's files
            np.testing.assert_array_equal(theirs, ours, err_msg=name)
        else:  # maps, pictures, activations, contributions: to 1e-4 of the largest
            assert np.abs(theirs - ours).max() <= 1e-4 * max(np.abs(ours).max(), 1.0), (name, np.abs(theirs - ours).max())
    np.testing.assert_allclose(found["map_gradient"], np.abs(found["by_hand"]).max(axis=-1), rtol=1e-5, atol=1e-8)
    assert found["by_hand"][0, 4, 7, 0] == pytest.approx(float(found["finite_difference"]), rel=1e-3, abs=1e-5)


def test_a_backend_that_is_not_installed_is_one_line_naming_the_extra():
    code = ("import sys; sys.modules['jax'] = None\n"  # as if jax were not installed
            "import cnn_note as cn, numpy as np\n"
            "try:\n    cn.explain(cn.build_cnn(), np.zeros((1, 28, 28, 1), 'float32'), progress=False)\n"
            "except cn.InputError as error:\n    print(error)\n")
    ran = subprocess.run([sys.executable, "-c", code], env={**os.environ, "KERAS_BACKEND": "jax"}, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert ran.stdout.strip() == ('KERAS_BACKEND=jax but jax is not installed: pip install "cnn-note[jax]" (from a clone: '
                                  'pip install ".[jax]"), or leave KERAS_BACKEND unset for TensorFlow'), ran.stdout + ran.stderr[-2000:]
