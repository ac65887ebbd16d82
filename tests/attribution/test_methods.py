"""explain (the methods run together) and explain.py: faithfulness on real MNIST, end to end, clean failures. Each
method's known answers are in its own test file."""

import os

import numpy as np
import pytest
from by_hand import bilinear_by_hand, images, lime_by_hand, linear_model, occlusion_by_hand
from conftest import assert_one_line_error, cnn_methods, rgb_residual_model, run_script
from PIL import Image

from cnn_note import attribution
from cnn_note.attribution import ExplainSettings, faithfulness
from cnn_note.backend import keras, tf
from cnn_note.cli import explain
from cnn_note.core import loading
from cnn_note.core.views import View
from cnn_note.note import models


def test_the_dnn_is_seen_as_a_28x28_grey_picture_and_unchanged():
    dnn = models.build_dnn()
    view = View.of(dnn, maps=False)
    x = images(3, 28, 28)
    np.testing.assert_allclose(attribution.Probabilities(view, 28, 28)(x), dnn(x.reshape(3, 784)).numpy(), rtol=1e-5, atol=1e-6)
    assert dnn.input_shape == (None, 784) and view.channels == 1 and view.classes() == 10


@pytest.mark.slow  # trains a CNN on real MNIST (trained_cnn_file)
def test_maps_of_a_trained_cnn_change_when_its_weights_are_reinitialised(trained_cnn_file, mnist_path):
    from cnn_note.note import data

    view = View.of(loading.load_trained(trained_cnn_file, "x"), maps=False)
    _, test = data.load("mnist", mnist_path)
    x, y = data.to_inputs(test.x[:20], (28, 28, 1)), test.y[:20].astype(int)
    gradient = attribution.METHODS["gradient"]
    trained = gradient.attribute(view, x, y, ExplainSettings())
    fresh = faithfulness.reinitialised(view)
    again = gradient.attribute(view, x, y, ExplainSettings())
    np.testing.assert_array_equal(trained, again)  # the trained model was not touched
    agreement = faithfulness.rank_agreement(trained, gradient.attribute(fresh, x, y, ExplainSettings()))
    assert agreement.mean() < 0.9
    assert faithfulness.rank_agreement(trained, trained).min() == pytest.approx(1.0)


@pytest.mark.slow  # trains a CNN on real MNIST (trained_cnn_file)
def test_every_methods_deletion_beats_a_random_order_on_real_digits(trained_cnn_file, mnist_path):
    from cnn_note.note import data

    view = View.of(loading.load_trained(trained_cnn_file, "x"), maps=False)
    _, test = data.load("mnist", mnist_path)
    chosen = [int(np.where(test.y == digit)[0][k]) for k in range(2) for digit in range(10)]
    x = data.to_inputs(test.x[chosen], (28, 28, 1))
    classes = attribution.Probabilities(view, 28, 28)(x).argmax(axis=1)
    maps, *_ = attribution.explain(view, x, classes, cnn_methods(), ExplainSettings(lime_samples=300), log=lambda line: None)
    random = faithfulness.area(faithfulness.curves(view, x, classes, faithfulness.random_order(len(x), 784), insertion=False)).mean()
    for method, values in maps.items():
        deletion = faithfulness.area(faithfulness.curves(view, x, classes, faithfulness.most_first(values), insertion=False)).mean()
        assert deletion < random, (method, deletion, random)


def test_deletion_and_insertion_curves_start_and_end_where_they_should():
    model = linear_model()
    view = View.of(model, maps=False)
    x, classes = images(2), np.array([0, 2])
    order = faithfulness.random_order(2, 30)
    deletion = faithfulness.curves(view, x, classes, order, insertion=False, per_step=7)
    insertion = faithfulness.curves(view, x, classes, order, insertion=True, per_step=7)
    full, black = model(x).numpy()[[0, 1], classes], model(np.zeros_like(x)).numpy()[[0, 1], classes]
    assert deletion.shape == (2, 6)  # 30 pixels, 7 a step: 0, 7, 14, 21, 28, 30
    np.testing.assert_allclose(deletion[:, 0], full, rtol=1e-5)
    np.testing.assert_allclose(deletion[:, -1], black, rtol=1e-5)
    np.testing.assert_allclose(insertion[:, 0], black, rtol=1e-5)
    np.testing.assert_allclose(insertion[:, -1], full, rtol=1e-5)
    assert faithfulness.area(np.ones((1, 5))) == pytest.approx(1.0)


