"""Subclassed keras.Models (MTCNN's ONet, say) traced into functional ones over their own layers: every method gives what
the same network written functionally gives, and what a tape on the model's own layers gives."""

import numpy as np
import pytest

import cnn_note as cn
from cnn_note.backend import keras, tf

L = keras.layers
SIDE = 24


class ONet(keras.Model):
    """MTCNN's ONet in small: conv, PReLU, pooling, Permute before the flattening, three outputs (box, landmarks, face)."""

    def __init__(self):
        super().__init__(name="onet")
        self.conv1, self.prelu1 = L.Conv2D(8, 3, name="conv1"), L.PReLU(shared_axes=[1, 2], name="prelu1")
        self.pool1 = L.MaxPooling2D(3, 2, padding="same", name="pool1")
        self.conv2, self.prelu2 = L.Conv2D(16, 3, name="conv2"), L.PReLU(shared_axes=[1, 2], name="prelu2")
        self.permute, self.flatten = L.Permute((3, 2, 1), name="permute"), L.Flatten(name="flatten")
        self.fc, self.prelu5 = L.Dense(32, name="fc5"), L.PReLU(name="prelu5")
        self.box, self.marks = L.Dense(4, name="fc6-1"), L.Dense(10, name="fc6-2")
        self.face = L.Dense(2, activation="softmax", name="fc6-3")

    def features(self, x):
        x = self.pool1(self.prelu1(self.conv1(x)))
        return self.prelu5(self.fc(self.flatten(self.permute(self.prelu2(self.conv2(x))))))

    def call(self, x, training=False):
        x = self.features(x)
        return [self.box(x), self.marks(x), self.face(x)]


def onet(seed: int = 0) -> ONet:
    keras.utils.set_random_seed(seed)
    model = ONet()
    model(np.zeros((1, SIDE, SIDE, 3), "float32"))
    for layer in model.layers:  # PReLU starts at 0, a plain ReLU: give its slopes values so the test sees them
        if isinstance(layer, L.PReLU):
            layer.set_weights([np.random.default_rng(seed).uniform(0.1, 0.4, layer.alpha.shape).astype("float32")])
    return model


def functional_twin(model: ONet) -> keras.Model:
    """The same network written with keras.Input, new layers given the subclassed model's weights."""
    inputs = keras.Input((SIDE, SIDE, 3))
    x = L.MaxPooling2D(3, 2, padding="same")(L.PReLU(shared_axes=[1, 2])(L.Conv2D(8, 3)(inputs)))
    x = L.PReLU(shared_axes=[1, 2])(L.Conv2D(16, 3)(x))
    x = L.PReLU()(L.Dense(32)(L.Flatten()(L.Permute((3, 2, 1))(x))))
    twin = keras.Model(inputs, [L.Dense(4)(x), L.Dense(10)(x), L.Dense(2, activation="softmax", name="face")(x)])
    mine = [layer for layer in twin.layers if layer.weights]
    theirs = [layer for layer in model.layers if layer.weights]
    for new, old in zip(mine, theirs, strict=True):
        new.set_weights(old.get_weights())
    return twin


def pictures(count: int = 2) -> np.ndarray:
    return np.random.default_rng(7).random((count, SIDE, SIDE, 3)).astype("float32")


@pytest.mark.slow
def test_every_method_on_a_subclassed_model_is_its_functional_twins():
    model = onet()
    x = pictures()
    mine = cn.explain(model, x, classes=[1, 1], output="fc6-3", progress=False)
    twin = cn.explain(functional_twin(model), x, classes=[1, 1], output="face", progress=False)
    assert sorted(mine.maps) == sorted(["gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime"])
    for method, maps in mine.maps.items():
        np.testing.assert_allclose(maps, twin.maps[method], atol=1e-5, err_msg=method)
    np.testing.assert_allclose(mine.outputs, np.asarray(model(x)[2]), atol=1e-6)  # the model's own softmax


def test_the_gradient_is_a_tape_on_the_models_own_layers_and_leaves_it_as_it_was():
    model = onet(1)
    x = pictures()
    before = [np.asarray(weight).copy() for weight in model.weights]
    found = cn.explain(model, x, classes=[1, 0], output="fc6-3", methods=["gradient"], progress=False)
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = tf.matmul(model.features(images), model.face.kernel) + model.face.bias  # the score: before the softmax
        score = logits[0, 1] + logits[1, 0]  # each picture's own class; pictures do not interact
    np.testing.assert_allclose(found.maps["gradient"], np.abs(tape.gradient(score, images).numpy()).max(axis=-1), atol=1e-6)
    np.testing.assert_allclose(found.outputs, np.asarray(model(x)[2]), atol=1e-6)
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.weights))


