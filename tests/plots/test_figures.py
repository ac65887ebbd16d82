"""Every figure draws what it is given: its axes, titles and numbers, the arrays it shows, and cn.plot's choice of figure."""

import matplotlib
import matplotlib.figure
import numpy as np
import pytest

import cnn_note as cn
from cnn_note.core.heads import Head
from cnn_note.dataset_examples import Examples
from cnn_note.note.training import Run
from cnn_note.plots import figures, plotting
from cnn_note.results import Dream, Explanation, Pictures

matplotlib.use("Agg")  # figures.py draws on Figure objects, never pyplot; nothing here may open a window either


def rng(seed=0):
    return np.random.default_rng(seed)


def shown_array(ax, index=0) -> np.ndarray:
    return np.asarray(ax.images[index].get_array())


def titles(figure) -> list[str]:
    return [ax.get_title() for ax in figure.axes]


def assert_symmetric(image, limit):
    assert image.get_cmap().name == "RdBu_r"
    assert image.get_clim() == pytest.approx((-limit, limit))


# --- shown, grid_columns --------------------------------------------------------------------------------------------

def test_shown_drops_a_grey_pictures_channel_only():
    grey, colour, flat = np.zeros((4, 5, 1)), rng().random((4, 5, 3)), rng().random((4, 5))
    assert figures.shown(grey).shape == (4, 5)
    assert figures.shown(colour) is colour and figures.shown(flat) is flat


@pytest.mark.parametrize("count, columns", [(1, 5), (25, 5), (26, 10), (512, 10)])
def test_grid_columns_are_five_up_to_25_pictures_then_ten(count, columns):
    assert figures.grid_columns(count) == columns


# --- curves, shift_accuracy -----------------------------------------------------------------------------------------

def run(seed, loss, accuracy, test_loss, test_acc, epoch_test=True):
    history = {"loss": loss, "accuracy": accuracy}
    if epoch_test:
        history.update(epoch_test_loss=[value + 0.5 for value in loss], epoch_test_accuracy=[value - 0.1 for value in accuracy])
    return Run(seed, None, history, loss[-1], accuracy[-1], test_loss, test_acc, 1.0, "1,000 test digits")


def test_curves_draw_each_seeds_history_and_its_final_test_scores():
    runs = [run(0, [2.0, 1.0, 0.5], [0.5, 0.7, 0.9], 0.45, 0.91), run(1, [2.5, 1.5, 0.8], [0.4, 0.6, 0.8], 0.75, 0.81, False)]
    figure = figures.curves(runs, "The CNN")
    assert len(figure.axes) == 2
    assert figure.get_suptitle() == "The CNN (2 seeds)\ntest sample: 1,000 test digits"
    for ax, metric, final in zip(figure.axes, ("loss", "accuracy"), ("test_loss", "test_acc")):
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("epoch", metric)
        first, second = runs
        # run 0: train, the epoch tests, the final diamond; run 1 has no epoch tests
        lines = ax.get_lines()
        assert len(lines) == 5
        expected = [first.history[metric], first.history[f"epoch_test_{metric}"], [getattr(first, final)],
                    second.history[metric], [getattr(second, final)]]
        for line, values in zip(lines, expected):
            np.testing.assert_allclose(line.get_ydata(), values)
        np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
        assert list(lines[2].get_xdata()) == [3] and lines[2].get_marker() == "D"
        # A legend entry for each kind of line, once, whatever the seeds
        assert [text.get_text() for text in ax.get_legend().get_texts()] == [
            "train (mean over the epoch)", "test sample (end of epoch)", "test, whole set (final)"]


def test_curves_of_one_seed_say_seed():
    figure = figures.curves([run(0, [1.0, 0.5], [0.6, 0.8], 0.4, 0.85)], "DNN")
    assert figure.get_suptitle().startswith("DNN (1 seed)\n")


