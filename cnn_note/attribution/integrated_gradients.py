"""Integrated Gradients (Sundararajan et al. 2017): the gradient summed along the way from a baseline to the picture."""

from __future__ import annotations

import dataclasses

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.io.progress import NO_CALLBACK
from cnn_note.settings import BASELINES, setting


class IntegratedGradients(Method):
    """Sundararajan et al. 2017 by the trapezoid rule, summed over channels; its maps add up to the change in the class
    score from the baseline to the picture (completeness), to within the rule's error."""

    name = "integrated_gradients"
    signed = True
    several = True  # every input from its baseline together (the other inputs' is zeros): completeness holds over all

    @dataclasses.dataclass(frozen=True)
    class Settings:
        steps: int = setting(64, "Integrated Gradients' steps from the baseline", "positive")
        # Occlusion's patch shows it too.
        baseline: str = setting("black", "what an absent picture is: Integrated Gradients' start and what occlusion's patch shows "
                                "(blur: the image under a Gaussian blur of a tenth of its side; grey: Zeiler and Fergus' patch)",
                                choices=BASELINES)

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK, others=None):
        from cnn_note.attribution.gradients import Gradients, baseline, per_input  # TensorFlow: here, not above (see method.py)

        start = baseline(images, settings.baseline)
        alphas = np.linspace(0.0, 1.0, settings.steps + 1, dtype="float32")
        weights = np.full(settings.steps + 1, 1.0 / settings.steps)
        weights[[0, -1]] /= 2
        found = Gradients(view, *images.shape[1:3]).summed(images, classes, settings.steps + 1,
                                                           lambda i, k: start[i] + alphas[k] * (images[i] - start[i]),
                                                           lambda k, grad: weights[k] * grad, callback, others,
                                                           lambda name, i, k: alphas[k] * others[name][i],  # from zeros
                                                           lambda k, grad: weights[k] * grad)
        if others is None:
            return ((images - start) * found).sum(axis=-1)
        mean_grad, theirs = found
        return ((images - start) * mean_grad).sum(axis=-1), per_input({name: others[name] * value for name, value in theirs.items()},
                                                                      lambda value: value.sum(axis=-1))

    def completeness(self, view, images, classes, maps, settings, others=None, attributed=None):
        """|sum of the map - (score(x) - score(baseline))| over |score(x) - score(baseline)|, per image; with `others`,
        the attributions to them (`attributed`) added to the sum, and the baseline theirs too (zeros)."""
        from cnn_note.attribution.gradients import Gradients, baseline

        start = baseline(images, settings.baseline)
        # The other inputs' baseline is zeros; an integer one (not attributed to) stays each picture's own.
        both = None if others is None else {name: np.concatenate([value, np.zeros_like(value) if name in attributed else value])
                                            for name, value in others.items()}
        scores = Gradients(view, *images.shape[1:3])(np.concatenate([images, start]), np.concatenate([classes, classes]), both)[0]
        change = scores[:len(images)] - scores[len(images):]
        total = maps.sum(axis=(1, 2)) + sum(value.reshape(len(images), -1).sum(axis=1) for value in (attributed or {}).values())
        return np.abs(total - change) / np.maximum(np.abs(change), 1e-12)
