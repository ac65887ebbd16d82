"""LIME (Ribeiro et al. 2016), with the lime package the course's homework uses: a local linear model over superpixels."""

from __future__ import annotations

import dataclasses
import os
import warnings

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.io.progress import NO_CALLBACK
from cnn_note.settings import setting


class Lime(Method):
    """Each superpixel's weight in a local linear model of the class probability (Ribeiro et al. 2016).

    Superpixels come from scikit-image's quickshift with LIME's own settings, kernel 4 (for
    ImageNet-sized pictures), or 1 below 64 pixels a side, as LIME's MNIST tutorial has it.
    """

    name = "lime"
    signed = True
    needs = "probabilities"

    @dataclasses.dataclass(frozen=True)
    class Settings:
        lime_samples: int = setting(1000, "LIME's perturbed copies per image", "positive")
        # Occlusion works on such a copy too, and SmoothGrad draws its noise from the seed.
        max_side: int = setting(512, "occlusion and LIME work on a copy of a larger picture shrunk to this side, and map back", "positive")
        seed: int = setting(0, "seed for SmoothGrad's noise and LIME", "nonnegative")

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK):
        from cnn_note.attribution.perturbation import Probabilities, on_copy  # TensorFlow: here, not above (see method.py)

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
