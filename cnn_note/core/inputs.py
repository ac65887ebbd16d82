"""What the user hands the tools: a model (as a View), pictures (as float32 pixels 0..1) and names for its classes, checked
once here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note.core import networks
from cnn_note.core.held import held_line
from cnn_note.core.loading import load
from cnn_note.core.views import View
from cnn_note.errors import Argument, Command, InputError
from cnn_note.io import imaging, names


def view_of(model, input_range: tuple[float, float] | None = None, preprocess: str | None = None, head: str = "auto",
            output: str | int | None = None, maps: bool = True, input_shape: tuple[int, int, int] | None = None,
            grid: tuple[int, int] | None = None, picture: str | int | None = None, held=None,
            log: Callable[[str], None] | None = None) -> View:
    """The model as the look-inside tools see it: a View, which every call here takes in place of a model.

    Viewing a model once and passing the View to several calls reads a file or builds a network only once. A
    subclassed keras.Model (MTCNN's networks, say) is traced into a functional model over its own layers, its call()
    run once on a symbolic picture, so every tool takes it as it takes any model (see checks.traced).

    Args:
        model: a keras.Model in memory (Sequential, functional or subclassed; a base network nested in a fine-tuned one
            included), a function from a batch of pictures to class scores (see checks.wrapped; with input_shape),
            a model file (.keras or legacy .h5), a keras.applications network by name ("vgg16", "inception_v3", ...:
            built with its ImageNet weights, which Keras downloads once), or a View, returned as it is.
        input_range: the model's own pixel range (low, high) when it is not 0..1, such as (0, 255) for the TensorFlow
            tutorials' models; as --input-range. The tools always work on pixels 0..1 and map them to it.
        preprocess: the keras.applications name whose preprocess_input the model expects (a fine-tuned network saved
            as a file); as --preprocess. A network by name gets its own.
        head: what the output is: "auto" (read from the last layer), "softmax", "logits", "sigmoid" or "regression".
        output: the output to score, by its layer's name or its index, for a model with several.
        maps: whether the model must have a layer with a (batch, height, width, channels) output; False (as explain
            uses) also takes a model on flat vectors of a square's pixels, such as the note's DNN.
        input_shape: one picture's (height, width, channels), to trace a subclassed model that was never called on;
            cn.explain gives its pictures' own.
        grid: a transformer's patch grid (height, width), for tokens whose grid cannot be read from the model (see
            core.tokens: it is read from the patching layer and the input's size where it can be); as --grid HxW.
        picture: for a model of several inputs, the input the tools look at, by name or index (default: the first
            picture input); as --picture NAME.
        held: for a model of several inputs, the values the other inputs are held at while the tools look at the
            picture: a dict by input name (or a list in the inputs' order) of one value each, or rows of values (their
            mean is held); default zeros. As --inputs FILE.npz (arrays named as the inputs). See core.held.
        log: where the line saying what a model of several inputs' other inputs are held at goes (default: nowhere;
            not said again for a View handed back).

    Returns:
        View: the model seen through pixels 0..1: its layers at any input size (layer_table() lists those that can
            be chosen), class scores and probabilities.

    Raises:
        InputError: not a model, a missing or damaged model file, an unknown network name, a model of several inputs
            none of which is a picture (or an unknown `picture`, or `held` values of another shape), channels first,
            weights that are not finite, no 4-D layer (with maps=True), the --layout note CNN, whose maps have no image
            axes, or a subclassed model whose call() cannot be traced (naming the shape tried and what it raised) or
            that was never called, with no input_shape.
    """
    if isinstance(model, View):
        return model  # its other inputs were said when it was made
    view = load(model, Command("train_cnn"), input_range, preprocess, maps, head, output, input_shape, grid, picture, held)
    if log is not None and view.held is not None:
        log(held_line(view.held))
    return view


def pictures_of(images, view: View, what: str = "images", one: bool = False) -> np.ndarray:
    """Pictures as float32 (N, H, W, C) for the view, checked: rank, channels, finite pixels 0..1, not empty."""
    try:
        pixels = np.asarray(images, dtype="float32")
    except (TypeError, ValueError) as error:
        raise InputError(f"{what} are not numbers ({error}): give a numpy array or tensor of pixels 0..1") from None
    if pixels.ndim == 3:
        pixels = pixels[None]
    if pixels.ndim != 4 or pixels.shape[-1] != view.channels or (one and len(pixels) != 1):
        shape = f"(H, W, {view.channels})" if one else f"(N, H, W, {view.channels}) or (H, W, {view.channels}) for one picture"
        raise InputError(f"{what} have shape {pixels.shape}: {view.label} takes {view.channels}-channel pictures, {shape}")
    if not len(pixels):
        raise InputError(f"{what} hold no picture: give at least one")
    if not np.isfinite(pixels).all():
        raise InputError(f"{what} hold NaN or infinite pixels: give finite pixels 0..1")
    if pixels.min() < -1e-3 or pixels.max() > 1 + 1e-3:
        raise InputError(f"{what} have pixels from {pixels.min():g} to {pixels.max():g}, not 0..1: divide 0..255 pictures by 255 "
                         "(the model's own range goes in input_range=, or preprocess=)")
    return pixels


def model_size(view: View, pixels: np.ndarray, log: Callable[[str], None] = print, name: str = "the pictures") -> np.ndarray:
    """Pictures resized to the model's own size when it takes only one, with a line."""
    if view.size and pixels.shape[1:3] != view.size:
        log(f"{name}: {pixels.shape[2]}x{pixels.shape[1]} resized to the model's {view.size[1]}x{view.size[0]}")
        pixels = imaging.resize_area(pixels, view.size)
    return pixels


def class_names(view: View, given: list[str] | None = None) -> list[str]:
    """Names for the view's classes: those given (one per class), else ImageNet's for a network by name when Keras has
    them cached (it never downloads them here), else the class numbers."""
    count = view.classes() or 0
    if given is not None:
        if count and len(given) != count:
            raise InputError(Argument("class_names"), f" gives {len(given)} names but {view.label} has {count} classes: "
                             "give one name per class")
        return given
    cached = names.imagenet_class_names() if view.label in networks.NETWORKS and count == 1000 else None
    return cached or [str(k) for k in range(count)]
