"""What the methods share: the class score's gradient at any number of pictures (gradient, SmoothGrad, Integrated
Gradients), how many pictures go through the model at once (every method), and the baseline, what an absent picture
looks like (Integrated Gradients, occlusion).

The class score is the logit before softmax or sigmoid (see heads.Head); its gradient comes from a
compiled tf.GradientTape, compiled once per View and picture size (View.memo): explaining picture
after picture reuses it. Copies of an image (noisy, interpolated) go through the model in batches
that fit (core.batching).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note.backend import tf
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.errors import Argument
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.optvis.objectives import pick

MAX_BATCH = 512  # images per call: large enough to keep both cores busy on MNIST, small enough to trace few shapes


def batch_of(view: View, height: int, width: int, forward_only: bool = False) -> int:
    """How many height x width pictures go through the model in one call: up to MAX_BATCH, within the memory budget."""
    return batching.batch_size(view, None, height, width, MAX_BATCH, f"a {height}x{width} picture",
                               ("give a smaller ", Argument("image", python="picture")), forward_only)


class Gradients:
    """The class scores (see heads.Head) and their gradients for any number of images of one size, in batches that fit."""

    def __init__(self, view: View, height: int, width: int) -> None:
        self.batch = batch_of(view, height, width)
        # Compiled once per View and size: a View kept for a model (loading.kept) explains picture after picture with it.
        self.run = view.memo("gradients", height, width, build=lambda: compiled_gradients(view, height, width))

    def __call__(self, images: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores (N,) and gradients (N, H, W, C)."""
        return batching.map_batches(lambda part, wanted: tuple(t.numpy() for t in self.run(part, wanted.astype("int32"))),
                                    self.batch, images, classes)

    def summed(self, images: np.ndarray, classes: np.ndarray, copies: int, copy: Callable[[int, int], np.ndarray],
               weigh: Callable[[int, np.ndarray], np.ndarray], callback: Callback = NO_CALLBACK) -> np.ndarray:
        """For each image i, the sum over k < copies of weigh(k, gradient at copy(i, k)); the copies go in batches.

        `callback` hears, after each batch, how many pictures' worth of copies it held.
        """
        rows = [(i, k) for i in range(len(images)) for k in range(copies)]
        totals = [0.0] * len(images)
        for part in batching.batches(len(rows), self.batch):
            chunk = rows[part]
            _, grads = self(np.stack([copy(i, k) for i, k in chunk]), classes[[i for i, _ in chunk]])
            for (i, k), grad in zip(chunk, grads):
                totals[i] = totals[i] + weigh(k, grad)
            callback.on_progress(len(chunk) / copies)
        return np.stack(totals)


def compiled_gradients(view: View, height: int, width: int) -> Callable:
    """(images, classes) -> (scores, d scores / d images), compiled for height x width pictures."""
    scores_of = view.class_scores()
    shape = (None, height, width, view.channels)

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32), tf.TensorSpec((None,), tf.int32)])
    def run(images, classes):
        with tf.GradientTape() as tape:
            tape.watch(images)
            scores = pick(scores_of(images), classes)
            # Images do not interact, so the gradient of the sum is each image's own gradient.
            total = tf.reduce_sum(scores)
        return scores, tape.gradient(total, images)

    return run


def baseline(images: np.ndarray, kind: str) -> np.ndarray:
    """What an absent picture looks like, Integrated Gradients' start and occlusion's patch: black, white, grey, or each image
    blurred (Gaussian, sigma a tenth of its shorter side)."""
    if kind == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = min(images.shape[1:3]) / 10
        return gaussian_filter(images, sigma=(0, sigma, sigma, 0), mode="nearest").astype("float32")
    value = {"black": 0.0, "white": 1.0, "grey": 0.5}[kind]
    return np.full_like(images, value)
