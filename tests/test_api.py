"""The Python API (`import cnn_note as cn`) on models in memory: shapes, the same answers as the scripts, exceptions, silence."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, cnn_methods, rgb_residual_model
from PIL import Image

import cnn_note as cn
from cnn_note.backend import keras
from cnn_note.cli import deep_dream, explain, visualize_filters


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(0)
    return cn.build_cnn()


def drawn(figure) -> list[np.ndarray]:
    """Every picture a figure draws: the arrays its images were given."""
    return [np.asarray(image.get_array()) for ax in figure.axes for image in ax.images]


def saved(figure, path) -> np.ndarray:
    """The figure saved, read back: a PNG of the figure's size in pixels, not of one colour."""
    figure.savefig(path)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.size == tuple(round(side * figure.dpi) for side in figure.get_size_inches())
        pixels = np.asarray(png.convert("RGB"))
    assert pixels.std() > 0, path
    return pixels


def digits(count=3, seed=0):
    return np.random.default_rng(seed).random((count, 28, 28, 1)).astype("float32")


def nested_model():
    """A base network nested in a fine-tuned classifier, as transfer learning builds one."""
    keras.utils.set_random_seed(1)
    pixels = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="base_conv1")(pixels)
    base = keras.Model(pixels, keras.layers.Conv2D(8, 3, name="base_conv2")(x), name="base")
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    return keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="scores")(x))


def test_the_package_imports_without_tensorflow_and_has_a_version():
    code = "import sys, cnn_note; print(cnn_note.__version__, 'tensorflow' in sys.modules, issubclass(cnn_note.InputError, ValueError))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == [cn.__version__, "False", "True"], done.stderr


def test_cn_offers_every_call_the_api_exports():
    from cnn_note import api

    assert set(api.__all__) <= set(dir(cn)) and all(getattr(cn, name) is getattr(api, name) for name in api.__all__)


@pytest.mark.slow
def test_explain_on_the_notes_cnn_in_memory_gives_every_map_as_arrays(cnn):
    x = digits()
    found = cn.explain(cnn, x, lime_samples=50, samples=4, steps=8, progress=False)
    assert list(found.maps) == cnn_methods() and found.layer == "conv2"
    for method, maps in found.maps.items():
        assert maps.shape == (3, 28, 28) and np.isfinite(maps).all(), method
    assert found.classes.shape == found.predicted.shape == found.probabilities.shape == (3,)
    np.testing.assert_array_equal(found.classes, found.predicted)
    np.testing.assert_allclose(found.probabilities, cnn(x).numpy().max(axis=1), rtol=1e-5)
    # Integrated Gradients' completeness, by hand: the class score is the logit before the softmax, from the model's own
    # layers. The untrained CNN has no biases yet and only ReLU, max-pooling and linear layers, so its logit is positively
    # homogeneous: along the path from black its gradient is one constant, but at black itself, where every ReLU sits at
    # 0 and has gradient 0. The trapezoid rule of 8 steps then misses its first point's weight, 1/16, and no more.
    assert not any(np.any(weight.numpy()) for layer in cnn.layers for weight in layer.weights if "bias" in weight.name)

    def logits(pixels):
        for layer in cnn.layers[:-1]:  # a Sequential: every layer but the softmax Dense, in order
            pixels = layer(pixels)
        return np.asarray(pixels) @ cnn.layers[-1].kernel.numpy() + cnn.layers[-1].bias.numpy()

    change = (logits(x) - logits(np.zeros_like(x)))[np.arange(3), found.classes]
    error = np.abs(found.maps["integrated_gradients"].sum(axis=(1, 2)) - change) / np.abs(change)
    np.testing.assert_allclose(found.completeness, error, rtol=1e-3, atol=1e-6)  # the error it reports is the real one
    assert found.completeness.shape == (3,)
    np.testing.assert_allclose(error, 1 / 16, atol=1e-4)
    one = cn.explain(cnn, x[0], classes=7, methods=["gradient"], progress=False)
    assert one.maps["gradient"].shape == (1, 28, 28) and list(one.classes) == [7]
    np.testing.assert_allclose(one.maps["gradient"][0], cn.explain(cnn, x, 7, "gradient", progress=False).maps["gradient"][0],
                               rtol=1e-5, atol=1e-7)  # one picture or three in a batch: float rounding apart


