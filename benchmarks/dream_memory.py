"""Benchmark: deep_dream.py's tiled ascent against keras-io's whole-image deep-dream loop, seconds and peak memory.

Both dream the same random photo with keras.applications MobileNetV2 (weights=None: the
architecture, no download), the same layers, steps, step size and octaves. Each run is its own
process, so its peak memory (ru_maxrss) is its own; each is capped at --cap GiB of address space,
so a loop that outgrows it stops with an error instead of taking the machine down.

    python benchmarks/dream_memory.py --sizes 1000x750,4000x3000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

LAYERS = {"block_5_add": 1.0, "block_9_add": 1.5, "block_12_add": 2.0}


def photo(width: int, height: int):
    import numpy as np

    return np.random.default_rng(0).random((1, height, width, 3)).astype("float32")


def ours(image, steps: int, octaves: int, step_size: float, tile: int) -> None:
    """deep_dream.py's path: a View of the network by name, tiled ascent over octaves."""
    from cnn_note.core import loading, networks
    from cnn_note.optvis import ascent, dream

    networks.WEIGHTS = None
    view = loading.load("mobilenet_v2", "")
    dream.ascend_octaves(view, image, LAYERS, octaves, 1.4, ascent.AscentSettings(steps, step_size, 0, 0.0), tile, log=lambda line: None)


def keras_io(image, steps: int, octaves: int, step_size: float, tile: int) -> None:
    """keras-io's examples/generative/deep_dream.py loop: one tf.function step on the whole image, octave by octave."""
    from cnn_note.backend import keras, tf

    model = keras.applications.MobileNetV2(weights=None, include_top=False)
    extractor = keras.Model(model.inputs, {name: model.get_layer(name).output for name in LAYERS})

    @tf.function
    def gradient_ascent_step(img, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(img)
            features = extractor(keras.applications.mobilenet_v2.preprocess_input(img * 255.0))
            loss = tf.add_n([weight * tf.reduce_mean(tf.square(features[name])) for name, weight in LAYERS.items()])
        grads = tape.gradient(loss, img)
        grads /= tf.maximum(tf.reduce_mean(tf.abs(grads)), 1e-6)
        return loss, img + learning_rate * grads

    original = tf.constant(image)
    shapes = [tuple(int(side / 1.4**i) for side in image.shape[1:3]) for i in range(octaves)][::-1]
    shrunk = tf.image.resize(original, shapes[0])
    img = tf.identity(original)
    for shape in shapes:
        img = tf.image.resize(img, shape)
        for _ in range(steps):
            loss, img = gradient_ascent_step(img, step_size)
        img += tf.image.resize(original, shape) - tf.image.resize(shrunk, shape)
        shrunk = tf.image.resize(original, shape)


def child(side: str, size: str, steps: int, octaves: int, step_size: float, tile: int, cap_gib: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (int(cap_gib * 2**30), int(cap_gib * 2**30)))
    width, height = (int(part) for part in size.split("x"))
    image = photo(width, height)
    start = time.perf_counter()
    error = None
    try:
        (ours if side == "ours" else keras_io)(image, steps, octaves, step_size, tile)
    except Exception as failure:  # out of memory under the cap, most likely
        error = f"{type(failure).__name__}"
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "error": error}))


def main() -> None:
    from cnn_note.cli import arguments

    parser = arguments.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000x750,4000x3000", help="photo sizes, WIDTHxHEIGHT, comma-separated")
    parser.add_argument("--steps", type=arguments.positive_int, default=5, help="ascent steps per octave")
    parser.add_argument("--octaves", type=arguments.positive_int, default=3, help="octaves, scale 1.4")
    parser.add_argument("--step-size", type=arguments.positive_float, default=0.01, help="step size, both sides")
    parser.add_argument("--tile", type=arguments.positive_int, default=1024, help="deep_dream.py's --tile")
    parser.add_argument("--loops", default="ours,keras-io", help="which loops to run, comma-separated")
    parser.add_argument("--cap", type=arguments.positive_float, default=16.0, help="address-space cap per run, GiB")
    parser.add_argument("--child", nargs=2, metavar=("SIDE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.steps, args.octaves, args.step_size, args.tile, args.cap)
        return
    print(f"MobileNetV2 (weights=None), layers {', '.join(LAYERS)}, {args.octaves} octaves x {args.steps} steps\n")
    print("| photo | loop | seconds | peak MiB |\n| --- | --- | ---: | ---: |")
    for size in args.sizes.split(","):
        for side in args.loops.split(","):
            done = subprocess.run([sys.executable, __file__, "--child", side, size, "--steps", str(args.steps), "--octaves",
                                   str(args.octaves), "--step-size", str(args.step_size), "--tile", str(args.tile),
                                   "--cap", str(args.cap)],
                                  cwd=ROOT, capture_output=True, text=True)
            lines = done.stdout.strip().splitlines()
            result = json.loads(lines[-1]) if lines else {"seconds": float("nan"), "peak_mib": float("nan"),
                                                          "error": f"exit {done.returncode}"}
            note = f" ({result['error']} under the {args.cap:g} GiB cap)" if result["error"] else ""
            print(f"| {size} | {f'deep_dream.py, {args.tile}-pixel tiles' if side == 'ours' else 'keras-io, whole image'} "
                  f"| {result['seconds']:.1f}{note} | {result['peak_mib']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
