"""Benchmark: explain.py against keras-io's one-image loops for saliency, Integrated Gradients and Grad-CAM.

Both sides run as whole processes, in turn, on the same trained CNN and the same test digits
(default: the first 100), with the same work per digit: one gradient, 64 Integrated Gradients
steps from black (65 gradients), one Grad-CAM on the last conv layer. The loop is keras-io's
"Grad-CAM class activation visualization" and "Model interpretability with Integrated
Gradients" as written: the final softmax switched off, one tape per image, one interpolated
image per call. Prints each side's seconds (median of --repeats) and the ratio.

    python benchmarks/explain_speed.py --data ../shared/data/mnist.npz
    python benchmarks/explain_speed.py --loop --data ../shared/data/mnist.npz   # keras-io's loop alone
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def keras_io_loop(model_path: str, data_path: str | None, count: int, steps: int = 64) -> None:
    """keras-io's recipes, one digit at a time."""
    import numpy as np

    from cnn_note.backend import keras, tf
    from cnn_note.note import data

    model = keras.saving.load_model(model_path)
    model.layers[-1].activation = None  # as keras-io does: explain the score before softmax
    last_conv = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    # keras-io's model is functional; the note's Sequential is called layer by layer into one to get the same two outputs.
    inputs = x = keras.Input(model.input_shape[1:])
    outputs = {}
    for layer in model.layers:
        x = outputs[layer.name] = layer(x)
    model = keras.models.Model(inputs, x)
    grad_model = keras.models.Model(inputs, [outputs[last_conv], x])
    _, test = data.load("mnist", data.data_path(data_path))
    digits = data.to_inputs(test.x[:count], (28, 28, 1))

    def get_gradients(img_input, top_pred_idx):
        images = tf.cast(img_input, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(images)
            preds = model(images)
            top_class = preds[:, top_pred_idx]
        return tape.gradient(top_class, images)

    for img in digits:
        img_array = img[None]
        top_pred_idx = int(np.argmax(model.predict(img_array, verbose=0)[0]))
        saliency = np.abs(get_gradients(img_array, top_pred_idx)[0]).max(axis=-1)
        baseline = np.zeros(img.shape)
        interpolated = np.array([baseline + (step / steps) * (img - baseline) for step in range(steps + 1)]).astype(np.float32)
        grads = tf.convert_to_tensor([get_gradients(tf.expand_dims(x, 0), top_pred_idx)[0] for x in interpolated])
        integrated = (img - baseline) * tf.reduce_mean((grads[:-1] + grads[1:]) / 2.0, axis=0)
        with tf.GradientTape() as tape:
            conv_output, preds = grad_model(img_array)
            class_channel = preds[:, top_pred_idx]
        pooled = tf.reduce_mean(tape.gradient(class_channel, conv_output), axis=(0, 1, 2))
        heatmap = tf.maximum(tf.squeeze(conv_output[0] @ pooled[..., tf.newaxis]), 0)
        del saliency, integrated, heatmap


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join("results", "cnn", "model.keras"), help="the trained CNN")
    parser.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_PATH, else Keras' loader)")
    parser.add_argument("--count", type=int, default=100, help="test digits")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side; the median is printed")
    parser.add_argument("--loop", action="store_true", help="run keras-io's loop alone, in this process")
    args = parser.parse_args()
    if args.loop:
        keras_io_loop(args.model, args.data, args.count)
        return
    data = ["--data", args.data] if args.data else []
    with tempfile.TemporaryDirectory() as out:
        ours = [sys.executable, "explain.py", "--model", args.model, "--index", f"0-{args.count - 1}", "--max-figures", "0",
                "--methods", "gradient,integrated_gradients,gradcam", "--out-dir", out, *data]
        loop = [sys.executable, os.path.abspath(__file__), "--loop", "--model", args.model, "--count", str(args.count), *data]
        pairs = [(timed(ours), timed(loop)) for _ in range(args.repeats)]
    ours_s, loop_s = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    print(f"explain.py {ours_s:.1f} s, keras-io's loop {loop_s:.1f} s, whole processes, median of {args.repeats}: "
          f"{loop_s / ours_s:.1f}x (each pair: {', '.join(f'{b / a:.1f}x' for a, b in pairs)})")


if __name__ == "__main__":
    main()
