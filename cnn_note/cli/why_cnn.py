"""Measure the note's three reasons for CNNs with the trained DNN and CNN.

1. A pattern is much smaller than the image: parameters per model and layer, beside test accuracy.
2. The same pattern appears in different places: accuracy on test digits shifted 0-4 pixels
   (mean over the 8 directions, background filling in).
3. Subsampling keeps the object: accuracy when odd rows, even rows, or every other row and
   column are dropped and the kept ones repeated to stretch the digit back to 28x28.
Prints the tables; writes results/why_cnn/why_cnn.json, shift.png and subsample.png.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from cnn_note.cli import arguments
from cnn_note.errors import Command
from cnn_note.note import data, distortions
from cnn_note.settings import MAX_SHIFT, trained_model

PROG = Command("why_cnn").prog
MODELS = ("dnn", "cnn")


def parse_args(argv: list[str] | None):
    parser = arguments.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", default="results",
                        help="reads <dir>/dnn/model.keras and <dir>/cnn/model.keras, writes <dir>/why_cnn/")
    parser.add_argument("--train", action="store_true", help="train both models first with the note's recipe (one seed each)")
    parser.add_argument("--max-shift", type=arguments.nonnegative_int, default=MAX_SHIFT, help="largest shift in pixels")
    parser.add_argument("--test-samples", type=arguments.positive_int, default=10_000, help="use the first N test images")
    arguments.add_data_argument(parser)
    return parser.parse_args(argv)


def accuracies(models: dict, sets: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, dict[str, float]]:
    """{model: {set: share of the set's images (N, 28, 28) uint8 the model classifies right}}.

    Each set is converted once and scored by every model in one call: predict_on_batch on the
    whole set takes half the time of predict, which builds a data pipeline around every call. A
    set named twice (the original digits are shift 0 and "original" too) is scored once.
    """
    scores = {name: {} for name in models}
    for key, images in sets.items():
        inputs = data.to_inputs(images, (-1,))
        for name, model in models.items():
            predicted = model.predict_on_batch(inputs.reshape(len(inputs), *model.input_shape[1:]))
            scores[name][key] = float((predicted.argmax(axis=1) == labels).mean())
    return scores


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table, which also reads well in a terminal."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(f"{cell:.4f}" if isinstance(cell, float) else f"{cell:,}" if isinstance(cell, int) else str(cell)
                                for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Measure the three reasons and write the tables and figures; returns the measurements."""
    args = parse_args(argv)
    with arguments.reported_errors(PROG):
        from cnn_note.io import writing

        if args.train:
            from cnn_note.cli import train_cnn, train_dnn

            for train in (train_dnn, train_cnn):
                train.main(["--quiet", "--results-dir", args.results_dir] + (["--data", args.data] if args.data else []))
        from cnn_note.core import loading
        from cnn_note.plots import figures

        # The models before the folder: a refusal for want of them leaves no empty why_cnn/ behind.
        loaded = {name: loading.load_trained(trained_model(name, args.results_dir),
                                            "run `", Command(f"train_{name}"), "` first, or `", Command("why_cnn", "--train"), "`")
                  for name in MODELS}
        out_dir = writing.ensure_writable(os.path.join(args.results_dir, "why_cnn"))
        _, test = data.load("mnist", data.data_path(args.data))
        test = data.first(test, args.test_samples, "test")

        shifted = {(k, dy, dx): distortions.shift(test.x, k * dy, k * dx) for k in range(1, args.max_shift + 1)
                   for dy, dx in distortions.DIRECTIONS}
        sets = {"original": test.x, **shifted, **{variant: distortions.subsample(test.x, variant)
                                                  for variant in distortions.SUBSAMPLINGS if variant != "original"}}
        scores = accuracies(loaded, sets, test.y)

        params = {name: {"total": model.count_params(), "test_acc": scores[name]["original"],
                         "layers": {layer.name: layer.count_params() for layer in model.layers}} for name, model in loaded.items()}
        ratio = params["dnn"]["total"] / params["cnn"]["total"]
        print("1. A pattern is smaller than the image: parameters")
        print(table(["model", "layer", "parameters"], [[name.upper(), layer, count] for name in MODELS
                                                       for layer, count in params[name]["layers"].items()]))
        print(table(["model", "parameters", "test acc"], [[name.upper(), params[name]["total"], params[name]["test_acc"]]
                                                          for name in MODELS]))
        print(f"the DNN has {ratio:.2f}x the CNN's parameters\n")

        shifts = {name: [scores[name]["original"]] + [float(np.mean([scores[name][(k, dy, dx)] for dy, dx in distortions.DIRECTIONS]))
                                                      for k in range(1, args.max_shift + 1)] for name in loaded}
        print("2. The same pattern appears in different places: accuracy on shifted digits (mean of 8 directions)")
        print(table(["shift (pixels)", "DNN", "CNN"], [[k, shifts["dnn"][k], shifts["cnn"][k]] for k in range(args.max_shift + 1)]) + "\n")

        subsampled = {variant: {name: scores[name][variant] for name in loaded}
                      for variant in distortions.SUBSAMPLINGS}
        print("3. Subsampling keeps the object: accuracy after dropping rows/columns (kept ones repeated back to 28x28)")
        print(table(["subsampling", "DNN", "CNN"], [[variant, acc["dnn"], acc["cnn"]] for variant, acc in subsampled.items()]))

        record = {"parameters": params, "parameter_ratio": ratio, "shift": {"pixels": list(range(args.max_shift + 1)), **shifts},
                  "subsample": subsampled, "test_samples": len(test.x),
                  "how": {"shift": "mean over the 8 directions, zero (background) fill",
                          "subsample": "kept rows/columns repeated twice (nearest neighbour) back to 28x28"}}
        writing.write_json(os.path.join(out_dir, "why_cnn.json"), record)
        writing.save_figure(os.path.join(out_dir, "shift.png"), figures.shift_accuracy(shifts))
        examples = test.x[:4]
        writing.save_figure(os.path.join(out_dir, "subsample.png"), figures.image_grid(
            [distortions.subsample(examples, variant)[i] for i in range(len(examples)) for variant in distortions.SUBSAMPLINGS],
            [variant for _ in examples for variant in distortions.SUBSAMPLINGS],
            "Dropping rows or columns (kept ones repeated back to 28x28) keeps the digit", columns=len(distortions.SUBSAMPLINGS)))
        print(f"\nresults written to {out_dir}/")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
