"""Matplotlib figures: training curves, labelled image grids, and cn.plot for every result of the API.

Figures are made as matplotlib Figure objects, not through pyplot: a script saves them and never
opens a window, and a notebook shows the one a call returns, once.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure


def _subplots(rows: int = 1, columns: int = 1, figsize=None, squeeze: bool = True, layout=None):
    """A new Figure and its axes, as pyplot.subplots gives them, without pyplot."""
    figure = Figure(figsize=figsize, layout=layout)
    return figure, figure.subplots(rows, columns, squeeze=squeeze)


def curves(runs: list, title: str) -> Figure:
    """Loss and accuracy per epoch, one faint line per seed: train, the per-epoch test score, and the final whole-test score."""
    figure, axes = _subplots(1, 2, figsize=(10, 4.2))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for index, run in enumerate(runs):
            epochs = np.arange(1, len(run.history[metric]) + 1)
            label = index == 0
            ax.plot(epochs, run.history[metric], color="C0", alpha=0.8, label="train (mean over the epoch)" if label else None)
            if f"epoch_test_{metric}" in run.history:
                ax.plot(epochs, run.history[f"epoch_test_{metric}"], color="C1", alpha=0.8,
                        label="test sample (end of epoch)" if label else None)
            ax.plot(epochs[-1], getattr(run, f"test_{metric.replace('accuracy', 'acc')}"), "D", color="C3",
                    label="test, whole set (final)" if label else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.suptitle(f"{title} ({len(runs)} seed{'s' if len(runs) > 1 else ''})\ntest sample: {runs[0].epoch_test}", fontsize=10)
    figure.tight_layout()
    return figure


def shown(image: np.ndarray) -> np.ndarray:
    """A picture as imshow takes it: (H, W) for grey, (H, W, 3) for colour."""
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def image_grid(images: np.ndarray | list, titles: list[str], title: str, columns: int = 10, cmap: str = "gray") -> Figure:
    """Images (N, H, W[, C]) in row-major order, each with its own small title; a None leaves its cell blank."""
    rows = math.ceil(len(images) / columns)
    size = 1.3
    figure, axes = _subplots(rows, columns, figsize=(columns * size, rows * (size + 0.25) + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, label in zip(axes.flat, images, titles):
        if image is not None:
            ax.imshow(shown(image), cmap=cmap)
            ax.set_title(label, fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def feature_maps(image: np.ndarray, maps: dict[str, np.ndarray], title: str, columns: int = 10) -> Figure:
    """The input, then each layer's feature maps (h, w, channels), every layer starting on a new row."""
    def padded(tiles: list) -> list:
        return tiles + [None] * (-len(tiles) % columns)

    tiles, titles = padded([image]), padded(["input"])
    for name, layer_maps in maps.items():
        channels = [layer_maps[..., k] for k in range(layer_maps.shape[-1])]
        tiles += padded(channels)
        titles += padded([f"{name} #{k}" for k in range(len(channels))])
    return image_grid(tiles, titles, f"{title}: input and the layers' outputs (brighter = stronger match)", columns, cmap="viridis")


def dream_figure(original: np.ndarray, dreamed: np.ndarray, title: str) -> Figure:
    """Original | dreamed | difference averaged over colours (red: brighter, blue: darker), side by side."""
    # Each panel is about 300 pixels wide: drawing a 4000-pixel photo at full size would only cost memory.
    stride = max(1, math.ceil(max(original.shape[:2]) / 600))
    original, dreamed = original[::stride, ::stride], dreamed[::stride, ::stride]
    figure, axes = _subplots(1, 3, figsize=(9, 3.4))
    difference = (dreamed - original).mean(axis=-1)
    limit = max(float(np.abs(difference).max()), 1e-6)
    for ax, image, label, style in zip(
        axes, (shown(original), shown(dreamed), difference), ("original", "dreamed", "difference (dreamed - original)"),
        ({"cmap": "gray", "vmin": 0, "vmax": 1}, {"cmap": "gray", "vmin": 0, "vmax": 1}, {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}),
    ):
        shown_image = ax.imshow(image, **style)
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    figure.colorbar(shown_image, ax=axes[2], fraction=0.046)
    figure.suptitle(title)
    return figure