@pytest.mark.slow
def test_explain_from_the_api_and_from_the_script_give_the_same_maps(cnn, tmp_path):
    cnn.save(tmp_path / "cnn.keras")
    picture = (digits(1)[0, ..., 0] * 255).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "digit.png")
    script = explain.main(["--model", str(tmp_path / "cnn.keras"), "--image", str(tmp_path / "digit.png"), "--class", "3",
                           "--lime-samples", "60", "--out-dir", str(tmp_path / "out")])["attributions.npz"]
    found = cn.explain(cnn, picture[..., None] / 255.0, classes=3, lime_samples=60, progress=False)
    for method in cnn_methods():
        np.testing.assert_allclose(found.maps[method], script[method], rtol=1e-5, atol=1e-7, err_msg=method)
    np.testing.assert_allclose(found.probabilities, script["probabilities"], rtol=1e-6)


@pytest.mark.slow
def test_filter_and_class_pictures_from_the_api_are_the_scripts(cnn, tmp_path, tiny_npz):
    cnn.save(tmp_path / "cnn.keras")
    script = visualize_filters.main(["--model", str(tmp_path / "cnn.keras"), "--data", tiny_npz, "--layer", "conv2", "--filters", "0-4",
                                     "--steps", "20", "--out-dir", str(tmp_path / "out")])
    filters = cn.filter_pictures(cnn, "conv2", range(5), steps=20, examples_from=cn.load_mnist(tiny_npz)[1].x, progress=False)
    assert filters.images.shape == (5, 28, 28, 1) and filters.images.dtype == np.float32 and filters.filters == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(filters.images[..., 0], script["conv2_images"])
    np.testing.assert_array_equal(filters.activations, script["conv2_activations"])
    examples = np.load(tmp_path / "out" / "examples.npz")
    for key, values in filters.examples.arrays().items():
        np.testing.assert_array_equal(values, examples[key], err_msg=key)
    np.testing.assert_array_equal(filters.optimised, examples["conv2_optimised"])
    classes = cn.class_pictures(cnn, steps=20, progress=False)
    assert classes.images.shape == (10, 28, 28, 1) and classes.classes == list(range(10))
    np.testing.assert_array_equal(classes.images[..., 0], script["classes_images"])
    np.testing.assert_array_equal(classes.probabilities, script["classes_confidence"])


@pytest.mark.slow
def test_a_colour_functional_model_with_a_residual_add_in_memory(tmp_path):
    keras.utils.set_random_seed(0)
    model = rgb_residual_model()
    filters = cn.filter_pictures(model, "add", [0, 3], size=24, steps=8, progress=False)
    assert filters.images.shape == (2, 24, 24, 3) and 0 <= filters.images.min() and filters.images.max() <= 1
    classes = cn.class_pictures(model, [1, 4], size=24, steps=8, progress=False)
    assert classes.images.shape == (2, 24, 24, 3) and classes.probabilities.shape == (2,)
    photo = np.random.default_rng(0).random((37, 53, 3)).astype("float32")
    dreamed = cn.deep_dream(model, photo, {"add": 1.0, "deep": 2.0}, steps=3, progress=False)
    assert np.asarray(dreamed).shape == (37, 53, 3) and not np.allclose(np.asarray(dreamed), photo)
    maps = cn.feature_maps(model, photo, ["stem", "deep"])
    assert maps["stem"].shape == (37, 53, 8) and maps["deep"].shape == (35, 51, 8)
    found = cn.explain(model, photo, methods="gradient,gradcam", progress=False)
    assert found.maps["gradcam"].shape == (1, 37, 53) and found.layer == "deep"
    dream = np.asarray(dreamed)
    shows = {"filters": (filters, list(filters.images)), "classes": (classes, list(classes.images)),
             "dream": (dreamed, [photo, dream, (dream - photo).mean(axis=-1)]),
             "explanation": (found, [photo, *(values[0] for values in found.maps.values())])}
    for name, (result, pictures) in shows.items():
        figure = cn.plot(result)
        shown = drawn(figure)
        for k, picture in enumerate(pictures):  # each of the result's pictures is drawn, as it is
            assert any(d.shape == picture.shape and np.allclose(d, picture, atol=1e-6) for d in shown), (name, k)
        saved(figure, tmp_path / f"{name}.png")
    figure = cn.plot(maps, image=photo)
    shown = drawn(figure)  # the photo, then every channel of every layer
    assert len(shown) == 1 + 8 + 8 and np.allclose(shown[0], photo) and np.allclose(shown[-1], maps["deep"][..., 7])
    saved(figure, tmp_path / "maps.png")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    assert cn.plot(found, ax=ax, method="gradcam") is ax and len(ax.images) == 2
    plt.close("all")


