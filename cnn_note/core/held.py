"""Models with several inputs: one picture input looked at, the others held at values the user gives.

A model that takes a picture and more (a vector of metadata, a second picture) is seen by every tool
through one picture input: the first 4-D input with 1 or 3 channels, or the one the user names
(`picture=`, --picture NAME). The others are held: a Held layer in front of the model gives them for
each picture of a batch, at the values the user gives (`held=`, --inputs FILE.npz, by input name),
else zeros, and says so in a line (held_line). Filter pictures, dreams, dataset examples and the atlas
ascend or scan the picture with the others held so; cn.explain sets them to each picture's own and
also attributes to them (attribution: maps for pictures, a value per feature for vectors).
May import: errors, backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from cnn_note.backend import keras
from cnn_note.errors import Argument, InputError

HELD = Argument("held", flag="--inputs")


def input_name(tensor) -> str:
    """An input's name as Keras gives it (the keras.Input's name)."""
    return tensor.name.split(":")[0]


class Held(keras.layers.Layer):
    """The model's other inputs, each held at one value (a non-trainable variable) for every picture of a batch."""

    def __init__(self, shapes: Mapping[str, tuple], dtypes: Mapping[str, str] | None = None, order: Sequence[str] = (), **kwargs):
        super().__init__(**kwargs)
        self.shapes = {name: tuple(shape) for name, shape in shapes.items()}
        self.order = list(order)  # every input of the model by name, in its order: the picture's among them
        self.values = {name: self.add_weight(shape=shape, initializer="zeros", trainable=False, name=name,
                                             dtype=(dtypes or {}).get(name, "float32"))
                       for name, shape in self.shapes.items()}
        self.given = False  # whether the user gave the values (else they are zeros)

    @property
    def picture(self) -> str:
        """The name of the model's input the tools look at (the one not held)."""
        return next(name for name in self.order if name not in self.shapes)

    def call(self, pictures):
        batch = keras.ops.shape(pictures)[0]
        return [keras.ops.broadcast_to(value, (batch, *value.shape)) for value in self.values.values()]

    def compute_output_spec(self, pictures):
        return [keras.KerasTensor((pictures.shape[0], *shape), dtype=self.values[name].dtype) for name, shape in self.shapes.items()]

    def hold(self, values: Mapping[str, np.ndarray], given: bool | None = None) -> None:
        """Hold each named input at its value (one input's shape, without the batch); `given`: whether the user gave
        them (the line says so), else as before."""
        self.given = self.given if given is None else given
        for name, value in values.items():
            self.values[name].assign(np.asarray(value, self.values[name].dtype))


def picture_index(model: keras.Model, label: str, picture: str | int | None) -> int:
    """Which of the model's inputs the tools look at: the one named (or numbered), else the first 4-D input with 1 or 3
    channels; one line when there is none or the name is unknown."""
    names = [input_name(tensor) for tensor in model.inputs]
    if picture is not None:
        number = isinstance(picture, int) and not isinstance(picture, bool)
        index = picture if number else names.index(picture) if picture in names else None
        if index is None or not 0 <= index < len(names) or len(model.inputs[index].shape) != 4:
            pictures = ", ".join(name for name, tensor in zip(names, model.inputs) if len(tensor.shape) == 4) or "none"
            raise InputError(Argument("picture", picture, quoted=True),
                             f" is not a picture input of {label}: its picture inputs are {pictures}")
        return index
    for index, tensor in enumerate(model.inputs):
        if len(tensor.shape) == 4 and tensor.shape[-1] in (1, 3):
            return index
    raise InputError(f"{label} has {len(names)} inputs ({', '.join(f'{n} {tuple(t.shape)}' for n, t in zip(names, model.inputs))}) "
                     "and none is a picture (height, width, 1 or 3 channels): give a model with a picture input")


def picture_model(model: keras.Model, label: str, picture: str | int | None = None) -> keras.Model:
    """A model of several inputs as one of its picture input alone: a Held layer gives the others (zeros until held)."""
    index = picture_index(model, label, picture)
    others = [tensor for position, tensor in enumerate(model.inputs) if position != index]
    for tensor in others:
        if None in tuple(tensor.shape[1:]):
            raise InputError(f"{label}'s input {input_name(tensor)} has a free size {tuple(tensor.shape)}: the tools hold it at one "
                             "value, so its shape must be fixed")
    pixels = keras.Input(tuple(model.inputs[index].shape[1:]), name=input_name(model.inputs[index]))
    held = Held({input_name(t): tuple(t.shape[1:]) for t in others}, {input_name(t): t.dtype for t in others},
                [input_name(t) for t in model.inputs], name="held_inputs")(pixels)
    feeds = list(held)
    feeds.insert(index, pixels)
    return keras.Model(pixels, model(feeds), name=model.name)


