"""Occlusion (Zeiler and Fergus 2014): how much the class probability drops when a patch hides a part of the picture."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK
from cnn_note.settings import setting


class Occlusion(Method):
    """Zeiler and Fergus 2014: the drop in the class probability when a patch covers a pixel, averaged over such patches.

    The patch shows the baseline (Integrated Gradients' setting; black by default): on MNIST black is the absence of
    ink, where Zeiler and Fergus' grey (--baseline grey) was the mean of their mean-centred photos. Grey adds ink to a
    digit's background, and its maps then lose to a random order at insertion. It works on a copy at most `max_side`
    (LIME's setting) a side.
    """

    name = "occlusion"
    signed = True
    needs = "probabilities"

    @dataclasses.dataclass(frozen=True)
    class Settings:
        patch: int | None = setting(None, "occlusion's square, in pixels (default: a seventh of the shorter side, 4 for a digit)",
                                    "positive", optional=True)
        stride: int | None = setting(None, "occlusion's step between patches (default: half the patch)", "positive", optional=True)

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK):
        from cnn_note.attribution.gradients import baseline  # TensorFlow: here, not above (see method.py)
        from cnn_note.attribution.perturbation import Probabilities, on_copy

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


def patch_and_stride(height: int, width: int, settings) -> tuple[int, int]:
    """Occlusion's patch side (a seventh of the shorter side unless set) and stride (half the patch unless set)."""
    patch = settings.patch or max(2, min(height, width) // 7)
    if patch > min(height, width):
        raise InputError(Argument("patch", patch), f" is larger than the {height}x{width} picture: use at most {min(height, width)}")
    return patch, settings.stride or max(1, patch // 2)


def positions(length: int, patch: int, stride: int) -> list[int]:
    """Where a patch starts along one side, the last one flush with the edge so every pixel is covered."""
    starts = list(range(0, length - patch + 1, stride))
    return starts if starts[-1] == length - patch else starts + [length - patch]
