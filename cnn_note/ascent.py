"""Gradient ascent on input images: the one loop that filter pictures, class pictures and dreams share.

What to maximise is an objective (see objectives.py): a function from a batch of images
(B, H, W, 1) to one score per image (B,). How to maximise it lives here: normalised gradient
steps, random jitter, a light blur, and pixels kept in the training data's 0..1 range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnn_note.backend import tf

Objective = Callable[[tf.Tensor], tf.Tensor]


@dataclass(frozen=True)
class Settings:
    """How to ascend: the step and the regularisers that keep pictures readable (0 switches one off)."""

    steps: int = 100
    step_size: float = 0.02
    jitter: int = 1
    blur: float = 0.1
    seed: int = 0


def normalize(grads: tf.Tensor) -> tf.Tensor:
    """Scale each image's gradient to a mean absolute value of 1, so step_size is in pixel units."""
    scale = tf.reduce_mean(tf.abs(grads), axis=[1, 2, 3], keepdims=True)
    return grads / tf.maximum(scale, 1e-8)


def blur3x3(images: tf.Tensor) -> tf.Tensor:
    """A 3x3 binomial blur (1 2 1 by rows, then columns) with mirrored edges: the smoothness prior."""
    # Shifted slices, not a one-channel conv2d: a third cheaper on CPU, and this runs every step.
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    rows = (padded[:, :-2] + 2.0 * padded[:, 1:-1] + padded[:, 2:]) / 4.0
    return (rows[:, :, :-2] + 2.0 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4.0


def make_step(objective: Objective) -> Callable:
    """One compiled ascent step for `objective`; TensorFlow traces it once per image shape."""

    @tf.function(reduce_retracing=True)
    def step(images, shift, step_size, blur):
        with tf.GradientTape() as tape:
            tape.watch(images)
            # Jitter: score a shifted copy, so the picture cannot rely on exact pixel positions.
            values = objective(tf.roll(images, shift, axis=[1, 2]))
            # Images do not interact, so the gradient of the sum is each image's own gradient.
            total = tf.reduce_sum(values)
        grads = normalize(tape.gradient(total, images))
        images = tf.clip_by_value(images + step_size * grads, 0.0, 1.0)
        images = (1.0 - blur) * images + blur * blur3x3(images)
        return images, values

    return step


def ascend(step: Callable, images: np.ndarray, settings: Settings, on_step: Callable | None = None) -> np.ndarray:
    """Run `settings.steps` steps of `step` (from make_step) from `images`; returns the final images.

    `on_step(i, values)` sees each step's scores and may return True to stop early.
    """
    rng = np.random.default_rng(settings.seed)
    x = tf.constant(images, tf.float32)
    step_size, blur = tf.constant(settings.step_size, tf.float32), tf.constant(settings.blur, tf.float32)
    for i in range(settings.steps):
        shift = rng.integers(-settings.jitter, settings.jitter + 1, size=2) if settings.jitter else np.zeros(2, int)
        x, values = step(x, tf.constant(shift, tf.int32), step_size, blur)
        if on_step is not None and on_step(i, values.numpy()):
            break
    return x.numpy()


def start_images(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Grey canvases with a little seeded noise: the neutral start for filter and class pictures."""
    rng = np.random.default_rng(seed)
    return (0.5 + 0.05 * rng.standard_normal((count, height, width, 1))).clip(0, 1).astype("float32")
