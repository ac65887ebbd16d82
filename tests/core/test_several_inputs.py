"""Models with several inputs (core.held): the picture looked at, the others held; explained per input."""

from __future__ import annotations

import numpy as np
import pytest

import cnn_note as cn
from cnn_note.backend import keras, tf
from cnn_note.core.views import View
from cnn_note.errors import InputError

layers, ops = keras.layers, keras.ops


def picture_and_vector(seed=0):
    """A picture (12x12 grey) and a vector of 4, mixed after the conv; logits through a softmax."""
    keras.utils.set_random_seed(seed)
    picture, vector = keras.Input((12, 12, 1), name="picture"), keras.Input((4,), name="vector")
    x = layers.Flatten()(layers.MaxPooling2D()(layers.Conv2D(4, 3, activation="tanh", name="conv")(picture)))
    x = layers.Concatenate()([x, layers.Dense(8, activation="tanh", name="meta")(vector)])
    return keras.Model([vector, picture], layers.Dense(3, activation="softmax", name="scores")(x))  # the picture second


def held_by_hand(model, vector):
    """The same model as one of its picture alone, the vector a constant inside it: the answer the held view must give."""
    picture = keras.Input((12, 12, 1), name="picture")
    constant = layers.Lambda(lambda p: ops.broadcast_to(ops.convert_to_tensor(np.asarray(vector, "float32")), (ops.shape(p)[0], 4)))
    return keras.Model(picture, model([constant(picture), picture]))


def data(count=3):
    rng = np.random.default_rng(0)
    return rng.random((count, 12, 12, 1)).astype("float32"), rng.normal(size=(count, 4)).astype("float32")


def logits_and_gradients(model, pictures, vectors, classes):
    """The class logits' gradient with respect to each input, by a tape on the user's model (the logit: the last Dense
    before its softmax)."""
    dense = model.get_layer("scores")
    below = keras.Model(model.inputs, dense.input)
    with tf.GradientTape() as tape:
        p, v = tf.constant(pictures), tf.constant(vectors)
        tape.watch([p, v])
        logits = tf.matmul(below([v, p]), dense.kernel) + dense.bias
        chosen = tf.gather(logits, classes, batch_dims=1)
        total = tf.reduce_sum(chosen)
    grads = tape.gradient(total, [p, v])
    return chosen.numpy(), grads[0].numpy(), grads[1].numpy()


def test_the_tools_look_at_the_picture_with_the_vector_held_as_by_hand():
    model = picture_and_vector()
    vector = np.array([0.5, -1.0, 2.0, 0.0], "float32")
    lines = []
    view = cn.view_of(model, held={"vector": vector}, log=lines.append)
    assert lines == ["other inputs held: vector (4,) at [ 0.5, -1. ,  2. ,  0. ] (as given)"]
    by_hand = held_by_hand(model, vector)
    pictures, _ = data()
    np.testing.assert_allclose(view.probabilities(pictures), np.asarray(by_hand(pictures)), rtol=1e-5, atol=1e-7)
    ours = cn.filter_pictures(view, "conv", [0, 1], steps=5, examples=0, progress=False)
    theirs = cn.filter_pictures(by_hand, "conv", [0, 1], steps=5, examples=0, progress=False)
    np.testing.assert_allclose(ours.images, theirs.images, atol=1e-5)
    assert cn.view_of(model).held is not None and not np.asarray(cn.view_of(model).held.values["vector"]).any()  # zeros by default


