"""Attention maps (attribution/attention.py): rollout and the last layer's attention against numpy from the scores."""

from __future__ import annotations

import numpy as np
import pytest
import token_models
from attribution.by_hand import bilinear_by_hand

import cnn_note as cn
from cnn_note.backend import keras
from cnn_note.errors import InputError
from cnn_note.note import models


def scores_by_hand(model, blocks, x):
    """Each attention layer's scores (B, heads, T, T): the user's layer called eagerly on its input from a sub-model."""
    found = []
    for query_layer, attention in blocks:
        below = np.asarray(keras.Model(model.input, model.get_layer(query_layer).output)(x))
        _, scores = model.get_layer(attention)(below, below, return_attention_scores=True, training=False)
        found.append(np.asarray(scores, "float64"))
    return found


def rollout_by_hand(scores):
    """Abnar and Zuidema's rollout, written out: per layer, heads averaged, identity added, rows normalised; A_L ... A_1."""
    count = scores[0].shape[-1]
    flows = []
    for image in range(len(scores[0])):
        flow = np.eye(count)
        for layer in scores:
            mixed = layer[image].sum(axis=0) / layer.shape[1] + np.eye(count)
            mixed = np.array([row / row.sum() for row in mixed])
            flow = mixed @ flow
        flows.append(flow)
    return np.stack(flows)


@pytest.fixture(scope="module")
def conv_vit():
    keras.utils.set_random_seed(1)
    model = token_models.conv_vit()
    return model, np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")


BLOCKS = [("block0_norm1", "block0_attention"), ("block1_norm1", "block1_attention")]


def test_rollout_is_the_class_tokens_flow_over_every_layer(conv_vit):
    model, x = conv_vit
    flow = rollout_by_hand(scores_by_hand(model, BLOCKS, x))
    expected = bilinear_by_hand(flow[:, 0, 1:].reshape(2, 4, 4), 28, 28)  # the class token's row; its own column left out
    got = cn.explain(model, x, methods=["rollout"], progress=False).maps["rollout"]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_attention_is_the_last_layers_class_token_row(conv_vit):
    model, x = conv_vit
    last = scores_by_hand(model, BLOCKS[-1:], x)[0].mean(axis=1)
    expected = bilinear_by_hand(last[:, 0, 1:].reshape(2, 4, 4), 28, 28)
    got = cn.explain(model, x, methods=["attention"], progress=False).maps["attention"]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_without_a_class_token_the_patch_tokens_rows_are_averaged():
    keras.utils.set_random_seed(2)
    model = token_models.keras_io_vit()
    x = np.random.default_rng(1).random((2, 28, 28, 1)).astype("float32")
    blocks = [("norm0a", "attention0"), ("norm1a", "attention1")]
    flow = rollout_by_hand(scores_by_hand(model, blocks, x))
    got = cn.explain(model, x, methods=["rollout"], progress=False).maps["rollout"]
    np.testing.assert_allclose(got, bilinear_by_hand(flow.mean(axis=1).reshape(2, 4, 4), 28, 28), rtol=1e-4, atol=1e-6)


def test_a_cnn_runs_its_methods_as_before_and_is_refused_attention_in_one_line():
    lines = []
    explained = cn.explain(models.build_cnn(), np.zeros((1, 28, 28, 1), "float32"), methods=None, progress=False, log=lines.append)
    assert list(explained.maps) == ["gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime"]
    assert not any("rollout" in line or "attention" in line for line in lines)
    with pytest.raises(InputError, match=r"^rollout needs attention layers \(keras.layers.MultiHeadAttention, or one whose call "
                                         r"takes return_attention_scores\) and .* has none: leave rollout out of methods$"):
        cn.explain(models.build_cnn(), np.zeros((1, 28, 28, 1), "float32"), methods=["rollout"], progress=False)


def test_rollout_over_a_shrinking_grid_is_skipped_by_default_and_refused_when_asked():
    keras.utils.set_random_seed(0)
    model = token_models.swin_like()
    x = np.random.default_rng(0).random((1, 32, 32, 3)).astype("float32")
    lines = []
    explained = cn.explain(model, x, methods=None, progress=False, log=lines.append)
    assert "rollout" not in explained.maps and explained.maps["attention"].shape == (1, 32, 32)
    assert "rollout: skipped (rollout follows one token grid through every attention layer and swin_like's changes (8x8, 4x4" \
        in "\n".join(lines)
    with pytest.raises(InputError, match="use attention"):
        cn.explain(model, x, methods=["rollout"], progress=False)
