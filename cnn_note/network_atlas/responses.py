"""An atlas's dataset scan: every unit's top and bottom inputs and the histogram of its strongest response, in one
process or as Ray tasks over shards of the inputs, merged exactly on the driver; examples.npz."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from cnn_note import dataset_examples
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.io import writing
from cnn_note.network_atlas import on_ray
from cnn_note.network_atlas.plan import Plan
from cnn_note.network_atlas.units import read_units
from cnn_note.results import Pictures

HISTOGRAM_BINS = 30
# Inputs a Ray task scans: a multiple of dataset_examples.SHARD, so the shards batch their inputs as one pass does.
SHARD_INPUTS = dataset_examples.SHARD


def worker_scan(model: bytes | str, suffix: str, convention: tuple, chosen: dict[str, list[int]],
                source: dataset_examples.Source, start: int, stop: int, count: int) -> tuple[int, tuple[dict, dict]]:
    """A Ray task: dataset_examples.scan of one shard of the inputs, start .. stop - 1."""
    view = on_ray.worker_view(model, suffix, convention)
    return start, dataset_examples.scan(view, chosen, source.pictures(start, stop), count)


def worker_counts(model: bytes | str, suffix: str, convention: tuple, chosen: dict[str, list[int]],
                  source: dataset_examples.Source, start: int, stop: int, edges: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A Ray task: the histogram counts of one shard of the inputs, start .. stop - 1 (see histogram_counts)."""
    view = on_ray.worker_view(model, suffix, convention)
    return histogram_counts(view, chosen, source.pictures(start, stop), edges)


def histogram_edges(ranked: dict[str, dataset_examples.Examples], bins: int = HISTOGRAM_BINS) -> dict[str, np.ndarray]:
    """Each unit's histogram bins (F, bins + 1), between the lowest and highest values the scan found, so that no input's
    strongest response falls outside."""
    edges = {}
    for layer, examples in ranked.items():
        low, high = examples.bottom_activations[:, 0], examples.top_activations[:, 0]
        low, high = low.astype("float64"), high.astype("float64")  # float32 would lose the 1e-6 of a constant unit
        edges[layer] = np.linspace(low, np.maximum(high, low + 1e-6), bins + 1, axis=1)
    return edges


def histogram_counts(view: View, chosen: dict[str, list[int]], pictures, edges: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """How many of the (index, picture) pairs have each unit's strongest response in each bin: (F, bins) per layer. A
    second pass over the inputs: the scan keeps the top N only. Counts of shards add up to the whole set's."""
    model = view.responses(list(chosen))
    counts = {layer: np.zeros((len(chosen[layer]), edges[layer].shape[1] - 1), np.int64) for layer in chosen}
    for _, batch in dataset_examples.batched(pictures, view, list(chosen), dataset_examples.MAX_BATCH):
        outputs = model.predict_on_batch(np.stack(batch).astype("float32"))
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for layer, maps in zip(chosen, outputs):
            strongest = np.asarray(maps)[..., chosen[layer]].reshape(len(batch), -1, len(chosen[layer])).max(axis=1)  # (B, F)
            low, high, bins = edges[layer][:, 0], edges[layer][:, -1], counts[layer].shape[1]
            place = np.clip(((strongest - low) / (high - low) * bins).astype(int), 0, bins - 1)
            np.add.at(counts[layer], (np.broadcast_to(np.arange(len(low)), place.shape), place), 1)
    return counts


def most_sure(view: View, source: dataset_examples.Source, count: int, shown: int) -> tuple[np.ndarray, np.ndarray]:
    """For each class, the `shown` inputs among the first `count` it gives the highest probability, and those: (classes, shown)."""
    probabilities = np.concatenate([view.probabilities(np.stack(batch).astype("float32"))
                                    for _, batch in dataset_examples.batched(source.pictures(), view, None, 256, limit=count)])
    order = np.argsort(-probabilities, axis=0, kind="stable")[:shown].T
    return order, np.take_along_axis(probabilities.T, order, axis=1)


def scan_inputs(plan: Plan, units: dict[str, list[int]], pictures: dict, work: on_ray.RayWork | None, progress: bool,
                log: Callable[[str], None]) -> tuple[dict, dict, dict]:
    """The dataset examples and histograms of every unit, in one process or as Ray tasks over shards of the inputs
    (merged exactly: the union's top N is the whole set's, and counts add up); examples.npz. Returns the examples, the
    histogram (counts, edges) and each optimised picture's strongest unit, by layer."""
    from cnn_note.io.progress import Bar

    view, source = plan.view, plan.source
    shards = [(part.start, part.stop) for part in batching.batches(len(source), SHARD_INPUTS)]
    scanned, shared = None, None
    if work:
        start, parts = time.perf_counter(), {}
        shared = work.ray.put(source)
        with Bar(len(source), "examples", "picture", progress) as bar:
            def scanned_shard(result: tuple) -> None:
                parts[result[0]] = result[1]
                bar.on_progress(min(SHARD_INPUTS, len(source) - result[0]))

            work.run(worker_scan, [(units, shared, first, stop, plan.examples) for first, stop in shards], scanned_shard)
        scanned = dataset_examples.merged(parts[first] for first, _ in shards)
        log(f"examples: {len(parts)} shards of {SHARD_INPUTS} inputs scanned with Ray in {time.perf_counter() - start:.1f} s")
    ranked = dataset_examples.ranked(view, units, plan.examples, source, progress=progress and not work, log=log,
                                     scanned=scanned)
    edges = histogram_edges(ranked)
    if work:
        found: list[dict] = []
        work.run(worker_counts, [(units, shared, first, stop, edges) for first, stop in shards], found.append)
        counts = {layer: sum(part[layer] for part in found) for layer in units}
    else:
        counts = histogram_counts(view, units, source.pictures(), edges)
    drawn = {layer: dataset_examples.with_examples(
        view, Pictures(read_units(plan, layer, units[layer], "image").image, units[layer], pictures[layer].activation, "", [], layer),
        ranked[layer]) for layer in plan.layers}
    writing.save_npz(os.path.join(plan.out, "examples.npz"), dataset_examples.examples_arrays(drawn, source, counts, edges))
    return ranked, {layer: (counts[layer], edges[layer]) for layer in units}, {layer: found.optimised for layer, found in drawn.items()}
