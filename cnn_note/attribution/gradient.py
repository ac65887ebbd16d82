"""The gradient (Simonyan et al. 2014), the plainest saliency map."""

from __future__ import annotations

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.io.progress import NO_CALLBACK


class Gradient(Method):
    """|d score / d pixel|, the largest over channels (Simonyan et al. 2014)."""

    name = "gradient"
    several = True

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK, others=None):
        from cnn_note.attribution.gradients import Gradients, per_input  # TensorFlow: here, not above (see method.py)

        found = Gradients(view, *images.shape[1:3])(images, classes, others)
        maps = np.abs(found[1]).max(axis=-1)
        return maps if others is None else (maps, per_input({name: np.abs(grads) for name, grads in found[2].items()},
                                                             lambda grads: grads.max(axis=-1)))
