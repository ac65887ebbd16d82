"""Why did the model decide this: attribution maps, one (H, W) map per image for the class asked.

Every method takes a View, pixel images (N, H, W, C) 0..1 and the class to explain for each
image. The gradient methods (gradient, smoothgrad, integrated_gradients, gradcam) differentiate
the class score (the logit before softmax or sigmoid; see heads.Head); occlusion and LIME
only call the model and watch its probability (a regression's value).
Copies of an image (noisy, interpolated, occluded) go through the model many at a time.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from cnn_note.backend import tf
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io import imaging
from cnn_note.optvis.objectives import pick
from cnn_note.settings import ExplainSettings

METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime")
SIGNED = ("integrated_gradients", "occlusion", "lime")  # the others are magnitudes, 0 and up
MAX_BATCH = 512  # images per call: large enough to keep both cores busy on MNIST, small enough to trace few shapes


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

        self.run = run

    def __call__(self, images: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores (N,) and gradients (N, H, W, C)."""
        scores, grads = zip(*((s.numpy(), g.numpy()) for s, g in
                              (self.run(images[i:i + self.batch], classes[i:i + self.batch].astype("int32"))
                               for i in range(0, len(images), self.batch))))
        return np.concatenate(scores), np.concatenate(grads)

    def summed(self, images: np.ndarray, classes: np.ndarray, copies: int, copy: Callable[[int, int], np.ndarray],
               weigh: Callable[[int, np.ndarray], np.ndarray], tick: Callable[[float], None] | None = None) -> np.ndarray:
        """For each image i, the sum over k < copies of weigh(k, gradient at copy(i, k)); the copies go in batches.

        `tick(pictures)` hears, after each batch, how many pictures' worth of copies it held.
        """
        rows = [(i, k) for i in range(len(images)) for k in range(copies)]
        totals = [0.0] * len(images)
        for start in range(0, len(rows), self.batch):
            chunk = rows[start:start + self.batch]
            _, grads = self(np.stack([copy(i, k) for i, k in chunk]), classes[[i for i, _ in chunk]])
            for (i, k), grad in zip(chunk, grads):
                totals[i] = totals[i] + weigh(k, grad)
            if tick:
                tick(len(chunk) / copies)
        return np.stack(totals)


def gradient(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = ExplainSettings(), tick=None) -> np.ndarray:
    """|d score / d pixel|, the largest over channels (Simonyan et al. 2014)."""
    _, grads = Gradients(view, *images.shape[1:3])(images, classes)
    return np.abs(grads).max(axis=-1)


def smoothgrad(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = ExplainSettings(), tick=None) -> np.ndarray:
    """The gradient map averaged over noisy copies (Smilkov et al. 2017); the noise is a share of each image's range."""
    rng = np.random.default_rng(settings.seed)
    sigma = settings.noise * (images.max(axis=(1, 2, 3)) - images.min(axis=(1, 2, 3)))

    def noisy(i: int, k: int) -> np.ndarray:
        return (images[i] + sigma[i] * rng.standard_normal(images.shape[1:])).astype("float32")

    total = Gradients(view, *images.shape[1:3]).summed(images, classes, settings.samples, noisy,
                                                       lambda k, grad: np.abs(grad).max(axis=-1), tick)
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


def integrated_gradients(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = ExplainSettings(),
                         tick=None) -> tuple[np.ndarray, np.ndarray]:
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
                                 lambda k, grad: weights[k] * grad, tick)
    attributions = ((images - start) * mean_grad).sum(axis=-1)
    scores, _ = gradients(np.concatenate([images, start]), np.concatenate([classes, classes]))
    change = scores[:len(images)] - scores[len(images):]
    error = np.abs(attributions.sum(axis=(1, 2)) - change) / np.maximum(np.abs(change), 1e-12)
    return attributions, error


