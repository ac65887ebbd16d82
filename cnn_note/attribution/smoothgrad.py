"""SmoothGrad (Smilkov et al. 2017): the gradient map averaged over noisy copies of the picture."""

from __future__ import annotations

import dataclasses

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.io.progress import NO_CALLBACK
from cnn_note.settings import setting


class SmoothGrad(Method):
    """The gradient map averaged over noisy copies (Smilkov et al. 2017); the noise is a share of each image's range.
    The noise is drawn from `seed` (LIME's setting, which it shares)."""

    name = "smoothgrad"

    @dataclasses.dataclass(frozen=True)
    class Settings:
        samples: int = setting(50, "SmoothGrad's noisy copies per image", "positive")
        noise: float = setting(0.15, "SmoothGrad's noise, a share of the image's pixel range", "fraction")

    several = True  # the noise is the picture's; the other inputs stay each picture's own

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK, others=None):
        from cnn_note.attribution.gradients import Gradients, per_input  # TensorFlow: here, not above (see method.py)

        rng = np.random.default_rng(settings.seed)
        sigma = settings.noise * (images.max(axis=(1, 2, 3)) - images.min(axis=(1, 2, 3)))

        def noisy(i: int, k: int) -> np.ndarray:
            return (images[i] + sigma[i] * rng.standard_normal(images.shape[1:])).astype("float32")

        found = Gradients(view, *images.shape[1:3]).summed(images, classes, settings.samples, noisy,
                                                           lambda k, grad: np.abs(grad).max(axis=-1), callback, others,
                                                           weigh_other=lambda k, grad: np.abs(grad))
        if others is None:
            return found / settings.samples
        total, theirs = found
        return total / settings.samples, per_input({name: value / settings.samples for name, value in theirs.items()},
                                                    lambda value: value.max(axis=-1))
