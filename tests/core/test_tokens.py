"""A transformer's tokens as maps (core.tokens): grids read from the model, said by the user, measured where unknown."""

from __future__ import annotations

import numpy as np
import pytest
import token_models
from attribution.by_hand import bilinear_by_hand

import cnn_note as cn
from cnn_note.backend import keras, tf
from cnn_note.core.tokens import Grid
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.optvis import objectives

ops = keras.ops


@keras.saving.register_keras_serializable(package="tests")
class OpenPatches(token_models.Patches):
    """keras-io's Patches with the token count left to reshape (-1): None in the graph, known only when run."""

    def call(self, images):
        patches = ops.image.extract_patches(images, size=self.patch_size)
        return ops.reshape(patches, (ops.shape(images)[0], -1, patches.shape[-1]))


@keras.saving.register_keras_serializable(package="tests")
class PatchesWithClassToken(token_models.Patches):
    """Patches that put a class token (zeros) first themselves: 1 + 16 tokens straight from the picture."""

    def call(self, images):
        patches = super().call(images)
        return ops.concatenate([ops.zeros_like(patches[:, :1]), patches], axis=1)


def pictures(model, count=3, seed=0):
    return np.random.default_rng(seed).random((count, *model.input_shape[1:])).astype("float32")


def tokens_by_hand(model, layer, x, grid):
    """Layer `layer`'s tokens from a sub-model of the user's own layers, put on `grid` by numpy."""
    values = np.asarray(keras.Model(model.input, model.get_layer(layer).output)(x))
    extra, height, width = grid
    return values[:, extra:].reshape(len(values), height, width, values.shape[-1])


def test_each_transformers_grid_is_read_from_its_patching_and_class_tokens():
    vit = View.of(token_models.keras_io_vit(patch_size=7))  # 28 / 7: a 4x4 grid, no class token
    assert set(vit.grids.values()) == {Grid(0, 4, 4)} and "attention1" in vit.grids and "patches" in vit.grids
    conv = View.of(token_models.conv_vit(patch_size=4))  # 7x7 patches, a class token after the Reshape
    assert conv.grids["to_tokens"] == Grid(0, 7, 7) and conv.grids["block1_attention"] == Grid(1, 7, 7)
    swin = View.of(token_models.swin_like(side=32, patch_size=4))  # 8x8, then 4x4 after the merge
    assert swin.grids["stage0_attention"] == Grid(0, 8, 8) and swin.grids["stage1_attention"] == Grid(0, 4, 4)
    rows = {row.name: row for row in swin.layer_table()}
    assert rows["merge"].output == (4, 4, 16) and rows["stage0_mlp"].output == (8, 8, 8)


@pytest.mark.parametrize("build, layer", [(token_models.keras_io_vit, "norm1b"), (token_models.conv_vit, "block1_mlp1"),
                                          (token_models.swin_like, "merge")])
def test_a_token_layers_maps_are_its_tokens_on_the_grid(build, layer):
    keras.utils.set_random_seed(0)
    model = build()
    view = View.of(model)
    x = pictures(model)
    np.testing.assert_allclose(np.asarray(view.features([layer])(x)), tokens_by_hand(model, layer, x, view.grids[layer]),
                               rtol=1e-5, atol=1e-6)