def note_pooling(digit: np.ndarray, conv1: np.ndarray, pool1: np.ndarray) -> Figure:
    """What the note's code does to a digit: conv1 maps (filters, rows, columns), then pool1 reading them channels_last."""
    figure, axes = _subplots(2, 4, figsize=(11, 5.6))
    top = [(digit, "input digit (1, 28, 28)")] + [(conv1[k], f"conv1 filter {k} (26 x 26)") for k in range(3)]
    bottom = [(pool1[k], f"pool1 map {k} = max of filters {2 * k}, {2 * k + 1}\nover row pairs; columns untouched (13 x 26)")
              for k in range(2)]
    intended = conv1[0, :26, :26].reshape(13, 2, 13, 2).max(axis=(1, 3))
    bottom += [(intended, "what the note meant: filter 0\npooled over 2x2 pixels (13 x 13)"), (None, "")]
    for ax, (image, label) in zip(axes.flat, top + bottom):
        ax.axis("off")
        if image is not None:
            ax.imshow(image, cmap="viridis")
            ax.set_title(label, fontsize=8)
    axes[1, 3].text(0, 0.5, f"pool1 output: {pool1.shape}\nconv2 reads it as 12 x 13 pixels\nwith {pool1.shape[2]} channels: "
                    "the digit's columns", fontsize=9, va="center")
    figure.suptitle("The note's code: conv1 is channels_first, pool1 and conv2 read its output as channels_last")
    figure.tight_layout()
    return figure


def shift_accuracy(accuracies: dict[str, list[float]]) -> Figure:
    """Test accuracy against shift in pixels, one line per model."""
    figure, ax = _subplots(figsize=(5.5, 3.8))
    for name, values in accuracies.items():
        ax.plot(range(len(values)), values, marker="o", label=name.upper())
    ax.set_xlabel("shift (pixels, mean of 8 directions)")
    ax.set_ylabel("test accuracy")
    ax.set_xticks(range(len(next(iter(accuracies.values())))))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("The same pattern in another place")
    figure.tight_layout()
    return figure


def explanation(image: np.ndarray, maps: dict[str, np.ndarray], signed: tuple[str, ...], title: str) -> Figure:
    """The picture, then each method's map over a faint copy of it: signed maps red (for the class) and blue (against), others hot."""
    return explanation_rows([("", image, maps)], signed, title)


def explanation_rows(rows: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], signed: tuple[str, ...], title: str) -> Figure:
    """explanation() for several pictures, a row each: (row label, picture (H, W, C), {method: map (H, W)})."""
    columns = 1 + max(len(maps) for _, _, maps in rows)
    figure, axes = _subplots(len(rows), columns, figsize=(2.2 * columns, 2.3 * len(rows) + 0.4), squeeze=False, layout="constrained")
    for ax_row, (label, image, maps) in zip(axes, rows):
        # As in dream_figure(): about 300 pixels a panel is all a figure can show of a large photo.
        stride = max(1, math.ceil(max(image.shape[:2]) / 300))
        image = image[::stride, ::stride]
        faint = image.mean(axis=-1)
        ax_row[0].imshow(shown(image), cmap="gray", vmin=0, vmax=1)
        ax_row[0].set_title(label or "input", fontsize=9)
        for ax, (method, values) in zip(ax_row[1:], maps.items()):
            values = values[::stride, ::stride]
            limit = max(float(np.abs(values).max()), 1e-12)
            style = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit} if method in signed else {"cmap": "inferno", "vmin": 0, "vmax": limit}
            ax.imshow(faint, cmap="gray", vmin=0, vmax=1)
            ax.imshow(values, alpha=0.7, **style)
            ax.set_title(method.replace("_", " "), fontsize=9)
        for ax in ax_row:
            ax.axis("off")
    figure.suptitle(title, fontsize=10)
    return figure


