"""Benchmark: explain.py on each Keras backend (TensorFlow, JAX, PyTorch), side by side, on the same .keras weights.

Each run is a whole process (KERAS_BACKEND set, everything loaded anew), in turn, --repeats times; the median seconds
of each backend and its ratio to TensorFlow's are printed. Two models: the note's trained CNN (results/cnn/model.keras,
from train_cnn.py) on MNIST test digits, and a colour CNN (MobileNetV2's layers, random weights, 96x96) on random
pictures. The work: gradient, Integrated Gradients (64 steps) and Grad-CAM of each picture. A backend that is not
installed is left out with a line.

    python benchmarks/backend_speed.py --data ../shared/data/mnist.npz
    python benchmarks/backend_speed.py --count 20 --repeats 1 --data ../shared/data/mnist.npz   # a quick look
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKENDS = ("tensorflow", "jax", "torch")


def colour_model(folder: str, count: int) -> tuple[str, str]:
    """A MobileNetV2 of 96x96 pictures with random weights saved as .keras, and `count` random pictures as PNG files."""
    sys.path.insert(0, ROOT)
    import numpy as np
    from PIL import Image

    from cnn_note.backend import keras

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights=None, classes=10)
    path = os.path.join(folder, "mobilenet_v2.keras")
    model.save(path)
    pictures = []
    for index, picture in enumerate(np.random.default_rng(0).integers(0, 256, (count, 96, 96, 3), dtype=np.uint8)):
        pictures.append(os.path.join(folder, f"photo_{index}.png"))
        Image.fromarray(picture).save(pictures[-1])
    return path, ",".join(pictures)


def timed(backend: str, flags: list[str]) -> float:
    start = time.perf_counter()
    ran = subprocess.run([sys.executable, os.path.join(ROOT, "explain.py"), *flags], env={**os.environ, "KERAS_BACKEND": backend},
                         capture_output=True, text=True, cwd=ROOT)
    if ran.returncode:
        raise SystemExit(f"{backend}: explain.py failed: {ran.stderr.strip().splitlines()[-1]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: $MNIST_PATH)")
    parser.add_argument("--count", type=int, default=100, help="test digits explained (default: 100)")
    parser.add_argument("--photos", type=int, default=4, help="random colour pictures explained by MobileNetV2 (default: 4)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each backend; the median is shown (default: 3)")
    parser.add_argument("--only", choices=("digits", "colour"), default=None, help="one of the two jobs (default: both)")
    args = parser.parse_args()
    backends = [name for name in BACKENDS if importlib.util.find_spec(name)]
    for missing in sorted(set(BACKENDS) - set(backends)):
        print(f"{missing}: not installed, left out (pip install -r requirements-{missing}.txt)")
    methods = ["--methods", "gradient,integrated_gradients,gradcam", "--max-figures", "0"]
    with tempfile.TemporaryDirectory() as folder:
        model, photos = colour_model(folder, args.photos)
        jobs = {"the note's CNN, MNIST digits": ["--index", f"0-{args.count - 1}", *(["--data", args.data] if args.data else [])],
                "MobileNetV2 (random weights), 96x96 colour": ["--model", model, "--image", *photos.split(",")]}
        for title, flags in jobs.items():
            if args.only and args.only != ("digits" if "MNIST" in title else "colour"):
                continue
            seconds = {backend: [] for backend in backends}
            for _ in range(args.repeats):
                for backend in backends:  # in turn, so that a noisy minute falls on each
                    seconds[backend].append(timed(backend, [*flags, *methods, "--out-dir", os.path.join(folder, backend)]))
            median = {backend: statistics.median(values) for backend, values in seconds.items()}
            print(f"\n{title}: explain.py, whole processes, median of {args.repeats}")
            for backend in backends:
                print(f"  {backend:10s} {median[backend]:7.2f} s   {median['tensorflow'] / median[backend]:.2f}x TensorFlow's speed")


if __name__ == "__main__":
    main()
