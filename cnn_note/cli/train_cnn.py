"""Train the note's CNN on the first 10,000 MNIST images; prints Train/Test Acc and saves the model."""

import sys

from cnn_note.cli.train import run


def main(argv: list[str] | None = None) -> dict:
    """Run the CNN half of the note's comparison; later scripts load results/cnn/model.keras."""
    return run("cnn", argv)


if __name__ == "__main__":
    main(sys.argv[1:])
