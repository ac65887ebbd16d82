"""Do explain.py's maps tell the models' reasons? Deletion, insertion, model randomisation, completeness.

On the first --per-class test digits of each class (100: 1,000 digits), for the note's CNN and DNN:
- deletion and insertion (Petsiuk et al. 2018): pixels set to 0 (deletion) or put onto a black
  image (insertion) in the order of each map, most positive first, one row's worth a step; the
  area under the class probability, against a random order (deletion: lower is better,
  insertion: higher); and insertion onto a blurred copy (Gaussian, sigma 2.8), Petsiuk's own canvas;
- model randomisation (Adebayo et al. 2018): Spearman rank correlation of |map| between the
  trained CNN and the same CNN freshly initialised, mean over digits (low: the map depends on
  what the model learnt); gradient x input is shown beside them as the reference that keeps the
  picture whatever the weights;
- Integrated Gradients' completeness error, mean and max.
Prints Markdown tables. Usage: python benchmarks/explain_quality.py --data PATH [--per-class 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnn_note import attribution  # noqa: E402
from cnn_note.attribution import faithfulness
from cnn_note.core import loading
from cnn_note.core.views import View  # noqa: E402
from cnn_note.note import data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_PATH, else Keras' loader)")
    parser.add_argument("--results-dir", default="results", help="reads <dir>/cnn/model.keras and <dir>/dnn/model.keras")
    parser.add_argument("--per-class", type=int, default=100, help="test digits of each class")
    parser.add_argument("--lime-samples", type=int, default=1000)
    args = parser.parse_args()

    _, test = data.load("mnist", data.data_path(args.data))
    chosen = np.concatenate([np.where(test.y == digit)[0][:args.per_class] for digit in range(10)])
    x = data.to_inputs(test.x[chosen], (28, 28, 1))
    settings = attribution.ExplainSettings(lime_samples=args.lime_samples)
    print(f"{len(x)} test digits ({args.per_class} of each class)\n")
    completeness, sanity = {}, {}
    for name in ("cnn", "dnn"):
        view = View.of(loading.load_trained(os.path.join(args.results_dir, name, "model.keras"), "train it first"), name, maps=False)
        classes = attribution.Probabilities(view, 28, 28)(x).argmax(axis=1)
        start = time.perf_counter()
        methods = [m for m in attribution.METHODS if name == "cnn" or m != "gradcam"]
        maps, completeness[name] = attribution.explain(view, x, classes, methods, settings)
        print(f"{name}: all maps in {time.perf_counter() - start:.0f} s")
        orders = {"random order": faithfulness.random_order(len(x), 784)}
        orders.update({method: faithfulness.most_first(values) for method, values in maps.items()})
        rows = []
        blurred = attribution.baseline(x, "blur")
        for method, order in orders.items():
            area = [faithfulness.area(faithfulness.curves(view, x, classes, order, insertion=mode, canvas=canvas)).mean()
                    for mode, canvas in ((False, None), (True, None), (True, blurred))]
            rows.append((method, *area))
        print(f"\n{name.upper()}: deletion (lower is better) and insertion (higher is better), area under the class probability\n")
        print("| method | deletion | insertion | beats random on both | insertion onto a blur |\n| --- | ---: | ---: | --- | ---: |")
        for method, deletion, insertion, onto_blur in rows:
            beats = "" if method == "random order" else ("yes" if deletion < rows[0][1] and insertion > rows[0][2] else "**no**")
            print(f"| {method} | {deletion:.3f} | {insertion:.3f} | {beats} | {onto_blur:.3f} |")
        if name == "cnn":
            fresh = faithfulness.reinitialised(view)
            again, _ = attribution.explain(fresh, x, classes, list(maps), settings, log=lambda line: None)
            sanity = {method: faithfulness.rank_agreement(maps[method], again[method]).mean() for method in maps}
            gradients = attribution.Gradients(view, 28, 28)
            times_input = (gradients(x, classes)[1] * x).sum(axis=-1)
            fresh_times_input = (attribution.Gradients(fresh, 28, 28)(x, classes)[1] * x).sum(axis=-1)
            sanity["gradient x input (reference)"] = faithfulness.rank_agreement(times_input, fresh_times_input).mean()
        print()
    print("Model randomisation, CNN: Spearman rank correlation of |map|, trained against re-initialised (mean over digits)\n")
    print("| method | rank correlation |\n| --- | ---: |")
    for method, value in sanity.items():
        print(f"| {method} | {value:.2f} |")
    print("\nIntegrated Gradients' completeness error |sum - (score(x) - score(black))| / |score(x) - score(black)|, 64 steps\n")
    print("| model | mean | max |\n| --- | ---: | ---: |")
    for name, error in completeness.items():
        print(f"| {name.upper()} | {error.mean():.2e} | {error.max():.2e} |")


if __name__ == "__main__":
    main()
