"""Benchmark: the whole atlas.py command in one process against the same with --ray on this machine.

Each run starts from an empty --out, so every unit is computed; the two atlases are then compared
array by array (they must be identical). By default the note's CNN (results/cnn/model.keras, or an
untrained one of its shape when there is none: the cost does not depend on the weights), both conv
layers, 75 units, both pictures each at the default settings, the 10,000 MNIST test digits scanned.
--network builds a keras.applications network without downloaded weights (weights=None) instead.

    python benchmarks/atlas_speed.py
    python benchmarks/atlas_speed.py --network mobilenet_v2 --layers block_1_expand --size 64 --steps 50 --examples 0
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from cnn_note.cli import arguments  # noqa: E402


def model_file(args, folder: str) -> tuple[str, str]:
    """The model to map, as a file, and what it is."""
    from cnn_note.backend import keras

    if args.network:
        path = os.path.join(folder, f"{args.network}.keras")
        module = {"mobilenet_v2": "MobileNetV2", "resnet50": "ResNet50", "vgg16": "VGG16", "inception_v3": "InceptionV3"}
        getattr(keras.applications, module[args.network])(weights=None).save(path)
        return path, f"{args.network} (weights=None)"
    if os.path.exists(args.model):
        return args.model, args.model
    from cnn_note.note import models

    keras.utils.set_random_seed(0)
    path = os.path.join(folder, "cnn.keras")
    models.build_cnn().save(path)
    return path, "the note's CNN, untrained (no results/cnn/model.keras here)"


def timed(argv: list[str]) -> float:
    """Seconds the whole command takes, start to exit."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, os.path.join(ROOT, "atlas.py"), *argv], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"atlas.py failed:\n{done.stderr}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = arguments.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join("results", "cnn", "model.keras"), help="the model file to map")
    parser.add_argument("--network", default=None, help="a keras.applications network, built with weights=None (default: none)")
    parser.add_argument("--layers", default=None, help="layers to map (default: atlas.py's, every conv layer)")
    parser.add_argument("--size", default=None, help="canvas side (default: atlas.py's)")
    parser.add_argument("--steps", default=None, help="ascent steps per picture (default: atlas.py's)")
    parser.add_argument("--examples", default=None, help="examples per unit (default: atlas.py's)")
    args = parser.parse_args(argv)
    from cnn_note.io.machine import machine

    with tempfile.TemporaryDirectory() as folder:
        model, what = model_file(args, folder)
        common = ["--model", model, "--quiet"] + [item for flag, value in (("--layers", args.layers), ("--size", args.size),
                                                                          ("--steps", args.steps), ("--examples", args.examples))
                                                  if value is not None for item in (flag, value)]
        one = timed([*common, "--out", os.path.join(folder, "one")])
        spread = timed([*common, "--out", os.path.join(folder, "ray"), "--ray"])
        with np.load(os.path.join(folder, "one", "patterns.npz")) as a, np.load(os.path.join(folder, "ray", "patterns.npz")) as b:
            same = all(np.array_equal(a[key], b[key]) for key in a.files)
            units = sum(len(a[key]) for key in a.files if key.endswith("_filters"))
    print(f"{what}: {units} units, on {machine()['processor']} ({os.cpu_count()} cores)")
    print(f"one process: {one:.1f} s ({60 * units / one:.1f} units a minute, {one / units:.2f} s a unit)")
    print(f"--ray:       {spread:.1f} s ({60 * units / spread:.1f} units a minute)")
    print(f"ratio --ray / one process: {spread / one:.2f}; identical pictures: {same}")


if __name__ == "__main__":
    main(sys.argv[1:])
