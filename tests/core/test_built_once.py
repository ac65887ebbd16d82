"""The core leaves the user's model as it was and builds its view once: asking again adds nothing to the model's layers,
gives the same maps, and follows the model's weights as it trains (loading.kept, View.memo)."""

import gc
import weakref

import numpy as np
import pytest

import cnn_note as cn
from cnn_note.backend import keras, tf
from cnn_note.core import loading
from cnn_note.note import models

SMALL = {"samples": 3, "steps": 4, "lime_samples": 20}  # every method, on little work


@pytest.fixture
def records(monkeypatch):
    """Every call record Keras makes from here on (a Node, made at each symbolic call of a layer), counted as it is
    made rather than read from Keras' own lists."""
    from keras.src.ops import node

    made = []
    init = node.Node.__init__

    def counted(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(node.Node, "__init__", counted)
    return made


def touching(made: list, model: keras.Model) -> list:
    """The records among `made` of a call of one of the model's layers, or of a call on one of their outputs."""
    layers = {id(layer) for layer in model._flatten_layers()}
    inbound = [(made_node, [tensor._keras_history.operation for tensor in made_node.arguments.keras_tensors])
               for made_node in made]
    return [made_node for made_node, sources in inbound
            if id(made_node.operation) in layers or any(id(source) in layers for source in sources)]


def logits_model() -> keras.Model:
    """A small CNN whose output is its logits, with layers that behave otherwise in training (Dropout, BatchNormalization)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.Dropout(0.5, name="drop")(keras.layers.Flatten(name="flat")(x))
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def taped(score, images: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """|d score[i, classes[i]] / d images[i]|, the largest over channels, by a plain tf.GradientTape."""
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(tf.gather(score(x), classes[:, None], axis=1, batch_dims=1))
    return np.abs(tape.gradient(total, x).numpy()).max(axis=-1)


def test_a_second_explain_adds_no_call_record_to_the_models_layers(records):
    model = logits_model()
    images = np.random.default_rng(0).random((3, 12, 12, 1)).astype("float32")
    cn.explain(model, images, methods=None, progress=False, **SMALL)
    before = {layer.name: (len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in model.layers}
    records.clear()
    for _ in range(2):
        cn.explain(model, images, methods=None, progress=False, **SMALL)
        cn.explain(model, images[:1], methods=["gradient"], progress=False)
    assert touching(records, model) == []
    assert {layer.name: (len(layer._inbound_nodes), len(layer._outbound_nodes)) for layer in model.layers} == before


def test_the_second_maps_equal_the_first_and_a_tape_on_the_model_in_inference_mode():
    model = logits_model()
    images = np.random.default_rng(1).random((4, 12, 12, 1)).astype("float32")
    first = cn.explain(model, images, methods=["gradient"], progress=False)
    second = cn.explain(model, images, methods=["gradient"], progress=False)
    np.testing.assert_array_equal(second.maps["gradient"], first.maps["gradient"])
    expected = taped(lambda x: model(x, training=False), images, first.classes)
    np.testing.assert_allclose(first.maps["gradient"], expected, rtol=1e-5, atol=1e-7)


def test_a_model_trained_between_two_explains_gives_the_new_maps():
    keras.utils.set_random_seed(0)
    model = models.build_cnn()  # a softmax output: the scores are its logits, through a twin of its last layer
    rng = np.random.default_rng(2)
    images = rng.random((3, 28, 28, 1)).astype("float32")
    classes = np.array([1, 4, 7])
    first = cn.explain(model, images, classes, methods=["gradient", "gradcam", "occlusion"], progress=False)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(rng.random((64, 28, 28, 1)).astype("float32"), rng.integers(0, 10, 64), epochs=1, verbose=0)
    second = cn.explain(model, images, classes, methods=["gradient", "gradcam", "occlusion"], progress=False)
    for method in ("gradient", "gradcam", "occlusion"):
        assert not np.allclose(second.maps[method], first.maps[method]), method
    below = keras.Model(model.inputs, model.layers[-2].output)
    last = model.layers[-1]
    expected = taped(lambda x: tf.matmul(below(x, training=False), last.kernel) + last.bias, images, classes)
    np.testing.assert_allclose(second.maps["gradient"], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(second.outputs, model.predict_on_batch(images), rtol=1e-5, atol=1e-7)


def test_the_kept_views_go_when_the_model_goes():
    model = logits_model()
    cn.explain(model, np.zeros((1, 12, 12, 1), "float32"), methods=["gradient"], progress=False)
    assert loading.VIEWS in vars(model)
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


def test_other_settings_or_changed_layers_get_their_own_view():
    model = logits_model()
    view = cn.view_of(model)
    assert cn.view_of(model) is view
    assert cn.view_of(model, input_range=(0, 255)) is not view
    assert cn.view_of(model, input_range=[0, 255]) is cn.view_of(model, input_range=(0, 255))
    model.get_layer("logits").activation = keras.activations.softmax  # as a user may switch a last layer's activation
    assert cn.view_of(model) is not view and cn.view_of(model).head.kind == "softmax"