def gradcam(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = ExplainSettings(), tick=None) -> np.ndarray:
    """Selvaraju et al. 2017: ReLU of the layer's channels weighted by their mean gradient, resized to the image."""
    layer = gradcam_layer(view, settings.layer)
    if layer is None:
        raise InputError(f"gradcam needs a layer with a (batch, height, width, channels) output and {view.label} has none: "
                         "leave gradcam out of ", Argument("methods"))
    model = view.layer_and_scores(layer)
    height, width = images.shape[1:3]
    batch = batch_of(view, height, width)

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

    return np.concatenate([run(images[i:i + batch], classes[i:i + batch].astype("int32")).numpy()
                           for i in range(0, len(images), batch)])


def patch_and_stride(height: int, width: int, settings: ExplainSettings) -> tuple[int, int]:
    """Occlusion's patch side (a seventh of the shorter side unless set) and stride (half the patch unless set)."""
    patch = settings.patch or max(2, min(height, width) // 7)
    if patch > min(height, width):
        raise InputError(Argument("patch", patch), f" is larger than the {height}x{width} picture: use at most {min(height, width)}")
    return patch, settings.stride or max(1, patch // 2)


def positions(length: int, patch: int, stride: int) -> list[int]:
    """Where a patch starts along one side, the last one flush with the edge so every pixel is covered."""
    starts = list(range(0, length - patch + 1, stride))
    return starts if starts[-1] == length - patch else starts + [length - patch]


def occlusion(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = ExplainSettings(), tick=None) -> np.ndarray:
    """Zeiler and Fergus 2014: the drop in the class probability when a patch covers a pixel, averaged over such patches.

    The patch shows the baseline (black by default): on MNIST black is the absence of ink, where
    Zeiler and Fergus' grey (--baseline grey) was the mean of their mean-centred photos. Grey adds
    ink to a digit's background, and its maps then lose to a random order at insertion.
    """
    def at_size(small: np.ndarray) -> np.ndarray:
        height, width = small.shape[1:3]
        patch, stride = patch_and_stride(height, width, settings)
        spots = [(top, left) for top in positions(height, patch, stride) for left in positions(width, patch, stride)]
        predict = Probabilities(view, height, width)
        before = predict(small)[np.arange(len(small)), classes]
        fill = baseline(small, settings.baseline)

        def occluded() -> Iterator[np.ndarray]:
            for image, hidden in zip(small, fill):
                for top, left in spots:
                    copy = image.copy()
                    copy[top:top + patch, left:left + patch] = hidden[top:top + patch, left:left + patch]
                    yield copy

        after = predict.stream(occluded(), len(small) * len(spots), tick and (lambda count: tick(count / len(spots))))
        after = after.reshape(len(small), len(spots), -1)
        drops, covered = np.zeros(small.shape[:3]), np.zeros((height, width))
        for index, (top, left) in enumerate(spots):
            drops[:, top:top + patch, left:left + patch] += (before - after[np.arange(len(small)), index, classes])[:, None, None]
            covered[top:top + patch, left:left + patch] += 1
        return drops / covered

    return on_copy(images, settings.max_side, at_size)


def lime(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = ExplainSettings(), tick=None) -> np.ndarray:
    """LIME (Ribeiro et al. 2016) with the lime package: each superpixel's weight in a local linear model of the probability.

    Superpixels come from scikit-image's quickshift with LIME's own settings, kernel 4 (for
    ImageNet-sized pictures), or 1 below 64 pixels a side, as LIME's MNIST tutorial has it.
    """
    os.environ.setdefault("TQDM_DISABLE", "1")  # lime draws a tqdm bar per image; we show our own progress
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "IProgress not found")  # tqdm.auto's, as lime imports it in a notebook
        from lime import lime_image
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    def at_size(small: np.ndarray) -> np.ndarray:
        height, width = small.shape[1:3]
        predict = Probabilities(view, height, width)
        segmenter = SegmentationAlgorithm("quickshift", kernel_size=1 if min(height, width) < 64 else 4, max_dist=200,
                                          ratio=0.2, random_seed=settings.seed)
        maps = []
        for image, wanted in zip(small, classes):
            explainer = lime_image.LimeImageExplainer(random_state=settings.seed)
            rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
            found = explainer.explain_instance(
                rgb.astype("float64"), lambda batch: predict(batch[..., :view.channels].astype("float32")),
                labels=(int(wanted),), top_labels=None, num_samples=settings.lime_samples, batch_size=100,
                segmentation_fn=segmenter, random_seed=settings.seed)
            weight = dict(found.local_exp[int(wanted)])
            maps.append(np.vectorize(lambda segment: weight.get(segment, 0.0))(found.segments))
            if tick:
                tick(1)
        return np.stack(maps)

    return on_copy(images, settings.max_side, at_size)


class Probabilities:
    """The model's own output for any number of images of one size, in batches that fit, through one compiled call."""

    def __init__(self, view: View, height: int, width: int) -> None:
        self.batch = batch_of(view, height, width, forward_only=True)
        self.model = view.probability_model((height, width, view.channels))

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes)."""
        return self.stream(iter(images), len(images))

    def stream(self, images: Iterator[np.ndarray], count: int, tick: Callable[[int], None] | None = None) -> np.ndarray:
        """Probabilities for `count` images drawn from an iterator, so that not all of them need be in memory at once;
        `tick(images)` hears of each batch done."""
        out = []
        for start in range(0, count, self.batch):
            batch = np.stack([next(images) for _ in range(min(self.batch, count - start))]).astype("float32")
            out.append(np.asarray(self.model.predict_on_batch(batch)))
            if tick:
                tick(len(batch))
        return np.concatenate(out)


def on_copy(images: np.ndarray, max_side: int, method: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Run `method` on the images shrunk to at most `max_side` a side (when larger), and bring its maps back to full size."""
    height, width = images.shape[1:3]
    if max(height, width) <= max_side:
        return method(images)
    maps = method(imaging.resize_area(images, imaging.within((height, width), max_side)))
    return tf.image.resize(maps[..., None].astype("float32"), (height, width), method="bilinear").numpy()[..., 0]


