"""The perturbation methods: occlusion and LIME, which only call the model and watch its probability (a regression's value).

Occluded copies of an image go through the model in batches that fit (core.batching), through one
compiled call kept by the View (View.probability_model).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator

import numpy as np

from cnn_note.attribution.gradients import DEFAULT, baseline, batch_of
from cnn_note.backend import tf
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io import imaging
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.settings import ExplainSettings


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


def occlusion(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = DEFAULT,
              callback: Callback = NO_CALLBACK) -> np.ndarray:
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

        after = predict.stream(occluded(), len(small) * len(spots), callback, per=len(spots))
        after = after.reshape(len(small), len(spots), -1)
        drops, covered = np.zeros(small.shape[:3]), np.zeros((height, width))
        for index, (top, left) in enumerate(spots):
            drops[:, top:top + patch, left:left + patch] += (before - after[np.arange(len(small)), index, classes])[:, None, None]
            covered[top:top + patch, left:left + patch] += 1
        return drops / covered

    return on_copy(images, settings.max_side, at_size)


def lime(view: View, images: np.ndarray, classes: np.ndarray, settings: ExplainSettings = DEFAULT,
              callback: Callback = NO_CALLBACK) -> np.ndarray:
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
            maps.append(np.vectorize(lambda segment, weight=weight: weight.get(segment, 0.0))(found.segments))
            callback.on_progress(1)
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
    return tf.image.resize(maps[..., None].astype("float32"), (height, width), method="bilinear").numpy()[..., 0]
