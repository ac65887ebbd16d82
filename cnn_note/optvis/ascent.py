"""Gradient ascent on input images: the loop that filter pictures, class pictures and dreams share.

What to maximise is an objective (see objectives.py): a function from a batch of pixel images
(B, H, W, C), 0..1, to one score per image (B,). How to maximise it lives here: the steps a
parameterisation takes (parameterisation.py: pixels, Fourier spectra) run up to 50 at a call
(core.autodiff.ascent_steps, on the backend Keras runs on) and `drive` calls them until the steps
are done. `update` is the step on pixels: normalised gradient steps, a light blur, and pixels kept
in 0..1. `ascend_tiled` scores images of any size tile by tile, with a random shift each step so
the tile borders never stay in one place (dreams on photos). All of it is keras.ops or numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import autodiff
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.settings import PictureSettings

Objective = Callable  # a batch of pictures (B, H, W, C) to one score each (B,), in keras.ops

STEPS_PER_CALL = 50  # like Keras' steps_per_execution: one Python round trip per 50 steps, not per step


@dataclass(frozen=True)
class AscentSettings:
    """How to ascend: the step and the regularisers that keep pictures readable (0 switches one off); by default those of
    filter pictures (settings.PictureSettings), made with `of` from the settings of a call."""

    steps: int = PictureSettings.steps
    step_size: float = PictureSettings.step_size
    jitter: int = PictureSettings.jitter
    blur: float = PictureSettings.blur
    seed: int = PictureSettings.seed

    @classmethod
    def of(cls, chosen) -> AscentSettings:
        """How to ascend, from picture or dream settings (settings.PictureSettings, settings.DreamSettings): the step and
        the regularisers."""
        return cls(chosen.steps, chosen.step_size, chosen.jitter, chosen.blur, chosen.seed)


def normalize(grads):
    """Scale each image's gradient to a mean absolute value of 1, so step_size is in pixel units."""
    scale = keras.ops.mean(keras.ops.abs(grads), axis=[1, 2, 3], keepdims=True)
    return grads / keras.ops.maximum(scale, 1e-8)