def held_layer(model: keras.Model) -> Held | None:
    """The Held layer of a picture_model, or None for a model of one input."""
    return next((layer for layer in model.layers if isinstance(layer, Held)), None)


def _by_name(layer: Held, given: Mapping[str, np.ndarray] | Sequence[np.ndarray], label: str, what) -> dict:
    names = list(layer.shapes)
    if not isinstance(given, Mapping):
        given = list(given)
        if len(given) != len(names):
            raise InputError(what, f" gives {len(given)} values but {label}'s other inputs are {len(names)} ({', '.join(names)})")
        given = dict(zip(names, given))
    for name in given:
        if name not in layer.shapes:
            raise InputError(what, f" names {name!r}, not another input of {label}: its other inputs are {', '.join(names)}")
    return dict(given)


def _checked(layer: Held, name: str, value, label: str, what, count: int | None) -> np.ndarray:
    """One input's value as its dtype: one value of its shape, or rows of it (`count` of them where a count is asked)."""
    shape, dtype = layer.shapes[name], layer.values[name].dtype
    try:
        value = np.asarray(value, dtype)
    except (TypeError, ValueError):
        raise InputError(f"{name} in ", what, f" is not numbers of one shape: give an array of shape {shape}") from None
    rows = f"({count}, *{shape}), one per picture" if count is not None else "rows of it"
    if value.shape != shape and (value.shape[1:] != shape or count not in (None, len(value))):
        raise InputError(f"{name} in ", what, f" has shape {value.shape}: {label} takes {shape}, or {rows}")
    if not np.isfinite(value).all():
        raise InputError(f"{name} in ", what, " holds NaN or infinity: give finite values")
    return value


def values_of(layer: Held, given: Mapping[str, np.ndarray] | Sequence[np.ndarray] | None, label: str) -> dict[str, np.ndarray]:
    """What the user gave to hold, by input name (a dict, or a list in the other inputs' order), checked against each
    input's shape: one value, or several rows (their mean is held; an integer input's rows must agree); one line when
    a name or a shape is wrong."""
    values = {}
    for name, value in _by_name(layer, given or {}, label, HELD).items():
        value = _checked(layer, name, value, label, HELD, None)
        if value.shape != layer.shapes[name] and not np.issubdtype(value.dtype, np.floating) and (value != value[0]).any():
            raise InputError(f"{name} in ", HELD, f" gives {len(value)} different rows of an integer input: give the one to hold")
        values[name] = value if value.shape == layer.shapes[name] else value.mean(axis=0).astype(value.dtype)
    return values


def rows_of(layer: Held, given: Mapping[str, np.ndarray], count: int, label: str, what="the other inputs") -> dict[str, np.ndarray]:
    """Each picture's own other inputs ({input name: (count, ...)}), every one given: rows of one per picture, or one
    value for all; one line when one is missing, or of another shape."""
    given = _by_name(layer, given, label, what)
    missing = [name for name in layer.shapes if name not in given]
    if missing:
        raise InputError(f"{label}'s input {missing[0]} is not given: give every input ({', '.join(layer.order)})")
    found = {name: _checked(layer, name, value, label, what, count) for name, value in given.items()}
    return {name: np.broadcast_to(value, (count, *layer.shapes[name])) if value.shape == layer.shapes[name] else value
            for name, value in found.items()}


def differentiable(layer: Held) -> list[str]:
    """The other inputs of floating-point values, which can be attributed to (an integer input, a category fed to an
    Embedding, is held at each picture's own by every method)."""
    return [name for name, variable in layer.values.items() if np.issubdtype(np.dtype(variable.dtype), np.floating)]


def held_line(layer: Held | None) -> str | None:
    """The line that says what the other inputs are held at, or None for a model of one input."""
    if layer is None:
        return None
    said = []
    for name, variable in layer.values.items():
        value = np.asarray(variable)
        shown = np.array2string(value.ravel()[:6], precision=3, separator=", ") + (" ..." if value.size > 6 else "")
        said.append(f"{name} {tuple(value.shape)} at {'zeros' if not value.any() and not layer.given else shown}")
    how = "as given" if layer.given else "zeros by default: give them with "
    return "other inputs held: " + "; ".join(said) + f" ({how}" + ("" if layer.given else "held= or --inputs FILE.npz") + ")"
