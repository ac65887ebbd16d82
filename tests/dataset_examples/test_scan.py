"""Dataset examples: the inputs that excite each filter most and least, found at the right place, seen through the right field."""

import importlib
import os

import numpy as np
import pytest
from conftest import assert_one_line_error, rgb_residual_model
from PIL import Image

import cnn_note as cn
from cnn_note import api, dataset_examples
from cnn_note.backend import keras, tf
from cnn_note.cli import visualize_filters
from cnn_note.core.views import View
from cnn_note.note import models
from cnn_note.optvis import objectives
from cnn_note.plots import figures

CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], "float32")


def pattern_model():
    """One linear 3x3 filter: the cross, made zero-sum, so the inverted cross scores exactly minus it."""
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, name="cross", use_bias=False)
    model = keras.Model(inputs, conv(inputs))
    conv.kernel.assign((CROSS - CROSS.mean())[..., None, None])
    return model


def test_the_top_example_holds_the_pattern_at_its_place_and_the_bottom_one_its_inverse():
    rng = np.random.default_rng(0)
    images = (0.3 + 0.1 * rng.random((40, 12, 12, 1))).astype("float32")
    images[17, 5:8, 2:5, 0] = CROSS  # unit (5, 2) sees rows 5-7, columns 2-4
    images[31, 1:4, 8:11, 0] = 1 - CROSS
    view = View.of(pattern_model())
    found = dataset_examples.find(view, {"cross": [0]}, dataset_examples.from_array(images, 1, "test"), 2)["cross"]
    assert found.top[0, 0] == 17 and tuple(found.top_positions[0, 0]) == (5, 2)
    assert found.bottom[0, 0] == 31 and tuple(found.bottom_positions[0, 0]) == (1, 8)
    np.testing.assert_allclose(found.top_activations[0, 0], (CROSS * (CROSS - CROSS.mean())).sum(), rtol=1e-5)
    np.testing.assert_allclose(found.bottom_activations[0, 0], -found.top_activations[0, 0], rtol=1e-5)
    assert found.field == (3, 3)
    np.testing.assert_array_equal(found.top_pictures[0][0][..., 0], CROSS)
    np.testing.assert_array_equal(found.bottom_pictures[0][0][..., 0], 1 - CROSS)


def test_the_notes_cnn_sees_3x3_at_conv1_and_8x8_at_conv2():
    view = View.of(models.build_cnn())
    conv1 = dataset_examples.receptive_field(view, "conv1", 28, 28)
    assert (conv1.height, conv1.width, conv1.rows, conv1.cols) == (3, 3, 26, 26)
    field = dataset_examples.receptive_field(view, "conv2", 28, 28)
    assert (field.height, field.width, field.step_y, field.rows) == (8, 8, 2, 11)
    assert field.box(3, 4) == field.nominal(3, 4) == (6, 8, 14, 16)


def strided_model():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(3, 3, strides=2, padding="same", name="a")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(3, 3, padding="same", name="b")(x)
    # Dilated over a layer whose units see wider than the dilation: the field is a solid box (right over "pool" it
    # would have holes, which the box, the smallest one holding every pixel, does not show).
    x = keras.layers.Conv2D(3, 3, dilation_rate=2, padding="same", name="dilated")(x)
    x = keras.layers.AveragePooling2D(3, strides=1, padding="same", name="avg")(x)
    y = keras.layers.Conv2D(3, 5, padding="same", name="c")(x)
    return keras.Model(inputs, keras.layers.Add(name="sum")([x, y]))


def separable_model():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(inputs)
    x = keras.layers.DepthwiseConv2D(3, strides=(1, 2), name="depth")(x)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    x = keras.layers.Cropping2D(((1, 0), (0, 1)), name="crop")(x)
    return keras.Model(inputs, keras.layers.SeparableConv2D(2, 3, strides=2, padding="same", name="sep")(x))


@pytest.mark.parametrize("make, layer", [(strided_model, "a"), (strided_model, "dilated"), (strided_model, "avg"), (strided_model, "sum"),
                                         (separable_model, "depth"), (separable_model, "sep")])
