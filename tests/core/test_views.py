"""Any Keras image model seen through pixels 0..1: layers at any size, scores before softmax, pixel conventions."""

import numpy as np
import pytest
from conftest import rgb_residual_model

from cnn_note.backend import keras
from cnn_note.cli import arguments
from cnn_note.core import batching, loading, networks
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.note import models
from cnn_note.optvis import dream


def test_features_take_any_size_and_share_the_trained_layers():
    cnn = models.build_cnn()
    view = View.of(cnn)
    features = view.features(["conv2", "conv1"])
    conv2, conv1 = features(np.zeros((2, 40, 33, 1), "float32"))
    assert conv1.shape == (2, 38, 31, 25) and conv2.shape == (2, 17, 13, 50)
    assert any(weight is cnn.get_layer("conv1").kernel for weight in features.weights)
    assert cnn.input_shape == (None, 28, 28, 1) and len(cnn.layers) == 7  # the user's model is not changed


def test_any_4d_layer_can_be_chosen_and_others_are_named():
    view = View.of(rgb_residual_model())
    assert [layer.name for layer in view.feature_layers()] == ["stem", "bn", "relu", "sep", "add", "deep"]
    assert view.conv_layer_names() == ["stem", "sep", "deep"]
    assert view.features(["add"])(np.zeros((1, 20, 30, 3), "float32")).shape == (1, 20, 30, 8)
    with pytest.raises(InputError, match="layer gap has output .* not \\(batch, height, width, channels\\)"):
        view.check_layers(["gap"])
    with pytest.raises(InputError, match="unknown layer nope: .* stem, sep, deep"):
        view.check_layers(["nope"])
    assert view.layer_table()[4] == ("add", "Add", (None, None, 8), 8)


def test_list_layers_prints_the_views_layers_in_aligned_columns():
    # Written by hand: each column as wide as its longest cell, two spaces between, no space at a line's end.
    assert arguments.layer_table(View.of(rgb_residual_model())) == (
        "layer  type                output (h, w, c)  channels\n"
        "stem   Conv2D              (None, None, 8)   8\n"
        "bn     BatchNormalization  (None, None, 8)   8\n"
        "relu   Activation          (None, None, 8)   8\n"
        "sep    SeparableConv2D     (None, None, 8)   8\n"
        "add    Add                 (None, None, 8)   8\n"
        "deep   DepthwiseConv2D     (None, None, 8)   8")


def test_the_view_mints_its_memo_keys_and_builds_each_thing_once():
    view = View.of(rgb_residual_model())
    built = []

    def build(value):
        return lambda: built.append(value) or value

    assert view.memo("a", ["stem", "sep"], 3, build=build(1)) == 1
    assert view.memo("a", ("stem", "sep"), 3, build=build(2)) == 1  # layers as a list or a tuple: one thing
    assert view.memo("a", ["stem"], 3, build=build(3)) == 3  # other parts
    assert view.memo("b", ["stem", "sep"], 3, build=build(4)) == 4  # another kind, the same parts
    assert view.memo("a", ["stem", "sep"], 4, build=build(5)) == 5
    assert built == [1, 3, 4, 5]
    assert view.features(["stem", "add"]) is view.features(("stem", "add")) is not view.features(["add", "stem"])


@pytest.mark.parametrize("make", [models.build_cnn, rgb_residual_model])
def test_class_scores_are_the_logits_before_softmax(make):
    model = make()
    view = View.of(model)
    x = np.random.default_rng(0).random((3, 28, 28, model.input_shape[-1])).astype("float32")
    logits = np.asarray(view.class_scores()(x))
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(logits)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    assert view.classes() == model.output_shape[-1]


def test_a_model_whose_head_cannot_be_told_has_no_class_scores_until_one_is_named():
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="tanh", name="out")(x))
    view = View.of(model)
    assert view.classes() is None
    with pytest.raises(InputError, match="cannot tell what the model's last layer out gives .*activation tanh.*head='logits'"):
        view.class_scores()
    assert View.of(model, head="regression").classes() == 3


def test_models_that_are_not_image_cnns_are_refused_in_one_line():
    with pytest.raises(InputError, match=r"takes inputs of shape \(784,\), not images"):
        View.of(models.build_dnn(), "dnn.keras")
    with pytest.raises(InputError, match="conv1 is channels_first.*layout='intended'") as refused:
        View.of(models.build_cnn(layout="note"), "note.keras")
    assert "(the note's code as written, cn.build_cnn(layout='note'), has conv1 so" in str(refused.value)
    assert "(the note's code as written, train_cnn.py --layout note, has conv1 so" in refused.value.on_command_line()
    inputs = keras.Input((8, 8, 1))
    dense_only = keras.Model(inputs, keras.layers.Dense(2, name="d")(keras.layers.Flatten(name="flat")(inputs)))
    with pytest.raises(InputError, match="no layer with a \\(batch, height, width, channels\\) output .*flat"):
        View.of(dense_only, "flat.keras")


