"""What the API returns: small results that hold numpy arrays (figures.py draws them; nothing here needs TensorFlow)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for the annotations only: both modules import TensorFlow
    from cnn_note.core.heads import Head
    from cnn_note.dataset_examples.scan import Examples


@dataclasses.dataclass
class Explanation:
    """cn.explain's answer: one (N, H, W) map per method, and what was explained."""

    images: np.ndarray  # (N, H, W, C), pixels 0..1, as explained
    maps: dict[str, np.ndarray]  # {method: (N, H, W)}
    classes: np.ndarray  # (N,) the class explained for each picture
    probabilities: np.ndarray  # (N,) the probability (a regression's value) of that class
    predicted: np.ndarray  # (N,) the most probable class
    outputs: np.ndarray  # (N, classes) every class's probability
    layer: str | None  # Grad-CAM's layer
    completeness: np.ndarray | None  # (N,) Integrated Gradients' completeness error, when it ran
    class_names: list[str]
    head: Head

    def title(self, index: int, key: str = "", label: int | None = None) -> str:
        """What the script prints and writes over picture `index`: the prediction, and the class explained when another."""
        head, names, row = self.head, self.class_names, index
        title = f"{key}{'' if label is None else f' (label {label})'}: " + (
            f"value {head.format(self.probabilities[row])}" if head.kind == "regression" else
            f"predicted {names[self.predicted[row]]} at {head.format(self.outputs[row, self.predicted[row]])}")
        if self.classes[row] != self.predicted[row]:
            title += f"; explaining {names[self.classes[row]]} ({head.format(self.probabilities[row])})"
        return title

    def arrays(self) -> dict[str, np.ndarray]:
        """What explain.py saves as attributions.npz."""
        return {"images": self.images, "classes": self.classes, "probabilities": self.probabilities, "predicted": self.predicted,
                "gradcam_layer": np.array(self.layer or ""), **{method: values.astype("float32") for method, values in self.maps.items()}}


@dataclasses.dataclass
class Pictures:
    """Pictures found by gradient ascent: cn.filter_pictures' (one per filter) or cn.class_pictures' (one per class)."""

    images: np.ndarray  # (F, H, W, C), pixels 0..1
    indices: list[int]  # the filters or classes, in order
    scores: np.ndarray  # (F,) each filter's mean activation, or each class's probability (see measure)
    title: str
    labels: list[str]  # what each picture is called in a figure
    layer: str | None = None
    frames: list | None = None  # with frames=True: the pictures every few steps, (F, H, W, C) each
    examples: Examples | None = None  # filter pictures: the inputs that excite each filter most and least
    optimised: np.ndarray | None = None  # (F,) each picture's strongest unit, the response its examples are ranked by
    optimised_score: np.ndarray | None = None  # (F,) what the ascent scores it (beside examples.best_mean), before any ReLU

    @property
    def filters(self) -> list[int]:
        return self.indices

    @property
    def classes(self) -> list[int]:
        return self.indices

    @property
    def activations(self) -> np.ndarray:
        return self.scores

    @property
    def probabilities(self) -> np.ndarray:
        return self.scores


@dataclasses.dataclass
class Dream:
    """cn.deep_dream's answer: the dreamed picture(s) beside the original(s); np.asarray(result) is the dreamed picture."""

    image: np.ndarray  # (H, W, C) for one picture, (N, H, W, C) for several; pixels 0..1
    original: np.ndarray  # the same shape
    layers: dict[str, float]
    frames: list | None = None  # with frames=True: (N, h, w, C) arrays, about 30 in all

    def __array__(self, dtype=None, copy=None):
        return self.image if dtype is None else self.image.astype(dtype)
