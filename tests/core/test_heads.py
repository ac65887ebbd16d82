"""Every classifier head the tutorials teach: the score explained, its probability and its gradient, worked out by hand."""

import os

import numpy as np
import pytest
from conftest import assert_one_line_error, cnn_methods
from PIL import Image

import cnn_note as cn
from cnn_note import attribution
from cnn_note.backend import keras
from cnn_note.cli import explain, visualize_filters
from cnn_note.core.views import View
from cnn_note.errors import InputError

HEIGHT, WIDTH = 4, 3

# (units, activation of the last Dense, --head, the head it is)
CASES = [
    (3, "softmax", "auto", "softmax"),
    (3, None, "auto", "logits"),
    (1, "sigmoid", "auto", "binary"),
    (1, None, "auto", "binary"),
    (1, None, "sigmoid", "binary"),
    (3, "sigmoid", "auto", "sigmoid"),
    (3, None, "sigmoid", "sigmoid"),  # multi-label trained from logits
    (1, None, "regression", "regression"),
    (2, "relu", "regression", "regression"),
]


def head_model(units, activation):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((HEIGHT, WIDTH, 1))
    return keras.Model(inputs, keras.layers.Dense(units, activation=activation, name="out")(keras.layers.Flatten()(inputs)))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def by_hand(model, x, kind):
    """The class scores, the probabilities, and each class's gradient (its weights), from the Dense layer's own numbers."""
    layer = model.get_layer("out")
    w, b = layer.kernel.numpy().astype("float64"), layer.bias.numpy().astype("float64")
    z = x.reshape(len(x), -1).astype("float64") @ w + b
    if kind == "binary":
        scores, w = np.concatenate([-z, z], axis=1), np.concatenate([-w, w], axis=1)
        return scores, sigmoid(scores), w
    if kind in ("softmax", "logits"):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return z, e / e.sum(axis=1, keepdims=True), w
    if kind == "sigmoid":
        return z, sigmoid(z), w
    value = z if model.get_layer("out").get_config()["activation"] == "linear" else np.maximum(z, 0)
    return value, value, w


def pixels(count=4, seed=0):
    return np.random.default_rng(seed).random((count, HEIGHT, WIDTH, 1)).astype("float32")


@pytest.mark.parametrize("units, activation, asked, kind", CASES)
def test_each_head_explains_the_score_computed_by_hand(units, activation, asked, kind):
    model = head_model(units, activation)
    view = View.of(model, maps=False, head=asked)
    assert view.head.kind == kind and view.classes() == (2 if kind == "binary" else units)
    x = pixels()
    scores, probabilities, weights = by_hand(model, x, kind)
    np.testing.assert_allclose(np.asarray(view.class_scores()(x)), scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(view.probabilities(x), probabilities, rtol=1e-5, atol=1e-6)
    classes = np.arange(len(x)) % view.classes()
    explained, grads = attribution.Gradients(view, HEIGHT, WIDTH)(x, classes)
    np.testing.assert_allclose(explained, scores[np.arange(len(x)), classes], rtol=1e-5, atol=1e-5)
    for grad, cls, value in zip(grads, classes, scores[np.arange(len(x)), classes]):
        expected = weights[:, cls] * (value > 0 if activation == "relu" else 1)  # a ReLU's value has no gradient below 0
        np.testing.assert_allclose(grad.reshape(-1), expected, rtol=1e-5, atol=1e-6)
    assert (view.head.describe("m") is None) == (kind == "softmax")


def test_a_single_logit_says_it_is_taken_as_binary_and_how_to_explain_the_value():
    line = View.of(head_model(1, None), maps=False).head.describe("cats_dogs.keras")
    assert "binary" in line and "-z" in line and "--head regression" in line


@pytest.mark.parametrize("units, activation, asked, words", [
    (1, "softmax", "auto", ["cannot tell", "--head"]),
    (1, None, "softmax", ["--head softmax does not fit", "1 unit", "activation linear"]),
    (3, "softmax", "logits", ["--head logits does not fit", "activation softmax"]),
    (3, "softmax", "sigmoid", ["--head sigmoid does not fit"]),
    (3, "tanh", "auto", ["activation tanh", "--head logits, sigmoid or regression"]),
])
def test_a_head_that_does_not_fit_the_last_layer_is_refused_in_one_line(units, activation, asked, words):
    view = View.of(head_model(units, activation), maps=False, head=asked)
    assert view.classes() is None
    with pytest.raises(InputError) as error:
        _ = view.head
    for word in words:  # the scripts' voice
        assert word in error.value.on_command_line()
    assert "head=" in str(error.value) and "--" not in str(error.value)  # the Python API's


def explain_npz(tmp_path, model, *args):
    """explain.py on one random picture through a saved model; the arrays it saved."""
    model.save(tmp_path / "model.keras")
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8)).save(tmp_path / "p.png")
    saved = explain.main(["--model", str(tmp_path / "model.keras"), "--image", str(tmp_path / "p.png"), "--methods",
                          "gradient,occlusion", "--patch", "2", "--out-dir", str(tmp_path / "out"), *args])
    return saved["attributions.npz"]


