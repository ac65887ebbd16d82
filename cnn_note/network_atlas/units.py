"""An atlas's units: each one's pictures, ascended in pieces of PIECE units, written to a file of its own as it is done.

The pictures are cn.filter_pictures' own (render.filter_patterns), ascended in pieces of PIECE
units that start at multiples of PIECE, each unit from its row of the layer's starting pictures:
a unit's picture depends on the model, the layer, the unit and the settings only, never on which
process or worker made it, so the atlas made in one process and the one made by Ray tasks on any
number of workers are identical.
"""

from __future__ import annotations

import os

import numpy as np

from cnn_note import settings
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.io import writing
from cnn_note.network_atlas import on_ray
from cnn_note.network_atlas.plan import Plan
from cnn_note.optvis import ascent, parameterisation, render

# Inputs a Ray task scans: a multiple of dataset_examples.SHARD, so the shards batch their inputs as one pass does.


def piece_pictures(view: View, layer: str, first: int, count: int, chosen: settings.PictureSettings) -> dict[str, np.ndarray]:
    """Units first .. first + count - 1 of `layer`: the pictures that maximise and minimise each one's mean activation,
    and those activations, ascended together by cn.filter_pictures' code (render.filter_patterns) as one batch."""
    param = parameterisation.choose(view.channels, chosen.param)
    steps = ascent.AscentSettings.of(chosen)
    found = {}
    for prefix, negative in (("", False), ("negative_", True)):
        images, activations = render.filter_patterns(view, layer, range(first, first + count), chosen.size, steps,
                                                       chunk=count, param=param, negative=negative, offset=first)
        found[f"{prefix}image"], found[f"{prefix}activation"] = images, activations
    return found


def worker_piece(model: bytes | str, suffix: str, convention: tuple, layer: str, first: int, count: int,
                 chosen: settings.PictureSettings) -> tuple[str, int, dict]:
    """A Ray task: one piece of a layer's units (see piece_pictures)."""
    return layer, first, piece_pictures(on_ray.worker_view(model, suffix, convention), layer, first, count, chosen)


def unit_file(plan: Plan, layer: str, unit: int) -> str:
    """Where a unit's arrays go: the file whose presence says the unit is done."""
    return os.path.join(plan.out, plan.keys[layer], f"{unit}.npz")


def save_unit(plan: Plan, layer: str, unit: int, found: dict[str, np.ndarray]) -> None:
    """A unit's pictures as PNGs and its arrays, each written whole; the arrays last, as they mark the unit done."""
    folder = os.path.join(plan.out, plan.keys[layer])
    writing.save_image(os.path.join(folder, f"{unit}.png"), found["image"])
    writing.save_image(os.path.join(folder, f"{unit}-negative.png"), found["negative_image"])
    writing.save_npz(unit_file(plan, layer, unit), found)


def missing_pieces(plan: Plan) -> dict[tuple[str, int], list[int]]:
    """{(layer, first unit of a piece): the piece's units not written yet}, for the pieces that have any; every unit when
    the folder's atlas is another model's, to be replaced."""
    todo = {}
    for layer in plan.layers:
        count = plan.view.filters(layer)
        for piece in batching.batches(count, plan.piece):
            missing = [unit for unit in range(piece.start, piece.stop)
                       if plan.replaces or not os.path.exists(unit_file(plan, layer, unit))]
            if missing:
                todo[layer, piece.start] = missing
    return todo


def unit_arrays(plan: Plan, layer: str, units: list[int], *keys: str) -> list[np.ndarray]:
    """The named arrays of a layer's units, read from their files and stacked: one layer's at a time, never every layer's."""
    found = []
    for unit in units:
        with np.load(unit_file(plan, layer, unit)) as arrays:
            found.append([arrays[key] for key in keys])
    return [np.stack(column) for column in zip(*found)]


def write_patterns(plan: Plan, units: dict[str, list[int]]) -> dict[str, dict[str, np.ndarray]]:
    """patterns.npz, from every unit's file, a layer at a time; returns each layer's activation and negative_activation."""
    def arrays():
        for layer in plan.layers:
            images, activations, negative_images, negative_activations = unit_arrays(
                plan, layer, units[layer], "image", "activation", "negative_image", "negative_activation")
            yield from ((f"{layer}_images", writing.squeezed(images)), (f"{layer}_filters", np.array(units[layer])),
                        (f"{layer}_activations", activations), (f"{layer}_negative_images", writing.squeezed(negative_images)),
                        (f"{layer}_negative_activations", negative_activations))

    writing.save_npz(os.path.join(plan.out, "patterns.npz"), arrays())
    return {layer: dict(zip(("activation", "negative_activation"),
                            unit_arrays(plan, layer, units[layer], "activation", "negative_activation"))) for layer in plan.layers}