def test_a_subclassed_model_never_called_is_traced_on_the_pictures_explained_and_refused_elsewhere_in_one_line():
    keras.utils.set_random_seed(2)
    fresh = ONet()
    with pytest.raises(cn.InputError) as refused:
        cn.filter_pictures(fresh, "conv1", progress=False)
    assert str(refused.value) == ("onet is a subclassed ONet that has never been called, so the shape of its pictures is not "
                                  "known: call it once on a batch of them (model(pictures)), or give pictures to cn.explain, "
                                  "which traces it on theirs")
    found = cn.explain(fresh, pictures(1), output=2, methods=["gradient"], progress=False)
    assert found.maps["gradient"].shape == (1, SIDE, SIDE)


def test_a_call_that_cannot_be_traced_is_one_line_naming_the_shape_tried():
    class Eager(keras.Model):
        def __init__(self):
            super().__init__(name="eager")
            self.dense = L.Dense(3, activation="softmax")

        def call(self, x):
            return self.dense(tf.reshape(x, (-1, int(np.asarray(x).size))))  # numpy on a symbolic tensor

    model = Eager()
    model(np.zeros((1, 4, 4, 3), "float32"))
    with pytest.raises(cn.InputError) as refused:
        cn.explain(model, np.zeros((1, 4, 4, 3), "float32"), progress=False)
    said = str(refused.value)
    assert said.startswith("eager is a subclassed Eager whose call() cannot run on a symbolic picture of shape (4, 4, 3) (")
    assert said.endswith("): build it functionally (keras.Model(inputs, outputs)), or call only Keras layers and keras.ops in call()")
    assert "\n" not in said


WEIGHTS = np.random.default_rng(3).normal(size=(3, 4)).astype("float32")
BIAS = np.array([0.1, -0.2, 0.0, 0.3], "float32")


def logits_of(images):
    """A plain TensorFlow function of the pictures: the channels' means, weighted (no Keras in it)."""
    return tf.matmul(tf.reduce_mean(tf.square(images), axis=[1, 2]), WEIGHTS) + BIAS


def probabilities_of(images):
    return tf.nn.softmax(logits_of(images))


def tape_map(function, x, classes):
    images = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(images)
        score = tf.reduce_sum(tf.gather(function(images), classes, axis=1, batch_dims=1))
    return np.abs(tape.gradient(score, images).numpy()).max(axis=-1)


def test_a_function_of_logits_is_explained_as_its_keras_twin_and_its_gradient_is_a_tape_on_it():
    x, classes = pictures(), np.array([2, 0])
    found = cn.explain(logits_of, x, classes=classes, methods=["gradient", "integrated_gradients", "occlusion"], progress=False)
    np.testing.assert_allclose(found.maps["gradient"], tape_map(logits_of, x, classes), atol=1e-6)
    inputs = keras.Input((SIDE, SIDE, 3))
    dense = L.Dense(4, name="scores")
    twin = keras.Model(inputs, dense(L.GlobalAveragePooling2D()(L.Lambda(keras.ops.square)(inputs))))
    dense.set_weights([WEIGHTS, BIAS])
    same = cn.explain(twin, x, classes=classes, methods=["gradient", "integrated_gradients", "occlusion"], progress=False)
    for method in found.maps:
        np.testing.assert_allclose(found.maps[method], same.maps[method], atol=1e-5, err_msg=method)
    np.testing.assert_allclose(found.outputs, tf.nn.softmax(logits_of(x)).numpy(), atol=1e-6)  # a logits head's softmax


def test_a_function_of_probabilities_explains_the_log_probability_and_shows_its_own():
    x, classes = pictures(), np.array([1, 3])
    found = cn.explain(probabilities_of, x, classes=classes, methods=["gradient", "occlusion"], progress=False)
    np.testing.assert_allclose(found.outputs, probabilities_of(x).numpy(), atol=1e-6)
    np.testing.assert_allclose(found.maps["gradient"], tape_map(lambda p: tf.math.log(probabilities_of(p)), x, classes), atol=1e-5)
    assert found.head.kind == "softmax"


def test_a_function_is_refused_in_one_line_where_it_cannot_be_used():
    with pytest.raises(cn.InputError) as refused:
        cn.filter_pictures(logits_of, "conv1", progress=False)
    assert str(refused.value) == ("logits_of is a function, whose pictures' shape is not known: give it pictures to explain "
                                  "(cn.explain(function, pictures)), which it is called on")
    with pytest.raises(cn.InputError) as refused:
        cn.explain(lambda images: tf.reduce_sum(images), pictures(), progress=False)
    assert str(refused.value) == ("<lambda> gives () for a batch of 2 pictures, not (batch, classes) scores: return one vector "
                                  "of class scores per picture")
