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
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import api, dataset_examples, settings
from cnn_note.backend import keras
from cnn_note.core import batching, inputs
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io import writing
from cnn_note.io.progress import log_lines
from cnn_note.network_atlas import on_ray, wiring
from cnn_note.optvis import ascent, parameterisation, render
from cnn_note.results import Pictures

HISTOGRAM_BINS = 30
# Units ascended together, in pieces that start at multiples of PIECE: a unit's batch, and so its pictures to the last
# bit (a batch's size can change a float's rounding), is the same in one process and on any Ray worker.
PIECE = 8
# Inputs a Ray task scans: a multiple of dataset_examples.SHARD, so the shards batch their inputs as one pass does.
SHARD_INPUTS = dataset_examples.SHARD
MANIFEST = "manifest.json"


def slug(name: str, index: int) -> str:
    """A file name for layer number `index`: its index and the letters, digits, - and _ of its name, never a path."""
    return f"{index}-{re.sub(r'[^A-Za-z0-9_-]+', '-', name).strip('-')[:40] or 'layer'}"


def default_out(view: View, model) -> str:
    """results/atlas/<model name>/: a model file's folder when the file is called model.keras (train_cnn.py's), else its stem."""
    if isinstance(model, (str, os.PathLike)) and os.path.exists(model):
        stem = os.path.splitext(os.path.basename(os.fspath(model)))[0]
        name = os.path.basename(os.path.dirname(os.path.abspath(model))) if stem == "model" else stem
    else:
        name = view.model.name if isinstance(model, (keras.Model, View)) else str(model)
    return os.path.join("results", "atlas", re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip(".-") or "model")


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


@dataclasses.dataclass
class Plan:
    """Everything an atlas needs, checked before anything is written."""

    view: View
    out: str
    layers: list[str]
    keys: dict[str, str]  # layer -> its file name (see slug)
    piece: int  # units ascended together (see PIECE)
    chosen: settings.PictureSettings
    examples: int
    source: dataset_examples.Source | None
    class_inputs: int
    connections: int
    class_names: list[str] | None
    manifest: dict


def weights_digest(model: keras.Model) -> str:
    """A fingerprint of the model's weights: an atlas resumed on a retrained model would mix two models."""
    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(weight)).tobytes())
    return digest.hexdigest()[:16]


def check_out(out: str) -> None:
    """--out must be a folder or not exist yet."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise InputError(Argument("out", out), " is a file, not a folder: give a folder for the atlas (it is made if missing)")


def check_manifest(out: str, manifest: dict) -> None:
    """Refuse an --out that holds an atlas of other settings."""
    path = os.path.join(out, MANIFEST)
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as handle:
            old = json.load(handle)
    except (OSError, ValueError) as error:
        raise InputError(f"{path} cannot be read ({error}): delete it, or give another ", Argument("out")) from None
    differ = next((key for key in sorted({*old, *manifest}) if old.get(key) != manifest.get(key)), None)
    if differ:
        raise InputError(Argument("out", out), f" holds an atlas made with other settings ({differ}: {old.get(differ)!r} there, "
                         f"{manifest.get(differ)!r} now): give the same settings to resume it, or another ", Argument("out"))


def plan(model, out: str | None, layers: Sequence[str] | None, *, input_range=None, preprocess=None, head: str = "auto",
         output=None, class_names: list[str] | None = None, examples: int = settings.EXAMPLES, examples_from=None,
         data: str | None = None, class_inputs: int = settings.CLASS_INPUTS, connections: int = settings.CONNECTIONS,
         log: Callable[[str], None] = print, **how) -> Plan:
    """Check every input and settle what the atlas holds; writes nothing."""
    view = inputs.view_of(model, input_range, preprocess, head, output)
    chosen = settings.make(settings.PictureSettings, "atlas", how)
    for name, value in (("examples", examples), ("class_inputs", class_inputs), ("connections", connections)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{name}={value!r}: it must be a whole number of at least 0")
    out = out or default_out(view, model)
    check_out(out)
    layers = list(layers) if layers else view.conv_layer_names()
    view.check_layers(layers)
    if len(set(layers)) != len(layers):
        raise InputError(Argument("layers"), " names a layer twice: give each layer once")
    need = view.smallest_side(layers)
    if chosen.size < need:
        raise InputError(Argument("size", chosen.size), f" is too small for {', '.join(layers)}: use at least {need}")
    # A piece must fit in memory: refused now, not mid-run; a layer too large for PIECE at once takes fewer (everywhere).
    piece = min(render.batch_size(view, layer, PIECE, chosen.size) for layer in layers)
    names = view.class_names(class_names) if view.classes() else None
    source = dataset_examples.example_source(view, examples_from, examples, log, mnist=data) if examples else None
    manifest = {"atlas": 1, "model": view.label, "weights": weights_digest(view.model), "input_range": input_range and list(input_range),
                "preprocess": preprocess, "head": head, "output": output, "layers": layers,
                "pictures": dataclasses.asdict(chosen), "examples": examples,
                "examples_from": None if source is None else f"{source.description} ({len(source)} inputs)",
                "class_inputs": class_inputs, "connections": connections, "class_names": names,
                "piece": piece}  # units ascended together: a resumed atlas of another piece would round otherwise
    check_manifest(out, manifest)
    keys = {layer: slug(layer, index) for index, layer in enumerate(layers)}
    return Plan(view, out, layers, keys, piece, chosen, examples, source, class_inputs, connections, names, manifest)


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
    """{(layer, first unit of a piece): the piece's units not written yet}, for the pieces that have any."""
    todo = {}
    for layer in plan.layers:
        count = plan.view.filters(layer)
        for piece in batching.batches(count, plan.piece):
            missing = [unit for unit in range(piece.start, piece.stop) if not os.path.exists(unit_file(plan, layer, unit))]
            if missing:
                todo[layer, piece.start] = missing
    return todo


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
        view, Pictures(unit_arrays(plan, layer, units[layer], "image")[0], units[layer], pictures[layer]["activation"], "", [], layer),
        ranked[layer]) for layer in plan.layers}
    histograms = {layer: {f"{layer}_histogram": counts[layer], f"{layer}_histogram_edges": edges[layer]} for layer in plan.layers}
    writing.save_npz(os.path.join(plan.out, "examples.npz"), dataset_examples.examples_arrays(drawn, source, histograms))
    return ranked, {layer: (counts[layer], edges[layer]) for layer in units}, {layer: found.optimised for layer, found in drawn.items()}


