"""Where dataset examples come from: a Source of inputs, from an array, a folder of pictures or an .npz of images."""


from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import numpy as np

from cnn_note.errors import Argument, InputError
from cnn_note.io import imaging

SCAN_SIDE = 512  # larger pictures are scanned on a copy this many pixels a side, as explain.py's occlusion works on one


class Source:
    """Where the examples come from: pictures 0..1 (H, W, C) by index, read again when shown."""

    labels: np.ndarray | None = None  # each input's class, where the inputs come with one (the MNIST test digits)

    def __init__(self, count: int, read: Callable[[int], np.ndarray], names: list[str] | None = None,
                 description: str = "") -> None:
        self.count, self.read, self.names, self.description = count, read, names, description

    def __len__(self) -> int:
        return self.count

    def picture(self, index: int) -> np.ndarray:
        return self.read(index)

    def pictures(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(index, picture) of every input from `start` up to `stop` (default: the last)."""
        return ((index, self.read(index)) for index in range(start, self.count if stop is None else min(stop, self.count)))


def from_array(images: np.ndarray, channels: int, description: str, size: tuple[int, int] | None = None) -> Source:
    """Pictures already in memory: uint8 0..255 or floats 0..1, (N, H, W) for grey or (N, H, W, channels); resized to
    `size` (a model of one input size) when given, else, when larger, to SCAN_SIDE a side (as from_path's are)."""
    if images.ndim == 3 and channels == 1:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] != channels or not len(images):
        raise InputError(f"{description} holds pictures of shape {images.shape}: the model takes {channels}-channel pictures, "
                         f"(N, H, W{', 1' if channels == 1 else ''}) or (N, H, W, {channels})")
    scale = np.float32(255.0 if images.dtype == np.uint8 else 1.0)
    target = tuple(size) if size is not None else imaging.within(images.shape[1:3], SCAN_SIDE)
    if images.shape[1:3] != target:
        images = imaging.resize_area(images.astype("float32") / scale, target)  # all at once: one call, not one per picture
        scale = np.float32(1.0)
    return Source(len(images), lambda index: images[index].astype("float32") / scale, None, description)


def from_path(path: str, channels: int, size: tuple[int, int] | None, log: Callable[[str], None] = print) -> Source:
    """A folder of pictures (every file Pillow reads, EXIF-turned, in name order; others skipped with one line that
    counts them) or an .npz of images (its `images` or `x_test` array, else its only one)."""
    if os.path.isfile(path) and path.endswith(".npz"):
        return from_array(_npz_images(path), channels, path, size)
    if not os.path.isdir(path):
        raise InputError(Argument("examples_from", path), " is neither a folder of pictures nor an .npz file: check the path")
    files = sorted(name for name in os.listdir(path) if os.path.isfile(os.path.join(path, name)))
    readable, skipped = [], 0
    for name in files:
        try:
            imaging.open_image(os.path.join(path, name))
            readable.append(name)
        except InputError:
            skipped += 1
    if not readable:
        raise InputError(Argument("examples_from", path), f" holds no picture Pillow can read ({len(files)} files): give a folder of "
                         "PNG, JPEG or other pictures, or an .npz of images")
    if skipped:
        log(f"examples: {skipped} of {len(files)} files in {path} are not pictures and were skipped")

    def read(index: int) -> np.ndarray:
        pixels, _ = imaging.pixels_of(imaging.open_image(os.path.join(path, readable[index])), channels)
        target = size or imaging.within(pixels.shape[:2], SCAN_SIDE)
        return pixels if pixels.shape[:2] == target else imaging.resize_area(pixels, target)

    return Source(len(readable), read, readable, path)


def _npz_images(path: str) -> np.ndarray:
    """The images of an .npz: its `images` or `x_test` array, else its only array; never unpickled."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = [key for key in ("images", "x_test") if key in npz.files] or npz.files
            if len(keys) != 1 and keys[0] not in ("images", "x_test"):
                raise InputError(f"{path} holds {', '.join(npz.files)}: name the pictures' array 'images'")
            return npz[keys[0]]
    except InputError:
        raise
    except (OSError, ValueError) as error:
        raise InputError(f"{path} cannot be read as an .npz of images ({error}): save the pictures with numpy.savez") from None
