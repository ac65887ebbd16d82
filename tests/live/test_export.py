"""cnn_note.live.export: a model as the page runs it, against the model's own layers and conventions worked out by hand."""

import base64
import json
import os
import re

import numpy as np
import pytest
from conftest import headless_chromium

from cnn_note.backend import keras
from cnn_note.core.inputs import view_of
from cnn_note.errors import InputError
from cnn_note.live import export, page
from cnn_note.note import models


def small_cnn(extra=None):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    if extra is not None:
        x = extra(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="out")(x))


def test_a_layer_the_page_lacks_is_one_line_naming_it():
    view = view_of(small_cnn(keras.layers.UpSampling2D(name="grow<b>")))
    why = export.refusal(view)
    assert why.startswith("no live page: layer 'grow<b>' is a UpSampling2D, which the page does not compute")
    assert "\n" not in why
    with pytest.raises(InputError, match="grow<b>"):
        export.export(view, "m", (12, 12))


def test_an_activation_the_page_lacks_is_one_line_naming_it():
    view = view_of(small_cnn(keras.layers.Conv2D(2, 1, activation="log_softmax", name="odd")))
    assert "layer 'odd' (Conv2D) has activation 'log_softmax'" in export.refusal(view)


def test_a_model_past_the_size_a_page_holds_is_refused_with_its_count():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(1, 3, name="conv")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(6000, activation="softmax")(x), name="big")
    count = 3 * 3 + 1 + 26 * 26 * 6000 + 6000
    assert export.refusal(view_of(model)) == (
        f"no live page: big has {count:,} parameters, more than the 4,000,000 a page holds (their float32 weights alone "
        "would be 16 MB for the browser to load); the atlas is made as always")
    assert export.refusal(view_of(models.build_cnn())) is None


@pytest.mark.parametrize("input_range, preprocess, matrix, offset", [
    (None, None, None, None),
    ((0, 255), None, 255 * np.eye(3), np.zeros(3)),
    ((-1, 1), None, 2 * np.eye(3), -np.ones(3)),
    # caffe mode: BGR from RGB, less ImageNet's mean in BGR order (keras.applications.imagenet_utils)
    (None, "vgg16", 255 * np.eye(3)[::-1], -np.array([103.939, 116.779, 123.68])),
    (None, "mobilenet_v2", 2 * np.eye(3), -np.ones(3)),  # tf mode: x / 127.5 - 1
])
def test_the_pixel_convention_is_the_affine_map_worked_out_by_hand(input_range, preprocess, matrix, offset):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(inputs))))
    found = export.pixel_map(view_of(model, input_range, preprocess))
    if matrix is None:
        assert found is None
    else:
        np.testing.assert_allclose(found[0], matrix, atol=2e-4)
        np.testing.assert_allclose(found[1], offset, atol=2e-4)


def test_the_script_holds_every_weight_of_every_layer_and_the_graph_in_order():
    keras.utils.set_random_seed(1)
    model = models.build_cnn()
    exported = export.export(view_of(model), "cnn", (28, 28), ["conv1", "conv2"], {"conv1": "0-conv1", "conv2": "1-conv2"})
    script = exported.script()
    prefix = "(window.cnnNoteModels = window.cnnNoteModels || []).push("
    assert script.startswith(prefix) and script.endswith(");\n")
    data = json.loads(script[len(prefix):-3])
    blob = np.frombuffer(base64.b64decode(data["weights"]), "<f4")
    by_name = {op["name"]: (index, op) for index, op in enumerate(data["operations"])}
    assert list(by_name) == [layer.name for layer in model.layers]  # the layers in the order the model calls them
    for layer in model.layers:
        index, op = by_name[layer.name]
        assert op["kind"] == type(layer).__name__
        for variable in layer.weights:
            start, shape = data["offsets"][f"{index}/{variable.name}"]
            np.testing.assert_array_equal(blob[start:start + int(np.prod(shape))].reshape(shape), np.asarray(variable))
    outputs = [op["output"] for op in data["operations"]]
    assert [op["inputs"] for op in data["operations"]] == [[0]] + [[number] for number in outputs[:-1]]  # a chain from the input
    assert data["shown"] == ["conv1", "pool1", "conv2", "pool2", "dense"]
    assert data["head"] == {"kind": "softmax", "layer": "output", "activation": "softmax", "classes": 10}
    assert data["input"] == [28, 28, 1] and data["atlas"] == {"conv1": "0-conv1", "conv2": "1-conv2"}