def test_pixel_conventions_are_applied_inside_the_view():
    inputs = keras.Input((4, 4, 3))
    identity = keras.Model(inputs, keras.layers.Activation("linear", name="same")(inputs))
    pixels = np.full((1, 4, 4, 3), 0.5, "float32")
    assert np.allclose(View.of(identity).features(["same"])(pixels), 0.5)
    ranged = View.of(identity, to_model=networks.pixel_convention((-1.0, 1.0), None))
    assert np.allclose(ranged.features(["same"])(pixels), 0.0)
    vgg = View.of(identity, to_model=networks.pixel_convention(None, "vgg16"))  # caffe: BGR minus the ImageNet mean
    np.testing.assert_allclose(np.asarray(vgg.features(["same"])(pixels))[0, 0, 0], [127.5 - 103.939, 127.5 - 116.779, 127.5 - 123.68],
                               rtol=1e-5)
    with pytest.raises(InputError, match="unknown network alexnet: known ones are vgg16"):
        networks.pixel_convention(None, "alexnet")


def test_memory_estimate_grows_with_the_picture_and_smallest_side_is_found():
    view = View.of(models.build_cnn())
    small, large = batching.bytes_per_image(view, ["conv2"], 28, 28), batching.bytes_per_image(view, ["conv2"], 280, 280)
    assert 4 * 28 * 28 * (1 + 25) < small and 90 < large / small < 130  # about the ratio of areas, 100
    assert view.smallest_side(["conv1"]) == 3 and view.smallest_side(["conv1", "conv2"]) == 8


def test_a_network_by_name_offline_fails_in_one_line(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.utils.file_utils.get_file", offline)
    with pytest.raises(InputError, match="run once with a network .* or pass a model file with the model argument"):
        loading.load("mobilenet_v2", "python train_cnn.py")
    with pytest.raises(InputError, match="unknown network alexnet: known ones are vgg16, .*inception_v3"):
        loading.load("alexnet", "python train_cnn.py")


def test_a_network_by_name_is_built_through_keras_with_its_own_preprocessing(monkeypatch):
    monkeypatch.setattr(networks, "WEIGHTS", None)  # the architecture without the ImageNet download
    view = loading.load("mobilenet_v2", "python train_cnn.py")
    assert view.label == "mobilenet_v2" and view.channels == 3 and view.size == (224, 224) and view.classes() == 1000
    maps = view.features(["block_3_expand_relu"])(np.full((1, 64, 80, 3), 0.5, "float32"))
    assert maps.shape == (1, 16, 20, 144)  # the free-size graph: 64x80 pixels, not the model's 224x224


def test_inception_v3_dreams_on_keras_ios_mixed_layers_by_default(monkeypatch):
    monkeypatch.setattr(networks, "WEIGHTS", None)
    view = loading.load("inception_v3", "python train_cnn.py")
    assert dream.default_weights(view) == {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5}
    view.check_layers(list(dream.default_weights(view)))  # Concatenate layers with 4-D outputs
    assert view.smallest_side(["mixed4"]) > 28  # MNIST digits are too small for it: deep_dream.py says so in one line


def test_a_legacy_h5_file_is_read_too(tmp_path):
    keras.utils.set_random_seed(0)
    model = rgb_residual_model()
    model.save(tmp_path / "model.h5")
    view = loading.load(str(tmp_path / "model.h5"), "python train_cnn.py")
    x = np.random.default_rng(0).random((1, 20, 24, 3)).astype("float32")
    direct = keras.Model(model.inputs[0], model.get_layer("add").output)(x)
    np.testing.assert_allclose(np.asarray(view.features(["add"])(x)), np.asarray(direct), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_a_fine_tuned_model_with_a_nested_base_shows_the_bases_layers(tmp_path):
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(input_shape=(64, 64, 3), alpha=0.35, weights=None, include_top=False)
    model = keras.Sequential([keras.Input((64, 64, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(5, activation="softmax", name="head")])
    model.save(tmp_path / "fine_tuned.keras")
    view = loading.load(str(tmp_path / "fine_tuned.keras"), "python train_cnn.py", preprocess="mobilenet_v2")
    names = [layer.name for layer in view.feature_layers()]
    assert "block_3_expand" in names and base.name in names and "block_3_expand" in arguments.layer_table(view)
    pixels = np.random.default_rng(0).random((1, 64, 64, 3)).astype("float32")
    inner = keras.Model(base.inputs[0], base.get_layer("block_3_expand").output)
    np.testing.assert_allclose(np.asarray(view.features(["block_3_expand"])(pixels)),
                               np.asarray(inner(pixels * 2.0 - 1.0)), rtol=1e-4, atol=1e-5)  # mobilenet_v2: pixels to -1..1
    assert view.features(["block_3_expand"])(np.zeros((1, 48, 80, 3), "float32")).shape == (1, 12, 20, 48)  # any size
    x = np.random.default_rng(1).random((2, 64, 64, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(view.class_scores()(x))), np.asarray(model(x * 2.0 - 1.0)),
                               rtol=1e-5, atol=1e-6)
