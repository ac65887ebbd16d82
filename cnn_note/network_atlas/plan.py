"""An atlas's plan: the layers, the units, the settings and the folder, every check made before anything is written."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import dataset_examples, settings
from cnn_note.api.looking import mnist_digits
from cnn_note.backend import keras
from cnn_note.core import inputs
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.optvis import parameterisation, render

# Units ascended together, in pieces that start at multiples of PIECE: a unit's batch, and so its pictures to the last
# bit (a batch's size can change a float's rounding), is the same in one process and on any Ray worker.
PIECE = 8
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
    replaces: str | None = None  # the weights digest of another model's atlas in the default folder, replaced when writing


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


def check_manifest(out: str, manifest: dict, default: bool) -> str | None:
    """Refuse an --out that holds an atlas of other settings, except in the `default` folder an atlas of other weights:
    the user who trains their own model and runs the default command gets its atlas there (the committed atlas was
    made from weights trained elsewhere), so that one is to be replaced; returns its weights digest then."""
    path = os.path.join(out, MANIFEST)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            old = json.load(handle)
    except (OSError, ValueError) as error:
        raise InputError(f"{path} cannot be read ({error}): delete it, or give another ", Argument("out")) from None
    if old.get("weights") != manifest["weights"]:
        if default:
            return str(old.get("weights"))
        raise InputError(Argument("out", out), f" holds the atlas of other weights ({old.get('weights')} there, {manifest['weights']} "
                         "now): give another ", Argument("out"), ", or delete that folder to make this model's atlas there")
    differ = next((key for key in sorted({*old, *manifest}) if old.get(key) != manifest.get(key)), None)
    if differ:
        raise InputError(Argument("out", out), f" holds an atlas made with other settings ({differ}: {old.get(differ)!r} there, "
                         f"{manifest.get(differ)!r} now): give the same settings to resume it, or another ", Argument("out"))
    return None


def plan(model, out: str | None, layers: Sequence[str] | None, *, input_range=None, preprocess=None, head: str = "auto",
         output=None, grid: tuple[int, int] | None = None, picture: str | int | None = None, held=None,
         class_names: list[str] | None = None,
         examples: int = settings.EXAMPLES, examples_from=None,
         data: str | None = None, class_inputs: int = settings.CLASS_INPUTS, connections: int = settings.CONNECTIONS,
         log: Callable[[str], None] = print, **how) -> Plan:
    """Check every input and settle what the atlas holds; writes nothing."""
    view = inputs.view_of(model, input_range, preprocess, head, output, grid=grid, picture=picture, held=held, log=log)
    chosen = settings.make(settings.PictureSettings, "atlas", how)
    parameterisation.choose(view.channels, chosen)  # a setting the pictures would ignore: refused before any work
    for name, value in (("examples", examples), ("class_inputs", class_inputs), ("connections", connections)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{name}={value!r}: it must be a whole number of at least 0")
    default = out is None
    out = out or default_out(view, model)
    check_out(out)
    layers = list(layers) if layers else view.conv_layer_names() or view.default_layers()
    view.check_layers(layers)
    if len(set(layers)) != len(layers):
        raise InputError(Argument("layers"), " names a layer twice: give each layer once")
    render.check_size(view, layers, chosen.size)
    # A piece must fit in memory: refused now, not mid-run; a layer too large for PIECE at once takes fewer (everywhere).
    piece = min(render.batch_size(view, layer, PIECE, chosen.size) for layer in layers)
    names = inputs.class_names(view, class_names) if view.classes() else None
    source = dataset_examples.example_source(view, examples_from, examples, log, functools.partial(mnist_digits, data=data)) \
        if examples else None
    manifest = {"atlas": 1, "model": view.label, "weights": weights_digest(view.model), "input_range": input_range and list(input_range),
                "preprocess": preprocess, "head": head, "output": output, "layers": layers,
                "pictures": dataclasses.asdict(chosen), "examples": examples,
                "examples_from": None if source is None else f"{source.description} ({len(source)} inputs)",
                "class_inputs": class_inputs, "connections": connections, "class_names": names,
                "piece": piece}  # units ascended together: a resumed atlas of another piece would round otherwise
    replaces = check_manifest(out, manifest, default)
    keys = {layer: slug(layer, index) for index, layer in enumerate(layers)}
    return Plan(view, out, layers, keys, piece, chosen, examples, source, class_inputs, connections, names, manifest, replaces)