def make(model, plan: Plan, ray: str | None = None, convention: tuple = (None, None), progress: bool = True,
         log: Callable[[str], None] = print) -> str:
    """Write the atlas that `plan` describes: the units missing from --out, then the scan, the arrays and the site."""
    from cnn_note.io.progress import Bar
    from cnn_note.network_atlas import site

    view, out = plan.view, plan.out
    todo = missing_pieces(plan)
    total = sum(view.filters(layer) for layer in plan.layers)
    left = sum(len(units) for units in todo.values())
    units = {layer: list(range(view.filters(layer))) for layer in plan.layers}
    with contextlib.ExitStack() as stack:
        # Ray is joined before anything is written: a cluster that cannot be reached leaves --out as it was.
        session = stack.enter_context(on_ray.ray_session(ray)) if ray and (left or plan.source is not None) else None
        work = on_ray.RayWork(session, model, view, convention, stack.enter_context(tempfile.TemporaryDirectory())) \
            if session else None
        writing.ensure_writable(out)
        if not os.path.exists(os.path.join(out, MANIFEST)):
            writing.write_json(os.path.join(out, MANIFEST), plan.manifest)
        for key in plan.keys.values():
            os.makedirs(os.path.join(out, key), exist_ok=True)
        log(f"atlas: {total - left} of {total} units found done in {out}; {left} to compute"
            + (f" with Ray ({ray})" if session else ""))
        start = time.perf_counter()
        with Bar(left, "atlas", "unit", progress) as bar:
            def arrived(layer: str, first: int, found: dict) -> None:
                for unit in todo[layer, first]:  # the piece's units already written stay as they are
                    save_unit(plan, layer, unit, {key: value[unit - first] for key, value in found.items()})
                    bar.on_progress()

            if work:
                work.run(worker_piece, [(layer, first, min(plan.piece, view.filters(layer) - first), plan.chosen)
                                        for layer, first in todo], lambda result: arrived(*result))
            else:
                for layer, first in todo:
                    arrived(layer, first, piece_pictures(view, layer, first, min(plan.piece, view.filters(layer) - first),
                                                         plan.chosen))
        if left:
            log(f"atlas: {left} units x 2 pictures x {plan.chosen.steps} steps in {time.perf_counter() - start:.1f} s")
        pictures = write_patterns(plan, units)
        ranked, counts, optimised = scan_inputs(plan, units, pictures, work, progress, log) if plan.source is not None else ({}, {}, {})

    links, contributions, conn = {}, {}, {}
    for layer in plan.layers:
        below = wiring.incoming(view, layer, plan.layers)
        if below is not None:
            norms, signs = wiring.weight_norms(view, layer)
            links[layer] = (below, norms, signs)
    classes = view.classes() if view.classes() and view.head.kind != "regression" else None  # a value has no classes
    if classes and plan.source is not None and plan.class_inputs:
        explained = plan.layers if classes <= settings.MAX_CLASSES else plan.layers[-1:]
        for layer in explained:
            contributions[layer] = wiring.class_contributions(view, layer, plan.source, plan.class_inputs)
    for layer in plan.layers:
        if layer in links:
            below, norms, signs = links[layer]
            order, values = wiring.strongest(norms, plan.connections)
            conn.update({f"{layer}_in_units": order, f"{layer}_in_norms": values, f"{layer}_in_layer": np.array(below),
                         f"{layer}_in_signs": np.take_along_axis(signs.T, order, axis=1)})
        if layer in contributions:
            conn[f"{layer}_class_contributions"] = contributions[layer]
    writing.save_npz(os.path.join(out, "connections.npz"), conn)

    class_page = None
    if classes and classes <= settings.MAX_CLASSES and plan.source is not None:
        drawn = api.class_pictures(view, class_names=plan.class_names, progress=False,
                                   **dataclasses.asdict(plan.chosen))
        sure = most_sure(view, plan.source, plan.class_inputs or len(plan.source), max(plan.examples, 1))
        class_page = (drawn, sure)
    site.write(plan, pictures, ranked, counts, optimised, links, contributions, class_page)
    log(f"atlas written to {out}/ (open {os.path.join(out, 'index.html')})")
    return out