def mosaic(images: np.ndarray, columns: int, tile: int = 64) -> np.ndarray:
    """Images (N, H, W, C), pixels 0..1, side by side in rows of `columns` with 2-pixel white gaps, as 8-bit (h, w, C):
    an animation frame. Tiles smaller than `tile` pixels are enlarged by a whole factor (nearest), so MNIST stays sharp."""
    factor = max(1, tile // max(images.shape[1:3]))
    images = np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)
    count, height, width, channels = images.shape
    rows = math.ceil(count / columns)
    sheet = np.ones((rows * (height + 2) + 2, min(count, columns) * (width + 2) + 2, channels), "float32")
    for index, image in enumerate(images):
        top, left = 2 + (index // columns) * (height + 2), 2 + (index % columns) * (width + 2)
        sheet[top:top + height, left:left + width] = image
    return np.round(np.clip(sheet, 0, 1) * 255).astype(np.uint8)


def thumbnail(picture: np.ndarray, side: int) -> tuple[np.ndarray, float, int, int]:
    """A picture (H, W, C) fitted into a side x side grey cell (nearest pixels: a 3x3 field stays sharp); also the scale
    and the offsets of the picture inside the cell, to draw a box on it."""
    height, width = picture.shape[:2]
    scale = side / max(height, width)
    rows = np.minimum((np.arange(max(1, round(height * scale))) / scale).astype(int), height - 1)
    cols = np.minimum((np.arange(max(1, round(width * scale))) / scale).astype(int), width - 1)
    small = picture[rows][:, cols]
    cell = np.full((side, side, picture.shape[-1]), 0.5, "float32")
    top, left = (side - len(rows)) // 2, (side - len(cols)) // 2
    cell[top:top + len(rows), left:left + len(cols)] = small
    return cell, scale, top, left


def examples_sheet(layer: str, filters: list[int], optimised: np.ndarray, optimised_values: np.ndarray, found,
                   side: int = 48) -> np.ndarray:
    """A row per filter: its optimised picture, then the inputs that excite it most, then those that excite it least, each
    labelled with its activation (the strongest or weakest unit's); whole inputs get that unit's field boxed. An 8-bit
    RGB picture (h, w, 3), drawn with Pillow: a thousand labels in matplotlib took 2-3 s a sheet."""
    from PIL import Image, ImageDraw, ImageFont

    count = len(found.top_pictures[0])
    columns = 1 + 2 * count
    label, gap, head, margin = 14, 8, 34, 8  # pixels for a cell's label, between the groups, for the titles, at the sides
    width, height = columns * (side + 3) + 2 * gap + 2 * margin, len(filters) * (side + label) + head
    canvas = np.ones((height, width, 3), "float32")
    texts, boxes = [], []
    for row, index in enumerate(filters):
        y = head + row * (side + label)
        # Mid-grey behind the cells, so neither a white stroke nor a black background melts into the page.
        canvas[y - 1:y + side + 1] = 0.5
        cells = [(optimised[row], optimised_values[row], None)] + \
            list(zip(found.top_pictures[row], found.top_activations[row], found.boxes[row][:count])) + \
            list(zip(found.bottom_pictures[row], found.bottom_activations[row], found.boxes[row][count:]))
        for column, (picture, value, box) in enumerate(cells):
            x = margin + column * (side + 3) + (gap if column >= 1 else 0) + (gap if column > count else 0)
            cell, scale, top, left = thumbnail(picture, side)
            canvas[y:y + side, x:x + side] = cell  # a grey cell fills all three colours
            texts.append((x + side / 2, y + side + 1, f"#{index}: {value:.2f}" if column == 0 else f"{value:.2f}"))
            if found.whole and box is not None:
                boxes.append((x + left + box[1] * scale, y + top + box[0] * scale, x + left + box[3] * scale - 1,
                              y + top + box[2] * scale - 1))
    sheet = Image.fromarray(np.round(np.clip(canvas, 0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(sheet)
    small, large = ImageFont.load_default(size=9), ImageFont.load_default(size=11)
    for x, y, text in texts:
        draw.text((x, y), text, fill="black", font=small, anchor="ma")
    for box in boxes:
        draw.rectangle(box, outline=(220, 0, 0))
    middle = margin + side + 3 + gap
    shown_as = "whole inputs, the unit's field boxed" if found.whole else "each unit's receptive field"
    for x, y, text in ((width / 2, 2, f"{layer}: {shown_as}; activations before any ReLU"), (margin + side / 2, 18, "optimised"),
                       (middle + count * (side + 3) / 2, 18, f"the {count} inputs it responds to most"),
                       (middle + gap + count * (side + 3) * 1.5, 18, f"the {count} it responds to least")):
        draw.text((x, y), text, fill="black", font=large, anchor="ma")
    return np.asarray(sheet)


def picture_figure(picture: np.ndarray, dpi: int = 100) -> Figure:
    """A Figure showing an 8-bit picture at one pixel a pixel: how a notebook shows a sheet drawn elsewhere."""
    figure = Figure(figsize=(picture.shape[1] / dpi, picture.shape[0] / dpi), dpi=dpi)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.imshow(picture, interpolation="nearest")
    ax.axis("off")
    return figure


def grid_columns(count: int) -> int:
    """Columns of a filter grid: 5 up to 25 pictures, else 10."""
    return 5 if count <= 25 else 10