def test_a_token_units_objective_is_its_channels_mean_over_the_grid():
    keras.utils.set_random_seed(0)
    model = token_models.conv_vit()
    x = pictures(model)
    maps = tokens_by_hand(model, "block0_mlp2", x, (1, 4, 4))
    channels = [3, 0, 7]
    expected = [np.mean(np.where(maps[b, ..., c] > 0, maps[b, ..., c], objectives.ANTI_MATCH_WEIGHT * maps[b, ..., c]))
                for b, c in enumerate(channels)]  # a 4x4 grid: no border cropped
    got = objectives.filter_mean(View.of(model), "block0_mlp2", channels)(tf.constant(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_token_count_unknown_in_the_graph_is_measured_by_a_forward_pass():
    keras.utils.set_random_seed(0)
    model = token_models.keras_io_vit(patches=OpenPatches)
    assert model.get_layer("patches").output.shape[1] is None
    view = View.of(model)
    assert view.shapes["patches"] == (None, 16, 49) and view.grids["norm1b"] == Grid(0, 4, 4)
    x = pictures(model, 2)
    explained = cn.explain(view, x, methods=["gradient", "gradcam"], progress=False)  # was a traceback (issue 38)
    with tf.GradientTape() as tape:
        pixels = tf.constant(x)
        tape.watch(pixels)
        chosen = tf.gather(model(pixels), explained.classes, batch_dims=1)
    np.testing.assert_allclose(explained.maps["gradient"], np.abs(tape.gradient(chosen, pixels).numpy()).max(axis=-1), rtol=1e-4, atol=1e-7)
    assert cn.filter_pictures(view, "norm1b", [0, 1], steps=3, progress=False, examples=0).images.shape == (2, 28, 28, 1)


def test_a_grid_that_cannot_be_read_is_given_by_the_user():
    keras.utils.set_random_seed(0)
    model = token_models.keras_io_vit(patches=PatchesWithClassToken, num_patches=17)
    with pytest.raises(InputError, match=r"no layer with a \(batch, height, width, channels\) output to look at \(it has .*\): "
                                         r"give the patch grid of its \(batch, tokens, channels\) layers as grid=\(height, width\)"):
        View.of(model)
    with pytest.raises(InputError, match=r"norm1b has output .* nor tokens on a patch grid it can read: give the grid as "
                                         r"grid=\(height, width\), or choose one"):
        View.of(model, maps=False).features(["norm1b"])
    view = cn.view_of(model, grid=(4, 4))
    assert view.grids["norm1b"] == Grid(1, 4, 4)
    x = pictures(model)
    np.testing.assert_allclose(np.asarray(view.features(["norm1b"])(x)), tokens_by_hand(model, "norm1b", x, (1, 4, 4)),
                               rtol=1e-5, atol=1e-6)


def test_gradcam_on_tokens_is_a_tape_on_the_tokens_put_on_the_grid_by_hand():
    keras.utils.set_random_seed(0)
    model = token_models.conv_vit()
    x = pictures(model, 2)
    explained = cn.explain(model, x, methods=["gradcam"], progress=False)
    assert explained.layer == "block1_norm1"  # what the last attention reads: pytorch-grad-cam's blocks[-1].norm1
    head = model.get_layer("head")
    below = keras.Model(model.input, [model.get_layer("block1_norm1").output, model.get_layer("class_output").output])
    with tf.GradientTape() as tape:
        tokens, first = below(tf.constant(x))
        logits = tf.matmul(first, head.kernel) + head.bias  # the class score: the logit before the softmax
        chosen = tf.reduce_sum(tf.gather(logits, explained.classes, batch_dims=1))
    grads = tape.gradient(chosen, tokens).numpy()[:, 1:].reshape(2, 4, 4, -1)  # the class token left out
    maps = tokens.numpy()[:, 1:].reshape(2, 4, 4, -1)
    cam = np.maximum((maps * grads.mean(axis=(1, 2), keepdims=True)).sum(-1), 0)
    np.testing.assert_allclose(explained.maps["gradcam"], bilinear_by_hand(cam, 28, 28), rtol=1e-4, atol=1e-6)


def test_every_tool_takes_a_transformer_at_its_own_size():
    keras.utils.set_random_seed(0)
    model = token_models.swin_like()  # 32x32 pictures
    picture = pictures(model, 1)[0]
    found = cn.filter_pictures(model, "stage1_mlp", [0, 1], steps=3, progress=False, examples=2, examples_from=pictures(model, 6))
    assert found.images.shape == (2, 32, 32, 3)  # at the model's size, not the default 28
    assert found.examples.whole  # after attention a unit sees the whole picture: whole inputs, its patch boxed
    lines = []
    dreamed = cn.deep_dream(model, picture[:20, :20], {"stage0_mlp": 1.0}, steps=2, progress=False, log=lines.append)
    assert dreamed.image.shape == (32, 32, 3) and "stage0_mlp take only 32x32 pictures" in lines[0]
    assert cn.feature_maps(model, picture, ["stage1_attention"])["stage1_attention"].shape == (4, 4, 16)


class Unknown(keras.layers.Layer):
    """Every other pixel, its output's size left None in the graph (as a layer whose sizes Keras cannot infer)."""

    def call(self, x):
        return x[:, ::2, ::2]

    def compute_output_shape(self, shape):
        return (shape[0], None, None, shape[3])


def test_spatial_sizes_unknown_in_the_graph_are_measured_and_every_tool_runs(tmp_path):
    keras.utils.set_random_seed(0)
    pixels = keras.Input((28, 28, 1))
    x = Unknown(name="unknown")(keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(pixels))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv2")(x)
    model = keras.Model(pixels, keras.layers.Dense(10, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x)))
    assert model.get_layer("conv2").output.shape == (None, None, None, 6)
    rows = {row.name: row.output for row in View.of(model).layer_table()}
    assert rows["conv2"] == (11, 11, 6)  # (28 - 2) / 2 - 2, as one forward pass measures it
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    assert cn.filter_pictures(model, "conv2", [0, 1], steps=3, progress=False, examples=2, examples_from=x).images.shape == (2, 28, 28, 1)
    assert cn.deep_dream(model, x[0], {"conv2": 1.0}, steps=2, octaves=1, progress=False).image.shape == (28, 28, 1)
    assert set(cn.explain(model, x, methods=["gradient", "gradcam", "occlusion"], progress=False).maps) == {"gradient", "gradcam",
                                                                                                        "occlusion"}
    cn.atlas(model, str(tmp_path / "atlas"), ["conv2"], steps=2, examples=0, class_inputs=4, progress=False)
    assert (tmp_path / "atlas" / "index.html").exists()


def test_a_gelu_unit_is_climbed_before_its_gelu():
    keras.utils.set_random_seed(0)
    model = token_models.conv_vit()
    view, x = View.of(model), pictures(model)
    below = keras.Model(model.input, model.get_layer("block0_norm2").output)(x)
    mlp = model.get_layer("block0_mlp1")
    by_hand = (np.asarray(below) @ np.asarray(mlp.kernel) + np.asarray(mlp.bias))[:, 1:].reshape(3, 4, 4, -1)
    np.testing.assert_allclose(np.asarray(view.before_relu("block0_mlp1")(x)), by_hand, rtol=1e-4, atol=1e-5)


@keras.saving.register_keras_serializable(package="tests")
class Windows(keras.layers.Layer):
    """Swin's window partition: an 8x8 grid of tokens as four 4x4 windows, each a batch row of its own."""

    def call(self, tokens):
        x = ops.reshape(tokens, (-1, 2, 4, 2, 4, tokens.shape[-1]))
        return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (-1, 16, tokens.shape[-1]))


