"""The registry of attribution methods, and explain, which runs those asked: one (H, W) map per image for the class asked.

Every method takes a View, pixel images (N, H, W, C) 0..1 and the class to explain for each
image. The gradient methods (gradient, smoothgrad, integrated_gradients, gradcam) differentiate
the class score (the logit before softmax or sigmoid; see heads.Head); occlusion and LIME
only call the model and watch its probability (a regression's value). Each method is a class in
a module of its own (method.py says what a method is); copies of an image (noisy, interpolated,
occluded) go through the model many at a time.

METHODS is the one list of methods: cn.explain, explain.py's flags, the figures (which maps are
signed) and the docs' checks all read it. Importing it loads no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from cnn_note.attribution.attention import AttentionRollout, LastAttention
from cnn_note.attribution.gradcam import GradCAM
from cnn_note.attribution.gradient import Gradient
from cnn_note.attribution.integrated_gradients import IntegratedGradients
from cnn_note.attribution.lime import Lime
from cnn_note.attribution.method import Method
from cnn_note.attribution.occlusion import Occlusion
from cnn_note.attribution.smoothgrad import SmoothGrad
from cnn_note.io.progress import NO_CALLBACK, Callback

if TYPE_CHECKING:
    from cnn_note.core.views import View

# In the order they run by default and their maps are drawn, left to right. A new method: its module, and one here.
METHODS: dict[str, Method] = {method.name: method for method in (
    Gradient(), SmoothGrad(), IntegratedGradients(), GradCAM(), Occlusion(), Lime(), AttentionRollout(), LastAttention())}


def signed() -> tuple[str, ...]:
    """The registered methods whose maps are signed (for the class and against it); the others' are magnitudes, 0 and up."""
    return tuple(name for name, method in METHODS.items() if method.signed)


def explain_settings() -> type:
    """ExplainSettings: every registered method's settings (its Settings), in the registry's order, as one frozen
    dataclass; cn.explain's keywords and explain.py's flags. The same class while the registry is unchanged."""
    return _settings_of(tuple(METHODS.values()))


@functools.cache
def _settings_of(methods: tuple[Method, ...]) -> type:
    # A setting two methods declare is refused here (make_dataclass: "Field name duplicated"): one flag, one default.
    fields = [(item.name, item.type, dataclasses.field(default=item.default, metadata=item.metadata))
              for method in methods for item in dataclasses.fields(method.Settings)]
    return dataclasses.make_dataclass("ExplainSettings", fields, frozen=True, namespace={
        "__doc__": "How each attribution method runs: explain.py's flags and cn.explain's keywords, every method's Settings.",
        "__module__": __name__})


def explain(view: View, images: np.ndarray, classes: np.ndarray, methods: Iterable[str], settings=None,
            log: Callable[[str], None] = print, callback: Callback = NO_CALLBACK,
            others: dict | None = None) -> tuple[dict[str, np.ndarray], np.ndarray | None, dict[str, dict]]:
    """{method: maps (N, H, W)} for the methods asked, in order, the completeness error per image of the method that
    promises completeness (Integrated Gradients; None when it did not run), and {method: {input name: attributions}}
    to a model's other inputs, each picture's own in `others` ({input name: (N, ...)}; see Method.several); logs a
    line per method. `settings`: ExplainSettings (default: every default). `callback` hears of the work done,
    len(images) a method."""
    settings = settings or explain_settings()()
    maps, completeness, theirs = {}, None, {}
    for name in methods:
        method, start, told = METHODS[name], time.perf_counter(), _Counted(callback)
        if others is None:
            maps[name] = method.attribute(view, images, classes, settings, told)
        elif method.several:
            maps[name], theirs[name] = method.attribute(view, images, classes, settings, told, others)
        else:
            maps[name] = _one_by_one(view, method, images, classes, settings, told, others)
        error = method.completeness(view, images, classes, maps[name], settings) if name not in theirs else \
            method.completeness(view, images, classes, maps[name], settings, others, theirs[name])
        extra = "" if error is None else f"; completeness error mean {error.mean():.2e}, max {error.max():.2e}"
        completeness = completeness if error is None else error
        told.on_progress(len(images) - told.heard)  # what the method did not report as it went
        log(f"{name}: {len(images)} image(s) in {time.perf_counter() - start:.2f} s{extra}")
    return maps, completeness, theirs


def _one_by_one(view: View, method: Method, images: np.ndarray, classes: np.ndarray, settings, callback: Callback,
                others: dict) -> np.ndarray:
    """A method that attributes to the picture alone, on a model of several inputs: picture by picture, the other inputs
    held at that picture's own (its copies, occluded or sampled, share them), then held as they were."""
    before = {name: np.asarray(value) for name, value in view.held.values.items()}
    try:
        parts = []
        for index in range(len(images)):
            view.held.hold({name: values[index] for name, values in others.items()})
            parts.append(method.attribute(view, images[index:index + 1], classes[index:index + 1], settings, callback))
        return np.concatenate(parts)
    finally:
        view.held.hold(before)


class _Counted(Callback):
    """Hands the news on, counting the work heard of (a method that reports less than it did is made up at its end)."""

    def __init__(self, callback: Callback) -> None:
        self.callback, self.heard = callback, 0.0

    def on_progress(self, count: float, pictures=None) -> None:
        self.heard += count
        self.callback.on_progress(count, pictures)
