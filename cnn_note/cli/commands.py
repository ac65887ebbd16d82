"""The installed commands (pyproject.toml's [project.scripts]): each runs its script's main() on the command line's flags.

A console script exits with what its function returns, and main() returns its results for callers in Python, so each
command here returns None (exit 0) after main() has run; a refused input still exits 2 from inside main().
"""

import importlib
from collections.abc import Callable


def _command(script: str) -> Callable[[], None]:
    """The entry point of `script` (cnn_note/cli/<script>.py): its main(), its return value dropped."""

    def run() -> None:
        importlib.import_module(f"cnn_note.cli.{script}").main()

    run.__doc__ = f"cnn-note-{script.replace('_', '-')}: python {script}.py, installed."
    return run


train_dnn = _command("train_dnn")
train_cnn = _command("train_cnn")
visualize_filters = _command("visualize_filters")
deep_dream = _command("deep_dream")
why_cnn = _command("why_cnn")
explain = _command("explain")
atlas = _command("atlas")
reproduce = _command("reproduce")
