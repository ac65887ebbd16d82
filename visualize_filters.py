"""What does each filter of the trained CNN look for? Gradient ascent on the input, as in the note.

Writes to results/filters/: <layer>.png (one tile per filter, filter index and final mean
activation under each, filters in index order, row by row), feature_maps.png (a test digit and
every conv layer's output), classes.png (an image per digit class, with and without the
jitter/blur prior) and patterns.npz (the raw arrays).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from cnn_note import cli

PROG = "visualize_filters.py"
MODEL = os.path.join("results", "cnn", "model.keras")


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=MODEL, help="trained CNN from train_cnn.py")
    parser.add_argument("--layer", default=None, help="conv layer(s) to show, comma-separated (default: every conv layer)")
    parser.add_argument("--filters", type=cli.int_list, default=None, help="filter indices such as 0,3,7 (default: all)")
    cli.add_ascent_arguments(parser, steps=200, step_size=0.02, jitter=1, blur=0.1, per="per image")
    parser.add_argument("--size", type=cli.positive_int, default=28, help="canvas side for the filter images (conv layers take any size)")
    parser.add_argument("--index", type=cli.nonnegative_int, default=0, help="MNIST test digit for feature_maps.png")
    cli.add_data_argument(parser)
    parser.add_argument("--out-dir", default=os.path.join("results", "filters"), help="where the pictures go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Draw filter patterns, a digit's feature maps and class patterns; returns what was drawn."""
    args = parse_args(argv)
    with cli.reported_errors(PROG):
        from cnn_note import results

        results.ensure_writable(args.out_dir)
        from cnn_note import ascent, data, figures, models, patterns
        from cnn_note.backend import keras

        model = models.load_trained(args.model, "python train_cnn.py")
        layers = args.layer.split(",") if args.layer else models.conv_layer_names(model)
        models.check_layers(model, layers)
        for layer in layers:
            patterns.check_filters(model, layer, args.filters or [])
        if args.size < 10:
            raise cli.InputError(f"--size {args.size} is too small for two 3x3 convolutions and 2x2 pooling: use at least 10")
        _, test = data.load("mnist", data.data_path(args.data))
        if args.index >= len(test.x):
            raise cli.InputError(f"--index {args.index} is out of range: the test set has images 0..{len(test.x) - 1}")
        settings = ascent.Settings(args.steps, args.step_size, args.jitter, args.blur, args.seed)
        arrays = {}

        for layer in layers:
            filters = args.filters or list(range(model.get_layer(layer).filters))
            start = time.perf_counter()
            bar = keras.utils.Progbar(args.steps, unit_name="step")
            images, activations = patterns.filter_patterns(model, layer, filters, args.size, settings,
                                                           on_progress=lambda done, values: bar.update(done))
            titles = [f"#{index}  {value:.2f}" for index, value in zip(filters, activations)]
            columns = 5 if len(filters) <= 25 else 10
            results.save_figure(os.path.join(args.out_dir, f"{layer}.png"), figures.image_grid(
                images[..., 0], titles, f"{layer}: input that maximises each filter's mean activation (#index  activation)", columns))
            arrays.update({f"{layer}_images": images[..., 0], f"{layer}_filters": filters, f"{layer}_activations": activations})
            print(f"{layer}: {len(filters)} filters x {args.steps} steps in {time.perf_counter() - start:.1f} s, "
                  f"mean activation {activations.mean():.3f} (min {activations.min():.3f}, max {activations.max():.3f})")

        digit = data.to_inputs(test.x[args.index:args.index + 1], flat=False)[0]
        maps = patterns.feature_maps(model, digit)
        results.save_figure(os.path.join(args.out_dir, "feature_maps.png"),
                            figures.feature_maps(digit[..., 0], maps, f"test digit #{args.index} (label {test.y[args.index]})"))

        start = time.perf_counter()
        free = ascent.Settings(args.steps, args.step_size, jitter=0, blur=0.0, seed=args.seed)
        with_prior, confidence = patterns.class_patterns(model, settings)
        without_prior, confidence_free = patterns.class_patterns(model, free)
        titles = [f"{c}: {p:.1%}" for c, p in enumerate(confidence)] + [f"{c}: {p:.1%}" for c, p in enumerate(confidence_free)]
        results.save_figure(os.path.join(args.out_dir, "classes.png"), figures.image_grid(
            np.concatenate([with_prior, without_prior])[..., 0], titles,
            "What the CNN thinks each digit looks like (class: softmax confidence)\n"
            "top: with jitter and blur   bottom: no prior", 10))
        arrays.update(classes_images=with_prior[..., 0], classes_confidence=confidence,
                      classes_unregularised_images=without_prior[..., 0], classes_unregularised_confidence=confidence_free)
        print(f"classes: 10 x 2 x {args.steps} steps in {time.perf_counter() - start:.1f} s, "
              f"confidence min {confidence.min():.4f} with prior, {confidence_free.min():.4f} without")

        results.save_npz(os.path.join(args.out_dir, "patterns.npz"), arrays)
        print(f"pictures written to {args.out_dir}/")
    return arrays


if __name__ == "__main__":
    main(sys.argv[1:])
