"""Command-line plumbing shared by the scripts: argument types and one-line failures."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator


class InputError(Exception):
    """A problem with what the user gave us; reported as one line on stderr, exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that shows defaults in --help and reports a bad flag in one line."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(**kwargs)

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return value


def nonnegative_int(text: str) -> int:
    """argparse type: an integer of at least 0."""
    value = int(text) if text.lstrip("-").isdigit() else None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number greater than 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number greater than 0, got {text!r}")
    return value


def fraction(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text!r}")
    return value


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated whole numbers, such as 0,3,7."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers such as 0,3,7, got {text!r}")
    return values


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
