"""The installed commands (pyproject.toml's [project.scripts]): each runs its script's main() on the command line's flags.

A console script exits with what its function returns, and main() returns its results for callers in Python, so each
command here returns None (exit 0) after main() has run; a refused input still exits 2 from inside main().
"""

import importlib


def _run(script: str) -> None:
    importlib.import_module(f"cnn_note.cli.{script}").main()


def train_dnn() -> None:
    """cnn-note-train-dnn: python train_dnn.py."""
    _run("train_dnn")


def train_cnn() -> None:
    """cnn-note-train-cnn: python train_cnn.py."""
    _run("train_cnn")


def visualize_filters() -> None:
    """cnn-note-visualize-filters: python visualize_filters.py."""
    _run("visualize_filters")


def deep_dream() -> None:
    """cnn-note-deep-dream: python deep_dream.py."""
    _run("deep_dream")


def why_cnn() -> None:
    """cnn-note-why-cnn: python why_cnn.py."""
    _run("why_cnn")


def explain() -> None:
    """cnn-note-explain: python explain.py."""
    _run("explain")


def atlas() -> None:
    """cnn-note-atlas: python atlas.py."""
    _run("atlas")


def reproduce() -> None:
    """cnn-note-reproduce: python reproduce.py."""
    _run("reproduce")