@pytest.mark.parametrize("units, activation, asked, kind", [case for case in CASES if case[1] != "relu"])
def test_explain_py_saves_and_prints_each_heads_probability(units, activation, asked, kind, tmp_path, capsys):
    model = head_model(units, activation)
    arrays = explain_npz(tmp_path, model, "--head", asked)
    printed = capsys.readouterr().out
    x = arrays["images"]
    scores, probabilities, weights = by_hand(model, x, kind)
    cls = int(arrays["classes"][0])
    assert cls == int(probabilities[0].argmax())
    np.testing.assert_allclose(arrays["probabilities"][0], probabilities[0, cls], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arrays["gradient"][0], np.abs(weights[:, cls]).reshape(HEIGHT, WIDTH), rtol=1e-5)
    assert ("head: " in printed) == (kind != "softmax")
    if kind == "regression":
        assert f"value {probabilities[0, cls]:.4g}" in printed
    else:
        assert f"at {probabilities[0, cls]:.1%}" in printed


def two_output_model():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, name="conv")(inputs))
    return keras.Model(inputs, [keras.layers.Dense(10, activation="softmax", name="digit")(x), keras.layers.Dense(4, name="box")(x)])


@pytest.mark.slow
def test_a_two_output_model_is_explained_and_drawn_through_the_output_asked(tmp_path, capsys):
    model = two_output_model()
    model.save(tmp_path / "two.keras")
    Image.new("L", (8, 8), 90).save(tmp_path / "p.png")
    base = ["--model", str(tmp_path / "two.keras"), "--image", str(tmp_path / "p.png"), "--methods", "gradient"]
    digit = explain.main([*base, "--output", "digit", "--out-dir", str(tmp_path / "a")])["attributions.npz"]
    box = explain.main([*base, "--output", "1", "--out-dir", str(tmp_path / "b")])["attributions.npz"]
    x = digit["images"]
    np.testing.assert_allclose(digit["probabilities"][0], model(x)[0].numpy()[0].max(), rtol=1e-5)
    logits = model(x)[1].numpy()[0]
    assert int(box["classes"][0]) == logits.argmax()
    assert "head: logits" in capsys.readouterr().out
    drawn = visualize_filters.main(["--model", str(tmp_path / "two.keras"), "--output", "box", "--image", str(tmp_path / "p.png"),
                                    "--steps", "5", "--examples", "0", "--out-dir", str(tmp_path / "filters")])
    assert drawn["classes_images"].shape == (4, 8, 8) and (tmp_path / "filters" / "classes.png").exists()
    for args, words in ((["--out-dir", str(tmp_path / "c")], ["2 outputs", "0 digit (None, 10)", "1 box (None, 4)", "--output"]),
                        (["--output", "nope", "--out-dir", str(tmp_path / "d")], ["unknown output 'nope'", "digit", "box"])):
        with pytest.raises(SystemExit) as stop:
            explain.main([*base, *args])
        assert stop.value.code == 2
        assert_one_line_error(capsys.readouterr().err, *words)
        assert not os.listdir(args[-1])
    # Filter pictures need no output: without --output they are drawn, and the class pictures skipped with the reason.
    visualize_filters.main(["--model", str(tmp_path / "two.keras"), "--image", str(tmp_path / "p.png"), "--steps", "5",
                            "--examples", "0", "--out-dir", str(tmp_path / "e")])
    assert "class pictures: skipped (two.keras has 2 outputs" in capsys.readouterr().out