def test_each_inputs_gradient_is_a_tape_and_integrated_gradients_is_complete_over_both():
    model = picture_and_vector()
    pictures, vectors = data()
    explained = cn.explain(model, [vectors, pictures], methods=["gradient", "integrated_gradients"], steps=400, progress=False)
    scores, by_picture, by_vector = logits_and_gradients(model, pictures, vectors, explained.classes)
    np.testing.assert_allclose(explained.maps["gradient"], np.abs(by_picture).max(axis=-1), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(explained.others["gradient"]["vector"], np.abs(by_vector), rtol=1e-4, atol=1e-7)
    baseline, _, _ = logits_and_gradients(model, np.zeros_like(pictures), np.zeros_like(vectors), explained.classes)
    ig = explained.others["integrated_gradients"]["vector"]
    total = explained.maps["integrated_gradients"].sum(axis=(1, 2)) + ig.sum(axis=1)
    np.testing.assert_allclose(total, scores - baseline, rtol=1e-3, atol=1e-4)
    assert np.abs(ig).sum() > 0.01 * np.abs(total).sum()  # the vector takes its share: not the picture's alone


def test_a_picture_only_method_sees_each_pictures_own_vector():
    model = picture_and_vector()
    pictures, vectors = data(2)
    found = cn.explain(model, {"picture": pictures, "vector": vectors}, classes=1, methods=["occlusion"], progress=False)
    for index in range(2):
        alone = cn.explain(held_by_hand(model, vectors[index]), pictures[index:index + 1], classes=1, methods=["occlusion"],
                           progress=False)
        np.testing.assert_allclose(found.maps["occlusion"][index], alone.maps["occlusion"][0], rtol=1e-4, atol=1e-6)
    assert "occlusion" not in found.others


def two_pictures():
    """A grey 8x8 picture and a colour 10x10 one, each through a conv of its own, then mixed."""
    keras.utils.set_random_seed(0)
    left, right = keras.Input((8, 8, 1), name="left"), keras.Input((10, 10, 3), name="right")
    x = layers.Concatenate()([layers.GlobalAveragePooling2D()(layers.Conv2D(2, 3, name="conv_left")(left)),
                              layers.GlobalAveragePooling2D()(layers.Conv2D(2, 3, name="conv_right")(right))])
    return keras.Model([left, right], layers.Dense(2, activation="softmax")(x))


def test_which_picture_a_two_picture_model_is_seen_through_and_how_to_pick():
    model = two_pictures()
    assert View.of(model).channels == 1 and View.of(model).held.picture == "left"  # the first picture input
    view = View.of(model, picture="right")
    assert view.channels == 3 and view.held.shapes == {"left": (8, 8, 1)}
    with pytest.raises(InputError, match=r"^picture='middle' is not a picture input of the model: its picture inputs are left, right$"):
        View.of(model, picture="middle")


def test_bad_values_to_hold_are_one_line_each():
    model = picture_and_vector()
    with pytest.raises(InputError, match=r"^vector in held has shape \(3,\): the model takes \(4,\), or rows of it$"):
        View.of(model, held_at={"vector": [1, 2, 3]})
    with pytest.raises(InputError, match=r"^held names 'colour', not another input of the model: its other inputs are vector$"):
        View.of(model, held_at={"colour": [1, 2, 3, 4]})
    with pytest.raises(InputError, match=r"^held gives values to hold but the model has one input"):
        View.of(keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(1, 3)]), held_at={"x": [1]})
    vector_only = keras.Model([a := keras.Input((4,), name="a"), b := keras.Input((2,), name="b")],
                              layers.Dense(2)(layers.Concatenate()([a, b])))
    with pytest.raises(InputError, match=r"has 2 inputs \(a \(None, 4\), b \(None, 2\)\) and none is a picture"):
        View.of(vector_only, maps=False)


def test_a_list_of_pictures_for_a_model_of_one_input_is_pictures():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(3, activation="softmax")])
    picture = np.random.default_rng(0).random((12, 12, 1)).astype("float32")
    assert cn.explain(model, [picture], methods=["gradient"], progress=False).maps["gradient"].shape == (1, 12, 12)


def test_the_layers_of_a_held_picture_are_not_offered():
    view = View.of(two_pictures(), picture="right")
    assert view.conv_layer_names() == ["conv_right"]
    with pytest.raises(InputError, match=r"^layer conv_left does not see right, the picture the tools look at"):
        view.check_layers(["conv_left"])


def test_an_integer_input_is_held_at_each_pictures_own_and_not_attributed_to():
    keras.utils.set_random_seed(0)
    picture, category = keras.Input((12, 12, 1), name="picture"), keras.Input((1,), dtype="int32", name="category")
    x = layers.Flatten()(layers.Conv2D(2, 3, activation="tanh")(picture))
    x = layers.Concatenate()([x, layers.Flatten()(layers.Embedding(4, 3)(category))])
    model = keras.Model([picture, category], layers.Dense(3, activation="softmax")(x))
    pictures, _ = data(2)
    categories = np.array([[1], [3]], "int32")
    found = cn.explain(model, [pictures, categories], methods=["gradient", "integrated_gradients", "occlusion"], steps=200,
                       progress=False)
    assert found.others == {"gradient": {}, "integrated_gradients": {}} and found.completeness.max() < 1e-2
    three = layers.Lambda(lambda p: ops.ones((ops.shape(p)[0], 1), "int32") * 3)(picture)  # the second picture's category
    alone = cn.explain(keras.Model(picture, model([picture, three])), pictures[1:], classes=found.classes[1:], methods=["gradient"],
                       progress=False)
    np.testing.assert_allclose(found.maps["gradient"][1], alone.maps["gradient"][0], rtol=1e-5, atol=1e-8)


def test_the_live_page_says_in_one_line_that_it_draws_a_model_of_one_picture():
    from cnn_note.live import export

    assert export.refusal(View.of(picture_and_vector())) == ("no live page: the model has several inputs (vector, picture), and the "
                                                             "page draws on a model of one picture; the atlas is made as always")
