"""Benchmark: batched filter ascent (visualize_filters.py) against the usual one-filter loop.

The loop is the keras-io "Visualizing what convnets learn" recipe: one tf.function step called
in a Python loop per filter, the filter index passed as a Python int. Both run the same number
of steps for every filter of the chosen layers (default: both conv layers of the trained note
CNN), on the same model, in this one process, alternating, so neither side alone pays
TensorFlow's first-use costs.

    python benchmarks/filter_speed.py
    python benchmarks/filter_speed.py --model mobilenet_v2 --random-weights --layer block_3_expand --size 64 --steps 50 --repeats 1
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnn_note.backend import tf  # noqa: E402
from cnn_note.cli import arguments  # noqa: E402
from cnn_note.core import loading, networks
from cnn_note.optvis import ascent, render


def one_filter_at_a_time(view, layer: str, filters: int, size: int, steps: int, step_size: float) -> None:
    """keras-io's loop: a step per filter per iteration, l2-normalised gradients, no batching."""
    extractor = view.features([layer])

    @tf.function
    def gradient_ascent_step(image, filter_index, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = tf.reduce_mean(extractor(image)[:, 2:-2, 2:-2, filter_index])
        grads = tf.math.l2_normalize(tape.gradient(loss, image))
        return loss, image + learning_rate * grads

    for filter_index in range(filters):
        image = tf.constant(ascent.start_images(1, size, size, channels=view.channels))
        for _ in range(steps):
            loss, image = gradient_ascent_step(image, filter_index, step_size)


def main(argv: list[str] | None = None) -> None:
    parser = arguments.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=os.path.join("results", "cnn", "model.keras"),
                        help="trained CNN, or a keras.applications network by name")
    parser.add_argument("--random-weights", action="store_true", help="build a network by name without its ImageNet weights (no download)")
    parser.add_argument("--layer", default=None, help="layers, comma-separated (default: every conv layer)")
    parser.add_argument("--filters", type=arguments.positive_int, default=None, help="the first N filters of each layer (default: all)")
    parser.add_argument("--size", type=arguments.positive_int, default=28, help="canvas side")
    parser.add_argument("--steps", type=arguments.positive_int, default=200,
                        help="ascent steps per filter (visualize_filters.py's default)")
    parser.add_argument("--repeats", type=arguments.positive_int, default=3, help="timed runs of each, alternating; medians are compared")
    args = parser.parse_args(argv)
    with arguments.reported_errors("filter_speed.py"):
        if args.random_weights:
            networks.WEIGHTS = None
        view = loading.load(args.model, "python train_cnn.py")
        layers = args.layer.split(",") if args.layer else view.conv_layer_names()
        view.check_layers(layers)
        count = {layer: min(args.filters or view.filters(layer), view.filters(layer)) for layer in layers}
        settings = ascent.AscentSettings(steps=args.steps)
        timings = {"batched": [], "loop": []}
        for repeat in range(args.repeats):
            for name, run in (
                ("batched", lambda layer: render.filter_patterns(view, layer, range(count[layer]), args.size, settings)),
                ("loop", lambda layer: one_filter_at_a_time(view, layer, count[layer], args.size, args.steps, 0.02)),
            ):
                start = time.perf_counter()
                for layer in layers:
                    run(layer)  # each run builds and traces its own step functions, as a fresh script would
                timings[name].append(time.perf_counter() - start)
                print(f"repeat {repeat} {name:<8} {timings[name][-1]:6.2f} s for {sum(count.values())} filters of "
                      f"{', '.join(layers)} x {args.steps} steps", flush=True)
        median = {name: statistics.median(values) for name, values in timings.items()}
        print(f"median: batched {median['batched']:.2f} s, loop {median['loop']:.2f} s")
        print(f"speed-up batched / loop: {median['loop'] / median['batched']:.1f}x")


if __name__ == "__main__":
    main()
