"""Filter pictures for natural-image networks: before the ReLU, Fourier-basis pictures, random moves, animations, names."""

import json
import os

import numpy as np
import pytest
from conftest import assert_one_line_error, rgb_residual_model, run_script
from PIL import Image

from cnn_note.backend import keras, tf
from cnn_note.cli import deep_dream, visualize_filters
from cnn_note.core import autodiff, inputs, loading, networks
from cnn_note.core.views import View
from cnn_note.optvis import ascent, fourier, objectives, parameterisation, render, transforms


def relu_model(silent: int = 3, margin: float = 0.4) -> keras.Model:
    """A small RGB classifier whose first `silent` conv filters are 0 everywhere on a grey picture, as some filters of a
    trained network are: their bias is below what grey gives, though other pictures can still light them up."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    y = keras.layers.Conv2D(8, 3, padding="same", name="lin")(x)
    y = keras.layers.ReLU(6.0, name="relu6")(y)
    z = keras.layers.Activation("relu", name="act")(keras.layers.Conv2D(4, 3, name="pre")(y))
    scores = keras.layers.Dense(3, activation="softmax", name="out")(keras.layers.GlobalAveragePooling2D()(z))
    model = keras.Model(inputs, scores)
    kernel, bias = model.get_layer("conv").get_weights()
    bias[:silent] = -0.5 * kernel[..., :silent].sum(axis=(0, 1, 2)) - margin  # grey gives -margin; the best picture far more
    model.get_layer("conv").set_weights([kernel, bias])
    return model


def test_the_value_before_the_relu_for_relu_convs_relu_layers_and_relu_activations():
    model = relu_model(silent=0)
    view = View.of(model)
    x = np.random.default_rng(0).random((2, 12, 12, 3)).astype("float32")
    for name in ("conv", "relu6", "act"):
        before, after = np.asarray(view.before_relu(name)(x)), np.asarray(view.features([name])(x))
        np.testing.assert_allclose(np.clip(before, 0, 6 if name == "relu6" else None), after, rtol=1e-5, atol=1e-5)
        assert before.min() < 0, name  # really before the ReLU
    assert view.before_relu("lin") is None and view.before_relu("pre") is None
    assert model.get_layer("conv").get_config()["activation"] == "relu"  # the user's layer is not changed


# A 3x3 filter on the pixels wants a fine pattern, which Fourier pictures under random moves reach more slowly.
@pytest.mark.parametrize("param, margin, steps", [("pixels", 0.4, 60), ("fourier", 0.1, 100)])
def test_no_filter_stays_grey_when_ascended_before_the_relu(param, margin, steps):
    view = View.of(relu_model(silent=3, margin=margin))
    settings = ascent.AscentSettings(steps=steps, step_size=0.05, seed=0)
    param = parameterisation.named(param)
    _, after_relu = render.filter_patterns(view, "conv", list(range(8)), 24, settings, param=param)
    assert (after_relu > 0).all(), after_relu  # reported after the ReLU, as ever
    # Ascended after the ReLU instead, a filter silent on the start has no gradient and stays at 0.
    objective = objectives.filter_mean(view, "conv", [0, 1, 2])
    stuck = param.ascend(objective, param.start(3, 24, 24, 3, 0), 24, 24, settings)
    assert (objective(tf.constant(stuck)).numpy() == 0).all()


def test_fourier_pictures_start_near_grey_and_are_never_clipped():
    spectra = fourier.PARAMETERISATION.start(4, 32, 40, 3, seed=0)
    pictures = fourier.PARAMETERISATION.pictures(spectra, 32, 40)
    assert pictures.shape == (4, 32, 40, 3) and abs(pictures.mean() - 0.5) < 0.02 and pictures.std() < 0.05
    loud = fourier.PARAMETERISATION.pictures(spectra * 300, 32, 40)
    assert 0 < loud.min() and loud.max() < 1 and loud.std() > 0.1
    assert np.linalg.norm(fourier.COLOR, axis=0).max() == pytest.approx(1.0)
    scale = fourier.spectrum_scale(32, 40)
    assert scale.shape == (32, 21) and scale[0, 0] == scale.max() and scale[0, 1] > scale[16, 20]  # 1/f: coarse first


def test_moves_keep_a_picture_still_when_zero_and_repeat_with_the_seed():
    images = np.random.default_rng(0).random((3, 20, 20, 3)).astype("float32")
    still = transforms.moved(tf.constant(images), transforms.Moves(0, 0, 0.0, 0.0), transforms.draws(3, 0, range(1))[0]).numpy()
    np.testing.assert_allclose(still, images, atol=1e-5)
    drawn = transforms.draws(3, 1, range(2, 3))[0]
    np.testing.assert_array_equal(drawn, transforms.draws(3, 1, range(4))[2])  # step 2's numbers, whichever call draws them
    first, again = (transforms.moved(tf.constant(images), transforms.LUCID, drawn).numpy() for _ in range(2))
    np.testing.assert_array_equal(first, again)
    assert first.shape == (3, 32, 32, 3)  # padded 12, half of it cropped again
    other = transforms.moved(tf.constant(images), transforms.LUCID, transforms.draws(3, 1, range(3, 4))[0]).numpy()
    assert not np.allclose(first, other) and not np.allclose(first[0], first[1])  # each picture its own move


def test_fourier_ascent_raises_filters_and_classes_and_keeps_pixels_unclipped():
    view = View.of(rgb_residual_model())
    settings = ascent.AscentSettings(steps=40, seed=0)
    objective = objectives.filter_mean(view, "add", [0, 3, 5], before_relu=True)
    param = fourier.PARAMETERISATION
    starts = param.start(3, 32, 32, 3, 0)
    before = objective(tf.constant(param.pictures(starts, 32, 32))).numpy()
    after = objective(tf.constant(param.ascend(objective, starts, 32, 32, settings))).numpy()
    assert np.all(after > before)
    images, confidence = render.class_patterns(view, [0, 2, 4], 32, settings, param=param)
    assert images.shape == (3, 32, 32, 3) and 0 < images.min() and images.max() < 1
    baseline = view.probabilities(param.pictures(param.start(1, 32, 32, 3, 0), 32, 32))[0]
    assert np.all(confidence > baseline[[0, 2, 4]])


@pytest.mark.slow
def test_an_animation_shows_the_same_ascent_as_the_picture(tmp_path, random_cnn_file, tiny_npz):
    plain = visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--layer", "conv1", "--filters", "0-3",
                                    "--steps", "20", "--out-dir", str(tmp_path / "plain")])
    animated = visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--layer", "conv1", "--filters", "0-3",
                                       "--steps", "20", "--gif", "--out-dir", str(tmp_path / "gif")])
    np.testing.assert_array_equal(plain["conv1_images"], animated["conv1_images"])  # frames every step change nothing
    gif = Image.open(tmp_path / "gif" / "conv1.gif")
    assert gif.n_frames == 21 and gif.size[0] > 4 * 28 and not (tmp_path / "plain" / "conv1.gif").exists()
    gif.seek(gif.n_frames - 1)
    last = np.asarray(gif.convert("L"), dtype=float)
    expected = np.round(animated["conv1_images"][0] * 255)  # the first tile, enlarged 2x, below and right of a 2-pixel gap
    np.testing.assert_allclose(last[2:2 + 56:2, 2:2 + 56:2], expected, atol=1)


def test_a_dream_animation_goes_through_every_octave(tmp_path):
    path = tmp_path / "rgb.keras"
    rgb_residual_model().save(path)
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    deep_dream.main(["--model", str(path), "--image", str(tmp_path / "photo.png"), "--layers", "add=1", "--steps", "10",
                     "--octaves", "3", "--gif", "--out-dir", str(tmp_path / "out")])
    gif = Image.open(tmp_path / "out" / "photo.gif")
    assert gif.size == (2 * 90 + 4, 2 * 60 + 4) and gif.n_frames == 32  # the start, one a step (30 in all), the final picture


def test_class_names_title_the_class_pictures(tmp_path, random_cnn_file, tiny_npz, monkeypatch):
    import matplotlib.pyplot as plt

    from cnn_note.plots import figures

    titles = []
    monkeypatch.setattr(figures, "image_grid", lambda images, labels, *rest, **style: titles.append(labels) or plt.figure())
    names = ",".join(f"digit {k}" for k in range(10))
    visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--layer", "conv1", "--filters", "0", "--steps", "2",
                            "--class-names", names, "--out-dir", str(tmp_path)])
    assert titles[-1][0].startswith("digit 0: ") and titles[-1][19].startswith("digit 9: ")
    with pytest.raises(SystemExit) as stop:
        visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--class-names", "a,b", "--out-dir", str(tmp_path)])
    assert stop.value.code == 2


def test_networks_by_name_use_imagenets_names_when_keras_has_them_cached(tmp_path, monkeypatch):
    monkeypatch.setattr(networks, "WEIGHTS", None)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    view = loading.network("mobilenet_v2")
    assert inputs.class_names(view)[:2] == ["0", "1"]  # nothing cached: numbers, no error, no download
    os.makedirs(tmp_path / "models")
    (tmp_path / "models" / "imagenet_class_index.json").write_text(json.dumps({str(k): [f"n{k}", f"name{k}"] for k in range(1000)}))
    assert inputs.class_names(view)[:2] == ["name0", "name1"] and len(inputs.class_names(view)) == 1000


def test_a_photo_taken_sideways_is_read_the_right_way_up(tmp_path):
    from cnn_note.io import imaging

    picture = Image.new("RGB", (60, 40), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 60, 10))  # blue along the top of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    picture.save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    image, _ = imaging.load_image(str(tmp_path / "phone.jpg"), channels=3)
    assert image.shape == (60, 40, 3)
    assert image[:, -5:, 2].mean() > 0.8 and image[:, :5, 0].mean() > 0.8  # the top went to the right


@pytest.mark.slow
def test_a_picture_too_large_to_open_safely_is_one_line(tmp_path, random_cnn_file):
    Image.new("1", (16000, 16000)).save(tmp_path / "huge.png")
    done = run_script("deep_dream.py", "--model", random_cnn_file, "--image", str(tmp_path / "huge.png"),
                      "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "huge.png has more pixels than Pillow opens safely", "shrink it")
    assert not os.listdir(tmp_path / "out")


def test_a_layer_named_twice_in_layers_is_one_line(random_cnn_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        deep_dream.main(["--model", random_cnn_file, "--layers", "conv1=1,conv1=2", "--out-dir", str(tmp_path)])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "names conv1 twice")


def test_the_readmes_input_range_form_is_accepted():
    args = visualize_filters.parse_args(["--model", "m.keras", "--input-range", "-1,1"])
    assert args.input_range == (-1.0, 1.0)


@pytest.mark.slow
def test_output_to_a_pipe_is_plain_lines_without_retracing_warnings(tmp_path):
    path = tmp_path / "rgb.keras"
    rgb_residual_model().save(path)
    Image.new("RGB", (30, 30), (10, 200, 30)).save(tmp_path / "leaf.png")
    done = run_script("visualize_filters.py", "--model", str(path), "--layer", "stem,bn,relu,sep,add,deep", "--filters", "0-2",
                      "--size", "24", "--steps", "3", "--image", str(tmp_path / "leaf.png"), "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout and "\r" not in done.stdout and "6 filters" not in done.stdout
    assert "retracing" not in done.stderr and "Traceback" not in done.stderr


def test_the_moves_resample_as_keras_does_and_their_gradient_is_the_exact_adjoint():
    rng = np.random.default_rng(4)
    images = rng.random((2, 9, 11, 3)).astype("float32")
    transform = np.array([[0.96, -0.17, 1.3, 0.17, 0.96, -2.2, 0, 0], [1.1, 0.05, -0.4, -0.05, 0.9, 3.7, 0, 0]], "float32")
    ours = keras.ops.convert_to_numpy(transforms.resample(images, transform, 0.5))
    keras_own = keras.ops.convert_to_numpy(keras.ops.image.affine_transform(images, transform, fill_value=0.5,
                                                                            data_format="channels_last"))
    np.testing.assert_allclose(ours, keras_own, atol=1e-6)
    # Resampling is linear in the pixels, so bumping one pixel by 1 changes sum(w * resample(x)) by exactly its derivative.
    # (TensorFlow's own op resamples the gradient through the inverse transform instead: off by 10x at some pixels.)
    weights = rng.standard_normal(ours.shape).astype("float32")
    _, grads = autodiff.gradient_of(lambda x: keras.ops.sum(transforms.resample(x, transform, 0.5) * weights, axis=(1, 2, 3)))(images)
    for at in [(0, 4, 5, 1), (1, 0, 10, 2), (0, 8, 0, 0), (1, 3, 3, 1)]:
        bumped = images.copy()
        bumped[at] += 1.0
        change = keras.ops.convert_to_numpy(transforms.resample(bumped, transform, 0.5)) - ours
        assert grads[at] == pytest.approx(float((change * weights)[at[0]].sum()), rel=1e-4, abs=1e-5)
