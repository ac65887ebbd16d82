"""What does each filter of a trained CNN look for? Gradient ascent on the input, as in the note.

By default the note's CNN from train_cnn.py; --model takes any Keras image model file or a
keras.applications network by name. Writes to results/filters/: <layer>.png (one tile per
filter, filter index and final mean activation under each, filters in index order, row by row),
feature_maps.png (a picture and the chosen layers' outputs), classes.png (an image per class,
with and without the prior), patterns.npz (the raw arrays), <layer>_examples.png and
examples.npz (each filter's picture beside the inputs that excite it most and least, the MNIST
test digits by default, each cut to what its unit sees) and, with --gif, <layer>.gif (the ascent
as an animation). Colour models ascend Fourier-basis pictures under random moves, as in
Distill's "Feature Visualization"; a layer that ends in a ReLU is ascended before it.
"""

from __future__ import annotations

import functools
import os
import sys
import time

import numpy as np

from cnn_note.cli import arguments
from cnn_note.errors import Command
from cnn_note.settings import EXAMPLES, MAX_CLASSES, MAX_FILTERS, PictureSettings

PROG = Command("visualize_filters").prog


def parse_args(argv: list[str] | None):
    parser = arguments.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    arguments.add_model_arguments(parser)
    arguments.add_head_arguments(parser)
    parser.add_argument("--layer", default=None,
                        help="layer(s) to show, comma-separated (default: every conv layer when there are at most 4, else three)")
    parser.add_argument("--filters", type=arguments.int_list, default=None,
                        help=f"filter indices such as 0,3,7 or 0-15 (default: all, at most the first {MAX_FILTERS})")
    arguments.add_settings(parser, PictureSettings, ["param", *arguments.ASCENT, "size"])
    parser.add_argument("--classes", type=arguments.int_list, default=None,
                        help=f"classes to draw, such as 0-9 (default: all when the model has at most {MAX_CLASSES})")
    parser.add_argument("--class-names", type=arguments.class_names, default=None, metavar="NAMES",
                        help="names for the class pictures: comma-separated, or a text file with one name a line "
                             "(default: ImageNet's for networks by name when Keras has them cached, else class numbers)")
    parser.add_argument("--examples", type=arguments.nonnegative_int, default=EXAMPLES,
                        help="for every filter, show this many inputs that excite it most and this many least, beside its "
                             "picture, in <layer>_examples.png (0: none)")
    parser.add_argument("--examples-from", default=None, metavar="PATH",
                        help="rank these inputs: a folder of pictures (any size, any format Pillow reads) or an .npz of "
                             "images (default: the MNIST test set for a 1-channel model; none for a colour one)")
    parser.add_argument("--examples-whole", action="store_true",
                        help="show whole inputs with the unit's receptive field boxed, not the field's crop")
    parser.add_argument("--gif", action="store_true", help="also write <layer>.gif: the filter grid as the ascent goes, every few steps")
    parser.add_argument("--image", default=None, help="picture for feature_maps.png (default: MNIST test digit --index)")
    parser.add_argument("--index", type=arguments.nonnegative_int, default=0, help="MNIST test digit for feature_maps.png")
    arguments.add_data_argument(parser)
    parser.add_argument("--out-dir", default=os.path.join("results", "filters"), help="where the pictures go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Draw filter pictures, a picture's feature maps and class pictures; returns the arrays of patterns.npz."""
    args = parse_args(argv)
    with arguments.reported_errors(PROG):
        from cnn_note.io import writing

        if not args.list_layers:
            writing.ensure_writable(args.out_dir, "out_dir")
        from cnn_note import api, dataset_examples
        from cnn_note.core import inputs
        from cnn_note.network_atlas.units import UnitPictures, patterns_arrays
        from cnn_note.optvis import render

        view = api.view_of(args.model, args.input_range, args.preprocess, args.head, args.output, grid=args.grid, picture=args.picture,
                           held=args.inputs, log=print)
        if args.list_layers:
            print(arguments.layer_table(view))
            return {}
        # Everything is checked before the first ascent: a bad flag never costs a long wait.
        layers = args.layer.split(",") if args.layer else view.default_layers()
        chosen = render.planned(view, layers, args.filters, args.size, MAX_FILTERS)
        classes = check_classes(view, args.classes, args.head != "auto" or args.output is not None)
        picture, name = feature_map_picture(view, args)
        names = inputs.class_names(view, args.class_names)
        mnist = functools.partial(api.looking.mnist_digits, data=args.data)
        source = dataset_examples.example_source(view, args.examples_from, args.examples, default=mnist) if args.examples else None
        how = {key: getattr(args, key) for key in PictureSettings.__dataclass_fields__}

        arrays, drawn = {}, {layer: filter_pictures(view, layer, filters, args, how) for layer, filters in chosen.items()}
        for layer, found in drawn.items():  # patterns.npz as the atlas writes it (its own keys: network_atlas.units)
            arrays.update(patterns_arrays(layer, found.filters, UnitPictures(found.images, found.activations)))
        if source is not None:
            dataset_examples_for(view, chosen, drawn, source, args)
        feature_maps(view, picture, name, chosen, args)
        if classes:
            arrays.update(class_pictures(view, classes, names, args, how))
        writing.save_npz(os.path.join(args.out_dir, "patterns.npz"), arrays)
        print(f"pictures written to {args.out_dir}/")
    return arrays


def feature_map_picture(view, args) -> tuple[np.ndarray, str]:
    """The picture for feature_maps.png, and what it is called: --image, else MNIST test digit --index."""
    from cnn_note.io import imaging
    from cnn_note.note import data

    if args.image:
        return imaging.load_image(args.image, view.channels)[0], os.path.basename(args.image)
    digits, labels = data.test_digits([args.index], args.data, view.channels)
    return digits[0], f"test digit #{args.index} (label {labels[0]})"


def filter_pictures(view, layer: str, filters: list[int], args, how: dict):
    """One layer's filter pictures: <layer>.png (and .gif), and the line saying how they went."""
    from cnn_note import api
    from cnn_note.io import writing
    from cnn_note.plots import figures, plotting

    start = time.perf_counter()
    found = api.filter_pictures(view, layer, filters, frames=args.gif, examples=0, **how)
    writing.save_figure(os.path.join(args.out_dir, f"{layer}.png"), plotting.plot(found))
    if args.gif:
        writing.save_gif(os.path.join(args.out_dir, f"{layer}.gif"),
                         [figures.mosaic(frame, figures.grid_columns(len(filters))) for frame in found.frames])
    capped = args.filters is None and len(filters) < view.filters(layer)
    more = f" (the first {len(filters)} of {view.filters(layer)}; --filters picks others)" if capped else ""
    print(f"{layer}: {len(filters)} filters x {args.steps} steps in {time.perf_counter() - start:.1f} s, "
          f"mean activation {found.activations.mean():.3f} (min {found.activations.min():.3f}, "
          f"max {found.activations.max():.3f}){more}")
    return found


def dataset_examples_for(view, chosen: dict, drawn: dict, source, args) -> None:
    """Every layer's dataset examples, in one pass over the inputs: <layer>_examples.png and examples.npz."""
    from cnn_note import dataset_examples
    from cnn_note.io import writing
    from cnn_note.plots import figures

    ranked = dataset_examples.ranked(view, chosen, args.examples, source, args.examples_whole,
                                     progress=sys.stdout.isatty(), log=print)
    drawn = {layer: dataset_examples.with_examples(view, found, ranked[layer]) for layer, found in drawn.items()}
    for layer, found in drawn.items():
        writing.save_image(os.path.join(args.out_dir, f"{layer}_examples.png"), figures.examples_sheet(
            layer, found.filters, found.images, found.optimised, found.examples))
        print(f"{layer}: optimised pictures against the best input, median over {len(found.filters)} filters: "
              + compare("mean activation", found.optimised_score, found.examples.best_mean) + "; "
              + compare("strongest unit", found.optimised, found.examples.top_activations[:, 0]))
    writing.save_npz(os.path.join(args.out_dir, "examples.npz"), dataset_examples.examples_arrays(drawn, source))


def feature_maps(view, picture: np.ndarray, name: str, chosen: dict, args) -> None:
    """feature_maps.png: the picture and the first 50 maps of each layer; skipped, with a line, when it is too small."""
    from cnn_note import api
    from cnn_note.io import writing
    from cnn_note.plots import figures

    need = 1 if view.only_size(list(chosen)) else view.smallest_side(list(chosen))  # one size: the picture is resized to it
    if min(picture.shape[:2]) < need:
        print(f"feature maps: skipped, {name} is smaller than the {need} pixels {', '.join(chosen)} need (give --image)")
        return
    maps = api.feature_maps(view, picture, list(chosen))
    maps = {layer: layer_maps[..., chosen[layer][:50]] for layer, layer_maps in maps.items()}
    writing.save_figure(os.path.join(args.out_dir, "feature_maps.png"), figures.feature_maps(picture, maps, name))


def class_pictures(view, classes: list[int], names: list[str], args, how: dict) -> dict:
    """classes.png: each class's picture with the prior (top) and without (bottom); returns their arrays."""
    from cnn_note import api
    from cnn_note.io import writing
    from cnn_note.optvis import parameterisation
    from cnn_note.plots import figures

    start = time.perf_counter()
    prior = api.class_pictures(view, classes, class_names=names, **how)
    free = api.class_pictures(view, classes, prior=False, class_names=names, **how)
    param = parameterisation.choose(view.channels, PictureSettings(**how))
    writing.save_figure(os.path.join(args.out_dir, "classes.png"), figures.image_grid(
        np.concatenate([prior.images, free.images]), prior.labels + free.labels,
        f"{prior.title}\ntop: {param.prior}   "
        "bottom: no prior", len(classes)))
    print(f"classes: {len(classes)} x 2 x {args.steps} steps in {time.perf_counter() - start:.1f} s, "
          f"confidence min {prior.probabilities.min():.4f} with prior, {free.probabilities.min():.4f} without")
    return dict(classes=classes, classes_images=writing.squeezed(prior.images), classes_confidence=prior.probabilities,
                classes_unregularised_images=writing.squeezed(free.images), classes_unregularised_confidence=free.probabilities)


def check_classes(view, asked: list[int] | None, head_given: bool) -> list[int]:
    """The classes to draw: those asked for, else all of a small classifier, else none (with a line saying why).

    Where classes, --head or --output were asked for, a head that cannot be settled is refused; else it is a skip.
    """
    try:
        head = view.head
    except arguments.InputError as error:
        if asked or head_given:
            raise
        print(f"class pictures: skipped ({error.on_command_line()})")
        return []
    if head.describe(view.label):
        print(head.describe(view.label))
    count = head.classes
    if asked:
        bad = [c for c in asked if not 0 <= c < count]
        if bad:
            raise arguments.InputError(f"class {bad[0]} is out of range: {view.label} has classes 0..{count - 1}")
        return asked
    if head.kind == "regression":
        print("class pictures: skipped (a regression head has no classes; --classes 0 ascends the value)")
        return []
    if count > MAX_CLASSES:
        print(f"class pictures: skipped ({count} classes; --classes picks some)")
        return []
    return list(range(count))


def compare(what: str, optimised: np.ndarray, best: np.ndarray) -> str:
    """How the optimised pictures' responses stand against the best input's, filter by filter."""
    return (f"{what} {np.median(optimised):.2f} against {np.median(best):.2f} "
            f"(higher for {int((optimised > best).sum())} of {len(best)})")


if __name__ == "__main__":
    main(sys.argv[1:])
