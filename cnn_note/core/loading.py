"""What a model is, settled in one place: a keras.Model in memory, a model file, or a keras.applications network by name."""

from __future__ import annotations

import os

from cnn_note.backend import keras
from cnn_note.core import networks
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.note import models


def load(spec: keras.Model | str | os.PathLike, command: str, input_range: tuple[float, float] | None = None, preprocess: str | None = None,
         maps: bool = True, head: str = "auto", output: str | int | None = None) -> View:
    """A View of a keras.Model in memory, a Keras model file (.keras or .h5) or a keras.applications network by name
    (the rest: see View.of); `command` is what makes the missing model file."""
    if isinstance(spec, keras.Model):
        return View.of(spec, spec.name, networks.pixel_convention(input_range, preprocess), maps, head, output)
    if not isinstance(spec, (str, os.PathLike)):
        raise InputError(f"a {type(spec).__name__} is not a model: give a keras.Model, a model file (.keras or .h5) or a "
                         f"keras.applications network name such as {', '.join(list(networks.NETWORKS)[:4])}")
    spec = os.fspath(spec)
    if not os.path.exists(spec) and not spec.endswith((".keras", ".h5")) and os.sep not in spec:
        return network(spec, head, output)
    model = models.load_trained(spec, f"run `{command}`, pass another --model file, "
                                      f"or a network name such as {', '.join(list(networks.NETWORKS)[:4])}")
    return View.of(model, os.path.basename(spec), networks.pixel_convention(input_range, preprocess), maps, head, output)


def network(name: str, head: str = "auto", output: str | int | None = None) -> View:
    """A keras.applications network with its ImageNet weights (Keras downloads and caches them once), fed its own preprocessing."""
    return View.of(networks.build(name), name, networks.pixel_convention(None, networks.NETWORKS[name][1]), head=head, output=output)
