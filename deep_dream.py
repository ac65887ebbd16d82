"""Deep dream with the trained CNN: amplify what its conv layers already see, as in the note.

For each input, writes to results/dream/: <name>.png (original | dreamed | difference, labelled)
and <name>_dream.png (the dreamed image alone, at its own resolution). Inputs are MNIST test
digits by index (dreamed as one batch) or any picture file (--image), made grey.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from cnn_note import cli

PROG = "deep_dream.py"
MODEL = os.path.join("results", "cnn", "model.keras")


def parse_args(argv: list[str] | None):
    parser = cli.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=MODEL, help="trained CNN from train_cnn.py")
    parser.add_argument("--index", type=cli.int_list, default=[0, 1, 2, 3, 4], help="MNIST test digits to dream, such as 7 or 0,1,2")
    parser.add_argument("--image", default=None, help="dream this picture file instead of MNIST digits (any size; made grey)")
    parser.add_argument("--invert", action="store_true", help="invert the picture first (MNIST digits are light on dark)")
    parser.add_argument("--layers", default=None, help="layers and weights such as conv1=1,conv2=2 (default: every conv layer, the n-th weighted n)")
    parser.add_argument("--octaves", type=cli.positive_int, default=3, help="scales to dream at, smallest first")
    parser.add_argument("--octave-scale", type=cli.positive_float, default=1.4, help="size ratio between octaves (at least 1)")
    cli.add_ascent_arguments(parser, steps=20, step_size=0.005, jitter=0, blur=0.0, per="per octave")
    parser.add_argument("--max-loss", type=cli.positive_float, default=None, help="end an octave once every image's loss passes this (default: never)")
    cli.add_data_argument(parser)
    parser.add_argument("--out-dir", default=os.path.join("results", "dream"), help="where the pictures go")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, np.ndarray]:
    """Dream the chosen inputs and save the pictures; returns {name: dreamed image}."""
    args = parse_args(argv)
    with cli.reported_errors(PROG):
        if args.octave_scale < 1:
            raise cli.InputError(f"--octave-scale {args.octave_scale} must be at least 1 (each octave is that much larger)")
        from cnn_note import results

        results.ensure_writable(args.out_dir)
        from cnn_note import ascent, data, dream, figures, models

        if args.image:  # read before the model, so a bad picture fails fast
            image, note = dream.load_image(args.image)
            if note:
                print(note)
        model = models.load_trained(args.model, "python train_cnn.py")
        weights = dream.parse_layers(args.layers, model)
        if args.image:
            names = [os.path.splitext(os.path.basename(args.image))[0]]
            images, labels = (1.0 - image if args.invert else image)[None], None
        else:
            _, test = data.load("mnist", data.data_path(args.data))
            bad = [i for i in args.index if not 0 <= i < len(test.x)]
            if bad:
                raise cli.InputError(f"--index {bad[0]} is out of range: the test set has images 0..{len(test.x) - 1}")
            names = [f"digit_{i}" for i in args.index]
            images, labels = data.to_inputs(test.x[args.index], flat=False), test.y[args.index]
        dream.check_size(images.shape[1], images.shape[2], args.octaves, args.octave_scale,
                         models.conv_features(model, list(weights)))

        settings = ascent.Settings(args.steps, args.step_size, args.jitter, args.blur, args.seed)
        print(f"dreaming {len(images)} image(s) of {images.shape[1]}x{images.shape[2]} on "
              + ", ".join(f"{name}={weight:g}" for name, weight in weights.items()))
        dreamed = dream.dream(model, images, weights, args.octaves, args.octave_scale, settings, args.max_loss)

        if labels is not None:
            before, after = model.predict(images, verbose=0), model.predict(dreamed, verbose=0)
            for name, label, p, q in zip(names, labels, before, after):
                print(f"{name} (label {label}): predicted {p.argmax()} at {p.max():.1%} > {q.argmax()} at {q.max():.1%}")
        for name, original, result in zip(names, images, dreamed):
            results.save_figure(os.path.join(args.out_dir, f"{name}.png"), figures.dream(original[..., 0], result[..., 0], name))
            results.save_image(os.path.join(args.out_dir, f"{name}_dream.png"), result)
        print(f"pictures written to {args.out_dir}/")
    return dict(zip(names, dreamed))


if __name__ == "__main__":
    main(sys.argv[1:])
