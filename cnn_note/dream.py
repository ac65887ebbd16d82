"""Deep dream: amplify what the CNN's conv layers already see in an image, scale by scale."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, UnidentifiedImageError

from cnn_note import ascent, models, objectives
from cnn_note.backend import keras, tf
from cnn_note.cli import InputError

MAX_SIDE = 1024  # larger images are shrunk to this: the CNN saw 28x28 digits, and time grows with area


def parse_layers(text: str | None, model: keras.Model) -> dict[str, float]:
    """`conv1=1,conv2=2` as {layer: weight}; None means every conv layer, the n-th weighted n."""
    if not text:
        return {name: float(depth) for depth, name in enumerate(models.conv_layer_names(model), start=1)}
    weights = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        try:
            weights[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise InputError(f"--layers {text!r}: weight {weight!r} of {name} is not a number (write name=weight,...)") from None
    models.check_layers(model, list(weights))
    return weights


def octave_shapes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Image sizes from the smallest octave up to the original, each `scale` times the one before."""
    return [(round(height / scale**k), round(width / scale**k)) for k in reversed(range(octaves))]


def smallest_side(features: keras.Model) -> int:
    """The smallest square input for which every requested layer still has at least one output pixel."""
    for side in range(1, 65):
        try:  # Keras refuses shapes whose output would be empty
            features.compute_output_shape((1, side, side, 1))
        except ValueError:
            continue
        return side
    return 64


def check_size(height: int, width: int, octaves: int, scale: float, features: keras.Model) -> None:
    """Fail clearly when the smallest octave would be too small for the layers."""
    need = smallest_side(features)
    if min(octave_shapes(height, width, octaves, scale)[0]) < need:
        least = next(side for side in range(need, 10**6) if min(octave_shapes(side, side, octaves, scale)[0]) >= need)
        raise InputError(f"image {height}x{width} is too small for {octaves} octaves at scale {scale}: "
                         f"its smaller side must be at least {least} pixels (or use fewer --octaves)")


def resize(images: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a batch (B, H, W, 1)."""
    return tf.image.resize(images, shape, method="bilinear").numpy()


def dream(model: keras.Model, images: np.ndarray, weights: dict[str, float], octaves: int, scale: float,
          settings: ascent.Settings, max_loss: float | None = None, log: Callable[[str], None] = print) -> np.ndarray:
    """Ascend sum(weight x mean(a^2)) over octaves, smallest first, putting back the detail lost by shrinking."""
    features = models.conv_features(model, list(weights))
    objective = objectives.dream(features, list(weights.values()))
    step = ascent.make_step(objective)
    shapes = octave_shapes(images.shape[1], images.shape[2], octaves, scale)
    original, dreamed = images, resize(images, shapes[0])
    shrunk = dreamed
    for number, shape in enumerate(shapes, start=1):
        start = time.perf_counter()
        dreamed = resize(dreamed, shape)
        before = objective(tf.constant(dreamed)).numpy()
        dreamed = ascent.ascend(step, dreamed, settings, stop_above=max_loss)
        after = objective(tf.constant(dreamed)).numpy()
        # Shrinking lost fine detail; add back the difference between the sharp and the blurred original.
        sharp = resize(original, shape)
        dreamed = np.clip(dreamed + sharp - resize(shrunk, shape), 0.0, 1.0)
        shrunk = sharp
        log(f"octave {number}/{len(shapes)} {shape[0]}x{shape[1]}: loss {before.mean():.3f} -> {after.mean():.3f} "
            f"in {time.perf_counter() - start:.2f} s")
    return dreamed


def load_image(path: str) -> tuple[np.ndarray, str | None]:
    """A picture file as grey pixels 0..1 (H, W, 1), shrunk to MAX_SIDE if larger; also a note when shrunk."""
    if not os.path.isfile(path):
        raise InputError(f"image not found: {path} (check the path given to --image)")
    try:
        with Image.open(path) as image:
            image.load()
            grey = image.convert("L")
    except UnidentifiedImageError:
        raise InputError(f"{path} is not an image Pillow can read: give a PNG, JPEG or other picture file") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{path} is truncated or damaged ({error}): save it again") from None
    note = None
    if max(grey.size) > MAX_SIDE:
        factor = MAX_SIDE / max(grey.size)
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        note = f"{path} is {grey.width}x{grey.height}; shrunk to {size[0]}x{size[1]} (the limit is {MAX_SIDE} on the longer side)"
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    return keras.utils.img_to_array(grey, dtype="float32") / 255.0, note