def test_ties_are_broken_at_random_not_in_reading_order():
    order = faithfulness.most_first(np.array([[[0.0, 0.0], [1.0, 0.0]]] * 50))
    assert (order[:, 0] == 2).all()  # the one positive pixel first
    assert len({tuple(row[1:]) for row in order}) > 1


def explain_run(*args, out):
    return explain.main([*args, "--out-dir", str(out), "--samples", "8", "--steps", "16", "--lime-samples", "100"])


def note_cnn_by_hand(path: str):
    """The note's CNN from its file, as plain Keras pieces: pixels to conv2's maps, those maps to the class logits (the
    softmax's input), and pixels to the probabilities."""
    model = keras.models.load_model(path)
    inputs = keras.Input((28, 28, 1))
    to_conv2 = keras.Model(inputs, model.get_layer("conv2")(model.get_layer("pool1")(model.get_layer("conv1")(inputs))))
    output = model.get_layer("output")

    def logits_of_conv2(maps):
        hidden = model.get_layer("dense")(model.get_layer("flatten")(model.get_layer("pool2")(maps)))
        return tf.matmul(hidden, output.kernel) + output.bias

    return model, to_conv2, logits_of_conv2


def logit_gradients(to_conv2, logits_of_conv2, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """d logit[class] / d pixels for each picture, by tf.GradientTape."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = logits_of_conv2(to_conv2(x))
        picked = tf.reduce_sum(logits * tf.one_hot(classes, 10))
    return tape.gradient(picked, x).numpy()


def explain_by_hand(path: str, x: np.ndarray, samples: int, steps: int) -> dict:
    """Every method but LIME for one-channel pictures, written out: gradient, SmoothGrad (the noise drawn as documented:
    seed 0, a share 0.15 of each picture's range, picture by picture), Integrated Gradients (trapezoid rule from black),
    Grad-CAM on conv2, occlusion (a black patch of 4 every 2); each explains the predicted class."""
    model, to_conv2, logits_of_conv2 = note_cnn_by_hand(path)
    probabilities = np.asarray(model(x, training=False))
    classes = probabilities.argmax(axis=1)
    found = {"probabilities": probabilities[np.arange(len(x)), classes], "classes": classes}
    found["gradient"] = np.abs(logit_gradients(to_conv2, logits_of_conv2, x, classes))[..., 0]
    rng, sigma = np.random.default_rng(0), 0.15 * (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3)))
    noisy = np.stack([x[i] + sigma[i] * rng.standard_normal(x.shape[1:]) for i in range(len(x)) for _ in range(samples)])
    grads = logit_gradients(to_conv2, logits_of_conv2, noisy.astype("float32"), np.repeat(classes, samples))
    found["smoothgrad"] = np.abs(grads).reshape(len(x), samples, 28, 28).mean(axis=1)
    alphas = np.linspace(0, 1, steps + 1)
    path_grads = logit_gradients(to_conv2, logits_of_conv2, (alphas[None, :, None, None, None] * x[:, None]).reshape(-1, 28, 28, 1)
                                 .astype("float32"), np.repeat(classes, steps + 1)).reshape(len(x), steps + 1, 28, 28)
    trapezoid = (path_grads[:, 1:] + path_grads[:, :-1]).sum(axis=1) / (2 * steps)
    found["integrated_gradients"] = x[..., 0] * trapezoid
    maps = tf.constant(to_conv2(x))
    with tf.GradientTape() as tape:
        tape.watch(maps)
        picked = tf.reduce_sum(logits_of_conv2(maps) * tf.one_hot(classes, 10))
    weights = tape.gradient(picked, maps).numpy().mean(axis=(1, 2), keepdims=True)
    cam = np.maximum((weights * maps.numpy()).sum(axis=-1), 0)  # (N, 10, 10) on conv2's grid
    found["gradcam"] = bilinear_by_hand(cam, 28, 28)
    found["occlusion"] = np.stack([occlusion_by_hand(model, image, cls, patch=4, stride=2) for image, cls in zip(x, classes)])
    return found


@pytest.mark.slow  # trains a CNN on real MNIST (trained_cnn_file)
def test_explain_on_the_notes_cnn_writes_a_figure_per_digit_and_every_map(trained_cnn_file, mnist_path, tmp_path, capsys):
    arrays = explain_run("--model", trained_cnn_file, "--data", mnist_path, "--index", "0,17,26", out=tmp_path)["attributions.npz"]
    printed = capsys.readouterr().out
    assert "completeness error mean" in printed and "digit_17 (label 7): predicted" in printed
    saved = np.load(tmp_path / "attributions.npz")
    with np.load(mnist_path) as mnist:
        x = (mnist["x_test"][[0, 17, 26]] / np.float32(255))[..., None]
    np.testing.assert_array_equal(saved["images"], x)
    assert str(saved["gradcam_layer"]) == "conv2"
    for method in cnn_methods():
        np.testing.assert_array_equal(saved[method], arrays[method])  # the file holds what was returned
    # Against every map worked out by hand (explain_run's --samples 8 --steps 16 --lime-samples 100):
    by_hand = explain_by_hand(trained_cnn_file, x, samples=8, steps=16)
    np.testing.assert_array_equal(saved["classes"], by_hand["classes"])  # by default the predicted class is explained
    np.testing.assert_array_equal(saved["predicted"], by_hand["classes"])
    np.testing.assert_allclose(saved["probabilities"], by_hand["probabilities"], rtol=1e-5)
    for method in ("gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion"):
        want = by_hand[method]
        np.testing.assert_allclose(saved[method], want, rtol=1e-3, atol=1e-4 * np.abs(want).max(), err_msg=method)
    lime = lime_by_hand(keras.models.load_model(trained_cnn_file), x, by_hand["classes"], samples=100)
    np.testing.assert_allclose(saved["lime"], lime, rtol=1e-4, atol=1e-4 * np.abs(lime).max(), err_msg="lime")
    for name in ("digit_0.png", "digit_17.png", "digit_26.png"):
        assert Image.open(tmp_path / name).size[0] > 1000


@pytest.mark.slow
def test_explain_on_the_dnn_skips_gradcam_with_a_line(mnist_path, tmp_path):
    path = tmp_path / "dnn.keras"
    models.build_dnn().save(path)
    done = run_script("explain.py", "--model", str(path), "--data", mnist_path, "--index", "3", "--class", "label",
                      "--methods", "gradient,occlusion", "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    saved = np.load(tmp_path / "out" / "attributions.npz")
    assert set(saved.files) >= {"gradient", "occlusion"} and "gradcam" not in saved.files
    assert str(saved["gradcam_layer"]) == "" and list(saved["classes"]) == [0]  # test digit 3 is a 0
    done = run_script("explain.py", "--model", str(path), "--data", mnist_path, "--index", "3", "--methods", "gradient,gradcam",
                      "--out-dir", str(tmp_path / "refused"))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "gradcam needs a layer", "leave gradcam out")


def test_explain_an_rgb_functional_model_on_pictures_with_class_names(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    path = tmp_path / "rgb.keras"
    rgb_residual_model().save(path)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(tmp_path / "b.jpg")
    Image.fromarray(rng.integers(0, 256, (30, 30), dtype=np.uint8)).save(tmp_path / "grey.png")
    (tmp_path / "names.txt").write_text("cat\ndog\nbird\nfish\nfrog\n")
    saved = explain_run("--model", str(path), "--image", str(tmp_path / "a.png"), str(tmp_path / "b.jpg"), str(tmp_path / "grey.png"),
                        "--class", "3", "--class-names", str(tmp_path / "names.txt"), out=tmp_path / "out")
    printed = capsys.readouterr().out
    assert "explaining fish" in printed or "predicted fish" in printed
    together = np.load(tmp_path / "out" / "attributions_a.npz")  # two sizes: one file per size
    assert together["images"].shape == (2, 40, 60, 3) and together["gradcam"].shape == (2, 40, 60) and list(together["classes"]) == [3, 3]
    assert np.load(tmp_path / "out" / "attributions_grey.npz")["images"].shape == (1, 30, 30, 3)
    assert set(saved) == {"attributions_a.npz", "attributions_grey.npz"}
    for name in ("a.png", "b.png", "grey.png"):
        assert (tmp_path / "out" / name).stat().st_size > 1000


@pytest.mark.parametrize("args, words", [
    (["--class", "10"], ["--class 10 is out of range", "0..9"]),
    (["--methods", "gradient,saliency"], ["unknown method 'saliency'", "integrated_gradients"]),
    (["--layer", "dense"], ["layer dense has output", "--list-layers"]),
    (["--layer", "nope"], ["unknown layer nope"]),
    (["--class-names", "a,b,c"], ["3 names", "10 classes"]),
    (["--index", "10000"], ["--index 10000 is out of range"]),
    (["--index", "5-2"], ["range 5-2 runs backwards", "2-5"]),
    (["--index", ""], ["--index", "comma-separated whole numbers"]),
    (["--methods", ""], ["--methods is empty", "gradient"]),
    (["--methods", "gradient,lime,gradient"], ["names gradient twice"]),
    (["--head", "regression", "--methods", "gradcam", "--output", "out"], ["unknown output 'out'", "0 output (None, 10)"]),
    (["--head", "logits"], ["--head logits does not fit", "10 units", "activation softmax"]),
])
def test_bad_input_is_one_line_and_writes_nothing(args, words, random_cnn_file, tiny_npz, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        explain.main(["--model", random_cnn_file, "--data", tiny_npz, "--out-dir", str(out), *args])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *words)
    assert not out.exists() or not os.listdir(out)


def test_pictures_that_cannot_be_read_are_one_line(random_cnn_file, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for path, words in ((tmp_path / "missing.png", ["image not found"]), (tmp_path / "broken.png", ["broken.png"])):
        with pytest.raises(SystemExit) as stop:
            explain.main(["--model", random_cnn_file, "--image", str(path), "--out-dir", str(tmp_path / "out")])
        assert stop.value.code == 2
        assert_one_line_error(capsys.readouterr().err, *words)
    assert not os.listdir(tmp_path / "out")


def test_a_model_without_class_scores_is_refused_saying_what_is_needed(tmp_path, capsys):
    inputs = keras.Input((16, 16, 1))
    segmenter = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="softmax")(inputs))
    segmenter.save(tmp_path / "segmenter.keras")
    Image.new("L", (16, 16)).save(tmp_path / "p.png")
    with pytest.raises(SystemExit) as stop:
        explain.main(["--model", str(tmp_path / "segmenter.keras"), "--image", str(tmp_path / "p.png"), "--out-dir", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "not one vector of class scores", "(batch, classes)")


def test_a_model_whose_weights_are_not_finite_is_refused_in_one_line(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = models.build_cnn()
    kernel = model.get_layer("conv2").kernel
    kernel.assign(np.where(np.arange(kernel.numpy().size).reshape(kernel.shape) == 7, np.nan, kernel.numpy()))
    model.save(tmp_path / "diverged.keras")
    with pytest.raises(SystemExit) as stop:
        explain.main(["--model", str(tmp_path / "diverged.keras"), "--index", "0", "--out-dir", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "diverged.keras's weights are not all finite", "conv2", "retrain")
    assert not os.listdir(tmp_path / "out")


def test_class_scores_that_overflow_are_refused_in_one_line(tmp_path, capsys):
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Dense(3, kernel_initializer=keras.initializers.Constant(1e38), name="out")(
        keras.layers.Flatten()(inputs)))
    model.save(tmp_path / "huge.keras")
    Image.new("L", (4, 4), 255).save(tmp_path / "white.png")
    with pytest.raises(SystemExit) as stop:
        explain.main(["--model", str(tmp_path / "huge.keras"), "--image", str(tmp_path / "white.png"), "--out-dir", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "softmax of the logits is not a finite number for picture 0", "input-range")
    assert not os.listdir(tmp_path / "out")


def test_help_names_every_method(capsys):
    with pytest.raises(SystemExit):
        explain.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for method in attribution.METHODS:
        assert method in text
