"""Command-line plumbing shared by the scripts: argument types, one-line failures and the --list-layers table."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence

from cnn_note.errors import InputError, raised
from cnn_note.settings import HEADS, MODEL, RULES


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default once: not for on/off switches, nor where the help already says it in words."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.nargs == 0 or "default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that shows defaults in --help and reports a bad flag in one line."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(**kwargs)
        # argparse takes only a plain number such as -1 for a value, and "-1,1" for an unknown option; any text
        # starting with a minus and a digit is a value here (no flag of ours starts with a digit).
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _ranged(convert: Callable[[str], float], accept: Callable[[float], bool], requirement: str) -> Callable[[str], float]:
    """An argparse type that converts the text and accepts only values meeting the requirement."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
        return value

    parse.__doc__ = f"argparse type: {requirement}."
    return parse


def flag_type(kind: str) -> Callable[[str], float]:
    """The argparse type of a kind of setting: the text read as a whole number or a number, then held to the rule
    settings.RULES states for keywords too, in its words."""
    accept, requirement = RULES[kind]
    return _ranged(int if kind in ("positive", "nonnegative") else float, accept, requirement)


positive_int, nonnegative_int, positive_float, fraction = map(flag_type, ("positive", "nonnegative", "positive_number", "fraction"))


def add_settings(parser: argparse.ArgumentParser, kind: type, names: Sequence[str] | None = None) -> None:
    """A flag for each setting of `kind` (a dataclass of cnn_note.settings, or attribution.ExplainSettings) that `names`
    lists (default: every one, in order), made from the setting itself: --step-size for step_size, with its default, its
    help, its choices and the type its rule asks (settings.setting)."""
    fields = {item.name: item for item in dataclasses.fields(kind)}
    for name in names or fields:
        meta = fields[name].metadata
        parser.add_argument("--" + name.replace("_", "-"), type=flag_type(meta["rule"]) if "rule" in meta else None,
                            choices=meta.get("choices"), default=fields[name].default, help=meta["help"])


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated whole numbers and ranges, such as 0,3,7 or 0-15."""
    values = []
    try:
        for part in text.split(","):
            first, dash, last = part.strip().partition("-")
            if dash and first and int(last) < int(first):
                raise argparse.ArgumentTypeError(f"range {part.strip()} runs backwards: write it low-high, such as {last}-{first}")
            values += list(range(int(first), int(last) + 1)) if dash and first else [int(part)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers or ranges such as 0,3,7 or 0-15, got {text!r}") from None
    return values


def number_range(text: str) -> tuple[float, float]:
    """argparse type: LOW,HIGH with LOW < HIGH, both finite, such as -1,1 or 0,255."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise argparse.ArgumentTypeError(f"must be LOW,HIGH with LOW < HIGH, such as -1,1 or 0,255, got {text!r}")
    return low, high


def grid_size(text: str) -> tuple[int, int]:
    """argparse type: HxW, two positive whole numbers such as 14x14: a transformer's patch grid."""
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        height = width = 0
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"must be HxW, the patch grid's rows and columns, such as 14x14, got {text!r}")
    return height, width


