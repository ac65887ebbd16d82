"""MNIST (or Fashion-MNIST) loading: from a Keras-layout npz when given one, else through Keras."""

from __future__ import annotations

import os
import zipfile
from typing import NamedTuple

import numpy as np

from cnn_note.errors import Argument, InputError

NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)
DATASETS = ("mnist", "fashion_mnist")
PATH_ENV = "MNIST_PATH"
KEYS = ("x_train", "y_train", "x_test", "y_test")


class Split(NamedTuple):
    """Raw images (N, 28, 28) uint8 and labels (N,) of one split."""

    x: np.ndarray
    y: np.ndarray


def data_path(flag: str | None, dataset: str = "mnist") -> str | None:
    """The npz to read: --data, else $MNIST_PATH for MNIST, else None (ask Keras)."""
    if flag:
        return flag
    if dataset == "mnist":
        return os.environ.get(PATH_ENV) or None
    return None


def read_npz(path: str) -> tuple[Split, Split]:
    """Read and validate a Keras-layout npz without ever unpickling."""
    if not os.path.isfile(path):
        raise InputError(f"data file not found: {path} (give a Keras-layout mnist.npz with ", Argument("data", python="path="),
                         f" or ${PATH_ENV})")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is not an npz file: give a Keras-layout mnist.npz")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in KEYS if key not in npz.files]
            if missing:
                raise InputError(f"{path} lacks {', '.join(missing)}: expected keys {', '.join(KEYS)} as in Keras' mnist.npz")
            arrays = {key: npz[key] for key in KEYS}
    except InputError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise InputError(f"{path} holds pickled objects, which are never loaded: re-save it with plain numeric arrays") from None
        raise InputError(f"{path} is damaged ({error}): download or copy it again") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise InputError(f"{path} is damaged ({type(error).__name__}: {error}): download or copy it again") from None
    train, test = Split(arrays["x_train"], arrays["y_train"]), Split(arrays["x_test"], arrays["y_test"])
    for name, split in (("train", train), ("test", test)):
        validate(split, f"{path} ({name})")
    return train, test


def validate(split: Split, source: str) -> None:
    """Check shapes, dtypes and label range, naming the first problem found."""
    x, y = split
    if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise InputError(f"{source}: images have shape {x.shape}, expected (N, 28, 28)")
    if x.dtype != np.uint8:
        raise InputError(f"{source}: images are {x.dtype}, expected uint8 pixels 0..255")
    if y.shape != (len(x),):
        raise InputError(f"{source}: labels have shape {y.shape}, expected ({len(x)},), one per image")
    if not len(x):
        raise InputError(f"{source}: the split holds no images: give a complete Keras-layout mnist.npz")
    if not np.issubdtype(y.dtype, np.integer) or y.size and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise InputError(f"{source}: labels must be integers 0..{NUM_CLASSES - 1}")


def load(dataset: str = "mnist", path: str | None = None) -> tuple[Split, Split]:
    """Train and test splits from `path` when given, else Keras' own loader (download or cache)."""
    if path:
        return read_npz(path)
    from cnn_note.backend import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, dataset).load_data()
    except Exception as error:  # no network, a broken cache: the fix is the same
        raise InputError(
            f"could not load {dataset} through Keras ({type(error).__name__}): "
            "without network access, pass ", Argument("data", python="path=", flag="--data PATH"),
            f" to a Keras-layout npz or set ${PATH_ENV}"
        ) from None
    return Split(x_train, y_train), Split(x_test, y_test)


def first(split: Split, count: int, name: str = "training") -> Split:
    """The first `count` examples, as the note takes its 10,000 training images."""
    if count > len(split.x):
        raise InputError(f"asked for {count} {name} images but the {name} set has only {len(split.x)}: use a smaller number")
    return Split(split.x[:count], split.y[:count])


def to_inputs(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Pixels /255 as float32, reshaped as the note's code does to a model's input shape: (784,), (28, 28, 1) or (1, 28, 28)."""
    return (x.astype("float32") / 255.0).reshape(len(x), *shape)


def one_hot(y: np.ndarray) -> np.ndarray:
    """Labels as one-hot rows for categorical cross-entropy."""
    from cnn_note.backend import keras

    return keras.utils.to_categorical(y, NUM_CLASSES).astype("float32")


def test_digits(indices: list[int], path: str | None = None, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test digits by index, as a model of `channels` channels takes them: pixels 0..1 (N, 28, 28, channels), and
    their labels. `path` as load's; an index outside the test set is refused in one line."""
    _, test = load("mnist", data_path(path))
    bad = [i for i in indices if not 0 <= i < len(test.x)]
    if bad:
        raise InputError(Argument("index", bad[0]), f" is out of range: the test set has images 0..{len(test.x) - 1}")
    digits = to_inputs(test.x[indices], (*IMAGE_SHAPE, 1))
    return np.repeat(digits, channels, axis=-1), test.y[indices]
