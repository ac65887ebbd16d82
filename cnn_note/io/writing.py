"""Writing results: every file lands whole (temp file, then rename) or not at all."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator

from cnn_note.errors import Argument, InputError


def _umask() -> int:
    """The process's umask now (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ensure_writable(directory: str, given_as: str = "results_dir") -> str:
    """Create `directory` if needed and prove we can write there, before any long work starts; a refusal names it as the
    user gave it (`given_as`: the keyword, whose flag is the same with dashes: out_dir, --out-dir)."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise InputError(f"cannot write to {directory} ({error.strerror}): choose another ", Argument(given_as, python="folder"),
                         " or fix its permissions") from None
    return directory


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary path beside `path` to write to; renamed over `path` only if the block succeeds."""
    directory, name = os.path.split(path)
    stem, suffix = os.path.splitext(name)
    # Keep the suffix: Keras and matplotlib choose the format from it.
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{suffix}", dir=directory or ".")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes files for their owner only; finished ones get the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_text(path: str, text: str) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)


def write_json(path: str, data: object) -> None:
    """Write indented JSON atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def write_csv(path: str, rows: list[dict]) -> None:
    """Write a list of same-keyed dicts as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


def save_figure(path: str, figure) -> None:
    """Save a matplotlib figure atomically."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, bbox_inches="tight")


def save_npz(path: str, arrays: dict | Iterable[tuple[str, object]]) -> None:
    """Save named numpy arrays as one compressed npz, atomically: a dict, or (name, array) pairs made one at a time, so
    that a large file never needs all its arrays in memory at once. The archive is the one numpy.savez_compressed writes."""
    import zipfile

    import numpy as np

    pairs = arrays.items() if isinstance(arrays, dict) else arrays
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, array in pairs:
            with archive.open(f"{name}.npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(array), allow_pickle=False)


def save_image(path: str, image) -> None:
    """Save one image (H, W, 1 or 3), pixels 0..1 or already 8-bit, as a greyscale or colour PNG, atomically."""
    from cnn_note.backend import keras

    with atomic_path(path) as tmp:
        keras.utils.save_img(tmp, image if image.dtype == "uint8" else image * 255.0, scale=False)


def save_gif(path: str, frames: list, seconds: float = 4.0) -> None:
    """Save 8-bit frames (h, w) or (h, w, 1 or 3) as an animated GIF that plays in about `seconds` and loops, atomically.

    The last frame stays a second longer, so the result can be seen before it starts again.
    """
    from PIL import Image

    pictures = [Image.fromarray(frame[..., 0] if frame.ndim == 3 and frame.shape[-1] == 1 else frame) for frame in frames]
    each = max(20, round(1000 * seconds / len(pictures)))
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, save_all=True, append_images=pictures[1:], loop=0,
                         duration=[each] * (len(pictures) - 1) + [each + 1000])


def save_model(path: str, model) -> None:
    """Save a Keras model atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def squeezed(images):
    """Pictures as the .npz files hold them: grey (N, H, W, 1) as (N, H, W), colour as (N, H, W, 3)."""
    return images[..., 0] if images.shape[-1] == 1 else images