def test_a_base_network_nested_in_a_fine_tuned_model():
    model = nested_model()
    filters = cn.filter_pictures(model, "base_conv2", [0, 1], size=20, steps=5, progress=False)
    assert filters.images.shape == (2, 20, 20, 3)
    found = cn.explain(model, np.full((32, 32, 3), 0.5, "float32"), methods=["gradcam"], progress=False)
    assert found.layer == "base_conv2" and found.maps["gradcam"].shape == (1, 32, 32)


def test_deep_dream_from_the_api_is_the_scripts(cnn, tmp_path, tiny_npz):
    cnn.save(tmp_path / "cnn.keras")
    script = deep_dream.main(["--model", str(tmp_path / "cnn.keras"), "--data", tiny_npz, "--index", "0,1", "--steps", "5",
                              "--out-dir", str(tmp_path / "out")])
    from cnn_note.note import data

    _, test = cn.load_mnist(tiny_npz)
    dreamed = cn.deep_dream(cnn, data.to_inputs(test.x[:2], (28, 28, 1)), steps=5, progress=False)
    assert dreamed.image.shape == (2, 28, 28, 1) and dreamed.layers == {"conv1": 1.0, "conv2": 2.0}
    np.testing.assert_array_equal(dreamed.image, np.stack([script["digit_0"], script["digit_1"]]))


@pytest.mark.parametrize("call, words", [
    (lambda m: cn.explain(m, digits(), methods=["saliency"]), ["unknown method 'saliency'"]),
    (lambda m: cn.explain(m, digits(), classes=10), ["classes=10", "0..9"]),
    (lambda m: cn.explain(m, digits(), classes=[1, 2]), ["one number or one per picture (3)"]),
    (lambda m: cn.explain(m, digits(), noise=2.0), ["noise=2.0", "from 0 to 1"]),
    (lambda m: cn.explain(m, digits(), smoothness=1), ["no setting 'smoothness'"]),
    (lambda m: cn.filter_pictures(m, "nope"), ["unknown layer nope", "conv1, conv2"]),
    (lambda m: cn.filter_pictures(m, "conv1", [30]), ["filter index 30 is out of range", "0..24"]),
    (lambda m: cn.class_pictures(m, [12]), ["class 12 is out of range"]),
    (lambda m: cn.explain(m, digits()[..., 0]), ["shape (1, 3, 28, 28)", "1-channel"]),
    (lambda m: cn.explain(m, np.zeros((2, 28, 28, 3))), ["shape (2, 28, 28, 3)"]),
    (lambda m: cn.explain(m, np.full((28, 28, 1), np.nan)), ["NaN or infinite pixels"]),
    (lambda m: cn.explain(m, np.zeros((0, 28, 28, 1))), ["no picture"]),
    (lambda m: cn.explain(m, digits() * 255), ["not 0..1", "255"]),
    (lambda m: cn.deep_dream(m, digits(1)[0], {"conv1": float("nan")}), ["finite"]),
    (lambda m: cn.feature_maps(m, digits(2)), ["(H, W, 1)"]),
    (lambda m: cn.build_cnn(layout="other"), ["layout='other'"]),
    (lambda m: cn.plot("a picture"), ["cn.plot draws", "str"]),
])
def test_bad_input_raises_the_documented_exception_with_its_one_line(cnn, call, words):
    with pytest.raises(cn.InputError) as error:
        call(cnn)
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)
    for word in words:
        assert word in str(error.value)


