"""What a model is, settled in one place: a keras.Model in memory, a model file, or a keras.applications network by name."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable

from cnn_note.backend import keras
from cnn_note.core import checks, networks
from cnn_note.core.views import View
from cnn_note.errors import Argument, Command, InputError

VIEWS = "_cnn_note_views"  # the attribute of an in-memory model that keeps its Views (see kept)


def load(spec: keras.Model | str | os.PathLike, command: Command, input_range: tuple[float, float] | None = None,
         preprocess: str | None = None, maps: bool = True, head: str = "auto", output: str | int | None = None,
         shape: tuple | None = None, grid: tuple[int, int] | None = None, picture: str | int | None = None, held=None) -> View:
    """A View of a keras.Model in memory, a Keras model file (.keras or .h5) or a keras.applications network by name
    (the rest: see View.of); `command` is what makes the missing model file."""
    if isinstance(spec, keras.Model):
        given = tuple(input_range) if isinstance(input_range, list) else input_range
        grid = None if grid is None else tuple(grid)

        def make() -> View:
            return View.of(spec, spec.name, networks.pixel_convention(input_range, preprocess), maps, head, output, shape, grid, picture,
                           held)

        # Values to hold are arrays, no key: such a View is made anew (its Held layer is its own, the model untouched).
        return make() if held is not None else kept(spec, (spec.name, given, preprocess, maps, head, output, shape, grid, picture), make)
    if callable(spec) and not isinstance(spec, (str, os.PathLike)):  # a Python function or tf.function of the pictures
        label = getattr(spec, "__name__", type(spec).__name__)
        return View.of(checks.wrapped(spec, label, shape), label, networks.pixel_convention(input_range, preprocess), maps, head, output,
                       grid=grid)
    if not isinstance(spec, (str, os.PathLike)):
        raise InputError(f"a {type(spec).__name__} is not a model: give a keras.Model, a model file (.keras or .h5), a "
                         f"function of the pictures, or a keras.applications network name such as {', '.join(list(networks.NETWORKS)[:4])}")
    spec = os.fspath(spec)
    if not os.path.exists(spec) and not spec.endswith((".keras", ".h5")) and os.sep not in spec:
        return network(spec, head, output)
    model = load_trained(spec, "run `", command, "`, pass another ", Argument("model"), " file, "
                         f"or a network name such as {', '.join(list(networks.NETWORKS)[:4])}")
    return View.of(model, os.path.basename(spec), networks.pixel_convention(input_range, preprocess), maps, head, output, shape, grid,
                   picture, held)


def kept(model: keras.Model, settings: tuple, make: Callable[[], View]) -> View:
    """The View of an in-memory `model` with these settings: made on the first ask and kept, so that asking again (an
    explain per picture in a notebook) walks nothing and builds nothing, and adds no call record to the model's layers.

    The Views are kept on the model object itself, out of Keras' sight (no layer, variable or config of it changes),
    so they go when the model goes: a cache keyed weakly on the model would keep it alive forever, since each View
    holds its model. A model whose layers (or their activations) changed since gets a new View. Its weights are
    its own, shared, so training it between two asks shows in the second; they are checked finite at each ask.
    """
    try:
        hash(settings)
    except TypeError:  # settings that cannot be a key (an input range as a numpy array, say): nothing kept
        return make()
    views = vars(model).get(VIEWS)
    if views is None:
        views = {}
        object.__setattr__(model, VIEWS, views)  # past Keras' tracking, which would wrap and follow a dict
    layers = tuple((id(layer), id(getattr(layer, "activation", None))) for layer in model.layers)
    if settings in views and views[settings][0] == layers:
        view = views[settings][1]
        checks.finite_weights(view.model, view.label)
        return view
    view = make()
    views[settings] = (layers, view)
    return view


def network(name: str, head: str = "auto", output: str | int | None = None) -> View:
    """A keras.applications network with its ImageNet weights (Keras downloads and caches them once), fed its own preprocessing."""
    return View.of(networks.build(name), name, networks.pixel_convention(None, networks.NETWORKS[name][1]), head=head, output=output)


def load_trained(path: str, *fix: str | Argument | Command) -> keras.Model:
    """Load a saved model with Keras' safe mode on; a missing or foreign file says what to do (`fix`, a message's parts)."""
    if not os.path.isfile(path):
        raise InputError(f"no trained model at {path}: ", *fix)
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except (ValueError, OSError, TypeError, KeyError, AttributeError, zipfile.BadZipFile) as error:
        if "Could not locate class" in str(error):  # a class of the user's own (a subclassed model), not registered here
            name = str(error).split("'")[1] if "'" in str(error) else "its class"
            raise InputError(f"{path} needs the class {name}, which is not registered here: ",
                             Argument("custom_objects", python="import the module that defines it (with keras.saving."
                                      "register_keras_serializable) first", flag="give --custom-objects FILE, the Python file that defines "
                                      "it with keras.saving.register_keras_serializable")) from None
        raise InputError(f"{path} is not a Keras model file this Keras can load ({type(error).__name__}): ", *fix) from None