def test_shift_accuracy_draws_a_line_a_model():
    accuracies = {"dnn": [0.98, 0.6, 0.3, 0.2], "cnn": [0.99, 0.9, 0.7, 0.5]}
    figure = figures.shift_accuracy(accuracies)
    (ax,) = figure.axes
    assert [line.get_label() for line in ax.get_lines()] == ["DNN", "CNN"]
    for line, values in zip(ax.get_lines(), accuracies.values()):
        np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2, 3])
        np.testing.assert_allclose(line.get_ydata(), values)
    assert list(ax.get_xticks()) == [0, 1, 2, 3]
    assert ax.get_title() == "The same pattern in another place" and ax.get_ylabel() == "test accuracy"


# --- image_grid, feature_maps ---------------------------------------------------------------------------------------

def test_image_grid_shows_each_picture_with_its_title_in_row_major_order():
    images = list(rng(1).random((7, 5, 6, 1)))
    images[4] = None  # a blank cell
    images[5] = rng(2).random((5, 6, 3))  # a colour one among grey ones
    labels = [f"#{k} {k / 10:.2f}" for k in range(7)]
    figure = figures.image_grid(images, labels, "seven", columns=3)
    assert len(figure.axes) == 9 and figure.get_suptitle() == "seven"
    for index, ax in enumerate(figure.axes):
        assert not ax.axison
        if index >= 7 or images[index] is None:
            assert not ax.images and ax.get_title() == ""
            continue
        assert ax.get_title() == labels[index]
        expected = images[index][..., 0] if images[index].shape[-1] == 1 else images[index]
        np.testing.assert_array_equal(shown_array(ax), expected)
        assert ax.images[0].get_cmap().name == "gray"
    # Row-major: picture 3 opens the second row.
    assert figure.axes[3].get_position().y0 < figure.axes[2].get_position().y0
    assert figure.axes[3].get_position().x0 == pytest.approx(figure.axes[0].get_position().x0)


def test_feature_maps_start_each_layer_on_a_new_row():
    image = rng(3).random((6, 6, 1))
    maps = {"conv1": rng(4).random((4, 4, 3)), "conv2": rng(5).random((2, 2, 7))}
    figure = figures.feature_maps(image, maps, "digit 7", columns=5)
    assert len(figure.axes) == 5 * (1 + 1 + 2)
    assert figure.get_suptitle() == "digit 7: input and the layers' outputs (brighter = stronger match)"
    expected = {0: ("input", image[..., 0])}
    expected.update({5 + k: (f"conv1 #{k}", maps["conv1"][..., k]) for k in range(3)})
    expected.update({10 + k: (f"conv2 #{k}", maps["conv2"][..., k]) for k in range(7)})
    for index, ax in enumerate(figure.axes):
        if index not in expected:
            assert not ax.images and ax.get_title() == ""
            continue
        assert ax.get_title() == expected[index][0]
        np.testing.assert_array_equal(shown_array(ax), expected[index][1])
        assert ax.images[0].get_cmap().name == "viridis"


# --- dream ----------------------------------------------------------------------------------------------------------

def test_dream_shows_original_dreamed_and_their_signed_difference():
    original = rng(6).random((8, 10, 3))
    dreamed = np.clip(original + rng(7).normal(scale=0.2, size=original.shape), 0, 1)
    figure = figures.dream_figure(original, dreamed, "conv1=1, conv2=2")
    assert len(figure.axes) == 4  # three panels and the difference's colour bar
    panels = figure.axes[:3]
    assert titles(figure)[:3] == ["original", "dreamed", "difference (dreamed - original)"]
    assert figure.get_suptitle() == "conv1=1, conv2=2"
    difference = (dreamed - original).mean(axis=-1)
    for ax, expected in zip(panels, (original, dreamed, difference)):
        np.testing.assert_allclose(shown_array(ax), expected)
    for ax in panels[:2]:
        assert ax.images[0].get_clim() == (0, 1) and ax.images[0].get_cmap().name == "gray"
    assert_symmetric(panels[2].images[0], np.abs(difference).max())


