"""Every setting's default, stated once: the Python API's keywords and the scripts' flags both read them here (an
attribution method's are its own, in its module: attribution.ExplainSettings gathers them).

Nothing here imports TensorFlow, so a script's --help and its flag errors stay instant.

May import: errors.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

from cnn_note.errors import Argument, InputError


def trained_model(name: str, results_dir: str = "results") -> str:
    """Where train_dnn.py and train_cnn.py save the note's model called `name` (dnn, cnn, cnn_note_layout), and the other
    scripts find it."""
    return os.path.join(results_dir, name, "model.keras")


MODEL = trained_model("cnn")  # --model of every script that looks inside a model: the note's CNN
BESIDE = trained_model("dnn")  # the note's DNN, beside its CNN on the live page
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


def setting(default, help: str, rule: str | None = None, optional: bool = False, choices: tuple | None = None):
    """A setting, a field of one of the dataclasses of settings: its default, its flag's help, and what its values must
    be (a rule of RULES, None allowed when `optional`; or one of `choices`). The Python keyword and the script's flag
    (cli.arguments.add_settings) are both made from it.

    Args:
        default: the value when none is given, for the keyword and the flag alike.
        help: the flag's help; argparse adds "(default: ...)" unless it says its default itself.
        rule: "positive", "nonnegative", "positive_number" or "fraction" (RULES), or None for any value.
        optional: whether None is also allowed (a default worked out from the picture, say).
        choices: the values allowed, for a setting that is one of a few words.

    Returns:
        dataclasses.Field: the field, for `name: type = setting(...)` in a dataclass.
    """
    metadata = {"help": help}
    if rule:
        metadata.update(rule=rule, optional=optional)
    if choices:
        metadata["choices"] = choices
    return field(default=default, metadata=metadata)


JOBS = 3  # seeds trained at the same time by train_dnn.py and train_cnn.py (--jobs), each beyond the first in a process


# The gradient ascent's settings that filter pictures and dreams share, each with its own default.
ASCENT_HELP = {"step_size": "mean pixel change per step (pixels are 0..1)", "jitter": "random shift in pixels each step (0: off)",
               "blur": "share of a 3x3 blur mixed in after each step (0: off)", "seed": "seed for the starting noise and the jitter"}


@dataclass(frozen=True)
class Recipe:
    """The note's training recipe: train_dnn.py's and train_cnn.py's defaults, and cn.train's."""

    epochs: int = setting(20, "training epochs", "positive")
    batch_size: int = setting(100, "images per gradient step", "positive")
    train_samples: int = setting(10_000, "use the first N training images", "positive")
    seed: int = setting(0, "first random seed", "nonnegative")
    steps_per_execution: int = setting(50, "training steps per compiled call (on PyTorch, which Keras runs eagerly, one); 1 is "
                                           "Keras' default (same writing, slower)", "positive")
    epoch_test_samples: int = setting(1_000, "test images scored after every epoch for the test curve: a fixed class-balanced "
                                      "sample (10000: the whole set; 0: none). The final Test Acc always scores the whole set",
                                      "nonnegative")


@dataclass(frozen=True)
class PictureSettings:
    """Filter and class pictures: visualize_filters.py's flags, cn.filter_pictures' and cn.class_pictures' keywords."""

    # A model of one input size uses its own.
    size: int = setting(28, "canvas side of each picture (conv layers take any size)", "positive")
    param: str | None = setting(None, "what the ascent moves: a Fourier-basis picture with decorrelated colour under random "
                                "moves, as in Distill's Feature Visualization, or the pixels with jitter and blur (default: "
                                "fourier for colour models, pixels for grey ones such as the note's CNN)", choices=PARAMS)
    steps: int = setting(200, "ascent steps per picture", "positive")
    step_size: float = setting(0.02, ASCENT_HELP["step_size"], "positive_number")
    jitter: int = setting(1, ASCENT_HELP["jitter"], "nonnegative")
    blur: float = setting(0.1, ASCENT_HELP["blur"], "fraction")
    seed: int = setting(0, ASCENT_HELP["seed"], "nonnegative")


@dataclass(frozen=True)
class DreamSettings:
    """Deep dream: deep_dream.py's flags and cn.deep_dream's keywords."""

    octaves: int = setting(3, "scales to dream at, smallest first", "positive")
    octave_scale: float = setting(1.4, "size ratio between octaves (at least 1)", "positive_number")
    steps: int = setting(20, "ascent steps per octave", "positive")
    step_size: float = setting(0.005, ASCENT_HELP["step_size"], "positive_number")
    jitter: int = setting(0, ASCENT_HELP["jitter"], "nonnegative")
    blur: float = setting(0.0, ASCENT_HELP["blur"], "fraction")
    seed: int = setting(0, ASCENT_HELP["seed"], "nonnegative")
    max_loss: float | None = setting(None, "end an octave once every image's loss passes this (default: never)", "positive_number",
                                     optional=True)
    tile: int = setting(1024, "score the image in tiles of at most this many pixels a side, shifted at random each step: "
                        "memory depends on the tile, not on the picture", "positive")
    max_side: int | None = setting(None, "shrink a larger picture to this longer side first (default: keep its size)", "positive",
                                   optional=True)


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
        # A setting of a few words: one of them, or its default where that is None (worked out from the model).
        allowed = [*meta.get("choices", ()), *([None] if fields[name].default is None else [])]
        if "choices" in meta and value not in allowed:
            raise InputError(f"{name}={value!r} for {what}: choose from {', '.join(map(str, allowed))}")
    return kind(**given)