def test_models_the_api_cannot_look_inside_are_refused_saying_what_to_do():
    inputs = keras.Input((16, 16, 1))
    segmenter = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="softmax")(inputs))
    with pytest.raises(cn.InputError, match="not one vector of class scores"):
        cn.explain(segmenter, np.zeros((16, 16, 1)))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(2, 3, name="conv")

        def call(self, x):
            return self.conv(x)

    model = Subclassed()
    model(np.zeros((1, 8, 8, 1), "float32"))
    # A subclassed model is traced into a functional one over its own layers (tests/core/test_subclassed.py): no refusal.
    assert cn.filter_pictures(model, "conv", steps=2, size=8, examples=0, progress=False).images.shape == (2, 8, 8, 1)
    with pytest.raises(cn.InputError, match="not a model"):
        cn.explain(42, np.zeros((8, 8, 1)))


@pytest.mark.slow
def test_progress_false_prints_nothing(cnn, capfd):
    capfd.readouterr()
    cn.explain(cnn, digits(2), lime_samples=20, samples=2, steps=4, progress=False)
    cn.filter_pictures(cnn, "conv1", [0, 1], steps=3, examples=0, progress=False)
    cn.class_pictures(cnn, [0], steps=3, progress=False)
    cn.deep_dream(cnn, digits(1)[0], steps=2, progress=False)
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == ""
    cn.explain(cnn, digits(1), methods=["gradient"])
    assert "gradient: 1 image(s)" in capfd.readouterr().out


def test_load_mnist_gives_keras_layout_and_a_bad_recipe_is_one_line(tiny_npz):
    # cn.train against train_cnn.py, weights bit for bit: test_train_gives_the_scripts_weights_and_history_bit_for_bit.
    mnist = cn.load_mnist(tiny_npz)
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60, 28, 28) and x_train.dtype == np.uint8 and y_test.shape == (20,)
    with pytest.raises(cn.InputError, match="epochs=0"):
        cn.train(cn.build_dnn(), mnist, epochs=0)