def test_dream_of_a_grey_picture_and_of_no_change():
    original = rng(8).random((5, 5, 1))
    figure = figures.dream_figure(original, original.copy(), "same")
    np.testing.assert_array_equal(shown_array(figure.axes[0]), original[..., 0])
    assert_symmetric(figure.axes[2].images[0], 1e-6)  # no change: a scale of its own, not 0 to 0


def test_dream_of_a_large_photo_shows_every_kth_pixel():
    original = rng(9).random((1300, 20, 3))  # ceil(1300 / 600) = 3
    dreamed = rng(10).random((1300, 20, 3))
    figure = figures.dream_figure(original, dreamed, "big")
    np.testing.assert_allclose(shown_array(figure.axes[0]), original[::3, ::3])
    np.testing.assert_allclose(shown_array(figure.axes[2]), (dreamed[::3, ::3] - original[::3, ::3]).mean(axis=-1))


# --- note_pooling ---------------------------------------------------------------------------------------------------

def test_note_pooling_shows_the_digit_the_maps_and_the_pooling_the_note_meant():
    digit, conv1, pool1 = rng(11).random((28, 28)), rng(12).random((6, 26, 26)), rng(13).random((3, 13, 26))
    figure = figures.note_pooling(digit, conv1, pool1)
    assert len(figure.axes) == 8
    intended = np.array([[conv1[0, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max() for j in range(13)] for i in range(13)])
    expected = [digit, conv1[0], conv1[1], conv1[2], pool1[0], pool1[1], intended]
    for ax, array in zip(figure.axes, expected):
        np.testing.assert_array_equal(shown_array(ax), array)
    assert "conv1 filter 2 (26 x 26)" in titles(figure)[3]
    assert titles(figure)[5].startswith("pool1 map 1 = max of filters 2, 3")
    assert not figure.axes[7].images
    text = figure.axes[7].texts[0].get_text()
    assert "pool1 output: (3, 13, 26)" in text and "with 26 channels" in text


# --- explanation, explanation_rows ----------------------------------------------------------------------------------

def test_explanation_shows_the_picture_then_each_map_over_a_faint_copy():
    image = rng(14).random((6, 7, 3))
    maps = {"saliency": rng(15).random((6, 7)), "integrated_gradients": rng(16).normal(size=(6, 7)),
            "grad_cam": rng(17).random((6, 7)) * 3}
    figure = figures.explanation(image, maps, ("integrated_gradients",), "predicted 3")
    assert len(figure.axes) == 4 and figure.get_suptitle() == "predicted 3"
    assert titles(figure) == ["input", "saliency", "integrated gradients", "grad cam"]
    np.testing.assert_allclose(shown_array(figure.axes[0]), image)
    assert figure.axes[0].images[0].get_clim() == (0, 1)
    for ax, (method, values) in zip(figure.axes[1:], maps.items()):
        faint, drawn = ax.images
        np.testing.assert_allclose(np.asarray(faint.get_array()), image.mean(axis=-1))
        np.testing.assert_allclose(np.asarray(drawn.get_array()), values)
        limit = np.abs(values).max()
        if method == "integrated_gradients":
            assert_symmetric(drawn, limit)
        else:
            assert drawn.get_cmap().name == "inferno" and drawn.get_clim() == pytest.approx((0, limit))


def test_explanation_rows_give_a_row_a_picture_and_blank_cells_where_a_row_has_fewer_maps():
    first, second = rng(18).random((5, 5, 1)), rng(19).random((5, 5, 1))
    rows = [("#0: a", first, {"occlusion": rng(20).normal(size=(5, 5)), "lime": rng(21).normal(size=(5, 5))}),
            ("#1: b", second, {"occlusion": rng(22).normal(size=(5, 5))})]
    figure = figures.explanation_rows(rows, ("occlusion", "lime"), "two")
    assert len(figure.axes) == 6
    assert titles(figure) == ["#0: a", "occlusion", "lime", "#1: b", "occlusion", ""]
    np.testing.assert_array_equal(shown_array(figure.axes[3]), second[..., 0])
    np.testing.assert_allclose(shown_array(figure.axes[4], 1), rows[1][2]["occlusion"])
    assert not figure.axes[5].images and not figure.axes[5].axison


def test_explanation_of_a_large_photo_shows_every_kth_pixel():
    image, values = rng(23).random((700, 12, 3)), rng(24).normal(size=(700, 12))  # ceil(700 / 300) = 3
    figure = figures.explanation(image, {"occlusion": values}, ("occlusion",), "big")
    np.testing.assert_allclose(shown_array(figure.axes[0]), image[::3, ::3])
    np.testing.assert_allclose(shown_array(figure.axes[1], 1), values[::3, ::3])
    assert_symmetric(figure.axes[1].images[1], np.abs(values[::3, ::3]).max())


# --- mosaic, thumbnail, picture_figure ------------------------------------------------------------------------------

def test_mosaic_places_each_enlarged_picture_between_white_gaps():
    images = rng(25).random((5, 4, 3, 1)).astype("float32")
    images[0, 0, 0, 0], images[1, 0, 0, 0] = 1.5, -0.2  # clipped to 0..1
    sheet = figures.mosaic(images, columns=2, tile=8)  # 8 // 4: each picture twice as large
    assert sheet.dtype == np.uint8 and sheet.shape == (3 * 10 + 2, 2 * 8 + 2, 1)
    expected = np.full(sheet.shape, 255, np.uint8)
    for index in range(5):
        top, left = 2 + (index // 2) * 10, 2 + (index % 2) * 8
        big = np.kron(np.clip(images[index, ..., 0], 0, 1), np.ones((2, 2)))
        expected[top:top + 8, left:left + 6, 0] = np.round(big * 255)
    np.testing.assert_array_equal(sheet, expected)


def test_mosaic_of_fewer_pictures_than_columns_is_as_wide_as_they_are():
    sheet = figures.mosaic(np.zeros((2, 30, 30, 3)), columns=10, tile=16)  # larger than the tile: not enlarged
    assert sheet.shape == (34, 2 * 32 + 2, 3)


def test_thumbnail_enlarges_by_whole_pixels_and_centres_the_picture_in_grey():
    picture = rng(26).random((3, 3, 1)).astype("float32")
    cell, scale, top, left = figures.thumbnail(picture, 48)
    assert (scale, top, left) == (16, 0, 0) and cell.shape == (48, 48, 1)
    np.testing.assert_array_equal(cell[..., 0], np.kron(picture[..., 0], np.ones((16, 16))))
    wide = rng(27).random((2, 4, 3)).astype("float32")
    cell, scale, top, left = figures.thumbnail(wide, 8)
    assert (scale, top, left) == (2, 2, 0)
    np.testing.assert_array_equal(cell[2:6], np.repeat(np.repeat(wide, 2, axis=0), 2, axis=1))
    assert (cell[:2] == 0.5).all() and (cell[6:] == 0.5).all()


def test_picture_figure_shows_the_picture_a_pixel_a_pixel():
    picture = rng(28).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    figure = figures.picture_figure(picture, dpi=10)
    assert tuple(figure.get_size_inches()) == (5, 3) and figure.dpi == 10
    (ax,) = figure.axes
    assert tuple(ax.get_position().bounds) == (0, 0, 1, 1)
    np.testing.assert_array_equal(shown_array(ax), picture)
    assert ax.images[0].get_interpolation() == "nearest"


# --- examples_sheet -------------------------------------------------------------------------------------------------

def examples(count=2, whole=False, seed=29):
    """Examples of two filters, `count` inputs each way, pictures of one grey level each (so a cell is easy to find)."""
    levels = iter(np.linspace(0.1, 0.9, 2 * 2 * count))
    pictures = [[np.full((10, 10, 1), next(levels), "float32") for _ in range(count)] for _ in range(4)]
    values = rng(seed).normal(size=(2, 2 * count))
    boxes = [[(1, 2, 6, 8)] * (2 * count) for _ in range(2)]
    return Examples("conv2", [3, 7], np.zeros((2, count), int), values[:, :count], np.zeros((2, count, 2), int),
                    np.zeros((2, count), int), values[:, count:], np.zeros((2, count, 2), int), (5, 5), whole=whole,
                    top_pictures=pictures[:2], bottom_pictures=pictures[2:], boxes=boxes)


@pytest.fixture
def drawn(monkeypatch):
    """Records what Pillow writes and boxes on a sheet (and still draws it)."""
    from PIL import ImageDraw

    seen = {"text": [], "rectangle": []}
    for name in seen:
        original = getattr(ImageDraw.ImageDraw, name)

        def spy(self, xy, *args, _original=original, _name=name, **kwargs):
            seen[_name].append((xy, *args))
            return _original(self, xy, *args, **kwargs)

        monkeypatch.setattr(ImageDraw.ImageDraw, name, spy)
    return seen


def test_examples_sheet_shows_each_filters_picture_and_examples_labelled_with_their_values(drawn):
    found = examples()
    optimised = rng(30).random((2, 10, 10, 1)).astype("float32")
    sheet = figures.examples_sheet("conv2", [3, 7], optimised, np.array([1.234, -0.5]), found, side=16)
    side, label, gap, head, margin = 16, 14, 8, 34, 8
    assert sheet.dtype == np.uint8 and sheet.shape == (2 * (side + label) + head, 5 * (side + 3) + 2 * gap + 2 * margin, 3)
    for row in range(2):
        y = head + row * (side + label)
        cells = [optimised[row], *found.top_pictures[row], *found.bottom_pictures[row]]
        for column, picture in enumerate(cells):
            x = margin + column * (side + 3) + gap * (column >= 1) + gap * (column > 2)
            expected = np.round(figures.thumbnail(picture, side)[0] * 255)
            np.testing.assert_array_equal(sheet[y:y + side, x:x + side], np.broadcast_to(expected, (side, side, 3)))
    texts = [text for _, text in drawn["text"]]
    assert texts[:10] == ["#3: 1.23", *(f"{v:.2f}" for v in found.top_activations[0]), *(f"{v:.2f}" for v in found.bottom_activations[0]),
                          "#7: -0.50", *(f"{v:.2f}" for v in found.top_activations[1]), *(f"{v:.2f}" for v in found.bottom_activations[1])]
    assert texts[10].startswith("conv2: each unit's receptive field") and "the 2 inputs it responds to most" in texts
    assert not drawn["rectangle"]  # crops: no boxes


def test_examples_sheet_of_whole_inputs_boxes_each_units_field(drawn):
    found = examples(count=1, whole=True)
    figures.examples_sheet("conv2", [3, 7], np.zeros((2, 10, 10, 1), "float32"), np.zeros(2), found, side=20)
    # A 10-pixel input in a 20-pixel cell: scale 2; the box (1, 2, 6, 8) is top, left, bottom, right.
    assert len(drawn["rectangle"]) == 2 * 2
    x, y = 8 + 23 + 8, 34
    assert drawn["rectangle"][0][0] == pytest.approx((x + 4, y + 2, x + 16 - 1, y + 12 - 1))
    assert any(text.startswith("conv2: whole inputs, the unit's field boxed") for _, text in drawn["text"])


# --- plot: each result to its figure --------------------------------------------------------------------------------

@pytest.fixture
def explained():
    head = Head("softmax", 3, "scores", "softmax")
    outputs = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    return Explanation(images=rng(31).random((3, 6, 6, 1)), maps={"saliency": rng(32).random((3, 6, 6)),
                                                                   "occlusion": rng(33).normal(size=(3, 6, 6))},
                       classes=np.array([0, 2, 2]), probabilities=np.array([0.7, 0.3, 0.6]), predicted=np.array([0, 1, 2]),
                       outputs=outputs, layer="conv2", completeness=None, class_names=["cat", "dog", "fish"], head=head)


def test_plot_of_an_explanation_is_a_row_a_picture_titled_with_its_prediction(explained):
    figure = cn.plot(explained)
    assert len(figure.axes) == 3 * 3 and figure.get_suptitle() == "explained with saliency, occlusion"
    assert titles(figure)[::3] == ["#0: predicted cat at 70.0%", "#1: predicted dog at 60.0%; explaining fish (30.0%)",
                                   "#2: predicted fish at 60.0%"]
    for row in range(3):
        np.testing.assert_array_equal(shown_array(figure.axes[3 * row]), explained.images[row, ..., 0])
        np.testing.assert_allclose(shown_array(figure.axes[3 * row + 1], 1), explained.maps["saliency"][row])
        occlusion = figure.axes[3 * row + 2].images[1]
        np.testing.assert_allclose(np.asarray(occlusion.get_array()), explained.maps["occlusion"][row])
        assert_symmetric(occlusion, np.abs(explained.maps["occlusion"][row]).max())  # occlusion is signed
    assert len(cn.plot(explained, rows=2).axes) == 2 * 3


def test_plot_of_an_explanation_on_an_axis_shows_one_map(explained):
    figure = matplotlib.figure.Figure()
    ax = figure.add_subplot()
    assert plotting.plot(explained, ax=ax, index=1, method="occlusion") is ax
    faint, values = ax.images
    np.testing.assert_allclose(np.asarray(faint.get_array()), explained.images[1].mean(axis=-1))
    np.testing.assert_allclose(np.asarray(values.get_array()), explained.maps["occlusion"][1])
    assert_symmetric(values, np.abs(explained.maps["occlusion"][1]).max())
    assert ax.get_title() == "occlusion: fish"  # the class explained, not the one predicted
    other = matplotlib.figure.Figure().add_subplot()
    plotting.plot(explained, ax=other)  # the first method by default: a magnitude
    assert other.get_title() == "saliency: cat" and other.images[1].get_cmap().name == "inferno"


def filter_pictures(count=3, examples_of=None):
    images = rng(34).random((count, 5, 5, 1))
    return Pictures(images, list(range(count)), np.arange(count) / 10, "conv1: mean activation", [f"#{k}" for k in range(count)],
                    layer="conv1", examples=examples_of, optimised=np.arange(count) * 1.5)


def test_plot_of_pictures_is_their_titled_grid():
    pictures = filter_pictures()
    figure = cn.plot(pictures)
    assert len(figure.axes) == 5 and figure.get_suptitle() == "conv1: mean activation"  # grid_columns(3): one row of 5
    assert titles(figure) == ["#0", "#1", "#2", "", ""]
    for ax, image in zip(figure.axes, pictures.images):
        np.testing.assert_array_equal(shown_array(ax), image[..., 0])
    classes = Pictures(rng(35).random((12, 4, 4, 1)), list(range(12)), rng(36).random(12), "classes",
                       [f"class {k}" for k in range(12)])
    assert len(cn.plot(classes).axes) == 2 * 10  # class pictures: up to 10 a row


def test_plot_of_pictures_on_an_axis_is_their_mosaic():
    pictures = filter_pictures(4)
    ax = matplotlib.figure.Figure().add_subplot()
    assert cn.plot(pictures, ax=ax) is ax
    np.testing.assert_allclose(shown_array(ax), figures.mosaic(pictures.images, 5)[..., 0] / 255, atol=1e-7)
    assert ax.get_title() == "conv1: mean activation"


def test_plot_of_filter_pictures_with_examples_is_their_grid_and_the_sheet_when_asked():
    found = examples()
    pictures = filter_pictures(2, found)
    pictures.indices = [3, 7]
    # <layer>.png, as the docs say of cn.plot(cn.filter_pictures(cnn, "conv1")): a tile a filter, titled with its label,
    # though the filters have dataset examples (filter_pictures ranks them by default).
    grid = cn.plot(pictures)
    assert len(grid.axes) == 5 and titles(grid) == ["#0", "#1", "", "", ""] and grid.get_suptitle() == "conv1: mean activation"
    for ax, image in zip(grid.axes, pictures.images):
        np.testing.assert_array_equal(shown_array(ax), image[..., 0])
    sheet = cn.plot(pictures, examples=True)  # <layer>_examples.png, one picture
    assert len(sheet.axes) == 1
    expected = figures.examples_sheet("conv1", [3, 7], pictures.images, pictures.optimised, found)
    np.testing.assert_array_equal(shown_array(sheet.axes[0]), expected)


def test_plot_of_a_dream_is_its_three_panels_and_of_a_batch_picture_index():
    original = rng(37).random((2, 6, 8, 3))
    dreamed = np.clip(original + 0.1, 0, 1)
    batch = Dream(dreamed, original, {"conv1": 1.0, "conv2": 2.5})
    figure = cn.plot(batch, index=1)
    assert len(figure.axes) == 4 and figure.get_suptitle() == "conv1=1, conv2=2.5"
    np.testing.assert_array_equal(shown_array(figure.axes[0]), original[1])
    np.testing.assert_array_equal(shown_array(figure.axes[1]), dreamed[1])
    one = cn.plot(Dream(dreamed[0], original[0], {"mixed5": 1.5}))
    np.testing.assert_array_equal(shown_array(one.axes[1]), dreamed[0])
    assert one.get_suptitle() == "mixed5=1.5"
    ax = matplotlib.figure.Figure().add_subplot()
    assert cn.plot(batch, ax=ax, index=1) is ax
    np.testing.assert_array_equal(shown_array(ax), dreamed[1])
    assert ax.get_title() == "dreamed" and ax.images[0].get_clim() == (0, 1)


def test_plot_of_feature_maps_is_every_map_after_the_input():
    maps = {"conv1": rng(38).random((4, 4, 3)), "conv2": rng(39).random((2, 2, 12))}
    image = rng(40).random((4, 4, 1))
    figure = cn.plot(maps, image=image)
    assert len(figure.axes) == 10 * (1 + 1 + 2)
    np.testing.assert_array_equal(shown_array(figure.axes[0]), image[..., 0])
    np.testing.assert_array_equal(shown_array(figure.axes[10 + 2]), maps["conv1"][..., 2])
    np.testing.assert_array_equal(shown_array(figure.axes[20 + 11]), maps["conv2"][..., 11])
    assert figure.axes[31].get_title() == "conv2 #11"
    blank = cn.plot(maps)  # no picture given: a blank one of the maps' size
    np.testing.assert_array_equal(shown_array(blank.axes[0]), np.zeros((4, 4)))


def test_plot_of_feature_maps_on_an_axis_is_the_first_layers_maps_scaled_to_0_1():
    maps = {"conv1": rng(41).normal(size=(4, 4, 3)) * 5, "conv2": rng(42).random((2, 2, 12))}
    ax = matplotlib.figure.Figure().add_subplot()
    cn.plot(maps, ax=ax)
    tiles = np.moveaxis(maps["conv1"], -1, 0)[..., None]
    scaled = (tiles - tiles.min()) / (tiles.max() - tiles.min())
    np.testing.assert_array_equal(shown_array(ax), figures.mosaic(scaled, 10)[..., 0])
    assert shown_array(ax).min() == 0 and shown_array(ax)[2:6, 2:6].max() <= 255
    assert ax.get_title() == "conv1's maps"


@pytest.mark.parametrize("given, named", [(42, "int"), ("results/cnn", "str"), ({}, "dict"), ({"conv1": np.zeros((4, 4))}, "dict"),
                                          (np.zeros((4, 4, 3)), "ndarray"), ([np.zeros((4, 4, 3))], "list")])
def test_plot_of_anything_else_is_one_line_naming_what_it_draws(given, named):
    with pytest.raises(cn.InputError) as refused:
        cn.plot(given)
    message = str(refused.value)
    assert "\n" not in message and message.endswith(f"not a {named}")
    assert "cn.explain" in message and "cn.feature_maps" in message

