"""What the methods share: the class score's gradient at any number of pictures (gradient, SmoothGrad, Integrated
Gradients), how many pictures go through the model at once (every method), and the baseline, what an absent picture
looks like (Integrated Gradients, occlusion).

The class score is the logit before softmax or sigmoid (see heads.Head); its gradient comes from the
differentiation seam (core.autodiff: a tape in a tf.function, jax.grad in jax.jit, or autograd), compiled once per
View and picture size (View.memo): explaining picture after picture reuses it. Copies of an image (noisy,
interpolated) go through the model in batches that fit (core.batching).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note.core import autodiff, batching
from cnn_note.core.held import differentiable
from cnn_note.core.views import View
from cnn_note.errors import Argument
from cnn_note.io.progress import NO_CALLBACK, Callback

MAX_BATCH = 512  # images per call: large enough to keep both cores busy on MNIST, small enough to trace few shapes


def batch_of(view: View, height: int, width: int, forward_only: bool = False) -> int:
    """How many height x width pictures go through the model in one call: up to MAX_BATCH, within the memory budget."""
    return batching.batch_size(view, None, height, width, MAX_BATCH, f"a {height}x{width} picture",
                               ("give a smaller ", Argument("image", python="picture")), forward_only)


Others = dict  # a model of several inputs' other inputs (core.held), each picture's own: {input name: (N, ...)}


class Gradients:
    """The class scores (see heads.Head) and their gradients for any number of images of one size, in batches that fit;
    on a model of several inputs, at each picture's own other inputs (else at the held ones), their gradients too."""

    def __init__(self, view: View, height: int, width: int) -> None:
        self.batch = batch_of(view, height, width)
        self.held = view.held
        self.attributed = [] if view.held is None else differentiable(view.held)  # the other inputs differentiated
        # Compiled once per View and size: a View kept for a model (loading.kept) explains picture after picture with it.
        self.run = view.memo("gradients", height, width, build=lambda: compiled_gradients(view, height, width))

    def __call__(self, images: np.ndarray, classes: np.ndarray, others: Others | None = None) -> tuple:
        """Scores (N,) and gradients (N, H, W, C); with `others`, the gradients at them as a third, {input name: (N, ...)}
        (of the floating-point inputs: an integer one has none)."""
        if self.held is None:
            return batching.map_batches(lambda part, wanted: self.run(part, wanted.astype("int32")), self.batch, images, classes)
        values = others if others is not None else \
            {name: np.broadcast_to(np.asarray(value), (len(images), *value.shape)) for name, value in self.held.values.items()}
        given = [np.asarray(values[name], self.held.values[name].dtype) for name in self.held.shapes]
        scores, grads, *theirs = batching.map_batches(lambda part, wanted, *rest: self.run(part, wanted.astype("int32"), *rest),
                                                      self.batch, images, classes, *given)
        return (scores, grads) if others is None else (scores, grads, dict(zip(self.attributed, theirs)))

    def summed(self, images: np.ndarray, classes: np.ndarray, copies: int, copy: Callable[[int, int], np.ndarray],
               weigh: Callable[[int, np.ndarray], np.ndarray], callback: Callback = NO_CALLBACK, others: Others | None = None,
               copy_other: Callable[[str, int, int], np.ndarray] | None = None,
               weigh_other: Callable[[int, np.ndarray], np.ndarray] | None = None) -> np.ndarray | tuple[np.ndarray, Others]:
        """For each image i, the sum over k < copies of weigh(k, gradient at copy(i, k)); the copies go in batches.

        With `others` (each picture's other inputs), each copy goes with copy_other(name, i, k) of the floating-point
        ones (default: the picture's own; an integer one is always its own), and the sums of weigh_other(k, their
        gradient) come as a second result, {input name: (N, ...)}.
        `callback` hears, after each batch, how many pictures' worth of copies it held.
        """
        rows = [(i, k) for i in range(len(images)) for k in range(copies)]
        totals = [0.0] * len(images)
        theirs = {name: [0.0] * len(images) for name in (self.attributed if others is not None else [])}
        for part in batching.batches(len(rows), self.batch):
            chunk = rows[part]
            batch_others = None if others is None else \
                {name: np.stack([copy_other(name, i, k) if copy_other and name in theirs else values[i] for i, k in chunk])
                 for name, values in others.items()}
            found = self(np.stack([copy(i, k) for i, k in chunk]), classes[[i for i, _ in chunk]], batch_others)
            for row, (i, k) in enumerate(chunk):
                totals[i] = totals[i] + weigh(k, found[1][row])
                for name in theirs:
                    theirs[name][i] = theirs[name][i] + weigh_other(k, found[2][name][row])
            callback.on_progress(len(chunk) / copies)
        if others is None:
            return np.stack(totals)
        return np.stack(totals), {name: np.stack(values) for name, values in theirs.items()}


def compiled_gradients(view: View, height: int, width: int) -> Callable:
    """(images, classes) -> (scores, d scores / d images), compiled for height x width pictures; on a model of several
    inputs (images, classes, *other inputs) -> (scores, d scores / d images, *d scores / d each other input)."""
    shape, held = (height, width, view.channels), view.held
    model = view.class_scores() if held is None else view.class_scores_with_inputs(shape)
    others = [] if held is None else [(name, size, held.values[name].dtype) for name, size in held.shapes.items()]
    attributed = [] if held is None else differentiable(held)
    inputs = [(shape, "float32"), *((size, dtype) for _, size, dtype in others)]
    wrt = [0, *(index + 1 for index, (name, _, _) in enumerate(others) if name in attributed)]
    run = autodiff.differentiate(model, autodiff.pick, inputs, [((), "int32")], wrt)

    def scores_and_gradients(images, classes, *others) -> tuple:
        scores, _, grads = run(images, *others, classes)
        return (scores, *grads)

    return scores_and_gradients


def per_input(values: Others, reduce: Callable[[np.ndarray], np.ndarray]) -> Others:
    """Attributions to each other input as they are shown: a picture's (N, H, W, C) reduced over its channels as the
    method reduces the picture's (a map), a vector's as they are (a value per feature)."""
    return {name: reduce(value) if value.ndim == 4 else value for name, value in values.items()}


def baseline(images: np.ndarray, kind: str) -> np.ndarray:
    """What an absent picture looks like, Integrated Gradients' start and occlusion's patch: black, white, grey, or each image
    blurred (Gaussian, sigma a tenth of its shorter side)."""
    if kind == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = min(images.shape[1:3]) / 10
        return gaussian_filter(images, sigma=(0, sigma, sigma, 0), mode="nearest").astype("float32")
    value = {"black": 0.0, "white": 1.0, "grey": 0.5}[kind]
    return np.full_like(images, value)
