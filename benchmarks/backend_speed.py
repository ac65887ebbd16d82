"""Benchmark: the scripts on each Keras backend (TensorFlow, JAX, PyTorch), side by side, on the same .keras weights.

Each run is a whole process (KERAS_BACKEND set, everything loaded anew), in turn, --repeats times; the median seconds
of each backend and its ratio to TensorFlow's are printed. Two models: the note's trained CNN (results/cnn/model.keras,
from train_cnn.py) on MNIST test digits, and a colour CNN (MobileNetV2's layers, random weights, 96x96) on random
pictures. The jobs (--only picks some):
- explain: explain.py's gradient, Integrated Gradients (64 steps) and Grad-CAM of each picture;
- filters: visualize_filters.py, the note's CNN's every filter and class (no dataset examples), and 8 Fourier-basis
  pictures of MobileNetV2's block_1_expand_relu at 96x96, 128 steps;
- train: train_cnn.py (one seed of the note's recipe) and the note's own script (benchmarks/note_script_keras3.py).
A backend that is not installed is left out with a line.

    python benchmarks/backend_speed.py --data ../shared/data/mnist.npz
    python benchmarks/backend_speed.py --only explain --count 20 --repeats 1 --data ../shared/data/mnist.npz   # a quick look
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


def timed(backend: str, script: str, flags: list[str]) -> float:
    start = time.perf_counter()
    ran = subprocess.run([sys.executable, os.path.join(ROOT, script), *flags], env={**os.environ, "KERAS_BACKEND": backend},
                         capture_output=True, text=True, cwd=ROOT)
    if ran.returncode:
        raise SystemExit(f"{backend}: {script} failed: {(ran.stderr.strip() or ran.stdout.strip()).splitlines()[-1]}")
    return time.perf_counter() - start


def jobs(args, folder: str) -> dict[str, tuple[str, str, list[str]]]:
    """{title: (job, script, flags)}; the flags take {out}, a folder of the backend's own."""
    data = ["--data", args.data] if args.data else []
    model, photos = colour_model(folder, args.photos)
    methods = ["--methods", "gradient,integrated_gradients,gradcam", "--max-figures", "0"]
    return {
        f"explain.py, the note's CNN, {args.count} MNIST test digits": (
            "explain", "explain.py", ["--index", f"0-{args.count - 1}", *data, *methods, "--out-dir", "{out}"]),
        f"explain.py, MobileNetV2 (random weights), {args.photos} colour pictures of 96x96": (
            "explain", "explain.py", ["--model", model, "--image", *photos.split(","), *methods, "--out-dir", "{out}"]),
        "visualize_filters.py, the note's CNN: 75 filters and 10 classes, 200 steps": (
            "filters", "visualize_filters.py", ["--examples", "0", *data, "--out-dir", "{out}"]),
        "visualize_filters.py, MobileNetV2 (random weights): 8 Fourier pictures of 96x96, 128 steps": (
            "filters", "visualize_filters.py", ["--model", model, "--layer", "block_1_expand_relu", "--filters", "0-7", "--size", "96",
                                                "--steps", "128", "--examples", "0", "--classes", "0", *data, "--out-dir", "{out}"]),
        "train_cnn.py, the note's recipe, one seed": (
            "train", "train_cnn.py", ["--seeds", "1", "--quiet", *data, "--results-dir", "{out}"]),
        "the note's own script (Keras 3), its CNN": (
            "train", "benchmarks/note_script_keras3.py", [args.data or os.environ.get("MNIST_PATH", ""), "cnn"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None, help="MNIST npz (default: $MNIST_PATH)")
    parser.add_argument("--count", type=int, default=100, help="test digits explained (default: 100)")
    parser.add_argument("--photos", type=int, default=4, help="random colour pictures explained by MobileNetV2 (default: 4)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each backend; the median is shown (default: 3)")
    parser.add_argument("--only", default="explain,filters,train", help="the jobs, comma-separated (default: explain,filters,train)")
    args = parser.parse_args()
    backends = [name for name in BACKENDS if importlib.util.find_spec(name)]
    for missing in sorted(set(BACKENDS) - set(backends)):
        print(f"{missing}: not installed, left out (pip install -r requirements-{missing}.txt)")
    with tempfile.TemporaryDirectory() as folder:
        for title, (job, script, flags) in jobs(args, folder).items():
            if job not in args.only.split(","):
                continue
            seconds = {backend: [] for backend in backends}
            for _ in range(args.repeats):
                for backend in backends:  # in turn, so that a noisy minute falls on each
                    out = os.path.join(folder, backend)
                    seconds[backend].append(timed(backend, script, [flag.replace("{out}", out) for flag in flags]))
            median = {backend: statistics.median(values) for backend, values in seconds.items()}
            print(f"\n{title}: whole processes, median of {args.repeats}", flush=True)
            for backend in backends:
                print(f"  {backend:10s} {median[backend]:7.2f} s   {median['tensorflow'] / median[backend]:.2f}x TensorFlow's speed",
                      flush=True)


if __name__ == "__main__":
    main()
