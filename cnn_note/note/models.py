"""The note's two networks, and reading trained models back."""

from __future__ import annotations

from cnn_note.backend import keras
from cnn_note.note.data import IMAGE_SHAPE, NUM_CLASSES


def build_dnn(dtype: str = "float32") -> keras.Sequential:
    """Dense 784-500-500-500-10, ReLU then softmax: 898,510 parameters."""
    return keras.Sequential(
        [
            keras.Input(input_shape("dnn")),
            keras.layers.Dense(500, activation="relu", name="dense1", dtype=dtype),
            keras.layers.Dense(500, activation="relu", name="dense2", dtype=dtype),
            keras.layers.Dense(500, activation="relu", name="dense3", dtype=dtype),
            # softmax in float32 even under mixed precision, so the loss stays exact.
            keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output", dtype="float32"),
        ],
        name="dnn",
    )


def build_cnn(conv_activation: str | None = None, dtype: str = "float32", layout: str = "intended") -> keras.Sequential:
    """Conv(25,3x3) > pool 2 > Conv(50,3x3) > pool 2 > flatten > Dense(100) > Dense(10).

    The note's convolutions have no activation (conv_activation=None). layout="intended" is the
    CNN the note describes, channels_last throughout: 137,660 parameters. layout="note" is the
    one its code builds: input (1, 28, 28) and data_format='channels_first' on conv1 only, so
    every later layer reads conv1's (filters, rows, columns) as (rows, columns, channels): pool1
    pools pairs of filters and pairs of rows, leaves columns alone, and conv2 sees the 26
    columns as channels. 138,110 parameters.
    """
    note = layout == "note"
    return keras.Sequential(
        [
            keras.Input(input_shape("cnn", layout)),
            keras.layers.Conv2D(25, 3, activation=conv_activation, name="conv1", dtype=dtype,
                                data_format="channels_first" if note else "channels_last"),
            keras.layers.MaxPooling2D(2, name="pool1", dtype=dtype),
            keras.layers.Conv2D(50, 3, activation=conv_activation, name="conv2", dtype=dtype),
            keras.layers.MaxPooling2D(2, name="pool2", dtype=dtype),
            keras.layers.Flatten(name="flatten", dtype=dtype),
            keras.layers.Dense(100, activation="relu", name="dense", dtype=dtype),
            keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output", dtype="float32"),
        ],
        name="cnn_note_layout" if note else "cnn",
    )


def input_shape(model: str, layout: str = "intended") -> tuple[int, ...]:
    """One image's shape as the named model takes it."""
    if model == "dnn":
        return (IMAGE_SHAPE[0] * IMAGE_SHAPE[1],)
    return (1, *IMAGE_SHAPE) if layout == "note" else (*IMAGE_SHAPE, 1)
