"""Benchmark: the note's plain Keras recipe against train_cnn.py's training path, side by side.

Each repeat times, in this order and in this one process: the plain recipe (compile with
defaults, fit, evaluate train and test, as the note writes it); our float32 path and our
--mixed-precision path doing the same work (--no-epoch-test); and our default path, which also
scores the test set after every epoch for the curves. Prints median seconds, the ratios, and
the test accuracy each reached.

    MNIST_PATH=../shared/data/mnist.npz python benchmarks/train_speed.py --epochs 5 --repeats 3
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnn_note.cli import arguments  # noqa: E402
from cnn_note.note import models, training


def plain_recipe(config: training.Config, seed: int, train, test) -> tuple[float, float]:
    """The note's code in today's tf.keras: compile with defaults, fit, evaluate; returns (seconds, test acc)."""
    training.seed_everything(seed)
    model = models.build_cnn()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(*train, batch_size=config.batch_size, epochs=config.epochs, verbose=0)
    model.evaluate(*train, verbose=0)
    _, test_acc = model.evaluate(*test, verbose=0)
    return time.perf_counter() - start, float(test_acc)


def main(argv: list[str] | None = None) -> None:
    parser = arguments.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=arguments.positive_int, default=5, help="epochs per timed run")
    parser.add_argument("--repeats", type=arguments.positive_int, default=3, help="timed runs of each path")
    arguments.add_data_argument(parser)
    args = parser.parse_args(argv)
    with arguments.reported_errors("train_speed.py"):
        config = training.Config(model="cnn", epochs=args.epochs, data=args.data, verbose=0)
        train, test = training.prepare(config)
        same_work = training.dataclasses.replace(config, epoch_test_samples=0)
        paths = {
            "plain": lambda seed: plain_recipe(config, seed, train, test),
            "ours": lambda seed: _ours(same_work, seed, train, test),
            "ours_mixed": lambda seed: _ours(training.dataclasses.replace(same_work, mixed_precision=True), seed, train, test),
            "ours_curves": lambda seed: _ours(config, seed, train, test),
        }
        times: dict[str, list[float]] = {name: [] for name in paths}
        accs: dict[str, list[float]] = {name: [] for name in paths}
        for repeat in range(args.repeats):
            for name, path in paths.items():
                seconds, acc = path(repeat)
                times[name].append(seconds)
                accs[name].append(acc)
                print(f"repeat {repeat} {name:<10} {seconds:6.1f} s  test acc {acc:.4f}", flush=True)
        median = {name: statistics.median(values) for name, values in times.items()}
        for name in paths:
            print(f"{name:<10} median {median[name]:6.1f} s  test acc mean {statistics.mean(accs[name]):.4f}")
        print(f"speed-up ours / plain:       {median['plain'] / median['ours']:.2f}x")
        print(f"speed-up mixed / plain:      {median['plain'] / median['ours_mixed']:.2f}x")
        print(f"speed-up ours with per-epoch test curve / plain: {median['plain'] / median['ours_curves']:.2f}x")


def _ours(config: training.Config, seed: int, train, test) -> tuple[float, float]:
    run = training.train_once(config, seed, train, test)
    return run.seconds, run.test_acc


if __name__ == "__main__":
    main()
