"""Gradient ascent on input images: the step that filter pictures, class pictures and dreams share.

What to maximise is an objective (see objectives.py): a function from a batch of pixel images
(B, H, W, C), 0..1, to one score per image (B,). How to maximise it lives here: normalised
gradient steps, random jitter, a light blur, and pixels kept in 0..1. Two drivers run the same
step: `ascend` runs up to 50 steps per TensorFlow call on images small enough to score whole
(filter and class pictures); `ascend_tiled` scores images of any size tile by tile, with a random
shift each step so the tile borders never stay in one place (dreams on photos).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnn_note.backend import tf
from cnn_note.cli import InputError

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


def update(images: tf.Tensor, grads: tf.Tensor, step_size: float, blur: float) -> tf.Tensor:
    """One ascent step: move along the normalised gradient, keep pixels in 0..1, mix in a little blur."""
    images = tf.clip_by_value(images + step_size * normalize(grads), 0.0, 1.0)
    return (1.0 - blur) * images + blur * blur3x3(images)


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
            images = update(images, tape.gradient(total, images), step_size, blur)
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
        check_finite(values.numpy(), done)
        done += int(ran)
        if on_progress is not None:
            on_progress(done, values.numpy())
        if int(ran) < count:
            break
    return x.numpy()


def check_finite(values: np.ndarray, step: int) -> None:
    """Stop with a clear message instead of drawing NaN pictures when a score overflows."""
    if not np.all(np.isfinite(values)):
        raise InputError(f"the score became {values[~np.isfinite(values)][0]} by step {step + 1}: "
                         "use smaller layer weights or --step-size")


def tile_bounds(length: int, tile: int) -> list[tuple[int, int]]:
    """Split 0..length into the fewest near-equal pieces of at most `tile`."""
    count = -(-length // tile)
    edges = [round(i * length / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def make_tile_gradient(objective: Objective) -> Callable:
    """Compiled (scores, gradient) of `objective` on one tile; traced once for every tile size."""

    @tf.function(reduce_retracing=True)
    def gradient(tile):
        with tf.GradientTape() as tape:
            tape.watch(tile)
            values = objective(tile)
            total = tf.reduce_sum(values)
        return values, tape.gradient(total, tile)

    return gradient


def tiled_gradient(gradient: Callable, images: tf.Tensor, tile: int, shift: tuple[int, int]) -> tuple[np.ndarray, tf.Tensor]:
    """The objective's scores and gradient over the whole image, one tile at a time.

    The image is first rolled by `shift`, so that tile borders (where each tile's convolutions
    see padding) fall somewhere else at every step. Each tile counts by its share of the
    image, so the scores are those of the whole image and the gradient is the same per pixel.
    """
    rolled = tf.roll(images, shift, axis=[1, 2])
    height, width = images.shape[1:3]
    total, rows = 0.0, []
    for top, bottom in tile_bounds(height, tile):
        row = []
        for left, right in tile_bounds(width, tile):
            share = (bottom - top) * (right - left) / (height * width)
            values, grads = gradient(rolled[:, top:bottom, left:right])
            total = total + share * values.numpy()
            row.append(grads * share)
        rows.append(tf.concat(row, axis=2))
    return total, tf.roll(tf.concat(rows, axis=1), [-shift[0], -shift[1]], axis=[1, 2])


def ascend_tiled(gradient: Callable, images: np.ndarray, settings: Settings, tile: int,
                 stop_above: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`settings.steps` ascent steps on images of any size, scored tile by tile (see tiled_gradient).

    Returns the images and their scores before the first step and after the last.
    """
    rng = np.random.default_rng(settings.seed)
    x = tf.constant(images, tf.float32)
    first = None
    for step in range(settings.steps):
        # Larger than a tile: shift anywhere, so no tile border stays put. One tile: only --jitter.
        shift = tuple(int(rng.integers(0, side)) if side > tile else int(rng.integers(-settings.jitter, settings.jitter + 1))
                      for side in images.shape[1:3])
        values, grads = tiled_gradient(gradient, x, tile, shift)
        check_finite(values, step)
        first = values if first is None else first
        if stop_above is not None and values.min() > stop_above:
            return x.numpy(), first, values
        x = update(x, grads, settings.step_size, settings.blur)
    return x.numpy(), first, tiled_gradient(gradient, x, tile, (0, 0))[0]


def memory_budget() -> int:
    """Bytes of memory the ascent may use: half of what the system has free now (4 GiB where that cannot be read)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            free = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        free = 8 << 30
    return free // 2


def fitting_batch(bytes_each: int, count: int, what: str, fix: str) -> int:
    """How many of `count` images to ascend at once within the memory budget; one line and the fix when not even one fits."""
    budget = memory_budget()
    if bytes_each > budget:
        raise InputError(f"{what} needs about {bytes_each / 2**30:.1f} GiB of working memory, more than the "
                         f"{budget / 2**30:.1f} GiB this machine can spare: {fix}")
    return max(1, min(count, budget // bytes_each))


def start_images(count: int, height: int, width: int, seed: int = 0, channels: int = 1) -> np.ndarray:
    """Grey canvases with a little seeded noise: the neutral start for filter and class pictures."""
    rng = np.random.default_rng(seed)
    return (0.5 + 0.05 * rng.standard_normal((count, height, width, channels))).clip(0, 1).astype("float32")
