"""Random small moves of each picture, so that what the ascent finds does not hang on its exact pixels.

Lucid's standard transforms (Distill's "Feature Visualization": pad 12 with grey, jitter 8, scale
0.9-1.1, rotate -10..10 degrees, jitter 4), drawn afresh for each picture at each step and applied
as one bilinear affine resampling: the pad becomes the grey fill outside the picture, and the two
jitters one shift of up to 6 pixels either way, each picture its own. The moves are drawn as numbers outside the
compiled step (`draws`), by TensorFlow's stateless generator on every backend: the same seed moves the same pictures
the same way on TensorFlow, JAX and PyTorch, as it moved them before there were other backends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnn_note.backend import keras


@dataclass(frozen=True)
class Moves:
    """How far the pictures may move: pad (grey border, pixels), shift (pixels), scale (+-), rotate (degrees)."""

    pad: int = 12
    shift: int = 6
    scale: float = 0.1
    rotate: float = 10.0


LUCID = Moves()
SMALL = Moves(pad=4, shift=4, scale=0.05, rotate=5.0)  # the robustness check's: what a picture should survive


def draws(count: int, seed: int, steps: range) -> np.ndarray:
    """The random numbers, -1..1, that move `count` pictures at each of `steps` (steps, count, 4), from a seed.

    TensorFlow's stateless uniform numbers for the seed pair (seed, step): numbers, not computing, so they are drawn the
    same whatever backend Keras runs on (TensorFlow is a dependency of the package on each).
    """
    import tensorflow as tf

    return np.stack([tf.random.stateless_uniform((count, 4), [seed, step], -1.0, 1.0).numpy() for step in steps])


def moved(images, moves: Moves, drawn):
    """Each image padded with grey, then shifted, scaled and rotated at random about its centre; (B, H + pad, W + pad, C).

    `drawn` (B, 4) are its random numbers, -1..1 (one step of `draws`): the same numbers move the same pictures the
    same way. keras.ops, on any backend.
    """
    count = images.shape[0]
    padded = keras.ops.pad(images, [[0, 0], [moves.pad, moves.pad], [moves.pad, moves.pad], [0, 0]], constant_values=0.5)
    height, width = padded.shape[1], padded.shape[2]
    shift = keras.ops.round(drawn[:, :2] * moves.shift)
    scale = 1.0 + drawn[:, 2] * moves.scale
    angle = drawn[:, 3] * moves.rotate * math.pi / 180.0
    # keras' affine transform maps each output pixel (x, y) to the input pixel it reads: centre, rotate, unscale, shift back.
    cos, sin = keras.ops.cos(angle) / scale, keras.ops.sin(angle) / scale
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    zeros = keras.ops.zeros((count,), "float32")
    transform = keras.ops.stack([cos, -sin, cx - cos * cx + sin * cy + shift[:, 0],
                                 sin, cos, cy - sin * cx - cos * cy + shift[:, 1], zeros, zeros], axis=1)
    out = resample(padded, transform, fill=0.5)
    # Crop half the pad again: what moved out of view stays out, what moved in is grey.
    trim = moves.pad // 2
    return out[:, trim:height - trim, trim:width - trim] if trim else out


def resample(images, transform, fill: float):
    """keras.ops.image.affine_transform, bilinear, `fill` outside: output pixel (x, y) of picture b reads its input at
    (a0 x + a1 y + a2, b0 x + b1 y + b2), `transform[b]` being [a0, a1, a2, b0, b1, b2, 0, 0].

    Written out in keras.ops so that its gradient is the exact adjoint of the interpolation on every backend:
    TensorFlow's own op (ImageProjectiveTransformV3) is differentiated by resampling the gradient through the inverse
    transform, off by more than a factor of ten at some pixels, where JAX's and PyTorch's are exact.
    """
    ops = keras.ops
    count, height, width, channels = images.shape
    rows, cols = (ops.cast(grid, "float32")[None] for grid in ops.meshgrid(ops.arange(height), ops.arange(width), indexing="ij"))
    a = [ops.reshape(transform[:, k], (count, 1, 1)) for k in range(6)]
    x, y = a[0] * cols + a[1] * rows + a[2], a[3] * cols + a[4] * rows + a[5]  # (B, H, W): where each output pixel reads
    left, top = ops.floor(x), ops.floor(y)
    # The four neighbours of every output pixel, read in one gather from the batch's pixels as rows of channels.
    row, col = ops.stack([top, top, top + 1, top + 1]), ops.stack([left, left + 1, left, left + 1])  # (4, B, H, W)
    inside = (row >= 0) & (row <= height - 1) & (col >= 0) & (col <= width - 1)
    first = ops.reshape(ops.arange(count) * (height * width), (1, count, 1, 1))
    index = ops.cast(ops.clip(row, 0, height - 1), "int32") * width + ops.cast(ops.clip(col, 0, width - 1), "int32") + first
    found = ops.take(ops.reshape(images, (-1, channels)), ops.reshape(index, (-1,)), axis=0)
    found = ops.where(ops.reshape(inside, (-1, 1)), found, fill)
    # Each neighbour's weight from its own distance to where the pixel reads, not from x - floor(x): XLA may compute x
    # twice, rounded otherwise, and on a whole number the floor and the fraction then disagree by a pixel (JAX, odd sizes).
    weights = ops.relu(1 - ops.abs(y[None] - row)) * ops.relu(1 - ops.abs(x[None] - col))
    return ops.sum(ops.reshape(found, (4, count, height, width, channels)) * weights[..., None], axis=0)
