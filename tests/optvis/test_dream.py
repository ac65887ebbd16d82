"""deep_dream.py: octaves, any image size, picture files, and its clean failures."""

import numpy as np
import pytest
from conftest import assert_one_line_error, run_script
from PIL import Image

from cnn_note.backend import keras
from cnn_note.cli import deep_dream
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.io import imaging
from cnn_note.note import models
from cnn_note.optvis import ascent, dream


def test_octave_shapes_grow_to_the_original_size():
    assert dream.octave_shapes(28, 28, 3, 1.4) == [(14, 14), (20, 20), (28, 28)]
    assert dream.octave_shapes(300, 200, 2, 2.0) == [(150, 100), (300, 200)]
    assert dream.octave_shapes(50, 40, 1, 1.4) == [(50, 40)]


def test_default_layers_weight_deeper_ones_more():
    cnn = View.of(models.build_cnn())
    assert dream.parse_layers(None, cnn) == {"conv1": 1.0, "conv2": 2.0}
    assert dream.parse_layers("conv2=0.5,conv1", cnn) == {"conv2": 0.5, "conv1": 1.0}
    assert dream.parse_layers("pool1=1", cnn) == {"pool1": 1.0}  # any layer with a 4-D output
    with pytest.raises(InputError, match="conv1, conv2"):
        dream.parse_layers("nope=1", cnn)
    with pytest.raises(InputError, match="not a number"):
        dream.parse_layers("conv1=x", cnn)
    for weight in ("nan", "inf", "1e308", "-1e7"):
        with pytest.raises(InputError, match="finite number between"):
            dream.parse_layers(f"conv1={weight}", cnn)


@pytest.mark.parametrize("shape", [(45, 31), (300, 420)])
def test_non_square_and_large_images_keep_their_size_and_gain_loss(shape):
    keras.utils.set_random_seed(0)
    cnn = View.of(models.build_cnn())
    weights = {"conv1": 1.0, "conv2": 2.0}
    images = np.random.default_rng(0).random((1, *shape, 1)).astype("float32")
    logs = []
    out = dream.ascend_octaves(cnn, images, weights, octaves=2, scale=1.4,
                               settings=ascent.AscentSettings(steps=4, step_size=0.02, jitter=0, blur=0.0), log=logs.append)
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 1
    assert len(logs) == 2 and f"{shape[0]}x{shape[1]}" in logs[-1]
    before, after = (float(part.split()[0]) for part in logs[-1].split("loss ")[1].split(" -> "))
    assert after > before


def test_too_small_image_names_the_smallest_size_that_works():
    dream.check_size(15, 15, 3, 1.4, 8)  # its smallest octave is 8x8
    with pytest.raises(InputError, match="at least 15 pixels"):
        dream.check_size(14, 40, 3, 1.4, 8)


def test_pictures_come_in_the_models_colours_at_their_own_size(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (50, 30), (255, 0, 0)).save(path)
    image, note = imaging.load_image(str(path), channels=1)
    assert image.shape == (30, 50, 1) and note is None
    assert image.mean() == pytest.approx(0.299, abs=0.01)  # Pillow's luma weight of red
    colour, _ = imaging.load_image(str(path), channels=3)
    assert colour.shape == (30, 50, 3) and colour[..., 0].mean() > 0.95 and colour[..., 1:].max() < 0.05
    Image.new("L", (3000, 1500), 128).save(tmp_path / "huge.png")
    grey_to_rgb, note = imaging.load_image(str(tmp_path / "huge.png"), channels=3)
    assert grey_to_rgb.shape == (1500, 3000, 3) and note is None and np.allclose(grey_to_rgb, 128 / 255)
    image, note = imaging.load_image(str(tmp_path / "huge.png"), channels=1, max_side=1024)
    assert image.shape == (512, 1024, 1) and "shrunk to 1024x512" in note


def test_a_16_bit_greyscale_png_is_scaled_from_0_to_65535(tmp_path):
    ramp = np.linspace(0, 65535, 40 * 30).reshape(30, 40).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    image, _ = imaging.load_image(str(tmp_path / "deep.png"), channels=1)
    np.testing.assert_allclose(image[..., 0], ramp / 65535.0, atol=1e-6)
    assert image.mean() == pytest.approx(0.5, abs=0.01)  # not 99.6 % white


