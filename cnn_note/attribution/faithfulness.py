"""Do the maps tell the model's reasons? Deletion and insertion (Petsiuk et al. 2018), model randomisation (Adebayo et al. 2018)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cnn_note.attribution.perturbation import Probabilities
from cnn_note.backend import keras
from cnn_note.core.views import View


def most_first(maps: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each image's pixel indices (N, H*W) ordered by its map, most positive first, ties in random order.

    A coarse map (Grad-CAM's, occlusion's, LIME's superpixels) ties whole regions; in reading
    order those would be taken top rows first, which says nothing of the map.
    """
    rng = np.random.default_rng(seed)
    flat = maps.reshape(len(maps), -1)
    return np.stack([np.lexsort((rng.random(row.size), -row)) for row in flat])


def random_order(count: int, pixels: int, seed: int = 0) -> np.ndarray:
    """A random pixel order for each of `count` images: the baseline every map must beat."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(pixels) for _ in range(count)])


def curves(view: View, images: np.ndarray, classes: np.ndarray, orders: np.ndarray, insertion: bool,
           per_step: int | None = None, canvas: np.ndarray | None = None) -> np.ndarray:
    """The class probability (N, steps + 1) as pixels are set to 0 in each order (deletion) or put onto black (insertion).

    `per_step` pixels change between points (default: one image row's worth). `canvas` replaces
    black, for insertion onto a blurred copy as Petsiuk et al. do.
    """
    canvas = np.zeros_like(images) if canvas is None else canvas
    count, height, width = images.shape[:3]
    per_step = per_step or width
    steps = -(-height * width // per_step)

    def changed() -> Iterator[np.ndarray]:
        for image, order, behind in zip(images, orders, canvas):
            mask = np.zeros(height * width, bool)
            for step in range(steps + 1):
                mask[order[:step * per_step]] = True
                shown = (mask if insertion else ~mask).reshape(height, width, 1)
                yield np.where(shown, image, behind if insertion else 0.0)

    probabilities = Probabilities(view, height, width).stream(changed(), count * (steps + 1))
    return probabilities.reshape(count, steps + 1, -1)[np.arange(count), :, classes]


def area(curve: np.ndarray) -> np.ndarray:
    """Area under each curve (N, points), its x axis the share of pixels changed, 0..1 (trapezoid rule)."""
    return np.trapezoid(curve, dx=1.0 / (curve.shape[-1] - 1), axis=-1)


def reinitialised(view: View, seed: int = 0) -> View:
    """The same network with fresh initial weights (keras.models.clone_model), seen the same way; the trained one is untouched."""
    keras.utils.set_random_seed(seed)
    fresh = keras.models.clone_model(view.model)
    return View(fresh, f"{view.label} re-initialised", view.to_model)


def rank_agreement(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Spearman rank correlation of |first| and |second|, image by image (N,); 0 where a map is constant."""
    from scipy.stats import spearmanr

    values = []
    for a, b in zip(np.abs(first).reshape(len(first), -1), np.abs(second).reshape(len(second), -1)):
        values.append(0.0 if a.std() == 0 or b.std() == 0 else float(spearmanr(a, b).statistic))
    return np.array(values)
