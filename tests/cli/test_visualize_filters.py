"""visualize_filters.py: filter grids, feature maps, class images, and its clean failures."""

import numpy as np
import pytest
from conftest import assert_one_line_error, run_script
from PIL import Image

from cnn_note.backend import keras
from cnn_note.cli import visualize_filters
from cnn_note.core import loading
from cnn_note.note import data
from cnn_note.optvis import ascent, objectives
from cnn_note.plots import figures


def run(model, npz, out, *extra):
    return visualize_filters.main(["--model", model, "--data", npz, "--out-dir", str(out), "--steps", "3", *extra])


@pytest.mark.slow
def test_writes_every_picture_with_one_tile_per_filter(random_cnn_file, tiny_npz, tmp_path):
    arrays = run(random_cnn_file, tiny_npz, tmp_path)
    assert arrays["conv1_images"].shape == (25, 28, 28) and arrays["conv2_images"].shape == (50, 28, 28)
    assert list(arrays["conv2_filters"]) == list(range(50))
    assert arrays["classes_images"].shape == (10, 28, 28) and arrays["classes_confidence"].shape == (10,)
    for name in ("conv1.png", "conv2.png", "feature_maps.png", "classes.png", "patterns.npz"):
        assert (tmp_path / name).stat().st_size > 1000
    saved = np.load(tmp_path / "patterns.npz")
    np.testing.assert_array_equal(saved["conv1_images"], arrays["conv1_images"])


def test_grid_has_a_tile_per_image_in_the_given_columns():
    figure = figures.image_grid(np.zeros((50, 28, 28)), [str(i) for i in range(50)], "t", columns=10)
    shown = [ax for ax in figure.axes if ax.images]
    assert len(figure.axes) == 50 and len(shown) == 50
    assert [ax.get_title() for ax in shown[:3]] == ["0", "1", "2"]


def test_feature_maps_figure_has_input_and_every_map():
    maps = {"conv1": np.zeros((26, 26, 25)), "conv2": np.zeros((11, 11, 50))}
    figure = figures.feature_maps(np.zeros((28, 28)), maps, "digit")
    assert len([ax for ax in figure.axes if ax.images]) == 1 + 25 + 50


def test_layer_filters_and_size_flags(random_cnn_file, tiny_npz, tmp_path):
    arrays = run(random_cnn_file, tiny_npz, tmp_path, "--layer", "conv2", "--filters", "0,3,7", "--size", "40")
    assert arrays["conv2_images"].shape == (3, 40, 40) and "conv1_images" not in arrays
    assert list(arrays["conv2_filters"]) == [0, 3, 7]


@pytest.mark.slow
def test_same_seed_same_pictures(random_cnn_file, tiny_npz, tmp_path):
    first = run(random_cnn_file, tiny_npz, tmp_path / "a", "--layer", "conv1", "--seed", "4", "--examples", "0")
    again = run(random_cnn_file, tiny_npz, tmp_path / "b", "--layer", "conv1", "--seed", "4", "--examples", "0")
    other = run(random_cnn_file, tiny_npz, tmp_path / "c", "--layer", "conv1", "--seed", "5", "--examples", "0")
    np.testing.assert_array_equal(first["conv1_images"], again["conv1_images"])
    assert not np.array_equal(first["conv1_images"], other["conv1_images"])


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--layer", "dense"], ["layer dense has output", "--list-layers"]),
        (["--layer", "conv3"], ["unknown layer conv3", "conv1, conv2"]),
        (["--classes", "10"], ["class 10 is out of range", "0..9"]),
        (["--filters", "0-x"], ["--filters", "0-15"]),
        (["--size", "20000"], ["--size 20000", "GiB", "smaller --size"]),
        (["--filters", "0,25", "--layer", "conv1"], ["filter index 25", "0..24"]),
        (["--steps", "0"], ["--steps"]),
        (["--size", "0"], ["--size"]),
        (["--size", "5"], ["--size 5", "at least 8"]),
        (["--index", "99"], ["--index 99"]),
    ],
)
def test_bad_flags_fail_in_one_line(random_cnn_file, tiny_npz, tmp_path, capsys, extra, words):
    with pytest.raises(SystemExit) as exit_:
        run(random_cnn_file, tiny_npz, tmp_path, *extra)
    assert exit_.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *words)


def test_missing_or_foreign_model_and_unwritable_output(tiny_npz, tmp_path, capsys):
    cases = [
        (str(tmp_path / "none.keras"), tmp_path / "out", ["no trained model", "python train_cnn.py"]),
        (tiny_npz, tmp_path / "out", ["not a Keras model"]),
    ]
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases.append((str(tmp_path / "none.keras"), blocker / "out", ["cannot write", "choose another --out-dir"]))
    for model, out, words in cases:
        with pytest.raises(SystemExit) as exit_:
            run(model, tiny_npz, out)
        assert exit_.value.code == 2
        assert_one_line_error(capsys.readouterr().err, *words)


@pytest.mark.slow
def test_runs_on_a_briefly_trained_cnn_and_real_mnist(trained_cnn_file, mnist_path, tmp_path):
    done = run_script("visualize_filters.py", "--model", trained_cnn_file, "--data", mnist_path, "--steps", "30",
                      "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "conv1: 25 filters" in done.stdout and "conv2: 50 filters" in done.stdout
    arrays = np.load(tmp_path / "patterns.npz")
    view = loading.load(trained_cnn_file, "")
    for layer, count in (("conv1", 25), ("conv2", 50)):
        objective = objectives.filter_mean(view, layer, range(count))
        start = objective(ascent.start_images(count, 28, 28, seed=0)).numpy()
        assert np.all(arrays[f"{layer}_activations"] >= start - 1e-6) and arrays[f"{layer}_activations"].mean() > 1.5 * abs(start.mean())
    start = view.probabilities(ascent.start_images(1, 28, 28, seed=0))[0]
    assert np.all(arrays["classes_confidence"] > start) and np.all(arrays["classes_unregularised_confidence"] > start)

    # Each filter's 9 test digits, most and least exciting, found in one pass.
    assert "examples: the 10,000 MNIST test digits ranked for conv1, conv2" in done.stdout
    assert "conv2: optimised pictures against the best input" in done.stdout
    saved = np.load(tmp_path / "examples.npz")
    assert tuple(saved["conv1_field"]) == (3, 3) and tuple(saved["conv2_field"]) == (8, 8)
    assert saved["conv2_top"].shape == (50, 9) and saved["conv2_bottom_positions"].shape == (50, 9, 2)
    assert list(saved["conv2_filters"]) == list(range(50)) and saved["conv1_top_activations"].shape == (25, 9)
    assert (saved["conv2_top_activations"][:, 0] >= saved["conv2_top_activations"][:, -1]).all()
    # The saved activation is the model's own at the saved unit of the saved digit.
    _, test = data.load("mnist", mnist_path)
    model = loading.load_trained(trained_cnn_file, "")
    conv2 = keras.Model(model.inputs[0], model.get_layer("conv2").output)
    digit = saved["conv2_top"][17, 0]
    row, col = saved["conv2_top_positions"][17, 0]
    value = conv2(test.x[digit:digit + 1, ..., None].astype("float32") / 255.0).numpy()[0, row, col, 17]
    np.testing.assert_allclose(saved["conv2_top_activations"][17, 0], value, rtol=1e-5)
    for name in ("conv1_examples.png", "conv2_examples.png"):
        assert Image.open(tmp_path / name).size[1] > 500
