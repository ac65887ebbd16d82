"""The gradient methods: gradient, SmoothGrad, Integrated Gradients and Grad-CAM, one (H, W) map per image.

Each differentiates the class score (the logit before softmax or sigmoid; see heads.Head) with a
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
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.optvis.objectives import pick
from cnn_note.settings import ExplainSettings

MAX_BATCH = 512  # images per call: large enough to keep both cores busy on MNIST, small enough to trace few shapes
DEFAULT = ExplainSettings()


def gradcam_layer(view: View, asked: str | None) -> str | None:
    """The layer Grad-CAM uses: the one asked (checked to be 4-D), else the last conv layer, else None (no 4-D layer)."""
    if asked:
        view.check_layers([asked])
        return asked
    convs = view.conv_layer_names() or [layer.name for layer in view.feature_layers()]
    return convs[-1] if convs else None


def batch_of(view: View, height: int, width: int, forward_only: bool = False) -> int:
    """How many height x width pictures go through the model in one call: up to MAX_BATCH, within the memory budget."""
    return view.batch(None, height, width, MAX_BATCH, f"a {height}x{width} picture", "give a smaller --image", forward_only)


class Gradients:
    """The class scores (see heads.Head) and their gradients for any number of images of one size, in batches that fit."""

    def __init__(self, view: View, height: int, width: int) -> None:
        self.batch = batch_of(view, height, width)
        # Compiled once per View and size: a View kept for a model (loading.kept) explains picture after picture with it.
        self.run = view.memo(("gradients", height, width), lambda: compiled_gradients(view, height, width))

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


def gradient(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = DEFAULT,
             callback: Callback = NO_CALLBACK) -> np.ndarray:
    """|d score / d pixel|, the largest over channels (Simonyan et al. 2014)."""
    _, grads = Gradients(view, *images.shape[1:3])(images, classes)
    return np.abs(grads).max(axis=-1)


def smoothgrad(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = DEFAULT,
             callback: Callback = NO_CALLBACK) -> np.ndarray:
    """The gradient map averaged over noisy copies (Smilkov et al. 2017); the noise is a share of each image's range."""
    rng = np.random.default_rng(settings.seed)
    sigma = settings.noise * (images.max(axis=(1, 2, 3)) - images.min(axis=(1, 2, 3)))

    def noisy(i: int, k: int) -> np.ndarray:
        return (images[i] + sigma[i] * rng.standard_normal(images.shape[1:])).astype("float32")

    total = Gradients(view, *images.shape[1:3]).summed(images, classes, settings.samples, noisy,
                                                       lambda k, grad: np.abs(grad).max(axis=-1), callback)
    return total / settings.samples


def baseline(images: np.ndarray, kind: str) -> np.ndarray:
    """What an absent picture looks like, Integrated Gradients' start and occlusion's patch: black, white, grey, or each image
    blurred (Gaussian, sigma a tenth of its shorter side)."""
    if kind == "blur":
        from scipy.ndimage import gaussian_filter

        sigma = min(images.shape[1:3]) / 10
        return gaussian_filter(images, sigma=(0, sigma, sigma, 0), mode="nearest").astype("float32")
    value = {"black": 0.0, "white": 1.0, "grey": 0.5}[kind]
    return np.full_like(images, value)


def integrated_gradients(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = DEFAULT,
                         callback: Callback = NO_CALLBACK) -> tuple[np.ndarray, np.ndarray]:
    """Sundararajan et al. 2017 by the trapezoid rule, summed over channels; also each image's completeness error.

    The error is |sum of attributions - (score(x) - score(baseline))| over |score(x) - score(baseline)|.
    """
    start = baseline(images, settings.baseline)
    alphas = np.linspace(0.0, 1.0, settings.steps + 1, dtype="float32")
    weights = np.full(settings.steps + 1, 1.0 / settings.steps)
    weights[[0, -1]] /= 2
    gradients = Gradients(view, *images.shape[1:3])
    mean_grad = gradients.summed(images, classes, settings.steps + 1,
                                 lambda i, k: start[i] + alphas[k] * (images[i] - start[i]),
                                 lambda k, grad: weights[k] * grad, callback)
    attributions = ((images - start) * mean_grad).sum(axis=-1)
    scores, _ = gradients(np.concatenate([images, start]), np.concatenate([classes, classes]))
    change = scores[:len(images)] - scores[len(images):]
    error = np.abs(attributions.sum(axis=(1, 2)) - change) / np.maximum(np.abs(change), 1e-12)
    return attributions, error


def gradcam(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = DEFAULT,
             callback: Callback = NO_CALLBACK) -> np.ndarray:
    """Selvaraju et al. 2017: ReLU of the layer's channels weighted by their mean gradient, resized to the image."""
    layer = gradcam_layer(view, settings.layer)
    if layer is None:
        raise InputError(f"gradcam needs a layer with a (batch, height, width, channels) output and {view.label} has none: "
                         "leave gradcam out of ", Argument("methods"))
    height, width = images.shape[1:3]
    batch = batch_of(view, height, width)
    run = view.memo(("gradcam", layer, height, width), lambda: compiled_gradcam(view, layer, height, width))
    return batching.map_batches(lambda part, wanted: run(part, wanted.astype("int32")).numpy(), batch, images, classes)


def compiled_gradcam(view: View, layer: str, height: int, width: int) -> Callable:
    """(images, classes) -> Grad-CAM maps on `layer` resized to height x width, compiled for such pictures."""
    model = view.layer_and_scores(layer)

    @tf.function(input_signature=[tf.TensorSpec((None, height, width, view.channels), tf.float32),
                                  tf.TensorSpec((None,), tf.int32)])
    def run(pixels, wanted):
        with tf.GradientTape() as tape:
            maps, scores = model(pixels)
            total = tf.reduce_sum(pick(tf.cast(scores, tf.float32), wanted))
        # A mixed-precision layer gives float16 or bfloat16 maps; the map is made in float32.
        grads, maps = tf.cast(tape.gradient(total, maps), tf.float32), tf.cast(maps, tf.float32)
        weights = tf.reduce_mean(grads, axis=[1, 2], keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1, keepdims=True))
        return tf.image.resize(cam, (height, width), method="bilinear")[..., 0]

    return run
