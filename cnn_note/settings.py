"""Every setting's default, stated once: the Python API's keywords and the scripts' flags both read them here (an
attribution method's are its own, in its module: attribution.ExplainSettings gathers them).

Nothing here imports TensorFlow, so a script's --help and its flag errors stay instant.

May import: errors.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from cnn_note.errors import Argument, InputError

HEADS = ("auto", "softmax", "logits", "sigmoid", "regression")  # what a model's output is: see heads.Head
BASELINES = ("black", "white", "grey", "blur")
# Every parameterisation, by name, and the module that holds it (as PARAMETERISATION; see optvis.parameterisation):
# param= and --param choose from these names, and optvis looks each one up here.
PARAMS = {"fourier": "cnn_note.optvis.fourier", "pixels": "cnn_note.optvis.pixels"}
MAX_FILTERS = 64  # filters drawn per layer unless others are asked for: a readable grid
MAX_CLASSES = 20  # class pictures of every class unless others are asked for: a small classifier's
EXAMPLES = 9  # dataset examples shown per filter, most and least exciting each (0: none)
CLASS_INPUTS = 1_000  # atlas.py: inputs averaged over for each unit's contribution to each class
CONNECTIONS = 5  # atlas.py: strongest incoming and outgoing connections listed per unit
# The note's second and third reasons as changes to a picture (note.distortions makes them; the live page's controls,
# in the browser, are given the same): the largest shift, why_cnn.py's --max-shift, and the rows and columns each
# subsampling keeps, as (first row, row step, first column, column step).
MAX_SHIFT = 4
SUBSAMPLINGS = {
    "original": (0, 1, 0, 1),
    "odd rows dropped": (0, 2, 0, 1),
    "even rows dropped": (1, 2, 0, 1),
    "alternate rows+cols dropped": (0, 2, 0, 2),
}

# What each kind of value must be, as the scripts' flag types check it too (cli.positive_int and the rest).
RULES = {
    "positive": (lambda value: isinstance(value, int) and value >= 1, "a whole number of at least 1"),
    "nonnegative": (lambda value: isinstance(value, int) and value >= 0, "a whole number of at least 0"),
    "positive_number": (lambda value: isinstance(value, (int, float)) and 0 < value < math.inf, "a number greater than 0"),
    "fraction": (lambda value: isinstance(value, (int, float)) and 0 <= value <= 1, "a number from 0 to 1"),
}


def rule(default, kind: str, optional: bool = False):
    """A dataclass field with its default and what its values must be (None allowed when optional)."""
    return field(default=default, metadata={"rule": kind, "optional": optional})


@dataclass(frozen=True)
class Recipe:
    """The note's training recipe: train_dnn.py's and train_cnn.py's defaults, and cn.train's."""

    epochs: int = rule(20, "positive")
    batch_size: int = rule(100, "positive")
    train_samples: int = rule(10_000, "positive")
    seed: int = rule(0, "nonnegative")
    steps_per_execution: int = rule(50, "positive")
    epoch_test_samples: int = rule(1_000, "nonnegative")


@dataclass(frozen=True)
class PictureSettings:
    """Filter and class pictures: visualize_filters.py's flags, cn.filter_pictures' and cn.class_pictures' keywords."""

    size: int = rule(28, "positive")  # canvas side (conv layers take any size; a model of one size uses its own)
    param: str | None = None  # what the ascent moves (one of PARAMS): None, fourier for colour models and pixels for grey ones
    steps: int = rule(200, "positive")
    step_size: float = rule(0.02, "positive_number")
    jitter: int = rule(1, "nonnegative")
    blur: float = rule(0.1, "fraction")
    seed: int = rule(0, "nonnegative")


@dataclass(frozen=True)
class DreamSettings:
    """Deep dream: deep_dream.py's flags and cn.deep_dream's keywords."""

    octaves: int = rule(3, "positive")
    octave_scale: float = rule(1.4, "positive_number")
    steps: int = rule(20, "positive")
    step_size: float = rule(0.005, "positive_number")
    jitter: int = rule(0, "nonnegative")
    blur: float = rule(0.0, "fraction")
    seed: int = rule(0, "nonnegative")
    max_loss: float | None = rule(None, "positive_number", optional=True)
    tile: int = rule(1024, "positive")
    max_side: int | None = rule(None, "positive", optional=True)


def check_octave_scale(scale: float) -> None:
    """A dream's octaves grow by `scale` each: it must be at least 1."""
    if scale < 1:
        raise InputError(Argument("octave_scale", scale), " must be at least 1 (each octave is that much larger)")


def make(kind: type, what: str, given: dict):
    """`kind` (a dataclass above) from keyword settings, each checked; an unknown name or a bad value is an InputError."""
    fields = {item.name: item for item in dataclasses.fields(kind)}
    for name, value in given.items():
        if name not in fields:
            raise InputError(f"{what} has no setting {name!r}: its settings are {', '.join(fields)}")
        meta = fields[name].metadata
        if "rule" in meta and not (value is None and meta["optional"]):
            accept, requirement = RULES[meta["rule"]]
            if isinstance(value, bool) or not accept(value):
                raise InputError(f"{name}={value!r} for {what}: it must be {requirement}")
    choices = {"baseline": BASELINES, "param": (*PARAMS, None)}
    for name, allowed in choices.items():
        if name in given and given[name] not in allowed:
            raise InputError(f"{name}={given[name]!r} for {what}: choose from {', '.join(map(str, allowed))}")
    return kind(**given)
