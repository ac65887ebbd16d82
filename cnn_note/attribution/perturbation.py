"""What the methods that only call the model (occlusion, LIME) share: its probabilities (a regression's value) for any
number of pictures, and work on a smaller copy of a large picture.

Occluded copies of an image go through the model in batches that fit (core.batching), through one
compiled call kept by the View (View.probability_model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from cnn_note.attribution.gradients import batch_of
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.io import imaging
from cnn_note.io.progress import NO_CALLBACK, Callback


class Probabilities:
    """The model's own output for any number of images of one size, in batches that fit, through one compiled call."""

    def __init__(self, view: View, height: int, width: int) -> None:
        self.batch = batch_of(view, height, width, forward_only=True)
        self.model = view.probability_model((height, width, view.channels))

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes)."""
        return self.stream(iter(images), len(images))

    def stream(self, images: Iterator[np.ndarray], count: int, callback: Callback = NO_CALLBACK, per: int = 1) -> np.ndarray:
        """Probabilities for `count` images drawn from an iterator, so that not all of them need be in memory at once;
        `callback` hears of each batch done, as pictures' worth of `per` images each."""
        out = []
        for part in batching.batches(count, self.batch):
            batch = np.stack([next(images) for _ in range(part.stop - part.start)]).astype("float32")
            out.append(np.asarray(self.model.predict_on_batch(batch)))
            callback.on_progress(len(batch) / per)
        return np.concatenate(out)


def on_copy(images: np.ndarray, max_side: int, method: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Run `method` on the images shrunk to at most `max_side` a side (when larger), and bring its maps back to full size."""
    height, width = images.shape[1:3]
    if max(height, width) <= max_side:
        return method(images)
    maps = method(imaging.resize_area(images, imaging.within((height, width), max_side)))
    return imaging.resize(maps[..., None].astype("float32"), (height, width))[..., 0]
