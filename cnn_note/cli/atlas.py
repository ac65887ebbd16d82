"""An atlas of a whole network: a browsable static web site with a page for every unit of every conv layer.

Each unit's page shows the picture that maximises its mean activation and the one that minimises
it (Lucid's "negative"), the inputs that excite it most and least cut to its receptive field
(hover for the whole input, the field boxed), a histogram of its strongest response over every
input, and its strongest connections: incoming and outgoing weights, and the classes it pushes up
and down. By default the note's CNN from train_cnn.py and the MNIST test digits; --model takes any
Keras image model file or a keras.applications network by name. Writes index.html, a page per
layer and per unit, classes.html, and patterns.npz, examples.npz and connections.npz beside them,
and live.html, where the model (and the note's DNN beside it) answers what the reader draws.
The same command again computes only the units missing; --ray spreads the pictures over Ray.
"""

from __future__ import annotations

import os
import sys

from cnn_note.cli import arguments
from cnn_note.errors import Command
from cnn_note.settings import BESIDE, CLASS_INPUTS, CONNECTIONS, EXAMPLES, MODEL, PictureSettings

PROG = Command("atlas").prog


def parse_args(argv: list[str] | None):
    parser = arguments.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    arguments.add_model_arguments(parser)
    arguments.add_head_arguments(parser)
    parser.add_argument("--class-names", type=arguments.class_names, default=None, metavar="NAMES",
                        help="class names: comma-separated, or a text file with one name a line (default: class numbers, "
                             "or ImageNet's for networks by name when Keras has them cached)")
    parser.add_argument("--layers", default=None,
                        help="layers to map, comma-separated (default: every conv layer --list-layers shows)")
    parser.add_argument("--examples", type=arguments.nonnegative_int, default=EXAMPLES,
                        help="inputs shown per unit that excite it most, and as many least (0: none, and no histogram)")
    parser.add_argument("--examples-from", default=None, metavar="PATH",
                        help="rank these inputs: a folder of pictures or an .npz of images (default: the MNIST test set "
                             "for a 1-channel model; none for a colour one)")
    arguments.add_data_argument(parser)
    arguments.add_settings(parser, PictureSettings, ["param", "size", *arguments.ASCENT])
    parser.add_argument("--class-inputs", type=arguments.nonnegative_int, default=CLASS_INPUTS,
                        help="inputs each unit's contribution to each class is averaged over")
    parser.add_argument("--connections", type=arguments.nonnegative_int, default=CONNECTIONS,
                        help="strongest incoming and outgoing connections listed per unit")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="make the pictures and the dataset scan as Ray tasks: alone, on a Ray runtime started on this machine; "
                             "with an address (auto, host:6379, ray://host:10001), on that cluster (default: off, one process)")
    parser.add_argument("--beside", default=None, metavar="PATH",
                        help=f"a model answering beside it on the live page (default: {BESIDE} when --model is the note's "
                             f"CNN, {MODEL}, and the file is there)")
    parser.add_argument("--no-live", action="store_true", help="no live page (live.html: the model runs in the browser on what "
                                                                "the reader draws)")
    parser.add_argument("--out", default=None, metavar="DIR", help="where the atlas goes (default: results/atlas/<model name>/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> str | None:
    """Make (or finish) the atlas; returns the folder it is in."""
    args = parse_args(argv)
    with arguments.reported_errors(PROG):
        from cnn_note import api
        from cnn_note import network_atlas as atlas

        if args.list_layers:
            print(arguments.layer_table(api.view_of(args.model, args.input_range, args.preprocess, args.head, args.output,
                                                        grid=args.grid, picture=args.picture, held=args.inputs)))
            return None
        how = {key: getattr(args, key) for key in PictureSettings.__dataclass_fields__}
        plan = atlas.plan(args.model, args.out, args.layers.split(",") if args.layers else None,
                          input_range=args.input_range, preprocess=args.preprocess, head=args.head, output=args.output,
                          grid=args.grid, picture=args.picture, held=args.inputs, class_names=args.class_names, examples=args.examples,
                          examples_from=args.examples_from,
                          data=args.data, class_inputs=args.class_inputs, connections=args.connections, **how)
        beside = args.beside or (BESIDE if args.model == MODEL and os.path.exists(BESIDE) else None)
        beside = atlas.beside_view(beside, plan) if not args.no_live else None  # refused now, not after the units
        try:
            return atlas.make(args.model, plan, args.ray, (args.input_range, args.preprocess, args.grid, args.picture, args.inputs),
                              progress=not args.quiet and sys.stdout.isatty(), live=not args.no_live, beside=beside)
        except KeyboardInterrupt:  # the units written are whole and kept: say so, not reported_errors' "nothing new"
            print(f"{PROG}: interrupted: the units done are kept in {plan.out}; the same command computes the rest",
                  file=sys.stderr)
            raise SystemExit(2) from None


if __name__ == "__main__":
    main(sys.argv[1:])
