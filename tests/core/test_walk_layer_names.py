"""The walk over the user's layers takes any name Keras does: the graphs built on it run where TensorFlow checks scopes."""

import numpy as np
import pytest
from layer_names import ODD, cnn, layer_output, pictures, twins

from cnn_note.backend import keras, tf
from cnn_note.core import traversal
from cnn_note.core.views import View


def compiled(model: keras.Model, images: np.ndarray):
    """`model` on `images` in a traced graph, as ascent and the attributions run it (TensorFlow checks scope names there)."""
    return tf.function(lambda batch: model(batch))(tf.constant(images))


def test_every_layer_in_a_traced_graph_is_the_keras_sub_models_output():
    model, images = cnn(ODD), pictures()
    view = View.of(model)
    names = [layer.name for layer in view.feature_layers()]
    assert names == [ODD[key] for key in ("conv_a", "norm_a", "pool_a", "conv_b", "drop_b")]
    found = view.features(names)
    for name, traced, predicted in zip(names, compiled(found, images), found.predict_on_batch(images)):
        expected = layer_output(model, name, images)  # Keras alone, eagerly, in inference mode
        np.testing.assert_array_equal(np.asarray(traced), expected)
        np.testing.assert_array_equal(predicted, expected)


def test_the_users_model_keeps_its_layers_names_and_weights():
    model = cnn(ODD)
    names, weights, config = [layer.name for layer in model.layers], model.get_weights(), model.get_config()
    view = View.of(model)
    view.features([ODD["conv_a"], ODD["conv_b"]]).predict_on_batch(pictures())
    view.probability_model().predict_on_batch(pictures())
    assert [layer.name for layer in model.layers] == names and model.get_config() == config
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), weights))
    assert all(view.layer(ODD[key]) is model.get_layer(ODD[key]) for key in ODD)  # the walk records the user's own layers


def test_probabilities_and_the_value_before_the_relu_are_the_models():
    model, images = cnn(ODD), pictures()
    view = View.of(model)
    np.testing.assert_array_equal(view.probabilities(images), np.asarray(model(images, training=False)))
    conv = model.get_layer(ODD["conv_a"])
    linear = keras.ops.conv(images, conv.kernel) + conv.bias  # the conv without its ReLU, by hand
    before = view.before_relu(ODD["conv_a"]).predict_on_batch(images)
    np.testing.assert_allclose(before, np.asarray(linear), atol=1e-6)
    assert before.min() < 0  # not the ReLU's output


def test_a_layer_replaced_on_the_way_is_told_by_its_own_name():
    model, images = cnn(ODD), pictures()
    heard = []

    def silence(layer, out):
        heard.append(layer.name)
        return out * 0.0 if layer.name == ODD["conv_b"] else out

    scores = View.of(model).class_scores(on_call=silence).predict_on_batch(images)
    assert ODD["conv_b"] in heard and ODD["conv_a"] in heard
    # With the last conv silent, the logits are the dense layer's bias alone, for every picture.
    bias = model.get_layer(ODD["scores"]).bias.numpy()
    np.testing.assert_allclose(scores, np.tile(bias, (len(images), 1)), atol=1e-6)


def test_the_same_graph_as_for_plain_names_where_names_are_plain():
    odd, plain = twins()
    images = pictures()
    odd_view, plain_view = View.of(odd), View.of(plain)
    ops = {type(layer).__name__ for layer in plain_view.features(["conv_a", "conv_b"]).layers[-1].layers}
    assert "ScopeSafe" not in ops  # ordinary names are called as they always were
    got = odd_view.features([ODD["conv_a"], ODD["conv_b"]]).predict_on_batch(images)
    for a, b in zip(got, plain_view.features(["conv_a", "conv_b"]).predict_on_batch(images)):
        np.testing.assert_array_equal(a, b)


def test_a_nested_model_and_mixed_precision_with_odd_names():
    inputs = keras.Input((20, 20, 1))
    x = keras.layers.Conv2D(3, 3, name="inner <conv>", dtype="mixed_float16")(inputs)
    base = keras.Model(inputs, keras.layers.ReLU(name="re lu")(x), name="base, 'nested'")
    outer_in = keras.Input((20, 20, 1))
    y = keras.layers.GlobalAveragePooling2D(name="gap")(base(outer_in))
    model = keras.Model(outer_in, keras.layers.Dense(2, name="out=", dtype="float32")(y))
    images = pictures()[:, :20, :20]
    view = View.of(model)
    assert view.layer("inner <conv>") is base.get_layer("inner <conv>")
    found = view.features(["inner <conv>", "re lu"])
    expected = [np.asarray(keras.Model(base.input, base.get_layer(name).output)(images), "float32") for name in ("inner <conv>", "re lu")]
    for traced, want in zip(compiled(found, images), expected):
        np.testing.assert_array_equal(np.asarray(traced), want)
    np.testing.assert_array_equal(view.probability_model().predict_on_batch(images), np.asarray(keras.ops.softmax(model(images))))


def test_keras_itself_refuses_a_slash_in_a_name():
    # So no model can hold one, and the tools need no answer for it.
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        keras.layers.Conv2D(1, 1, name="a/b")
    assert traversal.SCOPE_NAME.fullmatch("conv1_a.b-2") and not traversal.SCOPE_NAME.fullmatch(ODD["conv_a"])
