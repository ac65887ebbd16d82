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

STEPS_PER_CALL = 50  # like Keras' steps_per_execution: one Python round trip per 50 steps, not per step


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
    """Compiled ascent for `objective`, up to STEPS_PER_CALL steps a call; traced once per image shape.

    Runs `count` steps, one per row of `shifts`, and stops early once every image scores above
    `stop_above`. Returns the images, the scores before the last step, and the steps run.
    """

    @tf.function
    def run(images, shifts, count, step_size, blur, stop_above):
        values = tf.fill(tf.shape(images)[:1], -np.inf)
        done = tf.constant(0)
        for i in tf.range(count):
            if tf.reduce_min(values) > stop_above:
                break
            with tf.GradientTape() as tape:
                tape.watch(images)
                # Jitter: score a shifted copy, so the picture cannot rely on exact pixel positions.
                values = objective(tf.roll(images, shifts[i], axis=[1, 2]))
                # Images do not interact, so the gradient of the sum is each image's own gradient.
                total = tf.reduce_sum(values)
            grads = normalize(tape.gradient(total, images))
            images = tf.clip_by_value(images + step_size * grads, 0.0, 1.0)
            images = (1.0 - blur) * images + blur * blur3x3(images)
            done += 1
        return images, values, done

    return run


def ascend(step: Callable, images: np.ndarray, settings: Settings, on_progress: Callable | None = None,
           stop_above: float | None = None) -> np.ndarray:
    """Run `settings.steps` steps of `step` (from make_step) from `images`; returns the final images.

    `on_progress(steps_done, scores)` is called after every call into TensorFlow. With
    `stop_above`, ascent ends once every image's score has passed it.
    """
    rng = np.random.default_rng(settings.seed)
    x = tf.constant(images, tf.float32)
    constants = [tf.constant(value, tf.float32) for value in (settings.step_size, settings.blur, stop_above or np.inf)]
    done = 0
    while done < settings.steps:
        count = min(STEPS_PER_CALL, settings.steps - done)
        # Always STEPS_PER_CALL shifts, so every call has the same shapes and reuses the trace.
        shifts = rng.integers(-settings.jitter, settings.jitter + 1, size=(STEPS_PER_CALL, 2))
        x, values, ran = step(x, tf.constant(shifts, tf.int32), tf.constant(count), *constants)
        done += int(ran)
        if on_progress is not None:
            on_progress(done, values.numpy())
        if int(ran) < count:
            break
    return x.numpy()


def start_images(count: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Grey canvases with a little seeded noise: the neutral start for filter and class pictures."""
    rng = np.random.default_rng(seed)
    return (0.5 + 0.05 * rng.standard_normal((count, height, width, 1))).clip(0, 1).astype("float32")
