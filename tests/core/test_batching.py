"""Every pass of pictures through a model goes in batches that fit (View.batch, core.batching's rule)."""

import numpy as np
import pytest

import cnn_note as cn
from cnn_note import dataset_examples
from cnn_note.backend import keras
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.note import models


@pytest.fixture(scope="module")
def view():
    keras.utils.set_random_seed(0)
    return View.of(models.build_cnn(), "cnn")


@pytest.fixture
def calls(monkeypatch):
    """The batch sizes every keras.Model call and predict_on_batch is given, from here on."""
    seen = []
    predict, call = keras.Model.predict_on_batch, keras.Model.__call__

    def predict_on_batch(self, x):
        seen.append(len(x))
        return predict(self, x)

    def called(self, x, *args, **kwargs):
        if hasattr(x, "shape") and len(x.shape) == 4 and x.shape[0] is not None:
            seen.append(int(x.shape[0]))
        return call(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "predict_on_batch", predict_on_batch)
    monkeypatch.setattr(keras.Model, "__call__", called)
    return seen


def small_tensors(monkeypatch, view, layer, side, pictures):
    """Let no tensor hold more than `pictures` pictures' worth of `layer`'s largest tensor at side x side."""
    largest = max(view.tensor_sizes(None if layer is None else [layer], side, side))
    monkeypatch.setattr(batching, "MAX_VALUES", pictures * largest)


def test_the_responses_to_many_large_pictures_go_in_batches_and_match_one_pass(view, monkeypatch, calls):
    # The 5000-pixel regression at a small scale: 25 optimised pictures went through conv1 in one call.
    pictures = np.random.default_rng(0).random((25, 60, 60, 1)).astype("float32")
    filters = list(range(25))
    whole = dataset_examples.responses(view, "conv1", filters, pictures)
    assert max(calls) == 25
    calls.clear()
    small_tensors(monkeypatch, view, "conv1", 60, 3)
    parts = dataset_examples.responses(view, "conv1", filters, pictures)
    assert calls and max(calls) <= 3
    for a, b in zip(whole, parts):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_probabilities_and_class_pictures_go_in_batches(view, monkeypatch, calls):
    pictures = np.random.default_rng(1).random((10, 28, 28, 1)).astype("float32")
    whole = view.probabilities(pictures)
    small_tensors(monkeypatch, view, None, 28, 4)
    calls.clear()
    np.testing.assert_allclose(view.probabilities(pictures), whole, rtol=1e-6, atol=1e-7)
    assert calls and max(calls) <= 4
    calls.clear()
    found = cn.class_pictures(view, classes=list(range(10)), steps=2, progress=False)
    assert found.images.shape == (10, 28, 28, 1) and np.isfinite(found.images).all()
    assert max(calls) <= 4


def test_one_picture_past_what_a_kernel_indexes_is_refused_in_one_line(view, monkeypatch):
    small_tensors(monkeypatch, view, "conv1", 60, 1)
    with pytest.raises(InputError, match="values, more than TensorFlow's kernels can index"):
        view.batch(["conv1"], 61, 61, 5, "a 61x61 picture", "use a smaller --size")
    assert view.batch(["conv1"], 60, 60, 5, "a 60x60 picture", "use a smaller --size") == 1