def blur3x3(images):
    """A 3x3 binomial blur (1 2 1 by rows, then columns) with mirrored edges: the smoothness prior."""
    # Shifted slices, not a one-channel conv2d: a third cheaper on CPU, and this runs every step.
    padded = keras.ops.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric")
    rows = (padded[:, :-2] + 2.0 * padded[:, 1:-1] + padded[:, 2:]) / 4.0
    return (rows[:, :, :-2] + 2.0 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4.0


def update(images, grads, step_size, blur):
    """One ascent step: move along the normalised gradient, keep pixels in 0..1, mix in a little blur."""
    images = keras.ops.clip(images + step_size * normalize(grads), 0.0, 1.0)
    return (1.0 - blur) * images + blur * blur3x3(images)


def roll(images, shift):
    """Each image rolled down shift[0] rows and right shift[1] columns, wrapping around; `shift` may be a tensor of a
    compiled step."""
    if autodiff.backend() != "torch":
        return keras.ops.roll(images, shift, axis=(1, 2))
    # PyTorch's roll takes numbers only, so there the rows and columns are picked by index: the same values. Not
    # everywhere: on TensorFlow the graph then rounds the ascent's gradients otherwise (a class picture moved by 0.09).
    for axis in (1, 2):
        side = images.shape[axis]
        images = keras.ops.take(images, keras.ops.mod(keras.ops.arange(side) - shift[axis - 1], side), axis=axis)
    return images


def drive(step: Callable, state: tuple, extra: Callable[[int], tuple], settings: AscentSettings, pictures: Callable,
          callback: Callback = NO_CALLBACK, stop_above: float | None = None, every: int = STEPS_PER_CALL) -> tuple:
    """Call `step` (core.autodiff.ascent_steps) until `settings.steps` steps have run; returns the final state.

    `extra(steps_done)` gives each call's extra inputs and `pictures(state)` the pictures, offered to
    `callback.on_progress(steps, pictures)` after every call, at most `every` steps apart (fewer for an
    animation's frames; the steps are the same). With `stop_above`, ascent ends once every picture's score
    has passed it.
    """
    done = 0
    while done < settings.steps:
        count = min(every, STEPS_PER_CALL, settings.steps - done)
        state, values, ran = step(state, extra(done), count, np.inf if stop_above is None else stop_above)
        check_finite(values, done)
        done += ran
        callback.on_progress(ran, lambda state=state: pictures(state))
        if ran < count:
            break
    return state


def check_finite(values: np.ndarray, step: int) -> None:
    """Stop with a clear message instead of drawing NaN pictures when a score overflows."""
    if not np.all(np.isfinite(values)):
        raise InputError(f"the score became {values[~np.isfinite(values)][0]} by step {step + 1}: "
                         "use smaller layer weights or ", Argument("step_size"))


def tile_bounds(length: int, tile: int) -> list[tuple[int, int]]:
    """Split 0..length into the fewest near-equal pieces of at most `tile`."""
    count = -(-length // tile)
    edges = [round(i * length / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def tiled_gradient(gradient: Callable, images: np.ndarray, tile: int, shift: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The objective's scores and gradient over the whole image, one tile at a time (`gradient`: core.autodiff.gradient_of).

    The image is first rolled by `shift`, so that tile borders (where each tile's convolutions
    see padding) fall somewhere else at every step. Each tile counts by its share of the
    image, so the scores are those of the whole image and the gradient is the same per pixel.
    """
    rolled = np.roll(images, shift, axis=(1, 2))
    height, width = images.shape[1:3]
    total, rows = 0.0, []
    for top, bottom in tile_bounds(height, tile):
        row = []
        for left, right in tile_bounds(width, tile):
            share = (bottom - top) * (right - left) / (height * width)
            values, grads = gradient(rolled[:, top:bottom, left:right])
            total = total + share * values
            row.append(grads * np.float32(share))
        rows.append(np.concatenate(row, axis=2))
    return total, np.roll(np.concatenate(rows, axis=1), (-shift[0], -shift[1]), axis=(1, 2))


def ascend_tiled(gradient: Callable, images: np.ndarray, settings: AscentSettings, tile: int,
                 stop_above: float | None = None, callback: Callback = NO_CALLBACK,
                 snapshot: Callable[[int, np.ndarray], Callable | None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`settings.steps` ascent steps on images of any size, scored tile by tile (see tiled_gradient).

    Returns the images and their scores before the first step and after the last. After every step,
    `callback.on_progress(1, pictures)`, where `snapshot(steps_done, images)` gives the pictures to offer at that
    step (or None: not a moment to show).
    """
    rng = np.random.default_rng(settings.seed)
    x = np.asarray(images, "float32")
    first = None
    for step in range(settings.steps):
        # Larger than a tile: shift anywhere, so no tile border stays put. One tile: only --jitter.
        shift = tuple(int(rng.integers(0, side)) if side > tile else int(rng.integers(-settings.jitter, settings.jitter + 1))
                      for side in images.shape[1:3])
        values, grads = tiled_gradient(gradient, x, tile, shift)
        check_finite(values, step)
        first = values if first is None else first
        if stop_above is not None and values.min() > stop_above:
            return x, first, values
        x = keras.ops.convert_to_numpy(update(*map(keras.ops.convert_to_tensor, (x, grads)), settings.step_size, settings.blur))
        callback.on_progress(1, snapshot(step + 1, x) if snapshot else None)
    return x, first, tiled_gradient(gradient, x, tile, (0, 0))[0]


def start_images(count: int, height: int, width: int, seed: int = 0, channels: int = 1) -> np.ndarray:
    """Grey canvases with a little seeded noise: the neutral start for filter and class pictures.

    The noise is drawn a canvas at a time, in the order one draw of them all takes it (the same values to the last
    bit), so that the float64 noise of 25 canvases of 5000x5000 (5 GB, and as much again for the arithmetic) is
    never in memory at once: only one canvas's, beside the float32 canvases returned.
    """
    rng = np.random.default_rng(seed)
    images = np.empty((count, height, width, channels), "float32")
    for image in images:
        image[...] = (0.5 + 0.05 * rng.standard_normal((height, width, channels))).clip(0, 1)
    return images
