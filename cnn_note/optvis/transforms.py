"""Random small moves of each picture, so that what the ascent finds does not hang on its exact pixels.

Lucid's standard transforms (Distill's "Feature Visualization": pad 12 with grey, jitter 8, scale
0.9-1.1, rotate -10..10 degrees, jitter 4), drawn afresh for each picture at each step and applied
as one bilinear affine resampling: the pad becomes the grey fill outside the picture, and the two
jitters one shift of up to 6 pixels either way, each picture its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cnn_note.backend import keras, tf


@dataclass(frozen=True)
class Moves:
    """How far the pictures may move: pad (grey border, pixels), shift (pixels), scale (+-), rotate (degrees)."""

    pad: int = 12
    shift: int = 6
    scale: float = 0.1
    rotate: float = 10.0


LUCID = Moves()
SMALL = Moves(pad=4, shift=4, scale=0.05, rotate=5.0)  # the robustness check's: what a picture should survive


def moved(images: tf.Tensor, moves: Moves, seed: tf.Tensor) -> tf.Tensor:
    """Each image padded with grey, then shifted, scaled and rotated at random about its centre; (B, H + pad, W + pad, C).

    `seed` is a stateless seed (2 integers): the same seed moves the same pictures the same way.
    """
    count = tf.shape(images)[0]
    padded = tf.pad(images, [[0, 0], [moves.pad, moves.pad], [moves.pad, moves.pad], [0, 0]], constant_values=0.5)
    height, width = padded.shape[1], padded.shape[2]
    draws = tf.random.stateless_uniform((count, 4), seed, -1.0, 1.0)
    shift = tf.round(draws[:, :2] * moves.shift)
    scale = 1.0 + draws[:, 2] * moves.scale
    angle = draws[:, 3] * moves.rotate * math.pi / 180.0
    # keras' affine transform maps each output pixel (x, y) to the input pixel it reads: centre, rotate, unscale, shift back.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    transform = tf.stack([cos, -sin, cx - cos * cx + sin * cy + shift[:, 0],
                          sin, cos, cy - sin * cx - cos * cy + shift[:, 1],
                          tf.zeros(count), tf.zeros(count)], axis=1)
    out = keras.ops.image.affine_transform(padded, transform, fill_value=0.5, data_format="channels_last")
    # Crop half the pad again: what moved out of view stays out, what moved in is grey.
    trim = moves.pad // 2
    return out[:, trim:height - trim, trim:width - trim] if trim else out
