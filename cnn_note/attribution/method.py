"""What an attribution method is: a class that says what it is called, what its maps mean, what it needs of the model
and which settings it brings, and makes one (H, W) map per picture. The registry (methods.py) holds one of each.

A method's module imports no TensorFlow at its top: explain.py's flags and the plots read the registry, and they
must stay instant. The machinery (gradients.py, perturbation.py) is imported inside `attribute`, where the work is.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from cnn_note.io.progress import NO_CALLBACK, Callback

if TYPE_CHECKING:
    from cnn_note.core.views import View

NEEDS = ("input", "layer", "probabilities", "attention")  # what a method needs of the model: see Method.needs


class Method:
    """One attribution method: for each picture, a map of how much each pixel counts for the class asked.

    A method is a subclass that sets the class attributes below and writes `attribute` (and `completeness` where it
    has one); an instance of it in the registry's list (methods.py) is all the API, explain.py's flags, the figures
    and the docs' checks need.

    Attributes:
        name: what --methods and cn.explain's `methods` call it, and the key of its maps (maps[name], attributions.npz).
        signed: True when its maps are signed (for the class above 0, against it below), drawn red and blue; False when
            they are magnitudes, 0 and up, drawn hot.
        needs: what it needs of the model: "input" (the class score and its gradient at the pixels), "layer" (a layer
            with a (batch, height, width, channels) output, the `layer` setting: left out on a model with none) or
            "probabilities" (only the model's output, no gradient) or "attention" (a transformer's attention layers:
            left out on a model with none unless asked for).
        several: True when it attributes to a model's other inputs too (core.held): `attribute` then takes `others`,
            each picture's own ({input name: (N, ...)}), and returns (maps, {input name: attributions}), a map for a
            picture input, a value per feature for a vector; a method that does not is run picture by picture with
            the others held at that picture's own.
        Settings: a frozen dataclass of the settings it brings, each made with `settings.setting`; they become cn.explain's
            keywords and explain.py's flags. A setting is declared by one method only: another that reads it too
            says so in a comment (occlusion reads Integrated Gradients' `baseline`).
    """

    name: ClassVar[str]
    signed: ClassVar[bool] = False
    needs: ClassVar[str] = "input"
    several: ClassVar[bool] = False

    @dataclasses.dataclass(frozen=True)
    class Settings:
        """None of its own."""

    def attribute(self, view: View, images: np.ndarray, classes: np.ndarray, settings,
                  callback: Callback = NO_CALLBACK) -> np.ndarray:
        """The maps (N, H, W) of pixel images (N, H, W, C) 0..1 for the class of each (N,).

        Args:
            view: the model, seen through pixels 0..1.
            images: the pictures, float32.
            classes: the class to explain for each picture.
            settings: every registered method's settings (attribution.ExplainSettings): its own and any it shares.
            callback: hears of the work done as it goes, in pictures (explain makes up what it does not hear).

        Returns:
            np.ndarray: (N, H, W) a map per picture.
        """
        raise NotImplementedError

    def completeness(self, view: View, images: np.ndarray, classes: np.ndarray, maps: np.ndarray, settings,
                     others: dict | None = None, attributed: dict | None = None) -> np.ndarray | None:
        """How far each map (N, H, W) is from adding up to what it explains, relative: (N,) for a method that promises
        completeness (Integrated Gradients: the score's change from the baseline), None for one that does not. With
        `others` (a model's other inputs) and what it `attributed` to them, over every input together."""
        return None
