"""Deep dream: amplify what a trained CNN's layers already see in a picture, as in the note.

By default the note's CNN from train_cnn.py on MNIST test digits (dreamed as one batch);
--model takes any Keras image model file or a keras.applications network by name (the note's
own picture was made with an ImageNet network on a photo), --image any picture at any size.
For each input, writes to results/dream/: <name>.png (original | dreamed | difference,
labelled), <name>_dream.png (the dreamed image alone, at its own resolution) and, with --gif,
<name>.gif (the picture through each octave's steps).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from cnn_note import settings
from cnn_note.cli import arguments
from cnn_note.errors import Command
from cnn_note.settings import DreamSettings

PROG = Command("deep_dream").prog


def parse_args(argv: list[str] | None):
    parser = arguments.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    arguments.add_model_arguments(parser)
    parser.add_argument("--index", type=arguments.int_list, default=[0, 1, 2, 3, 4], help="MNIST test digits to dream, such as 7 or 0-4")
    parser.add_argument("--image", default=None,
                        help="dream this picture file (any size; colour for a colour model; default: MNIST test digits)")
    parser.add_argument("--invert", action="store_true", help="invert the picture first (MNIST digits are light on dark)")
    parser.add_argument("--layers", default=None,
                        help="layers and weights such as conv1=1,conv2=2 (default: every conv layer, the n-th weighted n, "
                             "when there are at most 4; else three at a third, half and two thirds of the depth)")
    arguments.add_settings(parser, DreamSettings)
    parser.add_argument("--gif", action="store_true", help="also write <name>.gif: the picture through each octave's steps")
    arguments.add_data_argument(parser)
    parser.add_argument("--out-dir", default=os.path.join("results", "dream"), help="where the pictures go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, np.ndarray]:
    """Dream the chosen inputs and save the pictures; returns {name: dreamed image}."""
    args = parse_args(argv)
    with arguments.reported_errors(PROG):
        settings.check_octave_scale(args.octave_scale)  # before TensorFlow loads: a bad flag costs no wait
        from cnn_note.io import writing

        if not args.list_layers:
            writing.ensure_writable(args.out_dir, "out_dir")
        from cnn_note import api
        from cnn_note.io import imaging
        from cnn_note.note import data
        from cnn_note.plots import figures

        picture = imaging.open_image(args.image) if args.image else None  # a bad picture fails before a network is built
        view = api.view_of(args.model, args.input_range, args.preprocess, grid=args.grid, picture=args.picture, held=args.inputs,
                           log=print)
        if args.list_layers:
            print(arguments.layer_table(view))
            return {}
        weights = api.dream_layers(view, args.layers)
        if picture is not None:
            images, labels = imaging.pixels_of(picture, view.channels)[0][None], None
            names = [os.path.splitext(os.path.basename(args.image))[0]]
        else:
            images, labels = data.test_digits(args.index, args.data, view.channels)
            names = [f"digit_{i}" for i in args.index]
        how = {key: getattr(args, key) for key in DreamSettings.__dataclass_fields__}
        found = api.deep_dream(view, images, weights, invert=args.invert and picture is not None, frames=args.gif,
                               progress=sys.stdout.isatty(), log=print, **how)

        if labels is not None and view.classes():
            before, after = view.probabilities(found.original), view.probabilities(found.image)
            for name, label, p, q in zip(names, labels, before, after):
                print(f"{name} (label {label}): predicted {p.argmax()} at {p.max():.1%} > {q.argmax()} at {q.max():.1%}")
        for name, original, result in zip(names, found.original, found.image):
            writing.save_figure(os.path.join(args.out_dir, f"{name}.png"), figures.dream_figure(original, result, name))
            writing.save_image(os.path.join(args.out_dir, f"{name}_dream.png"), result)
        for index, name in enumerate(names if args.gif else []):
            # A digit's 28 pixels are enlarged (nearest) to about 256; a photo's frames are already up to 512.
            writing.save_gif(os.path.join(args.out_dir, f"{name}.gif"),
                             [figures.mosaic(frame[index:index + 1], columns=1, tile=256) for frame in found.frames])
        print(f"pictures written to {args.out_dir}/")
    return dict(zip(names, found.image))


if __name__ == "__main__":
    main(sys.argv[1:])