def test_bad_picture_files(tmp_path):
    with pytest.raises(InputError, match="image not found"):
        imaging.load_image(str(tmp_path / "nope.png"), 1)
    (tmp_path / "text.png").write_text("not a picture")
    with pytest.raises(InputError, match="not an image"):
        imaging.load_image(str(tmp_path / "text.png"), 1)
    Image.new("RGB", (200, 200), (10, 200, 30)).save(tmp_path / "full.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "full.jpg").read_bytes()[:300])
    with pytest.raises(InputError, match="truncated"):
        imaging.load_image(str(tmp_path / "cut.jpg"), 3)


def test_dreams_digits_as_one_batch_and_writes_both_pictures(random_cnn_file, tiny_npz, tmp_path, capsys):
    out = deep_dream.main(["--model", random_cnn_file, "--data", tiny_npz, "--index", "0,3", "--steps", "3", "--out-dir", str(tmp_path)])
    assert sorted(out) == ["digit_0", "digit_3"]
    printed = capsys.readouterr().out
    assert printed.count("octave ") == 3 and "digit_3 (label" in printed and " > " in printed
    for name in ("digit_0.png", "digit_0_dream.png", "digit_3.png", "digit_3_dream.png"):
        assert (tmp_path / name).stat().st_size > 100
    assert Image.open(tmp_path / "digit_0_dream.png").size == (28, 28)


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--image", "missing.png"], ["image not found"]),
        (["--layers", "conv3=1"], ["unknown layer conv3", "conv1, conv2"]),
        (["--steps", "0"], ["--steps"]),
        (["--octaves", "0"], ["--octaves"]),
        (["--octave-scale", "0"], ["--octave-scale"]),
        (["--octave-scale", "0.5"], ["--octave-scale", "at least 1"]),
        (["--octaves", "6"], ["too small", "fewer --octaves"]),
        (["--index", "20"], ["--index 20"]),
        (["--layers", "conv1=nan"], ["weight nan", "finite"]),
        (["--layers", "conv2=1e308"], ["weight 1e308", "finite"]),
        (["--layers", "flatten=1"], ["layer flatten has output", "--list-layers"]),
        (["--tile", "4"], ["--tile 4", "at least 16"]),
        (["--max-side", "0"], ["--max-side"]),
        (["--input-range", "1,0"], ["--input-range", "LOW < HIGH"]),
        (["--model", "alexnet"], ["unknown network alexnet", "inception_v3"]),
    ],
)
def test_bad_flags_fail_in_one_line(random_cnn_file, tiny_npz, tmp_path, capsys, extra, words):
    with pytest.raises(SystemExit) as exit_:
        deep_dream.main(["--model", random_cnn_file, "--data", tiny_npz, "--out-dir", str(tmp_path), *extra])
    assert exit_.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *words)


def test_missing_model_non_image_and_unwritable_output(tiny_npz, tmp_path, random_cnn_file, capsys):
    (tmp_path / "notes.jpg").write_text("hello")
    blocker = tmp_path / "file"
    blocker.write_text("")
    cases = [
        (["--model", str(tmp_path / "none.keras")], ["no trained model", "python train_cnn.py"]),
        (["--model", random_cnn_file, "--image", str(tmp_path / "notes.jpg")], ["not an image"]),
        (["--model", random_cnn_file, "--out-dir", str(blocker / "out")], ["cannot write", "choose another --out-dir"]),
    ]
    for args, words in cases:
        with pytest.raises(SystemExit) as exit_:
            deep_dream.main(["--data", tiny_npz, "--out-dir", str(tmp_path / "out"), *args])
        assert exit_.value.code == 2
        assert_one_line_error(capsys.readouterr().err, *words)


@pytest.mark.slow
def test_dreams_a_real_digit_and_a_colour_jpeg(trained_cnn_file, mnist_path, tmp_path):
    done = run_script("deep_dream.py", "--model", trained_cnn_file, "--data", mnist_path, "--index", "7",
                      "--steps", "10", "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "digit_7 (label 9): predicted" in done.stdout
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (90, 130, 3), dtype=np.uint8)).save(tmp_path / "photo.jpg")
    done = run_script("deep_dream.py", "--model", trained_cnn_file, "--image", str(tmp_path / "photo.jpg"),
                      "--layers", "conv1=1,conv2=2", "--steps", "5", "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "photo_dream.png").size == (130, 90)
    assert (tmp_path / "photo.png").stat().st_size > 1000
