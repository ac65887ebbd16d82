"""Why did the CNN decide this? Attribution maps: saliency, SmoothGrad, Integrated Gradients, Grad-CAM, occlusion, LIME.

By default the note's CNN from train_cnn.py on MNIST test digits 0-7; the DNN's file works too
(its 784 inputs are seen as the 28x28 digit), and so does any Keras image classifier file or
keras.applications network (--model). For each image, writes to results/explain/: <name>.png
(the image, then one map per method over it) and, for all of them, attributions.npz (the
images, the classes explained, their probabilities, the Grad-CAM layer and one (N, H, W) map
per method).
"""

from __future__ import annotations

import dataclasses
import os
import sys

import numpy as np

from cnn_note import attribution
from cnn_note.cli import arguments
from cnn_note.errors import Command

PROG = Command("explain").prog
MAX_FIGURES = 16


def parse_args(argv: list[str] | None):
    parser = arguments.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    arguments.add_model_arguments(parser)
    arguments.add_head_arguments(parser)
    parser.add_argument("--index", type=arguments.int_list, default=list(range(8)), metavar="LIST",
                        help="MNIST test digits to explain, such as 0,17,26 or 0-99 (default: 0-7)")
    parser.add_argument("--image", nargs="+", default=None, metavar="FILE",
                        help="explain these pictures instead (default: MNIST test digits)")
    parser.add_argument("--shift", type=arguments.int_pair, default=None, metavar="DY,DX",
                        help=f"move the MNIST digits DY pixels down and DX right first, as {Command('why_cnn').prog} does (default: none)")
    parser.add_argument("--class", dest="target", default=None, metavar="CLASS",
                        help="class to explain: a number, or 'label' for each MNIST digit's own label "
                             "(default: each image's predicted class)")
    parser.add_argument("--class-names", type=arguments.class_names, default=None, metavar="NAMES",
                        help="names for the titles: comma-separated, or a text file with one name a line "
                             "(default: ImageNet's for networks by name when Keras has them cached, else class numbers)")
    add_method_arguments(parser)
    parser.add_argument("--max-figures", type=arguments.nonnegative_int, default=MAX_FIGURES,
                        help="draw the first this many images' figures (every map is in attributions.npz)")
    arguments.add_data_argument(parser)
    parser.add_argument("--out-dir", default=os.path.join("results", "explain"), help="where the pictures and attributions.npz go")
    return parser.parse_args(argv)


def add_method_arguments(parser) -> None:
    """--methods, then a flag for each setting of each registered method (attribution.ExplainSettings), with its help."""
    needing = {need: [name for name, method in attribution.METHODS.items() if method.needs == need] for need in ("layer", "attention")}
    parser.add_argument("--methods", default=None, metavar="LIST",
                        help=f"comma-separated, of {', '.join(attribution.METHODS)} (default: every method that applies"
                             + "".join(f"; {name} needs a 4-D layer" for name in needing["layer"])
                             + (f"; {' and '.join(needing['attention'])} need attention layers" if needing["attention"] else "") + ")")
    # --layer beside --methods, as whether gradcam runs turns on it; the others in the registry's order.
    names = [item.name for item in dataclasses.fields(attribution.ExplainSettings)]
    arguments.add_settings(parser, attribution.ExplainSettings, sorted(names, key=lambda name: name != "layer"))


