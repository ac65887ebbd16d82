"""Looking inside a trained CNN: what each filter and each class responds to, and a digit's feature maps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.optvis import ascent, objectives, parameterisation


def canvas(view: View, layers: Sequence[str], size: int) -> tuple[int, int]:
    """The (height, width) pictures of `layers` are made at: size x size, or the one size the layers take (a transformer's)."""
    return view.only_size(list(layers)) or (size, size)


def batch_size(view: View, layer: str, count: int, size: int) -> int:
    """How many of `count` filter pictures of `layer` at size x size fit in memory at once; one line when not even one does."""
    height, width = canvas(view, [layer], size)
    return batching.batch_size(view, [layer], height, width, count, (Argument("size", size), f": a {width}x{height} picture of {layer}"),
                               ("use a smaller ", Argument("size")))


def check_size(view: View, layers: Sequence[str], size: int) -> None:
    """Fail in one line when size x size pictures are too small for every named layer to have an output pixel (a layer
    that takes one size is drawn at it, whatever `size`)."""
    if view.only_size(list(layers)):
        return
    need = view.smallest_side(list(layers))
    if size < need:
        raise InputError(Argument("size", size), f" is too small for {', '.join(layers)}: use at least {need}")


def filter_patterns(view: View, layer: str, filters: Sequence[int], size: int, settings: ascent.AscentSettings,
                    callback: Callback = NO_CALLBACK, chunk: int | None = None, param: parameterisation.Parameterisation | None = None,
                    every: int = ascent.STEPS_PER_CALL,
                    negative: bool = False, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ascend every requested filter of `layer` from one start each; returns images and final mean activations.

    The filters ascend together, one image each, `chunk` at a time (default: as many as fit in
    memory), by `param` (default: pixels; see parameterisation.py). A layer that ends in a ReLU
    is ascended before it; the activation returned is always the layer's own output's. Each chunk is
    a run for `callback` (Callback.on_begin), offered its pictures at the start and every `every`
    steps (io.progress.Frames joins the chunks' into frames of every filter). With `negative`, the pictures minimise the mean
    instead (Lucid's "negative").
    `offset`: these filters start as rows offset, offset + 1, ... of a longer list's starts (an atlas's piece of a layer).
    """
    filters, param = list(filters), param or parameterisation.named("pixels")
    chunk = chunk or batch_size(view, layer, len(filters), size)
    only = view.only_size([layer])
    margin = param.moves.pad // 2 if param.moves and only else 0  # as class_patterns: the border the moves add, kept
    height, width = (side - 2 * margin for side in canvas(view, [layer], size))
    starts = param.start(offset + len(filters), height, width, view.channels, settings.seed)[offset:]
    images, scores = [], []
    for first in (part.start for part in batching.batches(len(filters), chunk)):
        part = filters[first:first + chunk]
        objective = objectives.filter_mean(view, layer, part, before_relu=True)
        if negative:  # the same ascent of the opposite score: the picture the filter responds to least
            def objective(images, score=objective):
                return -score(images)
        callback.on_begin()
        callback.on_progress(0, lambda first=first: param.pictures(starts[first:first + chunk], height, width))
        done = param.ascend(objective, starts[first:first + chunk], height, width, settings, callback, every=every)
        done = np.pad(done, ((0, 0), (margin, margin), (margin, margin), (0, 0)), constant_values=0.5) if margin else done
        images.append(done)
        scores.append(keras.ops.convert_to_numpy(objectives.filter_mean(view, layer, part)(keras.ops.convert_to_tensor(done))))
    return np.concatenate(images), np.concatenate(scores)


def class_patterns(view: View, classes: Sequence[int], size: int, settings: ascent.AscentSettings, callback: Callback = NO_CALLBACK,
                   param: parameterisation.Parameterisation | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ascend each class's score (see heads.Head) from the same start, by `param` (default: pixels); returns images and
    the probability of each."""
    classes, param = list(classes), param or parameterisation.named("pixels")
    # Random moves add a grey border on every side; a model of one input size gets a canvas that much smaller,
    # and the picture it saw, border included.
    margin = param.moves.pad // 2 if param.moves and view.size else 0
    full = view.size or (size, size)
    height, width = (side - 2 * margin for side in full)
    starts = param.start(1, height, width, view.channels, settings.seed)
    scores = view.class_scores()
    chunk = batching.batch_size(view, None, *full, len(classes), f"a {full[0]}x{full[1]} class picture",
                                ("use a smaller ", Argument("size")))
    images = np.concatenate([param.ascend(objectives.class_score(scores, part), np.repeat(starts, len(part), axis=0), height, width,
                                          settings, callback)
                             for part in (classes[piece] for piece in batching.batches(len(classes), chunk))])
    images = np.pad(images, ((0, 0), (margin, margin), (margin, margin), (0, 0)), constant_values=0.5)
    confidence = view.probabilities(images)[np.arange(len(classes)), classes]
    return images, confidence


def feature_maps(view: View, image: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The named layers' outputs for one pixel image (H, W, C): {layer: (h, w, channels)}."""
    outputs = view.features(names)(image[None])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {name: keras.ops.convert_to_numpy(maps)[0] for name, maps in zip(names, outputs)}


def check_filters(view: View, layer: str, filters: Sequence[int]) -> None:
    """Fail clearly when a filter index is outside the layer's range."""
    count = view.filters(layer)
    bad = [index for index in filters if not 0 <= index < count]
    if bad:
        raise InputError(f"filter index {bad[0]} is out of range: {layer} has filters 0..{count - 1}")


def chosen_filters(view: View, layer: str, filters: Sequence[int] | None, cap: int | None = None) -> list[int]:
    """The filters asked for, checked against the layer, else all of them (the first `cap` when given)."""
    view.check_layers([layer])
    if filters is None:
        return list(range(min(view.filters(layer), cap or view.filters(layer))))
    filters = [int(index) for index in np.atleast_1d(filters)]
    check_filters(view, layer, filters)
    return filters


def planned(view: View, layers: Sequence[str], filters: Sequence[int] | None, size: int, cap: int | None = None) -> dict[str, list[int]]:
    """The filters of each layer to draw (those asked, else all, the first `cap` at most), with every check made before
    any ascent: the layers, the indices, the size, and that a picture of each layer fits in memory."""
    view.check_layers(layers)
    chosen = {layer: chosen_filters(view, layer, filters, cap) for layer in layers}
    check_size(view, layers, size)
    for layer, indices in chosen.items():
        batch_size(view, layer, len(indices), size)
    return chosen
