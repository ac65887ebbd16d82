"""Dataset examples for a choice of units: where the inputs come from, one ranked pass over them, attached to pictures."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import settings
from cnn_note.core.views import View
from cnn_note.dataset_examples.scan import find, responses
from cnn_note.dataset_examples.sources import Source, from_array, from_path
from cnn_note.errors import Argument, InputError
from cnn_note.io.machine import machine
from cnn_note.io.progress import Bar, log_lines
from cnn_note.optvis.render import chosen_filters
from cnn_note.results import Examples, Pictures, SavedExamples


def example_source(view: View, examples_from=None, count: int = settings.EXAMPLES, log: Callable[[str], None] = print,
                   default: Callable[[View], Source] | None = None) -> Source | None:
    """Where `count` dataset examples a filter come from: `examples_from` (a folder of pictures, an .npz of images, an
    array, or a Source), else `default(view)` for a 1-channel model (the callers, which know the note, give MNIST's test
    digits: api.looking.mnist_digits), else None, with a line saying how to add them. Fewer inputs than `count` are
    refused."""
    source = _source(view, examples_from, log, default)
    if source is not None and count > len(source):
        raise InputError(Argument("examples", count), f" is more than the {len(source)} inputs: use at most {len(source)}")
    return source


def _source(view: View, examples_from, log: Callable[[str], None], default: Callable[[View], Source] | None) -> Source | None:
    if isinstance(examples_from, Source):
        return examples_from
    if examples_from is None and (view.channels != 1 or default is None):
        log(f"examples: none for a {'colour ' if view.channels != 1 else ''}model without pictures to rank: give "
            "examples_from= (--examples-from) a folder of pictures or an .npz of images")
        return None
    if examples_from is None:
        return default(view)
    if isinstance(examples_from, (str, os.PathLike)):
        if not os.path.exists(examples_from):
            raise InputError(Argument("examples_from", os.fspath(examples_from)),
                             " not found: give a folder of pictures or an .npz of images")
        return from_path(os.fspath(examples_from), view.channels, view.size, log)
    return from_array(np.asarray(examples_from), view.channels, "examples_from", view.size)


def ranked(view: View, chosen: dict[str, Sequence[int]], examples: int = settings.EXAMPLES, examples_from=None,
           whole: bool = False, *, progress: bool = True, log: Callable[[str], None] | None = None,
           scanned: tuple | None = None, default: Callable[[View], Source] | None = None) -> dict[str, Examples]:
    """For every {layer: filters}, in one pass over the inputs (see example_source), the `examples` inputs whose strongest
    response is highest and the `examples` whose weakest is lowest; {} when there are no inputs to rank. `scanned`: that
    pass already made (dataset_examples.merged of shards' scans, as the atlas makes them with Ray); `default`: the
    inputs of a 1-channel model given none (see example_source)."""
    log = log_lines(log, progress)
    chosen = {layer: chosen_filters(view, layer, filters, settings.MAX_FILTERS) for layer, filters in chosen.items()}
    if examples < 0 or isinstance(examples, bool) or not isinstance(examples, int):
        raise InputError(f"examples={examples!r}: it must be a whole number of at least 0 (0: none)")
    source = example_source(view, examples_from, examples, log, default) if examples else None
    if source is None:
        return {}
    start = time.perf_counter()
    with Bar(len(source), "examples", "picture", progress) as bar:
        found = find(view, chosen, source, examples, whole, bar, scanned)
    seconds = time.perf_counter() - start
    log(f"examples: {source.description} ranked for {', '.join(chosen)} in {seconds:.1f} s")
    return {layer: dataclasses.replace(examples_of_layer, seconds=seconds) for layer, examples_of_layer in found.items()}


def with_examples(view: View, found: Pictures, examples: Examples | None) -> Pictures:
    """Filter pictures with their dataset examples, and each picture's strongest unit to hold beside the examples'."""
    if examples is None:
        return found
    strongest, score = responses(view, found.layer, found.filters, found.images)
    return dataclasses.replace(found, examples=examples, optimised=strongest, optimised_score=score)


def examples_arrays(drawn: dict[str, Pictures], source: Source, histogram: dict[str, np.ndarray] | None = None,
                    histogram_edges: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """What examples.npz holds (results.SavedExamples): every layer's examples, its optimised pictures' strongest units and
    scores and any histogram of its units' strongest responses (`histogram`: counts, `histogram_edges`: bins, by layer),
    then the inputs' names, the scan's seconds and the processor it took them on."""
    examples = {layer: found.examples for layer, found in drawn.items()}
    optimised = {layer: found.optimised for layer, found in drawn.items()}
    scores = {layer: found.optimised_score for layer, found in drawn.items()}
    # The scan's time is this machine's: the npz says which machine, as REPORT.md's Run table does for each stage.
    return SavedExamples(examples, optimised, scores, source.names or [source.description], machine()["processor"], histogram,
                         histogram_edges).arrays()
