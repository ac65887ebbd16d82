"""Matplotlib figures: training curves and labelled image grids."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # scripts run in terminals and CI, never a window

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def curves(histories: dict[int, dict[str, list[float]]], title: str) -> plt.Figure:
    """Loss and accuracy per epoch, train and test, one faint line per seed."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for index, (seed, history) in enumerate(histories.items()):
            epochs = np.arange(1, len(history[metric]) + 1)
            label = index == 0
            ax.plot(epochs, history[metric], color="C0", alpha=0.8, label="train (mean over the epoch)" if label else None)
            if f"val_{metric}" in history:
                ax.plot(epochs, history[f"val_{metric}"], color="C1", alpha=0.8, label="test (end of epoch)" if label else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(f"{title} ({len(histories)} seed{'s' if len(histories) > 1 else ''})")
    figure.tight_layout()
    return figure


def image_grid(images: "np.ndarray | list", titles: list[str], title: str, columns: int = 10, cmap: str = "gray") -> plt.Figure:
    """Images (N, H, W) in row-major order, each with its own small title; a None leaves its cell blank."""
    rows = math.ceil(len(images) / columns)
    size = 1.3
    figure, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * (size + 0.25) + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, label in zip(axes.flat, images, titles):
        if image is not None:
            ax.imshow(image, cmap=cmap)
            ax.set_title(label, fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def feature_maps(image: np.ndarray, maps: dict[str, np.ndarray], title: str, columns: int = 10) -> plt.Figure:
    """The input, then each layer's feature maps (h, w, channels), every layer starting on a new row."""
    def padded(tiles: list) -> list:
        return tiles + [None] * (-len(tiles) % columns)

    tiles, titles = padded([image]), padded(["input"])
    for name, layer_maps in maps.items():
        channels = [layer_maps[..., k] for k in range(layer_maps.shape[-1])]
        tiles += padded(channels)
        titles += padded([f"{name} #{k}" for k in range(len(channels))])
    return image_grid(tiles, titles, f"{title}: input and every conv layer's output (brighter = stronger match)", columns, cmap="viridis")


def dream(original: np.ndarray, dreamed: np.ndarray, title: str) -> plt.Figure:
    """Original | dreamed | difference (red: brighter, blue: darker), side by side."""
    figure, axes = plt.subplots(1, 3, figsize=(9, 3.4))
    difference = dreamed - original
    limit = max(float(np.abs(difference).max()), 1e-6)
    for ax, image, label, style in zip(
        axes, (original, dreamed, difference), ("original", "dreamed", "difference (dreamed - original)"),
        ({"cmap": "gray", "vmin": 0, "vmax": 1}, {"cmap": "gray", "vmin": 0, "vmax": 1}, {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}),
    ):
        shown = ax.imshow(image, **style)
        ax.set_title(label, fontsize=9)
        ax.axis("off")
    figure.colorbar(shown, ax=axes[2], fraction=0.046)
    figure.suptitle(title)
    return figure


def shift_accuracy(accuracies: dict[str, list[float]]) -> plt.Figure:
    """Test accuracy against shift in pixels, one line per model."""
    figure, ax = plt.subplots(figsize=(5.5, 3.8))
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
