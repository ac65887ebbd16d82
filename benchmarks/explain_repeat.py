"""Benchmark: a repeated cn.explain on one model against a compiled tf.GradientTape of the same gradient map.

In a notebook that explains picture after picture, every call after the first should cost a few
times the computation itself, and leave the model's layers as they were. This times --repeats
calls of cn.explain(model, digit, methods=["gradient"], progress=False) on the note's CNN (just
built, seeded, or --model FILE) after one warm-up call, and the same map (|d logit / d pixel|, the
largest over channels) from a tf.function written by hand, and prints the median of each, their
ratio, the call records Keras added to the model's layers (inbound and outbound nodes) and the
process's memory before and after.

    python benchmarks/explain_repeat.py --repeats 300 --data ../shared/data/mnist.npz
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        return next(int(line.split()[1]) / 1024 for line in handle if line.startswith("VmRSS:"))


def records(model) -> int:
    """Every call record Keras keeps on the model's layers: the nodes in and out of each."""
    return sum(len(layer._inbound_nodes) + len(layer._outbound_nodes) for layer in model.layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--model", help="a trained model file (default: the note's CNN, just built)")
    parser.add_argument("--data", help="MNIST .npz (default: $MNIST_PATH, else a random digit)")
    args = parser.parse_args()

    import numpy as np

    import cnn_note as cn
    from cnn_note.backend import keras, tf

    cn.seed(0)
    model = keras.saving.load_model(args.model) if args.model else cn.build_cnn()
    path = args.data or os.environ.get("MNIST_PATH")
    digit = cn.load_mnist(path)[1][0][0][..., None].astype("float32") / 255 if path else \
        np.random.default_rng(0).random((28, 28, 1)).astype("float32")

    # The hand-written side: the logit before the last layer's softmax, differentiated in one compiled call.
    last = model.layers[-1]
    below = keras.Model(model.inputs, model.layers[-2].output)

    @tf.function(input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32), tf.TensorSpec((None,), tf.int32)])
    def reference(images, classes):
        with tf.GradientTape() as tape:
            tape.watch(images)
            logits = tf.matmul(below(images, training=False), last.kernel) + last.bias
            total = tf.reduce_sum(tf.gather(logits, classes, axis=1, batch_dims=1))
        return tf.reduce_max(tf.abs(tape.gradient(total, images)), axis=-1)

    start = time.perf_counter()
    first = cn.explain(model, digit, methods=["gradient"], progress=False)
    first_ms = 1000 * (time.perf_counter() - start)
    wanted = tf.constant(first.classes, tf.int32)
    reference(tf.constant(digit[None]), wanted)
    same = np.abs(first.maps["gradient"] - reference(tf.constant(digit[None]), wanted).numpy()).max()

    before_records, before_rss = records(model), rss_mb()
    ours = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        cn.explain(model, digit, methods=["gradient"], progress=False)
        ours.append(time.perf_counter() - start)
    added, after_rss = records(model) - before_records, rss_mb()
    hand = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        reference(tf.constant(digit[None]), wanted).numpy()
        hand.append(time.perf_counter() - start)

    ours_ms, hand_ms = 1000 * statistics.median(ours), 1000 * statistics.median(hand)
    print(f"cn.explain, gradient, one digit: median {ours_ms:.2f} ms over {args.repeats} calls after the first "
          f"(the first: {first_ms:.0f} ms)")
    print(f"compiled tf.GradientTape:        median {hand_ms:.2f} ms")
    print(f"ratio: {ours_ms / hand_ms:.1f}x")
    print(f"call records added to the model's layers by {args.repeats} calls: {added}")
    print(f"memory: {before_rss:.0f} MB -> {after_rss:.0f} MB")
    print(f"largest difference between the two maps: {same:.2e}")


if __name__ == "__main__":
    main()