def atlas(model, out: str | None = None, layers: Sequence[str] | None = None, *, input_range=None, preprocess=None,
          head: str = "auto", output=None, class_names: list[str] | None = None, examples: int = settings.EXAMPLES,
          examples_from=None, data: str | None = None, class_inputs: int = settings.CLASS_INPUTS,
          connections: int = settings.CONNECTIONS, ray: str | bool | None = None, progress: bool = True,
          log: Callable[[str], None] | None = None, **how) -> str:
    """Write a browsable atlas of every unit of the model's conv layers, a static web site, and return its folder.

    Each unit gets a page: the pictures that maximise and minimise its mean activation, the inputs that excite it most
    and least cut to its receptive field, a histogram of its strongest response, its strongest connections and the
    classes it pushes up and down. The pictures are filter_pictures' own, ascended in pieces of 8 units, each piece
    written as it is done: the same call again resumes where a stopped one left off.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of; with `ray`,
            not a View: the workers load the model anew).
        out: the folder to write (made if missing; default results/atlas/<model name>/).
        layers: the layers to map (default: every conv layer that --list-layers shows).
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        head: what the output is: "auto" (read from the last layer), "softmax", "logits", "sigmoid" or "regression".
        output: the output to score, by its layer's name or its index, for a model with several.
        class_names: a name per class, for classes.html and the units' pages.
        examples: how many inputs to show per unit, the most exciting and the least (9; 0: none).
        examples_from: the inputs to rank, as filter_pictures takes them (default: the MNIST test set for a 1-channel
            model, none for a colour one).
        data: the MNIST npz the default examples come from (default: as load_mnist finds it).
        class_inputs: how many of the inputs each unit's contribution to each class is averaged over (1,000).
        connections: how many of the strongest incoming and outgoing connections each unit's page lists (5).
        ray: True to run the pictures and the dataset scan as Ray tasks on this machine, or a cluster's address
            ("auto", "host:6379" or "ray://host:10001"); None: in this process.
        progress: whether to show progress bars and print the lines.
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: the pictures' settings, as filter_pictures' (settings.PictureSettings): size, param, steps, step_size, jitter,
            blur, seed.

    Returns:
        str: the folder written, holding index.html, a page per layer and per unit, classes.html, and the arrays
            (patterns.npz, examples.npz, connections.npz).

    Raises:
        InputError: an unknown layer or one named twice; a size too small for the layers; examples, class_inputs or
            connections not a whole number of at least 0; more examples than inputs; an `out` that is a file, or holds
            an atlas made with other settings; a View with `ray`, Ray not installed, or no cluster at the address; a
            model the tools do not take (see view_of). Nothing is written then.
    """
    log = log_lines(log, progress)
    chosen = plan(model, out, layers, input_range=input_range, preprocess=preprocess, head=head, output=output,
                  class_names=class_names, examples=examples, examples_from=examples_from, data=data,
                  class_inputs=class_inputs, connections=connections, log=log, **how)
    address = "local" if ray is True else (ray or None)
    if address and isinstance(model, View):
        raise InputError("ray= takes the model itself (a keras.Model, a file or a network name) with input_range= or "
                         "preprocess=, not a View: Ray's workers load the model and its pixel convention anew")
    return make(model, chosen, address, (input_range, preprocess), progress, log)