def test_pip_installs_the_package_and_it_imports_from_anywhere(tmp_path):
    source, target = tmp_path / "clone", tmp_path / "site"
    # A copy of what a clone holds for the package, so the build's own folders land beside it, not in the checkout.
    shutil.copytree(os.path.join(ROOT, "cnn_note"), source / "cnn_note", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target",
                           str(target), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # Every module of every subpackage, and none of the root scripts, as the checkout lists them.
    listed = sorted(path.relative_to(source).as_posix() for path in (source / "cnn_note").rglob("*.py"))
    installed = sorted(path.relative_to(target).as_posix() for path in (target / "cnn_note").rglob("*.py"))
    assert installed == listed and len(listed) > 40 and not (target / "explain.py").exists()
    # The live page's files, which are not Python: every one, byte for byte.
    assets = sorted(path.relative_to(source).as_posix() for path in (source / "cnn_note" / "live" / "assets").rglob("*") if path.is_file())
    assert len(assets) == 7 and all((target / name).read_bytes() == (source / name).read_bytes() for name in assets), assets
    # The commands pyproject.toml names, on PATH (target/bin here), each the script's own main, run from another folder:
    # --help says its flags under its own name, and a refusal names the installed commands, not the clone's scripts.
    import tomllib

    with open(source / "pyproject.toml", "rb") as handle:
        commands = tomllib.load(handle)["project"]["scripts"]
    assert len(commands) == 8
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def installed(command: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(target / "bin" / command), *args], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(target)}, cwd=elsewhere)

    for command in commands:
        helped = installed(command, "--help")
        assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {command} "), (command, helped.stdout[:80], helped.stderr)
        assert ".py" not in helped.stdout.split("\n\n")[0], (command, helped.stdout)  # the usage block
    dreamed = installed("cnn-note-deep-dream")
    told = "cnn-note-deep-dream: error: no trained model at results/cnn/model.keras: run `cnn-note-train-cnn`, pass another --model"
    assert dreamed.returncode == 2 and dreamed.stderr.startswith(told), dreamed.stderr
    why = installed("cnn-note-why-cnn", "--data", "missing.npz")
    assert why.returncode == 2 and why.stderr.startswith("cnn-note-why-cnn: error:") and ".py" not in why.stderr, why.stderr
    why = installed("cnn-note-why-cnn")
    assert why.returncode == 2 and "run `cnn-note-train-dnn` first, or `cnn-note-why-cnn --train`" in why.stderr, why.stderr
    assert installed("cnn-note-train-cnn", "--epochs", "0").stderr.startswith("cnn-note-train-cnn: error: argument --epochs")
    # Imported from there in Python: the version, the folder, and a refusal that names the installed command too.
    code = ("import cnn_note as cn, os; print(cn.__version__, os.path.dirname(cn.__file__))\n"
            "try:\n    cn.view_of('results/cnn/model.keras')\nexcept cn.InputError as error:\n    print(error)")
    imported = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(target)})
    version, where = imported.stdout.splitlines()[0].split()
    assert version == cn.__version__ and where == str(target / "cnn_note")
    assert "run `cnn-note-train-cnn`, pass another model file" in imported.stdout, imported.stdout


def linear_softmax(height=5, width=4, channels=3, classes=4):
    """Flatten, then Dense(classes, softmax) with known weights: the score of class c (the logit) has gradient W[:, c]."""
    inputs = keras.Input((height, width, channels))
    dense = keras.layers.Dense(classes, activation="softmax", name="scores")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    rng = np.random.default_rng(5)
    dense.set_weights([rng.standard_normal((height * width * channels, classes)).astype("float32"),
                       rng.standard_normal(classes).astype("float32")])
    return model


def weight_map(model, cls):
    """|W[:, cls]| as a picture, the largest over channels, as attribution.gradient reduces the gradient."""
    kernel = model.get_layer("scores").kernel.numpy()[:, cls]
    return np.abs(kernel.reshape(model.input_shape[1:])).max(axis=-1)


def test_explain_a_class_other_than_the_predicted_one_maps_that_classes_weights():
    model = linear_softmax()
    x = np.random.default_rng(0).random((2, 5, 4, 3)).astype("float32")
    predicted = model(x).numpy().argmax(axis=1)
    other = (predicted + 1) % 4
    found = cn.explain(model, x, classes=other, methods="gradient,integrated_gradients", progress=False)
    np.testing.assert_array_equal(found.classes, other)
    np.testing.assert_array_equal(found.predicted, predicted)
    np.testing.assert_allclose(found.probabilities, model(x).numpy()[[0, 1], other], rtol=1e-5)
    kernel = model.get_layer("scores").kernel.numpy()
    for row in range(2):
        np.testing.assert_allclose(found.maps["gradient"][row], weight_map(model, other[row]), rtol=1e-5)
        assert not np.allclose(found.maps["gradient"][row], weight_map(model, predicted[row]))
        # From black, Integrated Gradients of a linear score is the weights times the input, summed over channels.
        expected = (kernel[:, other[row]].reshape(5, 4, 3) * x[row]).sum(axis=-1)
        np.testing.assert_allclose(found.maps["integrated_gradients"][row], expected, rtol=1e-4, atol=1e-6)
    single = cn.explain(model, x, classes=int(other[0]), methods="gradient", progress=False)  # one number for every picture
    np.testing.assert_allclose(single.maps["gradient"], np.stack([weight_map(model, other[0])] * 2), rtol=1e-5)