@keras.saving.register_keras_serializable(package="tests")
class Unwindows(keras.layers.Layer):
    """The windows put back on the 8x8 grid."""

    def call(self, windows):
        x = ops.reshape(windows, (-1, 2, 2, 4, 4, windows.shape[-1]))
        return ops.reshape(ops.transpose(x, (0, 1, 3, 2, 4, 5)), (-1, 64, windows.shape[-1]))


def test_windows_and_rows_are_no_patch_grid():
    keras.utils.set_random_seed(0)
    pixels = keras.Input((32, 32, 3))
    tokens = keras.layers.Reshape((64, 8), name="to_tokens")(keras.layers.Conv2D(8, 4, strides=4, name="patches")(pixels))
    windows = Windows(name="windows")(tokens)
    attended = keras.layers.MultiHeadAttention(2, 4, name="window_attention")(windows, windows)
    back = keras.layers.Add(name="back")([tokens, Unwindows(name="unwindows")(attended)])
    rows = keras.layers.LSTM(4, name="rows")(keras.layers.Reshape((32, 96), name="picture_rows")(pixels))
    x = keras.layers.Concatenate()([keras.layers.GlobalAveragePooling1D()(back), rows])
    model = keras.Model(pixels, keras.layers.Dense(3, activation="softmax")(x))
    view = View.of(model)
    assert view.grids["to_tokens"] == Grid(0, 8, 8) and view.grids["back"] == Grid(0, 8, 8)
    assert "windows" not in view.grids and "window_attention" not in view.grids and "picture_rows" not in view.grids
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    explained = cn.explain(model, x, progress=False, samples=2, steps=4, lime_samples=20)  # were 8 maps for 2 pictures
    assert all(maps.shape == (2, 32, 32) for maps in explained.maps.values()) and "attention" not in explained.maps
    with pytest.raises(InputError, match=r"^attention needs attention over the patch grid and .*'s \(window_attention\) is over tokens"):
        cn.explain(model, x, methods=["attention"], progress=False)


def test_attention_scores_are_read_as_the_model_calls_the_layer():
    keras.utils.set_random_seed(0)
    pixels = keras.Input((28, 28, 1))
    tokens = keras.layers.Reshape((16, 8))(keras.layers.Conv2D(8, 7, strides=7)(pixels))
    normed = keras.layers.LayerNormalization(name="normed")(tokens)
    attended = keras.layers.MultiHeadAttention(2, 4, name="attention")(normed, value=normed, use_causal_mask=True)
    model = keras.Model(pixels, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling1D()(attended)))
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    below = keras.Model(model.input, model.get_layer("normed").output)(x)
    _, expected = model.get_layer("attention")(below, value=below, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(View.of(model).attention_scores()(x)), np.asarray(expected), atol=1e-6)


def test_a_transformer_without_conv_layers_gets_its_mlp_layers_by_default():
    keras.utils.set_random_seed(0)
    model = token_models.keras_io_vit()  # patches cut by keras.ops: no conv layer at all
    mlp = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense) and layer.name.startswith("dense")][:4]
    assert View.of(model).default_layers() == mlp
    assert list(cn.feature_maps(model, pictures(model, 1)[0])) == mlp  # was "outputs argument cannot be empty"


def test_a_size_left_open_is_measured_at_the_size_asked_not_guessed():
    keras.utils.set_random_seed(0)
    pixels = keras.Input((None, None, 1))  # any size: no model size to measure at beforehand
    x = Unknown(name="unknown")(keras.layers.Conv2D(4, 3, name="conv1")(pixels))
    x = keras.layers.Conv2D(6, 3, name="conv2")(x)
    model = keras.Model(pixels, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    from cnn_note.core import batching

    sizes = batching.tensor_sizes(View.of(model), ["conv2"], 300, 300)
    assert sizes[-1] == 147 * 147 * 6  # ((300 - 2) / 2 - 2)^2 x 6; was 300 x 300 for each None, 377 GiB in all
    assert cn.filter_pictures(model, "conv2", [0], size=300, steps=1, progress=False, examples=0).images.shape == (1, 300, 300, 1)
