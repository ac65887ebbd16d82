"""Pictures in and out of arrays: reading a picture file whole, and resizing pictures without aliasing."""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnn_note.backend import tf
from cnn_note.errors import Argument, InputError


def resize(images: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of a batch (B, H, W, C)."""
    return tf.image.resize(images, shape, method="bilinear").numpy()


def resize_area(pixels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area resize of pictures (H, W, C) or (B, H, W, C): how a large picture is shrunk without aliasing."""
    return tf.image.resize(pixels, shape, method="area").numpy()


def within(size: tuple[int, int], side: int) -> tuple[int, int]:
    """A (height, width) scaled down, proportions kept, to at most `side` pixels a side; as it is when it fits."""
    factor = min(1.0, side / max(size))
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def shrink(pixels: np.ndarray, max_side: int | None) -> tuple[np.ndarray, str | None]:
    """Pictures (H, W, C) or (B, H, W, C) shrunk to `max_side` a side when larger (None: kept), and a note when shrunk."""
    height, width = pixels.shape[-3:-1]
    if not max_side or max(height, width) <= max_side:
        return pixels, None
    size = within((height, width), max_side)
    return resize_area(pixels, size), f"the picture is {width}x{height}; shrunk to {size[1]}x{size[0]} (--max-side {max_side})"


def open_image(path: str) -> Image.Image:
    """A picture file, read whole now so that a missing, foreign or damaged one fails before any model is built."""
    if not os.path.isfile(path):
        raise InputError(f"image not found: {path} (check the path given to ", Argument("image"), ")")
    try:
        with warnings.catch_warnings():
            # Up to Pillow's limit a large photo is welcome; the memory checks after this say what it will cost.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                # A phone stores a portrait photo as landscape pixels and an EXIF note to turn them.
                return ImageOps.exif_transpose(image)
    except UnidentifiedImageError:
        raise InputError(f"{path} is not an image Pillow can read: give a PNG, JPEG or other picture file") from None
    except Image.DecompressionBombError:
        raise InputError(f"{path} has more pixels than Pillow opens safely ({2 * Image.MAX_IMAGE_PIXELS:,}): "
                         "shrink it first") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{path} is truncated or damaged ({error}): save it again") from None


def pixels_of(image: Image.Image, channels: int, max_side: int | None = None) -> tuple[np.ndarray, str | None]:
    """A picture as pixels 0..1 (H, W, channels), shrunk to `max_side` if given and larger; also a note when shrunk.

    16-bit greyscale is scaled from 0..65535; a grey picture for a 3-channel model is repeated
    to 3 channels, and a colour one for a 1-channel model is made grey.
    """
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        grey = np.asarray(image, dtype=np.float32) / (65535.0 if image.mode != "F" else 1.0)
        pixels = np.repeat(grey.clip(0, 1)[..., None], channels, axis=-1)
    else:
        pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"), dtype=np.float32).reshape(
            image.height, image.width, channels) / 255.0
    return shrink(pixels, max_side)


def load_image(path: str, channels: int, max_side: int | None = None) -> tuple[np.ndarray, str | None]:
    """open_image, then pixels_of."""
    return pixels_of(open_image(path), channels, max_side)