def main(argv: list[str] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Explain the chosen images' classes with each method, save the figures and the arrays; returns {npz file name: arrays}."""
    args = parse_args(argv)
    with arguments.reported_errors(PROG):
        from cnn_note.io import writing

        if not args.list_layers:
            writing.ensure_writable(args.out_dir, "out_dir")
        from cnn_note import api
        from cnn_note.attribution import choice
        from cnn_note.core import inputs
        from cnn_note.io import imaging
        from cnn_note.plots import figures

        pictures = [imaging.open_image(path) for path in args.image or []]  # a bad picture fails before a network is built
        view = api.view_of(args.model, args.input_range, args.preprocess, args.head, args.output, maps=False, grid=args.grid,
                           picture=args.picture, held=args.inputs)
        if args.list_layers:
            print(arguments.layer_table(view))
            return {}
        head = view.head  # raises, saying why, when the model has no class scores
        if head.describe(view.label):
            print(head.describe(view.label))
        names = inputs.class_names(view, args.class_names)
        methods = choice.methods_of(view, args.methods, attribution.gradcam_layer(view, args.layer))
        check_target(args.target, head.classes, bool(pictures))

        if pictures:
            images, labels, keys = photos(view, pictures, args.image, args.shift)
        else:
            images, labels, keys = digits(view, args)
        how = {item.name: getattr(args, item.name) for item in dataclasses.fields(attribution.ExplainSettings)}
        saved = {}
        for group in same_size(images):
            batch = np.stack([images[i] for i in group])
            print(f"explaining {len(group)} image(s) of {batch.shape[1]}x{batch.shape[2]} with {args.model}")
            wanted = None if args.target is None else target_classes(args.target, [labels[i] for i in group])
            found = api.explain(view, own_inputs(view, batch, args.inputs, group, len(images)), wanted,
                                methods, class_names=names, progress=sys.stdout.isatty(), log=print, **how)
            for row, i in enumerate(group):
                title = found.title(row, keys[i], labels[i])
                print(title)
                if i < args.max_figures:
                    writing.save_figure(os.path.join(args.out_dir, f"{keys[i]}.png"), figures.explanation(
                        batch[row], {method: values[row] for method, values in found.maps.items()}, attribution.SIGNED, title))
            npz = "attributions.npz" if len(group) == len(images) else f"attributions_{keys[group[0]]}.npz"
            saved[npz] = found.arrays()
            writing.save_npz(os.path.join(args.out_dir, npz), saved[npz])
        if 0 < args.max_figures < len(images):
            print(f"figures: the first {args.max_figures} of {len(images)} images (--max-figures draws more)")
        print(f"results written to {args.out_dir}/")
    return saved


def own_inputs(view, batch: np.ndarray, given: dict | None, group: list[int], count: int):
    """The pictures, with each one's own other inputs where --inputs gives a row per picture (else they stay held)."""
    held = view.held
    if held is None or not given or any(np.shape(given.get(name)) != (count, *shape) for name, shape in held.shapes.items()):
        return batch
    return {held.picture: batch} | {name: np.asarray(given[name])[group] for name in held.shapes}


def check_target(target: str | None, count: int, pictures: bool) -> None:
    """Fail in one line when --class is not a class of the model, or asks for labels that pictures do not have."""
    if target is None:
        return
    if target == "label":
        if pictures:
            raise arguments.InputError("--class label needs MNIST digits, which have labels: give a class number with --image")
        return
    if not target.isdigit() or int(target) >= count:
        raise arguments.InputError(f"--class {target} is out of range: the model has classes 0..{count - 1} (or give 'label')")


def digits(view, args) -> tuple[list[np.ndarray], list[int], list[str]]:
    """The MNIST test digits asked for, as the model's pixels, with their labels and names."""
    from cnn_note.note import data, distortions

    images, labels = data.test_digits(args.index, args.data, view.channels)
    if args.shift:
        images = distortions.shift(images, *args.shift)
    suffix = f"_shifted_{args.shift[0]}_{args.shift[1]}" if args.shift else ""
    return list(images), [int(y) for y in labels], [f"digit_{i}{suffix}" for i in args.index]


def photos(view, pictures: list, paths: list[str], shift) -> tuple[list[np.ndarray], list[None], list[str]]:
    """The pictures as the model's pixels; resized to the model's own size when it takes only one."""
    from cnn_note.core import inputs
    from cnn_note.io import imaging

    if shift:
        raise arguments.InputError("--shift moves MNIST digits: leave it out with --image")
    images = [inputs.model_size(view, imaging.pixels_of(picture, view.channels)[0][None], name=path)[0]
              for picture, path in zip(pictures, paths)]
    keys = [os.path.splitext(os.path.basename(path))[0] for path in paths]
    if len(set(keys)) < len(keys):
        raise arguments.InputError("two --image files share a name: their figures would overwrite each other; rename one")
    return images, [None] * len(images), keys


def same_size(images: list[np.ndarray]) -> list[list[int]]:
    """Indices of the images grouped by size, in order of first appearance: each group is explained as one batch."""
    groups: dict[tuple, list[int]] = {}
    for index, image in enumerate(images):
        groups.setdefault(image.shape, []).append(index)
    return list(groups.values())


def target_classes(target: str, labels: list) -> np.ndarray | int:
    """The class to explain for each image (check_target has vetted --class): a number, or 'label', each digit's own."""
    return np.array(labels) if target == "label" else int(target)


if __name__ == "__main__":
    main(sys.argv[1:])
