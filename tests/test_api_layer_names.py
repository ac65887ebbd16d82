"""Every cn.* call on a model whose layers have names TensorFlow refuses as scopes: the same numbers as with plain names.

Each call runs on the two copies of tests/layer_names.py's CNN (the same weights, odd names or plain ones); the
answers must be equal bit for bit, and where the model can say it by itself (eagerly, in Keras alone), equal to it.
"""

import html
import os

import numpy as np
import pytest
from layer_names import ODD, PLAIN, layer_output, pictures, twins

import cnn_note as cn
from cnn_note.backend import tf
from cnn_note.optvis import objectives

FIRST, SECOND = ODD["conv_a"], ODD["conv_b"]


@pytest.fixture(scope="module")
def models():
    return twins()


def test_explain(models):
    odd, plain = models
    images = pictures()
    how = {"samples": 4, "steps": 4, "lime_samples": 20, "progress": False}
    got, want = cn.explain(odd, images, **how), cn.explain(plain, images, **how)
    assert sorted(got.maps) == ["gradcam", "gradient", "integrated_gradients", "lime", "occlusion", "smoothgrad"]
    for method in got.maps:
        np.testing.assert_array_equal(got.maps[method], want.maps[method])
    np.testing.assert_array_equal(got.outputs, np.asarray(odd(images, training=False)))
    assert got.layer == SECOND and want.layer == "conv_b"  # Grad-CAM's layer: the last conv, by its own name


def test_filter_pictures(models):
    odd, plain = models
    for key in ("conv_a", "conv_b"):
        got = cn.filter_pictures(odd, ODD[key], steps=5, examples=0, progress=False)
        want = cn.filter_pictures(plain, key, steps=5, examples=0, progress=False)
        np.testing.assert_array_equal(got.images, want.images)
        np.testing.assert_array_equal(got.scores, want.scores)
        # Each filter's score is objectives.filter_mean's of its own map on its picture, the map as the layer computes it.
        maps = layer_output(odd, ODD[key], got.images)
        own = np.stack([maps[f, ..., f] for f in range(len(got.images))])
        np.testing.assert_allclose(got.scores, objectives.mean_score(tf.constant(own)).numpy(), rtol=1e-5, atol=1e-7)


def test_class_pictures(models):
    odd, plain = models
    got, want = cn.class_pictures(odd, steps=5, progress=False), cn.class_pictures(plain, steps=5, progress=False)
    np.testing.assert_array_equal(got.images, want.images)
    probabilities = np.asarray(odd(got.images, training=False))
    np.testing.assert_allclose(got.scores, probabilities[np.arange(10), got.indices], rtol=1e-5, atol=1e-7)


def test_deep_dream_by_default_and_by_name(models):
    odd, plain = models
    image = pictures(1)[0]
    how = {"octaves": 1, "steps": 3, "progress": False}
    got, want = cn.deep_dream(odd, image, **how), cn.deep_dream(plain, image, **how)
    assert got.layers == {FIRST: 1.0, SECOND: 2.0}
    np.testing.assert_array_equal(got.image, want.image)
    named, text = cn.deep_dream(odd, image, {SECOND: 1.0}, **how), cn.deep_dream(odd, image, f"{SECOND}=1", **how)
    np.testing.assert_array_equal(named.image, cn.deep_dream(plain, image, {"conv_b": 1.0}, **how).image)
    np.testing.assert_array_equal(text.image, named.image)


def test_feature_maps(models):
    odd, _ = models
    image = pictures(1)[0]
    maps = cn.feature_maps(odd, image)
    assert list(maps) == [FIRST, SECOND]
    for name, found in maps.items():
        expected = layer_output(odd, name, image[None])
        np.testing.assert_array_equal(np.asarray(found).reshape(expected.shape), expected)


@pytest.mark.slow  # two atlases with examples, about 40 s here
def test_atlas_with_examples(models, tmp_path):
    odd, plain = models
    inputs = (pictures(30, seed=3) * 255).astype(np.uint8)[..., 0]
    how = {"examples": 2, "examples_from": inputs, "class_inputs": 10, "steps": 3, "progress": False}
    cn.atlas(odd, str(tmp_path / "odd"), **how)
    cn.atlas(plain, str(tmp_path / "plain"), **how)
    renamed = {ODD[key]: key for key in ODD}
    for arrays in ("patterns.npz", "examples.npz", "connections.npz"):
        got, want = np.load(tmp_path / "odd" / arrays), np.load(tmp_path / "plain" / arrays)
        keys = {}
        for key in got.files:
            layer = next((name for name in renamed if key.startswith(f"{name}_")), None)
            keys[key] = key if layer is None else renamed[layer] + key[len(layer):]
        assert sorted(keys.values()) == sorted(want.files)
        for key, plain_key in keys.items():
            if key in ("scan_seconds", "processor", "inputs"):
                continue
            value = got[key]
            if value.dtype.kind == "U":  # a layer named in an array: conv_b's incoming layer
                value = np.vectorize(lambda name: renamed.get(name, name))(value)
            np.testing.assert_array_equal(value, want[plain_key], err_msg=key)
    # The examples are ranked by the layer's own strongest response on each input.
    examples = np.load(tmp_path / "odd" / "examples.npz")
    maps = layer_output(odd, FIRST, inputs[..., None].astype("float32") / 255)
    strongest = maps.reshape(len(maps), -1, maps.shape[-1]).max(axis=1)
    np.testing.assert_allclose(examples[f"{FIRST}_top_activations"][:, 0], strongest.max(axis=0), rtol=1e-5)
    index = (tmp_path / "odd" / "index.html").read_text()
    assert html.escape(FIRST) in index and FIRST not in index  # the name as text, never as a tag
    assert os.path.isdir(tmp_path / "odd" / "0-c-img-src-x-onerror-window-__pwned-1")
    assert PLAIN["conv_a"] in (tmp_path / "plain" / "index.html").read_text()
