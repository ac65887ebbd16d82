"""cn.deep_dream: amplify what the layers already see."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note import settings
from cnn_note.core import batching
from cnn_note.core.inputs import pictures_of, view_of
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io import imaging
from cnn_note.io.progress import Bar, Callbacks, Frames, log_lines
from cnn_note.optvis import ascent, dream
from cnn_note.results import Dream


def dream_layers(view: View, layers: dict[str, float] | str | None) -> dict[str, float]:
    """Dream layers and weights: a {name: weight} dict, deep_dream.py's `conv1=1,conv2=2`, or None for the view's default."""
    if isinstance(layers, dict):  # by name as given, whatever the names hold; quoted in a refusal as deep_dream.py's text
        text = ",".join(f"{name}={weight}" for name, weight in layers.items())
        return dream.checked_weights([(str(name), str(weight)) for name, weight in layers.items()], text, view)
    return dream.parse_layers(layers, view)


def deep_dream(model, image, layers: dict[str, float] | str | None = None, *, input_range=None, preprocess=None,
               invert: bool = False, progress: bool = True, frames: bool = False, log: Callable[[str], None] | None = None,
               **how) -> Dream:
    """Amplify what the layers already see in a picture: ascend the sum over layers of weight x mean(activation^2).

    The ascent runs over octaves (the picture smaller first, then larger, with the detail lost re-injected), each
    step in tiles rolled by a random shift, so memory depends on the tile, not on the picture, and no seam stays.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of).
        image: one picture (H, W, C) of any size, or a batch (N, H, W, C) of one size; pixels 0..1.
        layers: the layers and their weights, {"conv1": 1, "conv2": 2} or deep_dream.py's "conv1=1,conv2=2"; None:
            1, 2, ... by depth for the note's CNN, keras-io's mixed4-mixed7 for inception_v3, else 1, 1.5, 2. A dict's
            keys are the layers' names as they are; in the text a name may hold "=" and "," (see optvis.dream.split_layers).
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        invert: dream on the negative (1 - pixels), as --invert.
        progress: whether to show a progress bar and print the lines.
        frames: keep the picture through each octave's steps in .frames (about 30 in all), as --gif draws them.
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: the dream's settings, as deep_dream.py's flags of the same names (settings.DreamSettings): octaves (3),
            octave_scale (1.4), steps (20 an octave), step_size (0.005), jitter (0), blur (0.0), seed (0), max_loss (end
            an octave once every picture's loss passes it; None: never), tile (1024 pixels a side), max_side (shrink a
            larger picture to this; None: its own size).

    Returns:
        Dream: .image, the dreamed picture(s) in the shape given, pixels 0..1 (np.asarray(result) too), .original,
            .layers (the weights used), .frames.

    Raises:
        InputError: an unknown layer, one named twice, or a weight that is not a finite number; a picture too small
            for the octaves or a tile too small for the layers; a tile that does not fit in memory; pictures of the
            wrong shape or channels, not finite, or not 0..1; an octave_scale below 1, an unknown setting in `how` or
            a bad value; a model the tools do not take (see view_of).
    """
    log = log_lines(log, progress)
    view = view_of(model, input_range, preprocess, log=log)
    chosen = settings.make(settings.DreamSettings, "deep_dream", how)
    settings.check_octave_scale(chosen.octave_scale)
    weights = dream_layers(view, layers)
    one = np.ndim(image) == 3
    pixels = pictures_of(image, view, "image")
    pixels, note = imaging.shrink(pixels, chosen.max_side)
    if note:
        log(note)
    pixels = 1.0 - pixels if invert else pixels
    octaves, only = chosen.octaves, view.only_size(list(weights))
    if only:  # a transformer's layers take one size: the dream is one octave of the whole picture at it
        if pixels.shape[1:3] != only:
            pixels = imaging.resize_area(pixels, only)
        octaves, tile = 1, max(only)
        log(f"{', '.join(weights)} take only {only[1]}x{only[0]} pictures: the image dreamed at that size, in one octave")
    else:
        need = view.smallest_side(list(weights))
        dream.check_size(pixels.shape[1], pixels.shape[2], chosen.octaves, chosen.octave_scale, need)
        if chosen.tile < 2 * need:
            raise InputError(Argument("tile", chosen.tile), f" is too small for {', '.join(weights)}: use at least {2 * need}")
        tile = min(chosen.tile, max(pixels.shape[1:3]))
    batching.fitting_batch(batching.bytes_per_image(view, list(weights), tile, tile) * len(pixels), 1,
                           f"a {tile}x{tile} tile of {len(pixels)} image(s)", ("use a smaller ", Argument("tile")))
    steps = ascent.AscentSettings.of(chosen)
    log(f"dreaming {len(pixels)} image(s) of {pixels.shape[1]}x{pixels.shape[2]} with {view.label} on "
        + ", ".join(f"{name}={weight:g}" for name, weight in weights.items()))
    kept = Frames() if frames else None
    with Bar(chosen.steps * octaves, "dream", "step", progress) as bar:
        dreamed = dream.ascend_octaves(view, pixels, weights, octaves, chosen.octave_scale, steps, tile,
                                       chosen.max_loss, log, Callbacks([bar, kept]))
    return Dream(dreamed[0] if one else dreamed, pixels[0] if one else pixels, weights, kept and kept.frames)
