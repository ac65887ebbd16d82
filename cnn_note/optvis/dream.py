"""Deep dream: amplify what a model's layers already see in an image, scale by scale, tile by tile."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from cnn_note.core import autodiff
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io.imaging import resize, within
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.optvis import ascent, objectives

FRAME_SIDE = 512  # an animation's frames: enough to see the dream grow, small enough for a GIF of a few MiB
MAX_WEIGHT = 1e6  # larger weights overflow the loss to inf in float32; only their ratios matter anyway
DREAM_LAYERS = {"inception_v3": {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5}}  # keras-io's deep dream


def default_weights(view: View) -> dict[str, float]:
    """Dream layers and weights when none are asked for: keras-io's for inception_v3, else the view's default layers,
    deeper ones more: 1, 2, 3, ... when those are all the conv layers (the note's CNN: conv1=1, conv2=2), else 1, 1.5, 2.
    """
    if view.label in DREAM_LAYERS:
        return dict(DREAM_LAYERS[view.label])
    layers = view.default_layers()
    step = 1.0 if len(layers) == len(view.conv_layer_names()) else 0.5
    return {name: 1.0 + step * depth for depth, name in enumerate(layers)}


def parse_layers(text: str | None, view: View) -> dict[str, float]:
    """`conv1=1,conv2=2` as {layer: weight}; None means the view's default (default_weights).

    Any layer name can be written as --list-layers shows it: a part splits at its last `=` after a layer's name (so a
    name may hold `=`), and a comma inside a layer's name does not split (see split_layers).
    """
    if not text:
        return default_weights(view)
    return checked_weights(split_layers(text, set(view.recorded.layers)), text, view)


def checked_weights(pairs: list[tuple[str, str]], text: str, view: View) -> dict[str, float]:
    """{layer: weight} from (name, weight as written) pairs; one line, quoting `text` as --layers, for a name given twice,
    a weight that is not a finite number within MAX_WEIGHT, or a name that is no layer with a 4-D output. Names are
    stripped of spaces unless they are a layer's name as they stand."""
    weights = {}
    for given, weight in pairs:
        name = given if given in view.recorded.layers else given.strip()
        if name in weights:
            raise InputError(Argument("layers", text, quoted=True), f" names {name} twice: give each layer once, with the weight you mean")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise InputError(Argument("layers", text, quoted=True),
                             f": weight {weight!r} of {name} is not a number (write name=weight,...)") from None
        if not math.isfinite(value) or abs(value) > MAX_WEIGHT:
            raise InputError(Argument("layers", text, quoted=True), f": weight {weight} of {name} must be a finite number between "
                             f"-{MAX_WEIGHT:g} and {MAX_WEIGHT:g} (only the ratios between layers matter)")
        weights[name] = value
    view.check_layers(list(weights))
    return weights


def split_layers(text: str, known: set[str]) -> list[tuple[str, str]]:
    """`name=weight,name=weight` (a weight may be left out) as (name, weight as written) pairs, given the layers' names.

    Each comma-separated run is taken as long as it reads as one layer (so `b, c=2` is layer `b, c` when there is one),
    else a single part; a part is split at its last `=` with a layer's name before it, is a layer's name whole (a name
    holding `=`), or else is split at its first `=`.
    """
    parts, pairs, start = text.split(","), [], 0
    while start < len(parts):
        runs = (",".join(parts[start:end]) for end in range(len(parts), start, -1))  # the longest first
        run = next((run for run in runs if layer_and_weight(run, known)), parts[start])
        start += run.count(",") + 1
        pairs.append(layer_and_weight(run, known) or tuple(run.partition("=")[::2]))
    return pairs


def layer_and_weight(part: str, known: set[str]) -> tuple[str, str] | None:
    """(name, weight) when `part` reads as a known layer: split at the last `=` with one before it, or one whole; else None."""
    for at in reversed([i for i, c in enumerate(part) if c == "="]):
        if "," not in part[at + 1:] and (part[:at] in known or part[:at].strip() in known):  # a weight holds no comma
            return part[:at], part[at + 1:]
    return (part, "") if part in known or part.strip() in known else None


def octave_shapes(height: int, width: int, octaves: int, scale: float) -> list[tuple[int, int]]:
    """Image sizes from the smallest octave up to the original, each `scale` times the one before."""
    return [(round(height / scale**k), round(width / scale**k)) for k in reversed(range(octaves))]


def check_size(height: int, width: int, octaves: int, scale: float, need: int) -> None:
    """Fail clearly when the smallest octave would be smaller than `need` pixels a side."""
    if min(octave_shapes(height, width, octaves, scale)[0]) < need:
        least = next(side for side in range(need, 10**6) if min(octave_shapes(side, side, octaves, scale)[0]) >= need)
        raise InputError(f"image {height}x{width} is too small for {octaves} octaves at scale {scale}: "
                         f"its smaller side must be at least {least} pixels (or use fewer ", Argument("octaves"), ", or a larger ",
                         Argument("image", python="image"), ")")


def ascend_octaves(view: View, images: np.ndarray, weights: dict[str, float], octaves: int, scale: float,
                   settings: ascent.AscentSettings, tile: int = 1024, max_loss: float | None = None,
                   log: Callable[[str], None] = print, callback: Callback = NO_CALLBACK) -> np.ndarray:
    """Ascend sum(weight x mean(a^2)) over octaves, smallest first, putting back the detail lost by shrinking.

    Each step scores the image in tiles of at most `tile` pixels a side, so memory depends on the
    tile, not on the image. `callback` hears of every step, and is offered the pictures at the start,
    every few steps (about 30 in all) and at the end, at most FRAME_SIDE pixels a side (for io.progress.Frames).
    """
    gradient = autodiff.gradient_of(objectives.dream_loss(view.features(list(weights)), list(weights.values())))
    shapes = octave_shapes(images.shape[1], images.shape[2], octaves, scale)
    frame_shape = within(images.shape[1:3], FRAME_SIDE)
    every = max(1, settings.steps * octaves // 30)

    def snapshot(step: int, pictures) -> Callable[[], np.ndarray] | None:
        """The pictures, a frame's size, at every `every`-th step of an octave; None at the others."""
        return (lambda: resize(pictures, frame_shape)) if step % every == 0 else None

    original, dreamed = images, resize(images, shapes[0])
    shrunk = dreamed
    callback.on_progress(0, snapshot(0, images))
    for number, shape in enumerate(shapes, start=1):
        start = time.perf_counter()
        dreamed = resize(dreamed, shape)
        dreamed, before, after = ascent.ascend_tiled(gradient, dreamed, settings, tile, stop_above=max_loss, callback=callback,
                                                      snapshot=snapshot)
        # Shrinking lost fine detail; add back the difference between the sharp and the blurred original.
        sharp = resize(original, shape)
        dreamed = np.clip(dreamed + sharp - resize(shrunk, shape), 0.0, 1.0)
        shrunk = sharp
        log(f"octave {number}/{len(shapes)} {shape[0]}x{shape[1]}: loss {before.mean():.3f} -> {after.mean():.3f} "
            f"in {time.perf_counter() - start:.2f} s")
    callback.on_progress(0, snapshot(0, dreamed))
    return dreamed