def test_a_residual_graph_keeps_both_inputs_of_its_add():
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", name="a")(inputs)
    b = keras.layers.Conv2D(4, 1, name="b")(a)
    added = keras.layers.Add(name="sum")([a, b])
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="out")(keras.layers.Flatten(name="f")(added)))
    ops = {op["name"]: op for op in export.operations(view_of(model))[0]}
    assert ops["sum"]["inputs"] == [ops["a"]["output"], ops["b"]["output"]]
    assert ops["b"]["inputs"] == [ops["a"]["output"]] and ops["a"]["inputs"] == [0]


def every_kind_model():
    """One model of 10x10x3 pictures with every layer kind export.OPERATIONS names, an Arithmetic (x / 2 - 1), and every
    activation the page computes, at settings off their defaults and with weights that are not a layer's first ones;
    a kind the page does not show (padding, cropping, permute, reshape, arithmetic) is read through a linear
    Activation after it."""
    layers = keras.layers
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    inputs = keras.Input((10, 10, 3))
    x = layers.Rescaling(np.array([2.0, 1.0, 0.5], "float32"), offset=np.array([-1.0, 0.0, 0.25], "float32"), name="rescaling")(inputs)
    normalization = layers.Normalization(name="normalization")
    normalization.adapt(rng.random((4, 10, 10, 3)).astype("float32") * 3)
    x = normalization(x)
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="tanh", name="depthwise")(x)
    x = layers.SeparableConv2D(4, 3, padding="same", dilation_rate=2, name="separable")(x)
    bn = layers.BatchNormalization(name="batchnorm")
    x = bn(x)
    bn.set_weights([rng.random(4).astype("float32") + 0.5, rng.standard_normal(4).astype("float32"),
                    rng.standard_normal(4).astype("float32"), rng.random(4).astype("float32") + 0.2])
    relu = layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.05, name="relu")(x)
    leaky = layers.LeakyReLU(negative_slope=0.2, name="leaky")(x)
    elu = layers.ELU(alpha=0.7, name="elu")(x)
    prelu = layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.5), name="prelu")(x)
    activations = [layers.Activation(name, name=f"activation_{name}")(x) for name in export.ACTIVATIONS]
    added = layers.Add(name="sum")([relu, leaky, *activations])
    subtracted = layers.Subtract(name="difference")([elu, prelu])
    multiplied = layers.Multiply(name="product")([relu, elu])
    average = layers.Average(name="mean")([added, subtracted])
    most = layers.Maximum(name="most")([multiplied, average])
    least = layers.Minimum(name="least")([multiplied, subtracted])
    x = layers.Concatenate(name="concatenate")([most, least])  # 10x10x8
    x = layers.Activation("linear", name="after_padding")(layers.ZeroPadding2D(((1, 2), (0, 1)), name="padding")(x))  # 13x11
    x = layers.Activation("linear", name="after_cropping")(layers.Cropping2D(((2, 0), (1, 1)), name="cropping")(x))  # 11x9
    pooled = layers.MaxPooling2D(2, name="maxpool")(x)  # 5x4
    averaged = layers.AveragePooling2D(3, strides=2, padding="same", name="avgpool")(x)  # 6x5
    x = layers.Activation("linear", name="after_permute")(layers.Permute((2, 1, 3), name="permute")(pooled))  # 4x5
    x = layers.Activation("linear", name="after_reshape")(layers.Reshape((5, 8, 4), name="reshape")(x))
    on_maps = layers.Dense(3, activation="sigmoid", name="dense_on_maps")(x)
    flat = layers.Dense(6, activation="elu", name="dense")(layers.Flatten(name="flatten")(on_maps))
    shifted = layers.Activation("linear", name="after_arithmetic")(flat / 2.0 - 1.0)
    joined = layers.Concatenate(name="joined")([layers.GlobalAveragePooling2D(name="gap")(averaged),
                                                layers.GlobalMaxPooling2D(name="gmp")(pooled), shifted])
    return keras.Model(inputs, layers.Softmax(name="probabilities")(layers.Dense(4, name="scores")(joined)), name="kinds")


