"""Command-line plumbing shared by the scripts: argument types and one-line failures."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable, Iterator


class InputError(Exception):
    """A problem with what the user gave us; reported as one line on stderr, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that shows defaults in --help and reports a bad flag in one line."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(**kwargs)

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


positive_int = _ranged(int, lambda value: value >= 1, "a whole number of at least 1")
nonnegative_int = _ranged(int, lambda value: value >= 0, "a whole number of at least 0")
positive_float = _ranged(float, lambda value: 0 < value < math.inf, "a number greater than 0")
fraction = _ranged(float, lambda value: 0 <= value <= 1, "a number from 0 to 1")


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated whole numbers, such as 0,3,7."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers such as 0,3,7, got {text!r}")
    return values


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    """--data PATH, the same for every script that reads MNIST."""
    parser.add_argument("--data", metavar="PATH", default=None,
                        help="Keras-layout mnist.npz to read instead of downloading (default: $MNIST_PATH, else Keras' loader)")


def add_ascent_arguments(parser: argparse.ArgumentParser, steps: int, step_size: float, jitter: int, blur: float, per: str) -> None:
    """The gradient-ascent flags shared by visualize_filters.py and deep_dream.py, with each script's defaults."""
    parser.add_argument("--steps", type=positive_int, default=steps, help=f"ascent steps {per}")
    parser.add_argument("--step-size", type=positive_float, default=step_size, help="mean pixel change per step (pixels are 0..1)")
    parser.add_argument("--jitter", type=nonnegative_int, default=jitter, help="random shift in pixels each step (0: off)")
    parser.add_argument("--blur", type=fraction, default=blur, help="share of a 3x3 blur mixed in after each step (0: off)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed for the starting noise and the jitter")


@contextlib.contextmanager
def reported_errors(prog: str) -> Iterator[None]:
    """Turn user-facing failures and Ctrl-C into one stderr line and exit status 2."""
    try:
        yield
    except InputError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print(f"{prog}: interrupted: nothing new was written; earlier results are as they were", file=sys.stderr)
        raise SystemExit(2) from None