def tf_tutorial_cifar_cnn():
    """TensorFlow's "Convolutional Neural Network" tutorial: CIFAR-10, Dense(10) logits, trained from_logits=True."""
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(32, (3, 3), activation="relu", name="entry"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),
    ])


def keras_io_cats_and_dogs(activation=None, side=48, sizes=(16, 32)):
    """keras-io's "Image classification from scratch" make_model, narrower and smaller: one logit (or a sigmoid) for two classes."""
    inputs = keras.Input((side, side, 3))
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", name="entry")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    previous = x
    for size in sizes:
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.SeparableConv2D(size, 3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.SeparableConv2D(size, 3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = keras.layers.Conv2D(size, 1, strides=2, padding="same")(previous)
        x = keras.layers.add([x, residual])
        previous = x
    x = keras.layers.SeparableConv2D(32, 3, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.25)(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation=activation)(x))


@pytest.mark.parametrize("make, extra, kind", [
    (tf_tutorial_cifar_cnn, [], "logits"),
    (keras_io_cats_and_dogs, ["--input-range", "0,255", "--class-names", "cat,dog"], "binary"),
    (lambda: keras_io_cats_and_dogs("sigmoid"), ["--input-range", "0,255", "--class-names", "cat,dog"], "binary"),
])
@pytest.mark.slow
def test_the_tutorials_models_are_explained_and_their_classes_drawn(make, extra, kind, tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = make()
    model.save(tmp_path / "tutorial.keras")
    side = model.input_shape[1]
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    common = ["--model", str(tmp_path / "tutorial.keras"), *extra]
    saved = explain.main([*common, "--image", str(tmp_path / "photo.png"), "--out-dir", str(tmp_path / "explain"), "--lime-samples", "50",
                          "--samples", "4", "--steps", "8"])["attributions.npz"]
    assert set(cnn_methods()) <= set(saved) and all(np.isfinite(saved[method]).all() for method in cnn_methods())
    drawn = visualize_filters.main([*common, "--image", str(tmp_path / "photo.png"), "--steps", "4", "--layer", "entry", "--filters", "0-1",
                                    "--size", "48", "--out-dir", str(tmp_path / "filters")])
    printed = capsys.readouterr().out
    assert f"head: {kind}" in printed
    assert list(drawn["classes"]) == list(range(2 if kind == "binary" else 10))
    if kind == "binary":
        assert "predicted cat" in printed or "predicted dog" in printed
        # Class 0's picture ascends -z and class 1's z: the model's sigmoid moves apart from the shared start.
        p = View.of(model, head="auto", to_model=lambda x: 255 * x).probabilities(drawn["classes_images"])[:, 1]
        assert p[1] > p[0]


@pytest.mark.parametrize("units, activation, kind", [(1, "sigmoid", "binary"), (3, "sigmoid", "sigmoid"), (3, "softmax", "softmax")])
def test_a_separate_activation_layer_after_the_dense_is_read_as_its_head(units, activation, kind):
    keras.utils.set_random_seed(2)
    inputs = keras.Input((HEIGHT, WIDTH, 1))
    z = keras.layers.Dense(units, name="out")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, keras.layers.Activation(activation, name="act")(z))
    view = View.of(model, maps=False)
    assert view.head.kind == kind and view.head.layer == "act"
    x = pixels()
    scores, probabilities, weights = by_hand(model, x, kind)  # from the Dense's own weights: the logits before the Activation
    np.testing.assert_allclose(np.asarray(view.class_scores()(x)), scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(view.probabilities(x), probabilities, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(view.probabilities(x)[:, -units:], model(x).numpy(), rtol=1e-5, atol=1e-6)
    classes = np.arange(len(x)) % view.classes()
    _, grads = attribution.Gradients(view, HEIGHT, WIDTH)(x, classes)
    for grad, cls in zip(grads, classes):
        np.testing.assert_allclose(grad.reshape(-1), weights[:, cls], rtol=1e-5, atol=1e-6)


def occlusion_by_hand(probability, image, cls, patch, stride):
    """Zeiler and Fergus' occlusion with numpy loops: a black patch at every start (the last flush with each edge), the drop
    in the class's probability spread over the pixels the patch covers, averaged over the patches covering each pixel."""
    height, width = image.shape[:2]

    def starts(length):
        found = list(range(0, length - patch + 1, stride))
        return found if found[-1] == length - patch else found + [length - patch]

    total, covered = np.zeros((height, width)), np.zeros((height, width))
    before = probability(image[None])[0, cls]
    for top in starts(height):
        for left in starts(width):
            hidden = image.copy()
            hidden[top:top + patch, left:left + patch] = 0.0
            total[top:top + patch, left:left + patch] += before - probability(hidden[None])[0, cls]
            covered[top:top + patch, left:left + patch] += 1
    return total / covered


@pytest.mark.parametrize("units, activation, head, kind", [(1, "sigmoid", "auto", "binary"), (1, None, "auto", "binary"),
                                                           (3, "sigmoid", "auto", "sigmoid"), (2, None, "regression", "regression")])
@pytest.mark.parametrize("patch, stride", [(None, None), (3, 2)])
def test_occlusion_of_each_head_is_the_probability_drop_computed_by_hand(units, activation, head, kind, patch, stride):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((7, 6, 1))
    model = keras.Model(inputs, keras.layers.Dense(units, activation=activation, name="out")(keras.layers.Flatten()(inputs)))
    x = np.random.default_rng(2).random((3, 7, 6, 1)).astype("float32")
    classes = np.array([0, 1, 1]) if kind != "sigmoid" else np.array([0, 2, 1])
    found = cn.explain(model, x, classes=classes, methods="occlusion", head=head, patch=patch, stride=stride, progress=False)
    # The default patch is a seventh of the shorter side, at least 2, sliding by half of it: 2 and 1 here.
    patch, stride = patch or 2, stride or 1
    for image, cls, occluded in zip(x, classes, found.maps["occlusion"]):
        expected = occlusion_by_hand(lambda batch: by_hand(model, batch, kind)[1], image, cls, patch, stride)
        np.testing.assert_allclose(occluded, expected, rtol=1e-4, atol=1e-6)


def region_model(units, activation):
    """6x6 grey pictures, class c's logit +1 on its own block of rows and -1 elsewhere (one unit: +1 left, -1 right); a 1x1
    identity convolution first, as the class pictures need a layer with height and width."""
    inputs = keras.Input((6, 6, 1))
    same = keras.layers.Conv2D(1, 1, use_bias=False, name="same")
    dense = keras.layers.Dense(units, activation=activation, name="out")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(same(inputs))))
    same.kernel.assign(np.ones((1, 1, 1, 1), "float32"))
    pattern = -np.ones((6, 6, max(units, 2)), "float32")
    for c in range(pattern.shape[-1]):
        pattern[6 * c // pattern.shape[-1]:6 * (c + 1) // pattern.shape[-1], :, c] = 1
    kernel = pattern.reshape(36, -1) if units > 1 else np.where(np.arange(36) % 6 < 3, 1.0, -1.0)[:, None].astype("float32")
    dense.set_weights([kernel, np.zeros(units, "float32")])
    return model


@pytest.mark.parametrize("units, activation, head, kind", [(3, "softmax", "auto", "softmax"), (3, None, "auto", "logits"),
                                                           (1, "sigmoid", "auto", "binary"), (3, "sigmoid", "auto", "sigmoid")])
@pytest.mark.parametrize("prior", [True, False])
def test_class_pictures_raise_their_own_class_above_the_others(units, activation, head, kind, prior):
    model = region_model(units, activation)
    found = cn.class_pictures(model, head=head, prior=prior, steps=30, step_size=0.05, progress=False)
    classes = 2 if kind == "binary" else units
    assert found.classes == list(range(classes))
    scores, probabilities, _ = by_hand(model, found.images, kind)  # (picture, class)
    for c in range(classes):
        others = [k for k in range(classes) if k != c]
        assert (scores[c, c] > scores[c, others]).all(), scores  # its own class scores highest on its picture
        assert (scores[c, c] > scores[others, c]).all(), scores  # and higher there than on any other class's picture
    np.testing.assert_allclose(found.probabilities, probabilities[np.arange(classes), np.arange(classes)], rtol=1e-5)
