"""Looking inside a trained CNN: what each filter and each class responds to, and a digit's feature maps."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import ascent, objectives
from cnn_note.backend import tf
from cnn_note.cli import InputError
from cnn_note.model_views import View


def batch_size(view: View, layer: str, count: int, size: int) -> int:
    """How many of `count` filter pictures of `layer` at size x size fit in memory at once; one line when not even one does."""
    return ascent.fitting_batch(view.bytes_per_image([layer], size, size), count,
                                f"--size {size}: a {size}x{size} picture of {layer}", "use a smaller --size")


def filter_patterns(view: View, layer: str, filters: Sequence[int], size: int, settings: ascent.Settings,
                    on_progress: Callable | None = None, chunk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ascend every requested filter of `layer` from one grey start each; returns images and final mean activations.

    The filters ascend together, one image each, `chunk` at a time (default: as many as fit in memory).
    """
    filters = list(filters)
    chunk = chunk or batch_size(view, layer, len(filters), size)
    start = ascent.start_images(len(filters), size, size, settings.seed, view.channels)
    images, scores = [], []
    for first in range(0, len(filters), chunk):
        objective = objectives.filter_mean(view, layer, filters[first:first + chunk])
        done = ascent.ascend(ascent.make_step(objective), start[first:first + chunk], settings, on_progress)
        images.append(done)
        scores.append(objective(tf.constant(done)).numpy())
    return np.concatenate(images), np.concatenate(scores)


def class_patterns(view: View, classes: Sequence[int], size: int, settings: ascent.Settings,
                   on_progress: Callable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ascend each class's score before softmax from the same start; returns images and the model's softmax confidence in each."""
    classes = list(classes)
    height, width = view.size or (size, size)
    start = np.repeat(ascent.start_images(1, height, width, settings.seed, view.channels), len(classes), axis=0)
    objective = objectives.class_logit(view.logits(), classes)
    images = ascent.ascend(ascent.make_step(objective), start, settings, on_progress)
    confidence = view.probabilities(images)[np.arange(len(classes)), classes]
    return images, confidence


def feature_maps(view: View, image: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The named layers' outputs for one pixel image (H, W, C): {layer: (h, w, channels)}."""
    outputs = view.features(names)(image[None])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {name: np.asarray(maps)[0] for name, maps in zip(names, outputs)}


def check_filters(view: View, layer: str, filters: Sequence[int]) -> None:
    """Fail clearly when a filter index is outside the layer's range."""
    count = view.filters(layer)
    bad = [index for index in filters if not 0 <= index < count]
    if bad:
        raise InputError(f"filter index {bad[0]} is out of range: {layer} has filters 0..{count - 1}")