def explain(view: View, images: np.ndarray, classes: np.ndarray, methods: list[str], settings: ExplainSettings = ExplainSettings(),
            log: Callable[[str], None] = print,
            tick: Callable[[float], None] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """{method: maps (N, H, W)} for the methods asked, in order, and Integrated Gradients' completeness error per image
    (None when it did not run); logs a line per method. `tick(pictures)` hears of the work done, len(images) a method."""
    maps, completeness = {}, None
    for method in methods:
        start, heard = time.perf_counter(), [0.0]

        def told(count: float) -> None:
            heard[0] += count
            if tick:
                tick(count)

        if method == "integrated_gradients":
            maps[method], completeness = integrated_gradients(view, images, classes, settings, told)
            extra = f"; completeness error mean {completeness.mean():.2e}, max {completeness.max():.2e}"
        else:
            maps[method], extra = FUNCTIONS[method](view, images, classes, settings, told), ""
        told(len(images) - heard[0])  # what the method did not report as it went
        log(f"{method}: {len(images)} image(s) in {time.perf_counter() - start:.2f} s{extra}")
    return maps, completeness


def shift_agreement(maps: np.ndarray, shifted_maps: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Per image, the correlation between the map of the shifted picture and the map shifted the same way (1: it moved with it)."""
    from cnn_note.note.distortions import shift

    moved = shift(maps, dy, dx).reshape(len(maps), -1)
    shifted = shifted_maps.reshape(len(maps), -1)
    return np.array([np.corrcoef(a, b)[0, 1] if a.std() and b.std() else 0.0 for a, b in zip(moved, shifted)])


FUNCTIONS = {"gradient": gradient, "smoothgrad": smoothgrad, "gradcam": gradcam, "occlusion": occlusion, "lime": lime}
