"""The gradient (Simonyan et al. 2014), the plainest saliency map."""

from __future__ import annotations

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.io.progress import NO_CALLBACK


class Gradient(Method):
    """|d score / d pixel|, the largest over channels (Simonyan et al. 2014)."""

    name = "gradient"

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK):
        from cnn_note.attribution.gradients import Gradients  # TensorFlow: here, not above (see method.py)

        _, grads = Gradients(view, *images.shape[1:3])(images, classes)
        return np.abs(grads).max(axis=-1)
