"""An atlas's units: each one's pictures, ascended in pieces of PIECE units, written to a file of its own as it is done.

The pictures are cn.filter_pictures' own (render.filter_patterns), ascended in pieces of PIECE
units that start at multiples of PIECE, each unit from its row of the layer's starting pictures:
a unit's picture depends on the model, the layer, the unit and the settings only, never on which
process or worker made it, so the atlas made in one process and the one made by Ray tasks on any
number of workers are identical.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from cnn_note import settings
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.io import writing
from cnn_note.network_atlas import on_ray
from cnn_note.network_atlas.plan import Plan
from cnn_note.optvis import ascent, parameterisation, render
from cnn_note.results import layers_of


class UnitPictures(NamedTuple):
    """A unit's file, its fields its keys: the pictures (H, W, C) that maximise and minimise its mean activation, and
    those activations. Stacked, a piece's or a layer's units (read_units; a field not read is None)."""

    image: np.ndarray | None = None
    activation: np.ndarray | None = None
    negative_image: np.ndarray | None = None
    negative_activation: np.ndarray | None = None

    @classmethod
    def from_npz(cls, path: str, fields: tuple[str, ...] = ()) -> UnitPictures:
        """Read a unit's file: the named fields alone, else all of them."""
        with np.load(path) as saved:
            return cls(**{name: saved[name] for name in fields or cls._fields})

    def unit(self, index: int) -> UnitPictures:
        """Unit `index` of stacked units."""
        return UnitPictures(*(value[index] for value in self))


def piece_pictures(view: View, layer: str, first: int, count: int, chosen: settings.PictureSettings) -> UnitPictures:
    """Units first .. first + count - 1 of `layer`: the pictures that maximise and minimise each one's mean activation,
    and those activations, ascended together by cn.filter_pictures' code (render.filter_patterns) as one batch."""
    param = parameterisation.choose(view.channels, chosen)
    steps = ascent.AscentSettings.of(chosen)
    found = []
    for negative in (False, True):
        found += render.filter_patterns(view, layer, range(first, first + count), chosen.size, steps, chunk=count, param=param,
                                        negative=negative, offset=first)
    return UnitPictures(*found)


def worker_piece(model: bytes | str, suffix: str, convention: tuple, layer: str, first: int, count: int,
                 chosen: settings.PictureSettings) -> tuple[str, int, UnitPictures]:
    """A Ray task: one piece of a layer's units (see piece_pictures)."""
    return layer, first, piece_pictures(on_ray.worker_view(model, suffix, convention), layer, first, count, chosen)


def unit_file(plan: Plan, layer: str, unit: int) -> str:
    """Where a unit's arrays go: the file whose presence says the unit is done."""
    return os.path.join(plan.out, plan.keys[layer], f"{unit}.npz")


def save_unit(plan: Plan, layer: str, unit: int, found: UnitPictures) -> None:
    """A unit's pictures as PNGs and its arrays, each written whole; the arrays last, as they mark the unit done."""
    folder = os.path.join(plan.out, plan.keys[layer])
    writing.save_image(os.path.join(folder, f"{unit}.png"), found.image)
    writing.save_image(os.path.join(folder, f"{unit}-negative.png"), found.negative_image)
    writing.save_npz(unit_file(plan, layer, unit), found._asdict())


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


def read_units(plan: Plan, layer: str, units: list[int], *fields: str) -> UnitPictures:
    """The named fields (all, when none is named) of a layer's units, read from their files and stacked: one layer's at a
    time, never every layer's."""
    found = [UnitPictures.from_npz(unit_file(plan, layer, unit), fields) for unit in units]
    return UnitPictures(*(None if column[0] is None else np.stack(column) for column in zip(*found)))


def patterns_arrays(layer: str, units: list[int], found: UnitPictures) -> dict[str, np.ndarray]:
    """patterns.npz's entries for a layer: its units and their stacked pictures (grey ones as (N, H, W)) and activations,
    the negative ones where `found` has them (visualize_filters.py's patterns.npz has none)."""
    arrays = {"images": found.image, "filters": np.array(units), "activations": found.activation, "negative_images": found.negative_image,
              "negative_activations": found.negative_activation}
    return {f"{layer}_{key}": writing.squeezed(value) if key.endswith("images") else value for key, value in arrays.items()
            if value is not None}


def read_patterns(path: str) -> dict[str, tuple[list[int], UnitPictures]]:
    """A patterns.npz: each layer's units and their stacked pictures, as it holds them (see patterns_arrays)."""
    found = {}
    with np.load(path) as saved:
        for layer in layers_of(saved.files, "filters"):
            stacked = (saved.get(f"{layer}_{key}") for key in ("images", "activations", "negative_images", "negative_activations"))
            found[layer] = saved[f"{layer}_filters"].tolist(), UnitPictures(*stacked)
    return found


def write_patterns(plan: Plan, units: dict[str, list[int]]) -> dict[str, UnitPictures]:
    """patterns.npz, from every unit's file, a layer at a time; returns each layer's activations (the pictures left out)."""
    kept = {}

    def arrays():  # a layer's pictures at a time, never every layer's; its activations kept, so no file is read twice
        for layer in plan.layers:
            found = read_units(plan, layer, units[layer])
            kept[layer] = found._replace(image=None, negative_image=None)
            yield from patterns_arrays(layer, units[layer], found).items()

    writing.save_npz(os.path.join(plan.out, "patterns.npz"), arrays())
    return kept