def test_the_page_computes_every_kind_the_export_sends_and_no_other(tmp_path):
    """live.js's OPERATIONS, read from the file, are export.OPERATIONS and Arithmetic, no other; and in headless Chromium
    the page's every layer and probability on a model of every kind equal Keras's own sub-models'."""
    model = every_kind_model()
    names = [layer.name for layer in model.layers]
    exported = export.export(view_of(model), "kinds", (10, 10), names)  # every layer shown: past MAX_SHOWN, the atlas's
    sent = {op["kind"] for op in exported.spec["operations"] if not op.get("pass")}
    assert sent == {*export.OPERATIONS, "Arithmetic"}  # the model holds every kind the export sends
    assert all(kind in export.NOT_SHOWN or any(op["kind"] == kind and op["name"] in exported.spec["shown"]
                                                for op in exported.spec["operations"]) for kind in sent - {"Softmax"})
    with open(os.path.join(os.path.dirname(export.__file__), "assets", "live.js"), encoding="utf-8") as handle:
        script = handle.read()
    block = script[script.index("var OPERATIONS = {"):script.index("\n  };", script.index("var OPERATIONS = {"))]
    assert set(re.findall(r"^    (\w+): function", block, re.M)) == sent  # the page has a function for each, and no other
    page.write(str(tmp_path), "kinds", [exported], None, back=None)
    x = np.random.default_rng(1).random((10, 10, 3)).astype("float32")
    driver = headless_chromium(str(tmp_path / "profile"), 390, 900, console=True)
    try:
        driver.get(f"file://{tmp_path}/live.html")
        done = "var done = arguments[arguments.length - 1]; "
        assert driver.execute_async_script(done + "cnnNote.set(arguments[0]).then(function () { done(1); }, "
                                           "function (e) { done(String(e)); })", x.astype("float64").ravel().tolist()) == 1
        answer = driver.execute_script("return cnnNote.read()")["models"][0]
        severe = [line for line in driver.get_log("browser") if line["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert not severe, severe
    assert sorted(answer["layers"]) == sorted(exported.spec["shown"])
    for name in exported.spec["shown"]:  # in the model's order: the first layer the page gets wrong is named
        want = np.asarray(keras.Model(model.inputs[0], model.get_layer(name).output)(x[None], training=False)).ravel()
        np.testing.assert_allclose(answer["layers"][name], want, rtol=1e-4, atol=1e-4, err_msg=name)
    np.testing.assert_allclose(answer["probabilities"], np.asarray(model(x[None], training=False))[0], atol=1e-4)


def test_a_keras_operation_named_like_a_layer_is_refused_not_run_as_one():
    inputs = keras.Input((8, 8, 1))
    a = keras.layers.Conv2D(2, 3, name="a")(inputs)
    joined = keras.ops.concatenate([a, a], axis=-1)  # an Operation called Concatenate, not the layer
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(joined)))
    why = export.refusal(view_of(model))
    assert why.startswith("no live page: layer 'concatenate") and "is the operation Concatenate, which the page does not compute" in why


def test_a_per_channel_rescaling_goes_to_the_page_as_numbers():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(np.array([0.5, 2.0, 4.0], "float32"), offset=np.array([1.0, 0.0, -1.0], "float32"), name="r")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(
        keras.layers.Conv2D(2, 3)(x))))
    exported = export.export(view_of(model), "m", (8, 8))
    rescaling = next(op for op in exported.spec["operations"] if op["name"] == "r")
    assert rescaling["config"] == {"scale": [0.5, 2.0, 4.0], "offset": [1.0, 0.0, -1.0]}
    assert json.loads(exported.script()[len("(window.cnnNoteModels = window.cnnNoteModels || []).push("):-3])["name"] == "m"


def test_a_missing_model_beside_is_one_line_and_nothing_is_written(random_cnn_file, tmp_path, capsys):
    from cnn_note.cli import atlas

    out = tmp_path / "atlas"
    with pytest.raises(SystemExit) as stopped:
        atlas.main(["--model", random_cnn_file, "--beside", str(tmp_path / "nope.keras"), "--examples", "0", "--out", str(out)])
    assert stopped.value.code == 2 and not out.exists()
    assert capsys.readouterr().err == (f"atlas.py: error: --beside {tmp_path / 'nope.keras'} not found: run `python "
                                       "train_dnn.py` for the note's DNN, or give another model file\n")