def inputs_file(path: str) -> dict:
    """argparse type: an .npz of arrays named as a model's other inputs, read whole (values to hold them at)."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"cannot read {path!r} as an .npz of arrays named as the model's inputs ({error})") from None


def int_pair(text: str) -> tuple[int, int]:
    """argparse type: two whole numbers A,B, such as 2,0 or -2,2."""
    try:
        first, second = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be two whole numbers A,B such as 2,0 or -2,2, got {text!r}") from None
    return first, second


def class_names(text: str) -> list[str]:
    """argparse type: class names, comma-separated or a UTF-8 text file with one name a line."""
    if os.path.isfile(text):
        try:
            with open(text, encoding="utf-8") as handle:
                names = [line.strip() for line in handle if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise argparse.ArgumentTypeError(f"cannot read {text} ({error}): give a UTF-8 text file, one name a line") from None
    else:
        names = [name.strip() for name in text.split(",")]
    if not names or not all(names):
        raise argparse.ArgumentTypeError(f"must be names separated by commas, or a file with one name a line, got {text!r}")
    return names


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """--model and its pixel convention, and --list-layers: the same for every script that looks inside a model."""
    parser.add_argument("--model", default=MODEL,
                        help="a Keras model file (.keras or .h5) of any image model, or a keras.applications network by name "
                             "(inception_v3, vgg16, resnet50, mobilenet_v2, ...: ImageNet weights, downloaded once by Keras)")
    parser.add_argument("--input-range", type=number_range, default=None, metavar="LOW,HIGH",
                        help="pixel values the model file was trained on (default: 0,1; networks by name use their own)")
    parser.add_argument("--preprocess", default=None, metavar="NETWORK",
                        help="the model file takes this keras.applications network's preprocess_input "
                             "(a fine-tuned vgg16, say; default: none)")
    parser.add_argument("--list-layers", action="store_true",
                        help="print the layers that can be chosen, with their output shapes, and stop")
    parser.add_argument("--picture", default=None, metavar="NAME",
                        help="for a model of several inputs, the picture input to look at (default: its first picture input)")
    parser.add_argument("--inputs", type=inputs_file, default=None, metavar="FILE.npz",
                        help="for a model of several inputs, the values its other inputs are held at, an array per input "
                             "name (rows: their mean; explain.py: one row per picture) (default: zeros, said in a line)")
    parser.add_argument("--grid", type=grid_size, default=None, metavar="HxW",
                        help="a transformer's patch grid, where it cannot be read from the patching layer and the input's "
                             "size (default: read; --list-layers shows each token layer on its grid)")
    parser.add_argument("--custom-objects", type=custom_objects, default=None, metavar="FILE",
                        help="a Python file imported before the model file is loaded: the classes it registers with "
                             "keras.saving.register_keras_serializable (a subclassed model's, its own layers') (default: none)")


def layer_table(view) -> str:
    """What --list-layers prints: the view's layers that can be chosen (View.layer_table), a row each under a header, in
    columns as wide as their longest cell."""
    rows = [("layer", "type", "output (h, w, c)", "channels"), *(tuple(str(cell) for cell in row) for row in view.layer_table())]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def add_head_arguments(parser: argparse.ArgumentParser) -> None:
    """--head and --output: what the model's output is, and which output, for the scripts that ask for class scores."""
    parser.add_argument("--head", choices=HEADS, default="auto",
                        help="what the output is: softmax probabilities, logits (no activation), sigmoid (one unit: binary; "
                             "more: multi-label) or a regression value (default: auto, read from the last layer's activation)")
    parser.add_argument("--output", default=None, metavar="NAME",
                        help="the output to score, by its layer's name or its index, for a model with several (default: its only one)")


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """--data PATH, the same for every script that reads MNIST."""
    parser.add_argument("--data", metavar="PATH", default=None,
                        help="Keras-layout mnist.npz to read instead of downloading (default: $MNIST_PATH, else Keras' loader)")


# The gradient ascent's flags, which visualize_filters.py, atlas.py and deep_dream.py share (each with its settings'
# defaults: settings.PictureSettings or settings.DreamSettings).
ASCENT = ("steps", "step_size", "jitter", "blur", "seed")


@contextlib.contextmanager
def reported_errors(prog: str) -> Iterator[None]:
    """Turn user-facing failures and Ctrl-C into one stderr line and exit status 2."""
    try:
        yield
    except InputError as error:
        print(f"{prog}: error: {error.on_command_line()}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: nothing new was written; earlier results are as they were", file=sys.stderr)
        raise SystemExit(2) from None


def custom_objects(path: str) -> str:
    """--custom-objects: the user's Python file, imported now, so the classes it registers with Keras are there when the
    model file is loaded (a subclassed model's class, say); one line when it is missing or fails."""
    import importlib.util

    if not os.path.isfile(path):
        raise argparse.ArgumentTypeError(f"{path} not found: give the Python file that defines the model's classes")
    from cnn_note import backend  # noqa: F401  (Keras first, without TensorFlow's start-up chatter, for the file's `import keras`)

    spec = importlib.util.spec_from_file_location(f"cnn_note_custom_objects_{len(sys.modules)}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's own file: whatever it raises is theirs to read, in one line
        raise argparse.ArgumentTypeError(f"{path} fails on import ({raised(error)}): "
                                         "fix it, or give the file that defines the model's classes") from None
    return path
