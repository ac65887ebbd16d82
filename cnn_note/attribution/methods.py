"""Why did the model decide this: attribution maps, one (H, W) map per image for the class asked.

Every method takes a View, pixel images (N, H, W, C) 0..1 and the class to explain for each
image. The gradient methods (gradient, smoothgrad, integrated_gradients, gradcam) differentiate
the class score (the logit before softmax or sigmoid; see heads.Head); occlusion and LIME
only call the model and watch its probability (a regression's value). The gradient methods live
in gradients.py, the perturbation ones in perturbation.py; this module runs those asked (explain).
Copies of an image (noisy, interpolated, occluded) go through the model many at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from cnn_note.attribution.gradients import (  # noqa: F401  (re-exported: the methods' names, in one module as before)
    DEFAULT,
    MAX_BATCH,
    Gradients,
    baseline,
    gradcam,
    gradcam_layer,
    gradient,
    integrated_gradients,
    smoothgrad,
)
from cnn_note.attribution.perturbation import Probabilities, lime, occlusion, on_copy, patch_and_stride, positions  # noqa: F401
from cnn_note.core.views import View
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.settings import ExplainSettings

METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime")


def explain(view: View, images: np.ndarray, classes: np.ndarray, methods: list[str], settings: ExplainSettings = DEFAULT,
            log: Callable[[str], None] = print,
            callback: Callback = NO_CALLBACK) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """{method: maps (N, H, W)} for the methods asked, in order, and Integrated Gradients' completeness error per image
    (None when it did not run); logs a line per method. `callback` hears of the work done, len(images) a method."""
    maps, completeness = {}, None
    for method in methods:
        start, told = time.perf_counter(), _Counted(callback)
        if method == "integrated_gradients":
            maps[method], completeness = integrated_gradients(view, images, classes, settings, told)
            extra = f"; completeness error mean {completeness.mean():.2e}, max {completeness.max():.2e}"
        else:
            maps[method], extra = FUNCTIONS[method](view, images, classes, settings, told), ""
        told.on_progress(len(images) - told.heard)  # what the method did not report as it went
        log(f"{method}: {len(images)} image(s) in {time.perf_counter() - start:.2f} s{extra}")
    return maps, completeness



FUNCTIONS = {"gradient": gradient, "smoothgrad": smoothgrad, "gradcam": gradcam, "occlusion": occlusion, "lime": lime}


class _Counted(Callback):
    """Hands the news on, counting the work heard of (a method that reports less than it did is made up at its end)."""

    def __init__(self, callback: Callback) -> None:
        self.callback, self.heard = callback, 0.0

    def on_progress(self, count: float, pictures=None) -> None:
        self.heard += count
        self.callback.on_progress(count, pictures)
