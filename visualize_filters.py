"""What does each filter of a trained CNN look for? Gradient ascent on the input, as in the note.

By default the note's CNN from train_cnn.py; --model takes any Keras image model file or a
keras.applications network by name. Writes to results/filters/: <layer>.png (one tile per
filter, filter index and final mean activation under each, filters in index order, row by row),
feature_maps.png (a picture and the chosen layers' outputs), classes.png (an image per class,
with and without the prior), patterns.npz (the raw arrays) and, with --gif, <layer>.gif (the
ascent as an animation). Colour models ascend Fourier-basis pictures under random moves, as in
Distill's "Feature Visualization"; a layer that ends in a ReLU is ascended before it.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from cnn_note import cli

PROG = "visualize_filters.py"
MODEL = os.path.join("results", "cnn", "model.keras")
MAX_FILTERS = 64  # filters drawn per layer unless --filters asks for others: a readable grid
MAX_CLASSES = 20  # class pictures drawn unless --classes asks: every class of a small classifier


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    cli.add_model_arguments(parser, MODEL)
    parser.add_argument("--layer", default=None,
                        help="layer(s) to show, comma-separated (default: every conv layer when there are at most 4, else three)")
    parser.add_argument("--filters", type=cli.int_list, default=None,
                        help=f"filter indices such as 0,3,7 or 0-15 (default: all, at most the first {MAX_FILTERS})")
    parser.add_argument("--param", choices=("fourier", "pixels"), default=None,
                        help="what the ascent moves: a Fourier-basis picture with decorrelated colour under random moves, as in Distill's "
                             "Feature Visualization, or the pixels with jitter and blur (default: fourier for colour models, "
                             "pixels for grey ones such as the note's CNN)")
    cli.add_ascent_arguments(parser, steps=200, step_size=0.02, jitter=1, blur=0.1, per="per image")
    parser.add_argument("--size", type=cli.positive_int, default=28, help="canvas side for the filter images (conv layers take any size)")
    parser.add_argument("--classes", type=cli.int_list, default=None,
                        help=f"classes to draw, such as 0-9 (default: all when the model has at most {MAX_CLASSES})")
    parser.add_argument("--class-names", type=cli.class_names, default=None, metavar="NAMES",
                        help="names for the class pictures: comma-separated, or a text file with one name a line "
                             "(default: ImageNet's for networks by name when Keras has them cached, else class numbers)")
    parser.add_argument("--gif", action="store_true", help="also write <layer>.gif: the filter grid as the ascent goes, every few steps")
    parser.add_argument("--image", default=None, help="picture for feature_maps.png (default: MNIST test digit --index)")
    parser.add_argument("--index", type=cli.nonnegative_int, default=0, help="MNIST test digit for feature_maps.png")
    cli.add_data_argument(parser)
    parser.add_argument("--out-dir", default=os.path.join("results", "filters"), help="where the pictures go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Draw filter patterns, a picture's feature maps and class patterns; returns what was drawn."""
    args = parse_args(argv)
    with cli.reported_errors(PROG):
        from cnn_note import results

        if not args.list_layers:
            results.ensure_writable(args.out_dir)
        from cnn_note import ascent, data, dream, figures, model_views, patterns
        from cnn_note.backend import keras

        view = model_views.load(args.model, "python train_cnn.py", args.input_range, args.preprocess)
        if args.list_layers:
            print(view.layer_table())
            return {}
        layers = args.layer.split(",") if args.layer else view.default_layers()
        view.check_layers(layers)
        chosen = {layer: args.filters or list(range(min(view.filters(layer), MAX_FILTERS))) for layer in layers}
        for layer, filters in chosen.items():
            patterns.check_filters(view, layer, filters)
        need = view.smallest_side(layers)
        if args.size < need:
            raise cli.InputError(f"--size {args.size} is too small for {', '.join(layers)}: use at least {need}")
        chunks = {layer: patterns.batch_size(view, layer, len(filters), args.size) for layer, filters in chosen.items()}
        classes = check_classes(view, args.classes)
        if args.image:
            picture, _ = dream.load_image(args.image, view.channels)
            name = os.path.basename(args.image)
        else:
            _, test = data.load("mnist", data.data_path(args.data))
            if args.index >= len(test.x):
                raise cli.InputError(f"--index {args.index} is out of range: the test set has images 0..{len(test.x) - 1}")
            digit = data.to_inputs(test.x[args.index:args.index + 1], (*data.IMAGE_SHAPE, 1))[0]
            picture, name = np.repeat(digit, view.channels, axis=-1), f"test digit #{args.index} (label {test.y[args.index]})"
        names = view.class_names(args.class_names)
        param = args.param or ("fourier" if view.channels == 3 else "pixels")
        settings = ascent.Settings(args.steps, args.step_size, args.jitter, args.blur, args.seed)
        arrays = {}

        for layer, filters in chosen.items():
            start = time.perf_counter()
            bar = keras.utils.Progbar(args.steps, unit_name="step", verbose=cli.progress_verbosity())
            frames = [] if args.gif else None
            images, activations = patterns.filter_patterns(view, layer, filters, args.size, settings,
                                                           lambda done, values, pictures: bar.update(done), chunks[layer], param,
                                                           frames, every=gif_every(args.steps) if args.gif else ascent.STEPS_PER_CALL)
            titles = [f"#{index}  {value:.2f}" for index, value in zip(filters, activations)]
            columns = 5 if len(filters) <= 25 else 10
            results.save_figure(os.path.join(args.out_dir, f"{layer}.png"), figures.image_grid(
                images, titles, f"{layer}: input that maximises each filter's mean activation (#index  activation)", columns))
            if frames:
                results.save_gif(os.path.join(args.out_dir, f"{layer}.gif"), [figures.mosaic(frame, columns) for frame in frames])
            arrays.update({f"{layer}_images": squeezed(images), f"{layer}_filters": filters, f"{layer}_activations": activations})
            capped = args.filters is None and len(filters) < view.filters(layer)
            more = f" (the first {len(filters)} of {view.filters(layer)}; --filters picks others)" if capped else ""
            print(f"{layer}: {len(filters)} filters x {args.steps} steps in {time.perf_counter() - start:.1f} s, "
                  f"mean activation {activations.mean():.3f} (min {activations.min():.3f}, max {activations.max():.3f}){more}")

        if min(picture.shape[:2]) >= need:
            maps = patterns.feature_maps(view, picture, layers)
            maps = {layer: layer_maps[..., chosen[layer][:50]] for layer, layer_maps in maps.items()}
            results.save_figure(os.path.join(args.out_dir, "feature_maps.png"), figures.feature_maps(picture, maps, name))
        else:
            print(f"feature maps: skipped, {name} is smaller than the {need} pixels {', '.join(layers)} need (give --image)")

        if classes:
            start = time.perf_counter()
            free = ascent.Settings(args.steps, args.step_size, jitter=0, blur=0.0, seed=args.seed)
            with_prior, confidence = patterns.class_patterns(view, classes, args.size, settings, param=param)
            without_prior, confidence_free = patterns.class_patterns(view, classes, args.size, free)
            titles = [f"{names[c]}: {p:.1%}" for c, p in zip(classes, confidence)] + \
                [f"{names[c]}: {p:.1%}" for c, p in zip(classes, confidence_free)]
            results.save_figure(os.path.join(args.out_dir, "classes.png"), figures.image_grid(
                np.concatenate([with_prior, without_prior]), titles,
                "What the model thinks each class looks like (class: softmax confidence)\n"
                f"top: {'Fourier basis, random moves' if param == 'fourier' else 'with jitter and blur'}   bottom: no prior",
                len(classes)))
            arrays.update(classes=classes, classes_images=squeezed(with_prior), classes_confidence=confidence,
                          classes_unregularised_images=squeezed(without_prior), classes_unregularised_confidence=confidence_free)
            print(f"classes: {len(classes)} x 2 x {args.steps} steps in {time.perf_counter() - start:.1f} s, "
                  f"confidence min {confidence.min():.4f} with prior, {confidence_free.min():.4f} without")

        results.save_npz(os.path.join(args.out_dir, "patterns.npz"), arrays)
        print(f"pictures written to {args.out_dir}/")
    return arrays


def check_classes(view, asked: list[int] | None) -> list[int]:
    """The classes to draw: those asked for, else all of a small softmax classifier, else none (with a line saying why)."""
    count = view.classes()
    if asked:
        if count is None:
            view.logits()  # raises, saying why this model has no class scores
        bad = [c for c in asked if not 0 <= c < count]
        if bad:
            raise cli.InputError(f"class {bad[0]} is out of range: {view.label} has classes 0..{count - 1}")
        return asked
    if count is None:
        print("class pictures: skipped (the model does not end in softmax)")
        return []
    if count > MAX_CLASSES:
        print(f"class pictures: skipped ({count} classes; --classes picks some)")
        return []
    return list(range(count))


def gif_every(steps: int) -> int:
    """Steps between the animation's frames: about 30 frames whatever the steps, so a GIF stays a few MiB."""
    return max(1, steps // 30)


def squeezed(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 1) as (N, H, W), as patterns.npz has always held grey pictures; colour stays (N, H, W, 3)."""
    return images[..., 0] if images.shape[-1] == 1 else images


if __name__ == "__main__":
    main(sys.argv[1:])
