"""An atlas of a whole network: every unit of the chosen layers with its pictures, dataset examples and connections.

The pictures are cn.filter_pictures' own (render.filter_patterns), ascended in pieces of PIECE
units that start at multiples of PIECE, each unit from its row of the layer's starting pictures:
a unit's picture depends on the model, the layer, the unit and the settings only, never on which
process or worker made it, so the atlas made in one process and the one made by Ray tasks on any
number of workers are identical. Each unit is written when done (atomic writes, a manifest of
the settings first), so the same command again computes only what is missing. With Ray the
dataset scan (top and bottom examples, histograms) goes out too, a task a shard of the inputs,
merged exactly on the driver; the connections and the site are made on the driver.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from cnn_note import api, settings
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.io import writing
from cnn_note.io.progress import log_lines
from cnn_note.network_atlas import on_ray, wiring
from cnn_note.network_atlas.plan import MANIFEST, Plan, plan
from cnn_note.network_atlas.responses import (
    most_sure,
    scan_inputs,
)
from cnn_note.network_atlas.units import UnitPictures, missing_pieces, piece_pictures, save_unit, worker_piece, write_patterns
from cnn_note.results import layers_of


def make(model, plan: Plan, ray: str | None = None, convention: tuple = (None, None, None, None, None), progress: bool = True,
         log: Callable[[str], None] = print, live: bool = True, beside=None) -> str:
    """Write the atlas that `plan` describes: the units missing from --out, then the scan, the arrays, the live page
    (with `beside` answering next to the model, when given) and the site."""
    from cnn_note.network_atlas import live as live_page
    from cnn_note.network_atlas import site

    units = {layer: list(range(plan.view.filters(layer))) for layer in plan.layers}
    todo = missing_pieces(plan)
    with contextlib.ExitStack() as stack:
        # Ray is joined before anything is written: a cluster that cannot be reached leaves --out as it was.
        session = stack.enter_context(on_ray.ray_session(ray)) if ray and (todo or plan.source is not None) else None
        work = on_ray.RayWork(session, model, plan.view, convention, stack.enter_context(tempfile.TemporaryDirectory())) \
            if session else None
        start_folder(plan, log)
        make_units(plan, todo, work, f" with Ray ({ray})" if session else "", progress, log)
        pictures = write_patterns(plan, units)
        ranked, counts, optimised = scan_inputs(plan, units, pictures, work, progress, log) if plan.source is not None else ({}, {}, {})
    links, contributions = write_connections(plan)
    drawn = live_page.write(plan, beside, log) if live else live_page.remove(plan.out)
    site.write(plan, pictures, ranked, counts, optimised, links, contributions, class_page(plan), drawn is not None)
    log(f"atlas written to {plan.out}/ (open {os.path.join(plan.out, 'index.html')})")
    return plan.out


def start_folder(plan: Plan, log: Callable[[str], None]) -> None:
    """--out made (or checked) for writing, another model's atlas in the default folder removed (see plan.check_manifest),
    the manifest written first, a folder per layer."""
    if plan.replaces:
        log(f"atlas: {plan.out} held the atlas of other weights ({plan.replaces}; these are {plan.manifest['weights']}): "
            "replaced by this model's")
        shutil.rmtree(plan.out)
    writing.ensure_writable(plan.out, "out")
    if not os.path.exists(os.path.join(plan.out, MANIFEST)):
        writing.write_json(os.path.join(plan.out, MANIFEST), plan.manifest)
    for key in plan.keys.values():
        os.makedirs(os.path.join(plan.out, key), exist_ok=True)


def make_units(plan: Plan, todo: dict[tuple[str, int], list[int]], work: on_ray.RayWork | None, where: str, progress: bool,
               log: Callable[[str], None]) -> None:
    """The pictures of every unit not yet done, a piece at a time (as Ray tasks with `work`), each unit written as it comes."""
    from cnn_note.io.progress import Bar

    view = plan.view
    total = sum(view.filters(layer) for layer in plan.layers)
    left = sum(len(units) for units in todo.values())
    log(f"atlas: {total - left} of {total} units found done in {plan.out}; {left} to compute" + where)
    start = time.perf_counter()
    with Bar(left, "atlas", "unit", progress) as bar:
        def arrived(layer: str, first: int, found: UnitPictures) -> None:
            for unit in todo[layer, first]:  # the piece's units already written stay as they are
                save_unit(plan, layer, unit, found.unit(unit - first))
                bar.on_progress()

        pieces = [(layer, first, min(plan.piece, view.filters(layer) - first), plan.chosen) for layer, first in todo]
        if work:
            work.run(worker_piece, pieces, lambda result: arrived(*result))
        else:
            for layer, first, count, chosen in pieces:
                arrived(layer, first, piece_pictures(view, layer, first, count, chosen))
    if left:
        log(f"atlas: {left} units x 2 pictures x {plan.chosen.steps} steps in {time.perf_counter() - start:.1f} s")


def classes_of(plan: Plan) -> int | None:
    """How many classes the atlas shows the units push, or None (no classifier; a regression's value has no classes)."""
    view = plan.view
    return view.classes() if view.classes() and view.head.kind != "regression" else None


class Connections(NamedTuple):
    """A layer's entries in connections.npz, f"{layer}_{field}" for each field it has: its strongest incoming weights
    (none where it reads the pixels) and its units' class contributions (where they were worked out)."""

    in_units: np.ndarray | None = None  # (F, k) each unit's k units below with the strongest weights, strongest first
    in_norms: np.ndarray | None = None  # (F, k) those weights' norms
    in_layer: np.ndarray | None = None  # the layer below's name, a 0-d string array
    in_signs: np.ndarray | None = None  # (F, k) those weights' signs
    class_contributions: np.ndarray | None = None  # (F, classes) each unit's contribution to each class's score


def connections_arrays(found: dict[str, Connections]) -> dict[str, np.ndarray]:
    """connections.npz's entries: each layer's Connections, the fields it has."""
    return {f"{layer}_{name}": value for layer, connections in found.items() for name, value in connections._asdict().items()
            if value is not None}


def read_connections(path: str) -> dict[str, Connections]:
    """connections.npz, each layer's Connections (see connections_arrays); the layers with none are not in it."""
    with np.load(path) as saved:
        return {layer: Connections(**{name: saved[f"{layer}_{name}"] for name in Connections._fields if f"{layer}_{name}" in saved.files})
                for layer in layers_of(saved.files, *Connections._fields)}


def write_connections(plan: Plan) -> tuple[dict, dict]:
    """connections.npz: each layer's strongest incoming weights and, over the inputs, its units' class contributions;
    returns the weights ({layer: (layer below, norms, signs)}) and the contributions ({layer: (units, classes)})."""
    view, links, contributions, found = plan.view, {}, {}, {}
    for layer in plan.layers:
        below = wiring.incoming(view, layer, plan.layers)
        if below is not None:
            norms, signs = wiring.weight_norms(view, layer)
            links[layer] = (below, norms, signs)
    classes = classes_of(plan)
    if classes and plan.source is not None and plan.class_inputs:
        explained = plan.layers if classes <= settings.MAX_CLASSES else plan.layers[-1:]
        for layer in explained:
            contributions[layer] = wiring.class_contributions(view, layer, plan.source, plan.class_inputs)
    for layer in plan.layers:
        found[layer] = Connections(class_contributions=contributions.get(layer))
        if layer in links:
            below, norms, signs = links[layer]
            order, values = wiring.strongest(norms, plan.connections)
            found[layer] = found[layer]._replace(in_units=order, in_norms=values, in_layer=np.array(below),
                                                 in_signs=np.take_along_axis(signs.T, order, axis=1))
    writing.save_npz(os.path.join(plan.out, "connections.npz"), connections_arrays(found))
    return links, contributions


def class_page(plan: Plan) -> tuple | None:
    """classes.html's content: each class's picture and the inputs the model is most sure of, for a small classifier."""
    classes = classes_of(plan)
    if not (classes and classes <= settings.MAX_CLASSES and plan.source is not None):
        return None
    drawn = api.class_pictures(plan.view, class_names=plan.class_names, progress=False, **dataclasses.asdict(plan.chosen))
    return drawn, most_sure(plan.view, plan.source, plan.class_inputs or len(plan.source), max(plan.examples, 1))


def atlas(model, out: str | None = None, layers: Sequence[str] | None = None, *, input_range=None, preprocess=None,
          head: str = "auto", output=None, grid: tuple[int, int] | None = None, picture: str | int | None = None, held=None,
          class_names: list[str] | None = None,
          examples: int = settings.EXAMPLES, examples_from=None, data: str | None = None, class_inputs: int = settings.CLASS_INPUTS,
          connections: int = settings.CONNECTIONS, ray: str | bool | None = None, live: bool = True, beside=None,
          progress: bool = True, log: Callable[[str], None] | None = None, **how) -> str:
    """Write a browsable atlas of every unit of the model's conv layers, a static web site, and return its folder.

    Each unit gets a page: the pictures that maximise and minimise its mean activation, the inputs that excite it most
    and least cut to its receptive field, a histogram of its strongest response, its strongest connections and the
    classes it pushes up and down. The pictures are filter_pictures' own, ascended in pieces of 8 units, each piece
    written as it is done: the same call again resumes where a stopped one left off.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of; with `ray`,
            not a View: the workers load the model anew).
        out: the folder to write (made if missing; default results/atlas/<model name>/, where an atlas of other
            weights, such as the committed one beside a CNN the user trained anew, is replaced with a line saying so).
        layers: the layers to map (default: every conv layer that --list-layers shows; a transformer without conv
            layers: its MLP layers).
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        head: what the output is: "auto" (read from the last layer), "softmax", "logits", "sigmoid" or "regression".
        output: the output to score, by its layer's name or its index, for a model with several.
        grid: a transformer's patch grid (height, width) where it cannot be read (see view_of); as --grid HxW.
        picture: a model of several inputs' picture input to map (see view_of); as --picture NAME.
        held: the values its other inputs are held at (see view_of); as --inputs FILE.npz.
        class_names: a name per class, for classes.html and the units' pages.
        examples: how many inputs to show per unit, the most exciting and the least (9; 0: none).
        examples_from: the inputs to rank, as filter_pictures takes them (default: the MNIST test set for a 1-channel
            model, none for a colour one).
        data: the MNIST npz the default examples come from (default: as load_mnist finds it).
        class_inputs: how many of the inputs each unit's contribution to each class is averaged over (1,000).
        connections: how many of the strongest incoming and outgoing connections each unit's page lists (5).
        ray: True to run the pictures and the dataset scan as Ray tasks on this machine, or a cluster's address
            ("auto", "host:6379" or "ray://host:10001"); None: in this process.
        live: also write live.html, where the model runs in the browser on what the reader draws (see cnn_note.live);
            a model the page cannot run gets one line saying why, and the rest of the atlas.
        beside: a model answering next to it on the live page (a keras.Model, a file or a View), such as the note's DNN
            (results/dnn/model.keras) beside its CNN; its input must be the same size.
        progress: whether to show progress bars and print the lines.
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: the pictures' settings, as filter_pictures' (settings.PictureSettings): size, param, steps, step_size, jitter,
            blur, seed.

    Returns:
        str: the folder written, holding index.html, a page per layer and per unit, classes.html, live.html (and its
            folder live/), and the arrays (patterns.npz, examples.npz, connections.npz).

    Raises:
        InputError: an unknown layer or one named twice; a size too small for the layers; examples, class_inputs or
            connections not a whole number of at least 0; more examples than inputs; an `out` that is a file, or holds
            an atlas made with other settings (in the default folder: of the same weights);
            a View with `ray`, Ray not installed, or no cluster at the address; a
            model the tools do not take (see view_of). Nothing is written then.
    """
    log = log_lines(log, progress)
    chosen = plan(model, out, layers, input_range=input_range, preprocess=preprocess, head=head, output=output, grid=grid,
                  picture=picture, held=held, class_names=class_names, examples=examples, examples_from=examples_from, data=data,
                  class_inputs=class_inputs, connections=connections, log=log, **how)
    from cnn_note.network_atlas.live import beside_view

    beside = beside_view(beside, chosen) if live else None  # refused before any work
    address = "local" if ray is True else (ray or None)
    if address and isinstance(model, View):
        raise InputError("ray= takes the model itself (a keras.Model, a file or a network name) with input_range= or "
                         "preprocess=, not a View: Ray's workers load the model and its pixel convention anew")
    return make(model, chosen, address, (input_range, preprocess, grid, picture, held), progress, log, live, beside)
