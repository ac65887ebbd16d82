"""Train the note's DNN (784-500-500-500-10) on the first 10,000 MNIST images; prints Train/Test Acc."""

import sys

from cnn_note.cli.train import run


def main(argv: list[str] | None = None) -> dict:
    """Run the DNN half of the note's comparison."""
    return run("dnn", argv)


if __name__ == "__main__":
    main(sys.argv[1:])