def test_explain_py_class_flag_explains_that_class_on_a_saved_model(tmp_path):
    model = linear_softmax()
    model.save(tmp_path / "linear.keras")
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (5, 4, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    x = np.asarray(Image.open(tmp_path / "p.png"), dtype="float32")[None] / 255
    predicted = int(model(x).numpy().argmax())
    other = (predicted + 2) % 4
    saved = explain.main(["--model", str(tmp_path / "linear.keras"), "--image", str(tmp_path / "p.png"), "--methods", "gradient",
                          "--class", str(other), "--out-dir", str(tmp_path / "out")])["attributions.npz"]
    on_disk = np.load(tmp_path / "out" / "attributions.npz")
    for arrays in (saved, on_disk):
        assert int(arrays["classes"][0]) == other and int(arrays["predicted"][0]) == predicted
        np.testing.assert_allclose(arrays["gradient"][0], weight_map(model, other), rtol=1e-5)
        assert not np.allclose(arrays["gradient"][0], weight_map(model, predicted))


def test_feature_maps_are_the_layers_own_output_in_inference_mode():
    keras.utils.set_random_seed(0)
    model = rgb_residual_model()
    bn = model.get_layer("bn")  # statistics far from a batch's own, so training mode would give other maps
    bn.set_weights([np.full(8, 1.5, "float32"), np.full(8, -0.2, "float32"), np.full(8, 0.3, "float32"), np.full(8, 4.0, "float32")])
    photo = np.random.default_rng(0).random((19, 23, 3)).astype("float32")
    names = ["stem", "bn", "relu", "sep", "add", "deep"]
    maps = cn.feature_maps(model, photo, names)
    assert list(maps) == names
    for name in names:
        direct = keras.Model(model.input, model.get_layer(name).output)(photo[None], training=False).numpy()[0]
        np.testing.assert_allclose(maps[name], direct, rtol=1e-5, atol=1e-6, err_msg=name)
    default = cn.feature_maps(model, photo)  # the conv layers drawn by filter_pictures
    assert list(default) == ["stem", "sep", "deep"]


@pytest.mark.slow
def test_train_gives_the_scripts_weights_and_history_bit_for_bit(mnist_path, tmp_path):
    import csv
    import json

    from cnn_note.cli import train_cnn

    train_cnn.main(["--data", mnist_path, "--train-samples", "300", "--epochs", "1", "--seed", "3", "--quiet", "--no-epoch-test",
                    "--results-dir", str(tmp_path)])
    cn.seed(3)
    run = cn.train(cn.build_cnn(), cn.load_mnist(mnist_path), epochs=1, train_samples=300, epoch_test_samples=0, progress=False)
    saved = keras.models.load_model(tmp_path / "cnn" / "model.keras")
    for ours, theirs in zip(run.model.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    record = json.load(open(tmp_path / "cnn" / "metrics.json"))["runs"][0]
    assert (run.train_acc, run.train_loss, run.test_acc, run.test_loss) == (
        record["train_acc"], record["train_loss"], record["test_acc"], record["test_loss"])
    rows = list(csv.DictReader(open(tmp_path / "cnn" / "history.csv")))
    assert len(rows) == 1 and set(run.history) == {"accuracy", "loss"}
    for key, values in run.history.items():
        assert [float(row[key]) for row in rows] == values, key
    assert 0.3 < run.test_acc < 1  # 300 real digits, one epoch: learning, far from chance


def test_train_refuses_in_one_line_a_model_the_notes_recipe_cannot_train(tiny_npz):
    mnist = cn.load_mnist(tiny_npz)
    five = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(5)])
    with pytest.raises(cn.InputError, match=r"output has shape \(None, 5\).*10 outputs"):
        cn.train(five, mnist)
    free = keras.Sequential([keras.Input((None, None, 1)), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
    with pytest.raises(cn.InputError, match=r"shape \(None, None, 1\).*28x28 grey digits"):
        cn.train(free, mnist)
    with pytest.raises(cn.InputError, match="not a str"):
        cn.train("model.keras", mnist)
