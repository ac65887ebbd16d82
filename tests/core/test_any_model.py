"""visualize_filters.py and deep_dream.py on models people bring: filter, class and dream scores rise on each."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, assert_one_line_error, rgb_residual_model, run_script
from PIL import Image

from cnn_note.backend import keras
from cnn_note.cli import deep_dream, visualize_filters
from cnn_note.core import loading, networks
from cnn_note.optvis import ascent, objectives, parameterisation


@pytest.fixture(scope="module")
def relu_dropout_cnn(mnist_path, tmp_path_factory) -> str:
    """A Sequential CNN with ReLU and Dropout, trained for one epoch on 1,000 real MNIST digits."""
    from cnn_note.note import data

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu", name="c1"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Dropout(0.25),
        keras.layers.Conv2D(32, 3, activation="relu", name="c2"),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile("adam", "categorical_crossentropy")
    (train, _) = data.load("mnist", mnist_path)
    model.fit(data.to_inputs(train.x[:1000], (28, 28, 1)), data.one_hot(train.y[:1000]), epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("relu") / "relu_dropout.keras"
    model.save(path)
    return str(path)


@pytest.fixture(scope="module")
def rgb_file(tmp_path_factory) -> str:
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("rgb") / "rgb_residual.keras"
    rgb_residual_model().save(path)
    return str(path)


@pytest.fixture(scope="module")
def mobilenet_file(tmp_path_factory) -> str:
    """keras.applications MobileNetV2 at 64x64 with weights=None, saved as a user's file would be.

    Untrained, its BatchNormalization layers hold mean 0 and variance 1 and the signal fades to
    1e-11 by the last block; one pass in training mode with momentum 0 sets them to real batch
    statistics (a usual recalibration), so its scores are more than rounding noise.
    """
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(input_shape=(64, 64, 3), alpha=0.35, weights=None, classes=10)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    model(np.random.default_rng(0).random((16, 64, 64, 3)).astype("float32"), training=True)
    path = tmp_path_factory.mktemp("mobilenet") / "mobilenet_v2.keras"
    model.save(path)
    return str(path)


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(path)
    return str(path)


CASES = {
    "relu_dropout": ("relu_dropout_cnn", ["--layer", "c2", "--filters", "0-7"], ["--layers", "c1=1,c2=2"]),
    "rgb_residual": ("rgb_file", ["--layer", "add,deep", "--size", "40"], ["--layers", "add=1,deep=2"]),
    # Random weights make a landscape so rough that only small, unjittered steps climb it.
    "mobilenet_v2": ("mobilenet_file", ["--layer", "block_2_add", "--filters", "0-7", "--size", "48", "--classes", "0,3",
                                        "--param", "pixels", "--step-size", "0.0001", "--jitter", "0", "--blur", "0"],
                     ["--layers", "block_1_expand_relu=1,block_2_add=2"]),
}


def octave_losses(printed: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in re.findall(r"loss (-?[0-9.]+) -> (-?[0-9.]+)", printed)]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.slow
def test_filters_classes_and_dreams_rise_on_any_model(case, request, photo, tmp_path, capsys):
    fixture, filter_args, dream_args = CASES[case]
    model = request.getfixturevalue(fixture)
    arrays = visualize_filters.main(["--model", model, "--image", photo, "--steps", "8", "--examples", "0", "--out-dir", str(tmp_path),
                                     *filter_args])
    view = loading.load(model, "")
    param = parameterisation.named("pixels" if "pixels" in filter_args or view.channels == 1 else "fourier")  # the script's default
    layers = [key[:-len("_filters")] for key in arrays if key.endswith("_filters")]
    for layer in layers:
        filters = list(arrays[f"{layer}_filters"])
        size = arrays[f"{layer}_images"].shape[1]
        start = param.pictures(param.start(len(filters), size, size, view.channels, 0), size, size)
        start = objectives.filter_mean(view, layer, filters)(start).numpy()
        after = arrays[f"{layer}_activations"]
        alive = (start != 0) | (after != 0)  # a ReLU filter silent on the grey start has no gradient to follow
        assert alive.sum() > len(filters) / 2 and np.all(after[alive] > start[alive]) and np.all(after >= start), layer
    # Each class's score before softmax rose from the common start (on the pictures ascended without
    # jitter: a jittered one is scored shifted, and a strided random network is far from shift-proof).
    classes = list(arrays["classes"])
    images = arrays["classes_unregularised_images"].reshape(len(classes), *arrays["classes_images"].shape[1:3], view.channels)
    start = ascent.start_images(1, *images.shape[1:3], 0, view.channels)
    logits = view.class_scores()
    assert np.all(np.asarray(logits(images))[range(len(classes)), classes] > np.asarray(logits(start))[0, classes])
    for name in [f"{layer}.png" for layer in layers] + ["feature_maps.png", "classes.png"]:
        assert (tmp_path / name).stat().st_size > 1000, name
    capsys.readouterr()

    dreamed = deep_dream.main(["--model", model, "--image", photo, "--steps", "6", "--octaves", "2", "--step-size", "0.02",
                               "--out-dir", str(tmp_path), *dream_args])
    losses = octave_losses(capsys.readouterr().out)
    assert len(losses) == 2 and all(after > before for before, after in losses)
    assert dreamed["photo"].shape == (90, 120, view.channels)
    saved = Image.open(tmp_path / "photo_dream.png")
    assert saved.size == (120, 90) and saved.mode == ("L" if view.channels == 1 else "RGB")


def test_list_layers_prints_every_4d_layer_with_its_channels(mobilenet_file, capsys):
    assert visualize_filters.main(["--model", mobilenet_file, "--list-layers"]) == {}
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["layer", "type"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    model = keras.saving.load_model(mobilenet_file)
    assert rows["Conv1"][1] == "Conv2D" and rows["Conv1"][-1] == str(model.get_layer("Conv1").output.shape[-1])
    assert len(rows) == sum(len(layer.output.shape) == 4 for layer in model.layers[1:]) and "predictions" not in rows


def test_a_network_by_name_runs_through_keras_applications(monkeypatch, photo, tmp_path, capsys):
    monkeypatch.setattr(networks, "WEIGHTS", None)  # the architecture, without the ImageNet download
    deep_dream.main(["--model", "mobilenet_v2", "--image", photo, "--layers", "Conv1=1", "--steps", "3",
                     "--octaves", "1", "--step-size", "0.02", "--out-dir", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "with mobilenet_v2 on Conv1=1" in printed
    (before, after), = octave_losses(printed)
    assert after > before


@pytest.mark.slow
def test_a_network_by_name_offline_is_one_line(photo, tmp_path):
    done = run_script("deep_dream.py", "--model", "inception_v3", "--image", photo, "--out-dir", str(tmp_path),
                      env={"KERAS_HOME": str(tmp_path / "empty_keras_home")})
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "inception_v3", "run once with a network", "--model")


def test_the_dnn_and_the_note_layout_are_refused_in_one_line(tiny_npz, tmp_path, capsys):
    from cnn_note.note import models

    for build, words in ((models.build_dnn, ["not images", "give a CNN"]),
                         (lambda: models.build_cnn(layout="note"), ["channels_first", "--layout intended"])):
        path = tmp_path / "model.keras"
        build().save(path)
        for script in (visualize_filters, deep_dream):
            with pytest.raises(SystemExit) as exit_:
                script.main(["--model", str(path), "--data", tiny_npz, "--out-dir", str(tmp_path / "out")])
            assert exit_.value.code == 2
            assert_one_line_error(capsys.readouterr().err, *words)


@pytest.mark.slow
def test_a_3000x2000_photo_dreams_in_tiles_with_bounded_memory(rgb_file, tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (2000, 3000, 3), dtype=np.uint8)).save(tmp_path / "big.png")
    if not os.path.exists("/proc/self/status"):
        pytest.skip("the peak is read from /proc/self/status (Linux)")
    # The child's own high-water mark of resident memory, VmHWM in /proc/self/status, in kB. Not ru_maxrss: that
    # survives execve, so a child forked from this test process (hundreds of MiB with TensorFlow loaded) can start
    # with the parent's peak, depending on how subprocess starts it; and it is bytes, not KiB, outside Linux.
    code = ("import re, sys, deep_dream; deep_dream.main(sys.argv[1:]); "
            "print('peak MiB', int(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)) // 1024)")
    done = subprocess.run([sys.executable, "-c", code, "--model", rgb_file, "--image", str(tmp_path / "big.png"),
                           "--layers", "add=1,deep=1", "--octaves", "2", "--steps", "2", "--tile", "512", "--out-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "big_dream.png").size == (3000, 2000)
    peak = int(done.stdout.split("peak MiB")[1])
    # Measured (VmHWM, this AMD EPYC): 2,054 MiB in 512-pixel tiles, 3,062 MiB with one whole-image tile (--tile 4000),
    # whose every activation of 3000x2000x8 floats (183 MiB each, forward and back) is held at once. The bound sits
    # half-way: room for another machine's allocator, still well below the untiled dream.
    assert peak < 2560, done.stdout