@pytest.mark.parametrize("size", [(23, 21), (16, 16)])
def test_the_field_is_where_the_units_gradient_reaches(make, layer, size):
    keras.utils.set_random_seed(0)
    model = make()
    view = View.of(model)
    field = dataset_examples.receptive_field(view, layer, *size)
    outputs = view.features([layer])
    rng = np.random.default_rng(1)
    # Max pooling passes one pixel and a ReLU none below 0: inputs of either sign, many of them, reach every pixel.
    x = tf.constant(rng.standard_normal((24, *size, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        maps = outputs(x)
    assert (field.rows, field.cols) == tuple(maps.shape[1:3])
    for row, col in {(0, 0), (field.rows - 1, field.cols - 1), (field.rows // 2, field.cols // 3)}:
        with tf.GradientTape() as tape:
            tape.watch(x)
            unit = tf.reduce_sum(outputs(x)[:, row, col, :])
        reached = np.abs(tape.gradient(unit, x).numpy()).sum(axis=(0, 3)) > 0
        expected = np.zeros(size, bool)
        top, left, bottom, right = field.box(row, col)
        expected[max(top, 0):bottom, max(left, 0):right] = True
        np.testing.assert_array_equal(reached, expected, err_msg=f"{layer} unit {(row, col)}: field {field}")


def test_a_layer_whose_field_cannot_be_told_is_shown_whole_with_its_spot():
    inputs = keras.Input((None, None, 1))
    x = keras.layers.UpSampling2D(2, name="up")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="after")(x))
    view = View.of(model)
    assert dataset_examples.receptive_field(view, "after", 10, 10) is None
    images = np.random.default_rng(0).random((5, 10, 10, 1)).astype("float32")
    found = dataset_examples.find(view, {"after": [0, 1]}, dataset_examples.from_array(images, 1, "test"), 2)["after"]
    assert found.whole and found.field is None and found.top_pictures[0][0].shape == (10, 10, 1)
    top, left, bottom, right = found.boxes[0][0]
    y, x = found.top_positions[0, 0]
    assert (top, left) == (y * 10 // 18, x * 10 // 18) and bottom > top and right > left


def test_the_running_top_and_bottom_equal_a_full_sort(monkeypatch):
    keras.utils.set_random_seed(0)
    model = models.build_cnn()
    view = View.of(model)
    images = np.random.default_rng(2).random((300, 28, 28, 1)).astype("float32")
    images[::7] = images[3]  # ties: the earlier input comes first
    # the module (the package's `scan` is its function); batches of 37: the running top and bottom merge across them
    monkeypatch.setattr(importlib.import_module("cnn_note.dataset_examples.scan"), "MAX_BATCH", 37)
    chosen = {"conv1": [0, 4, 9], "conv2": list(range(50))}
    found = dataset_examples.find(view, chosen, dataset_examples.from_array(images, 1, "test"), 5)
    outputs = view.responses(list(chosen))(images)
    for (layer, filters), maps in zip(chosen.items(), outputs):
        flat = np.asarray(maps)[..., filters].reshape(len(images), -1, len(filters))
        for sign, indices, values, positions in ((1, found[layer].top, found[layer].top_activations, found[layer].top_positions),
                                                 (-1, found[layer].bottom, found[layer].bottom_activations,
                                                  found[layer].bottom_positions)):
            best = (sign * flat).max(axis=1)  # (N, F)
            for f in range(len(filters)):
                order = np.lexsort((np.arange(len(images)), -best[:, f]))[:5]
                np.testing.assert_array_equal(indices[f], order)
                np.testing.assert_allclose(values[f], sign * best[order, f], rtol=1e-6)
                where = (sign * flat[order, :, f]).argmax(axis=1)
                np.testing.assert_array_equal(positions[f], np.stack([where // maps.shape[2], where % maps.shape[2]], axis=1))
        scores = np.asarray(objectives.mean_score(np.moveaxis(np.asarray(maps)[..., filters], -1, 1).reshape(-1, *maps.shape[1:3])))
        np.testing.assert_allclose(found[layer].best_mean, scores.reshape(len(images), -1).max(axis=0), rtol=1e-6)


def photos(folder, count=6, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for index in range(count):
        size = (40 + 7 * index, 50) if index % 2 else (50, 40)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"photo_{index}.png")
    return folder


@pytest.mark.slow
def test_a_colour_model_ranks_a_folder_of_photos_and_skips_what_is_not_a_picture(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    rgb_residual_model().save(tmp_path / "rgb.keras")
    folder = photos(tmp_path / "photos")
    (folder / "notes.txt").write_text("not a picture")
    args = ["--model", str(tmp_path / "rgb.keras"), "--layer", "stem,deep", "--filters", "0-2", "--steps", "5", "--size", "24",
            "--image", str(folder / "photo_0.png"), "--examples", "2", "--examples-from", str(folder)]
    visualize_filters.main([*args, "--out-dir", str(tmp_path / "crops")])
    printed = capsys.readouterr().out
    assert "examples: 1 of 7 files" in printed and "skipped" in printed
    saved = np.load(tmp_path / "crops" / "examples.npz")
    assert list(saved["inputs"]) == [f"photo_{index}.png" for index in range(6)]
    assert tuple(saved["stem_field"]) == (3, 3) and tuple(saved["deep_field"]) == (7, 7)
    assert set(saved["stem_top"].ravel()) <= set(range(6))
    found = cn.filter_pictures(tmp_path / "rgb.keras", "deep", [0, 1, 2], size=24, steps=5, examples=2, examples_from=str(folder),
                               examples_whole=True, progress=False)
    np.testing.assert_array_equal(found.examples.top, saved["deep_top"])
    np.testing.assert_allclose(found.examples.top_activations, saved["deep_top_activations"], rtol=1e-6)
    assert found.examples.whole and found.examples.top_pictures[0][0].shape[2] == 3
    def red_boxes(examples) -> int:
        sheet = figures.examples_sheet("deep", found.filters, found.images, found.optimised, examples)
        return int(((sheet[..., 0] == 220) & (sheet[..., 1] == 0) & (sheet[..., 2] == 0)).sum())

    assert red_boxes(found.examples) > 100  # the whole photos have their units' fields boxed
    cropped = cn.filter_pictures(tmp_path / "rgb.keras", "deep", [0, 1, 2], size=24, steps=5, examples=2, examples_from=str(folder),
                                 progress=False)
    assert not cropped.examples.whole and red_boxes(cropped.examples) == 0
    assert cn.plot(found).axes[0].images
    visualize_filters.main([*args, "--examples-whole", "--out-dir", str(tmp_path / "whole")])
    assert (tmp_path / "whole" / "deep_examples.png").stat().st_size > 10_000


@pytest.mark.slow
def test_a_colour_model_without_pictures_gets_the_filter_pictures_and_one_line(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    rgb_residual_model().save(tmp_path / "rgb.keras")
    Image.new("RGB", (30, 30)).save(tmp_path / "p.png")
    visualize_filters.main(["--model", str(tmp_path / "rgb.keras"), "--layer", "stem", "--filters", "0", "--steps", "3", "--size", "24",
                            "--image", str(tmp_path / "p.png"), "--out-dir", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "examples: none for a colour model" in printed and "--examples-from" in printed
    assert (tmp_path / "out" / "stem.png").exists() and not (tmp_path / "out" / "stem_examples.png").exists()


@pytest.mark.slow
def test_an_npz_of_images_works_and_one_of_the_wrong_channels_is_refused(random_cnn_file, tiny_npz, tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "digits.npz", images=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8))
    visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--layer", "conv1", "--filters", "0-1", "--steps", "3",
                            "--examples", "3", "--examples-from", str(tmp_path / "digits.npz"), "--out-dir", str(tmp_path / "out")])
    # The saved examples are the npz's own pictures: indices into it, activations the layer's output on them.
    pictures = np.load(tmp_path / "digits.npz")["images"][..., None] / 255.0
    check_against_the_layer(np.load(tmp_path / "out" / "examples.npz"), "conv1", keras.models.load_model(random_cnn_file),
                            list(pictures), 3)
    found = cn.filter_pictures(random_cnn_file, "conv1", [0, 1], steps=3, examples=3, examples_from=str(tmp_path / "digits.npz"),
                               progress=False).examples
    for row in range(2):  # each crop is the 3x3 of the npz's own picture that its unit sees
        for index, (y, x), picture in zip(found.top[row], found.top_positions[row], found.top_pictures[row]):
            np.testing.assert_allclose(picture, pictures[index][y:y + 3, x:x + 3], rtol=1e-6)
    np.savez(tmp_path / "colour.npz", images=rng.random((5, 28, 28, 3)))
    with pytest.raises(SystemExit) as stop:
        visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--examples-from", str(tmp_path / "colour.npz"),
                                "--out-dir", str(tmp_path / "bad")])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "colour.npz holds pictures of shape (5, 28, 28, 3)", "1-channel")


@pytest.mark.parametrize("args, words", [
    (["--examples", "-1"], ["--examples", "at least 0"]),
    (["--examples", "25"], ["--examples 25 is more than the 20 inputs"]),
    (["--examples-from", "missing_folder"], ["missing_folder not found"]),
    (["--examples-from", "EMPTY"], ["holds no picture", "0 files"]),
    (["--examples-from", "TEXTS"], ["holds no picture", "2 files"]),
])
def test_bad_examples_flags_are_one_line_and_write_nothing(args, words, random_cnn_file, tiny_npz, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "texts").mkdir()
    for name in ("a.txt", "b.jpg"):
        (tmp_path / "texts" / name).write_text("words")
    args = [arg.replace("EMPTY", str(tmp_path / "empty")).replace("TEXTS", str(tmp_path / "texts")) for arg in args]
    with pytest.raises(SystemExit) as stop:
        visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--out-dir", str(tmp_path / "out"), *args])
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *words)
    assert not os.path.exists(tmp_path / "out") or not os.listdir(tmp_path / "out")


def direct(model, layer, picture):
    """The layer's output for one picture, straight from Keras, in inference mode: (h, w, channels)."""
    x = picture[None].astype("float32")
    if isinstance(model, keras.Sequential):  # a loaded Sequential model has no symbolic input: its layers in turn
        for each in model.layers:
            x = each(x, training=False)
            if each.name == layer:
                return np.asarray(x)[0]
    return keras.Model(model.input, model.get_layer(layer).output)(x, training=False).numpy()[0]


def check_against_the_layer(saved, layer, model, pictures, count, outputs=None):
    """examples.npz's (or Examples.arrays()') top and bottom for `layer` against its output computed directly on every input:
    each saved activation is the output at the saved input and place, and is that input's strongest (weakest) unit; the
    inputs are the `count` highest (lowest) of all, ties to the earlier."""
    outputs = outputs or [direct(model, layer, picture) for picture in pictures]
    for row, f in enumerate(saved[f"{layer}_filters"]):
        for end, pick in (("top", np.max), ("bottom", np.min)):
            indices, values = saved[f"{layer}_{end}"][row], saved[f"{layer}_{end}_activations"][row]
            positions = saved[f"{layer}_{end}_positions"][row]
            assert ((0 <= indices) & (indices < len(pictures))).all()
            for index, (y, x), value in zip(indices, positions, values):
                np.testing.assert_allclose(value, outputs[index][y, x, f], rtol=1e-5, atol=1e-6)
                np.testing.assert_allclose(value, pick(outputs[index][..., f]), rtol=1e-5, atol=1e-6)
            best = np.array([pick(out[..., f]) for out in outputs]) * (1 if end == "top" else -1)
            np.testing.assert_array_equal(indices, np.lexsort((np.arange(len(best)), -best))[:count])


def test_examples_from_a_folder_are_the_layers_output_on_those_photos(tmp_path):
    keras.utils.set_random_seed(0)
    model = rgb_residual_model()
    folder = photos(tmp_path / "photos")
    read = [np.asarray(Image.open(folder / f"photo_{index}.png"), dtype="float32") / 255 for index in range(6)]
    found = dataset_examples.find(View.of(model), {"stem": [0, 1, 2]}, dataset_examples.from_path(str(folder), 3, None), 3)
    check_against_the_layer(found["stem"].arrays(), "stem", model, read, 3)
    stem = found["stem"]
    for row in range(3):  # "same" padding: a unit at the edge sees grey beyond it
        for index, (y, x), picture in zip(stem.top[row], stem.top_positions[row], stem.top_pictures[row]):
            padded = np.pad(read[index], ((1, 1), (1, 1), (0, 0)), constant_values=0.5)
            np.testing.assert_allclose(picture, padded[y:y + 3, x:x + 3], rtol=1e-6)


def relu_cross_model():
    """One 3x3 convolution with a ReLU, its kernel the zero-sum cross, no bias."""
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, activation="relu", use_bias=False, name="cross")
    model = keras.Model(inputs, conv(inputs))
    conv.kernel.assign((CROSS - CROSS.mean())[..., None, None])
    return model


def linear_cross(picture):
    """The cross kernel's valid convolution (no ReLU) by numpy: (h, w)."""
    windows = np.lib.stride_tricks.sliding_window_view(picture[..., 0].astype("float64"), (3, 3))
    return (windows * (CROSS - CROSS.mean())).sum(axis=(-2, -1))


def test_a_relu_layer_is_ranked_before_its_relu_its_bottom_examples_negative(tmp_path):
    images = np.random.default_rng(4).integers(0, 256, (25, 9, 11), dtype=np.uint8)
    np.savez(tmp_path / "pictures.npz", images=images)
    pixels = images[..., None] / 255.0
    model = relu_cross_model()
    found = dataset_examples.ranked(api.view_of(model), {"cross": [0]}, 4, str(tmp_path / "pictures.npz"), progress=False)["cross"]
    assert (found.bottom_activations < 0).all() and (found.top_activations > 0).all()
    check_against_the_layer(found.arrays(), "cross", model, list(pixels), 4,
                            outputs=[linear_cross(picture)[..., None] for picture in pixels])
    # After the ReLU every bottom would be 0: the layer's own output is not what is ranked.
    assert np.all(direct(model, "cross", pixels[found.bottom[0, 0]]) >= 0)


CHECKER = np.array([[1, -1, 1], [-1, 1, -1], [1, -1, 1]], "float32")


def test_pictures_over_512_pixels_are_ranked_on_a_512_copy_and_whole_examples_kept_at_128(tmp_path):
    """A 1024x768 picture whose 1-pixel checkerboard fires a checkerboard filter at 5 at full size; its 512x384 copy
    (2x2 block means, computed here with numpy) turns the checkerboard into flat grey, where the filter gives 0.5. The
    activation saved for it must be the copy's strongest unit (and its place a place in the copy's map), not 5."""
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, use_bias=False, name="checker")
    model = keras.Model(inputs, conv(inputs))
    conv.kernel.assign(CHECKER[..., None, None])
    folder = tmp_path / "pictures"
    folder.mkdir()
    big = np.zeros((768, 1024), np.uint8)
    big[100:300, 200:600] = 255 * (np.add.outer(np.arange(200), np.arange(400)) % 2 == 0)
    big[500:700, 700:900] = 160
    Image.fromarray(big).save(folder / "a_big.png")
    rng = np.random.default_rng(0)
    for index in range(3):
        Image.fromarray(rng.integers(60, 200, (30, 40), dtype=np.uint8)).save(folder / f"small_{index}.png")
    copy = (big.astype("float64") / 255).reshape(384, 2, 512, 2).mean(axis=(1, 3))
    full = (np.lib.stride_tricks.sliding_window_view(big / 255.0, (3, 3)) * CHECKER).sum(axis=(-2, -1))
    scanned = (np.lib.stride_tricks.sliding_window_view(copy, (3, 3)) * CHECKER).sum(axis=(-2, -1))
    assert full.max() == 5 and abs(scanned.max() - full.max()) > 1  # the two differ: the check can tell them apart
    found = dataset_examples.ranked(api.view_of(model), {"checker": [0]}, 4, str(folder), whole=True, progress=False)["checker"]
    slot = list(found.top[0]).index(0)  # a_big.png sorts first
    y, x = found.top_positions[0, slot]
    assert y < scanned.shape[0] and x < scanned.shape[1]
    np.testing.assert_allclose(found.top_activations[0, slot], scanned[y, x], rtol=1e-5)
    np.testing.assert_allclose(found.top_activations[0, slot], scanned.max(), rtol=1e-5)
    # Whole inputs are kept at most 128 pixels a side: the big one at 128x96, its unit's box scaled with it.
    picture = found.top_pictures[0][slot]
    assert picture.shape == (96, 128, 1)
    top, left, bottom, right = found.boxes[0][slot]
    assert (top, left, bottom, right) == (round(y / 4), round(x / 4), round((y + 3) / 4), round((x + 3) / 4))
    small = [found.top_pictures[0][k] for k in range(4) if found.top[0, k] != 0]
    assert all(p.shape == (30, 40, 1) for p in small)  # smaller pictures are kept as they are


def test_an_npz_of_pictures_over_512_pixels_is_ranked_on_the_512_copy_too(tmp_path):
    """As the folder above: an .npz of 1024x768 pictures is scanned on 512x384 copies (2x2 block means here)."""
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, use_bias=False, name="checker")
    model = keras.Model(inputs, conv(inputs))
    conv.kernel.assign(CHECKER[..., None, None])
    big = np.full((2, 768, 1024), 100, np.uint8)
    big[0, 100:300, 200:600] = 255 * (np.add.outer(np.arange(200), np.arange(400)) % 2 == 0)
    np.savez(tmp_path / "big.npz", images=big)
    copy = (big[0].astype("float64") / 255).reshape(384, 2, 512, 2).mean(axis=(1, 3))
    scanned = (np.lib.stride_tricks.sliding_window_view(copy, (3, 3)) * CHECKER).sum(axis=(-2, -1))
    found = dataset_examples.ranked(api.view_of(model), {"checker": [0]}, 1, str(tmp_path / "big.npz"), progress=False)["checker"]
    y, x = found.top_positions[0, 0]
    assert found.top[0, 0] == 0 and y < scanned.shape[0] and x < scanned.shape[1]
    np.testing.assert_allclose(found.top_activations[0, 0], scanned.max(), rtol=1e-5)


def test_scans_of_shards_merge_into_the_scan_of_all_the_inputs(monkeypatch):
    """The atlas's Ray shards: each shard's top and bottom N per unit, merged, are the whole set's, to the last bit."""
    monkeypatch.setattr(dataset_examples, "SHARD", 8)  # batches break at every 8th input, as shards of 8 do
    keras.utils.set_random_seed(2)
    view = View.of(models.build_cnn(), "cnn")
    pictures = np.random.default_rng(3).random((30, 28, 28, 1)).astype("float32")
    source = dataset_examples.from_array(pictures, 1, "noise")
    chosen = {"conv1": [0, 5, 7], "conv2": list(range(12))}
    whole, sizes = dataset_examples.scan(view, chosen, source.pictures(), 4)
    parts = [dataset_examples.scan(view, chosen, source.pictures(first, first + 8), 4) for first in range(0, 30, 8)]
    merged, merged_sizes = dataset_examples.merged(parts)
    assert merged_sizes == sizes
    for layer in chosen:
        for one, other in zip(whole[layer], merged[layer]):
            for a, b in zip(one.result(), other.result()):
                np.testing.assert_array_equal(a, b)
    assert parts[-1][0]["conv1"][0].result()[0].min() >= 24  # a shard alone holds only its own inputs
