"""What makes a Keras model one the look-inside tools can open: a picture input (the others held: core.held), channels
last, finite weights."""

from __future__ import annotations

import inspect
import math

from cnn_note.backend import keras
from cnn_note.core import held
from cnn_note.core.heads import check_asked
from cnn_note.core.traversal import run_through
from cnn_note.errors import Argument, Command, InputError, raised


def image_model(model: keras.Model, label: str, maps: bool = True, head: str = "auto", shape: tuple | None = None,
                picture: str | int | None = None) -> keras.Model:
    """`model` checked to be an image model with channels last and finite weights; one line when it is not.

    A model of several inputs is returned as one of its picture input (`picture`, else the first), the others held
    (held.picture_model).

    With maps=False (explaining a decision needs no feature maps) a model on flat vectors of a
    square's pixels, the note's DNN, is returned as one on grey square images (square_images).
    A subclassed model is returned as a functional one over its own layers (traced); `shape`, one
    picture's (height, width, channels), is what it is traced on when it has never been called.
    """
    if not isinstance(model, keras.Model):
        raise InputError(f"{label} is a {type(model).__name__}, not a keras.Model: give a Keras model, a model file or a network name")
    try:
        _ = model.inputs  # a Sequential with no input yet, or a subclassed model, has none to read
    except AttributeError:
        if isinstance(model, keras.Sequential):
            raise InputError(f"{label} is a Sequential with no input yet, with no graph of layers to walk: build it with "
                             "keras.Input first, as keras.Sequential([keras.Input(shape), ...])") from None
        model = traced(model, label, shape)
    if len(model.inputs) != 1:
        model = held.picture_model(model, label, picture)
    elif picture not in (None, 0, held.input_name(model.inputs[0])):
        held.picture_index(model, label, picture)  # one line naming the model's only picture input
    if not maps and len(model.input_shape) == 2 and math.isqrt(model.input_shape[-1] or 0) ** 2 == model.input_shape[-1]:
        model = square_images(model)
    shape = model.input_shape
    first = [layer for layer in model.layers if getattr(layer, "data_format", None) == "channels_first"]
    if first:
        raise InputError(
            f"{label}'s layer {first[0].name} is channels_first, and looking inside needs channels-last maps "
            "(the note's code as written, ", Argument("layout", python="cn.build_cnn(layout='note')", flag="train_cnn.py --layout note"),
            ", has conv1 so and reads it channels_last after): "
            "look inside a CNN trained with ", Argument("layout", python="layout='intended'", flag="--layout intended"), " (the default)")
    if len(shape) != 4 or shape[-1] not in (1, 3):
        raise InputError(f"{label} takes inputs of shape {shape[1:]}, not images (height, width, 1 or 3 channels): "
                         "give a CNN, such as results/cnn/model.keras from ", Command("train_cnn"))
    check_asked(head)
    finite_weights(model, label)
    return model


def finite_weights(model: keras.Model, label: str) -> None:
    """One line when a weight of `model` is NaN or infinite (checked again each time a kept View is handed out)."""
    broken = next((weight.path for weight in model.weights
                   if not bool(keras.ops.all(keras.ops.isfinite(weight)))), None)
    if broken:
        raise InputError(f"{label}'s weights are not all finite ({broken} holds NaN or infinity): its training diverged; "
                         "retrain it (a smaller learning rate, say) or give another model")


def inputs_listed(model: keras.Model) -> str:
    """A model's inputs by name and shape, for a line that refuses several: picture (None, 32, 32, 3), vector (None, 4)."""
    return ", ".join(f"{tensor.name} {tuple(tensor.shape)}" for tensor in model.inputs)


def square_images(model: keras.Model) -> keras.Model:
    """A model on flat vectors of n = side x side pixels, taking grey (side, side, 1) images: a Reshape, then its own layers."""
    length = model.input_shape[-1]
    side = math.isqrt(length)
    pixels = keras.Input((side, side, 1), name="pixels")
    flat = keras.layers.Reshape((length,), name="flat_pixels")(pixels)
    # The model's own layers called again on the flat pixels (as walk() does), so its last layer stays last.
    outputs = run_through(model, flat, model.outputs[0])
    return keras.Model(pixels, outputs, name=model.name)


def built_shape(model: keras.Model) -> tuple | None:
    """One picture's shape as a subclassed model was first called on (Keras records it when it builds), else None."""
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    first = next(iter(shapes.values()), None)
    return tuple(first[1:]) if first is not None and len(first) == 4 else None


def traced(model: keras.Model, label: str, shape: tuple | None = None) -> keras.Model:
    """A subclassed keras.Model as a functional model over its own layers, so the tools walk it as any other.

    Its call() runs once on a symbolic picture (with training=False where it takes that argument):
    each layer it calls is called on Keras tensors, and keras.Model(picture, outputs) is the graph
    those calls made. The layers, and so the weights, are the model's own; its outputs keep their
    layers' names (output="fc6-3"). The picture's shape is the one the model was built on, else `shape`.
    """
    kind = f"subclassed {type(model).__name__}"
    shape = built_shape(model) or (tuple(shape) if shape is not None else None)
    if shape is None:
        raise InputError(f"{label} is a {kind} that has never been called, so the shape of its pictures is not known: call it "
                         "once on a batch of them (model(pictures)), or give pictures to cn.explain, which traces it on theirs")
    picture = keras.Input(shape)
    extra = {"training": False} if "training" in inspect.signature(model.call).parameters else {}
    try:
        return keras.Model(picture, model.call(picture, **extra), name=model.name)
    except Exception as error:  # the user's own call(): whatever it raises is theirs to read, in one line
        raise InputError(f"{label} is a {kind} whose call() cannot run on a symbolic picture of shape {shape} "
                         f"({raised(error)}): build it functionally "
                         "(keras.Model(inputs, outputs)), or call only Keras layers and keras.ops in call()") from None


def wrapped(function, label: str, shape: tuple | None) -> keras.Model:
    """A function from a batch of pictures (N, H, W, C, as the model takes them) to class scores (N, classes), any
    TensorFlow function of them, as a functional model of one Lambda layer, so the methods that need only the input
    and the output take it (it has no maps: Grad-CAM, filter pictures and the atlas refuse it).

    What it returns is read on a probe batch of `shape` (one picture's): rows of probabilities (at least 0, summing to
    1) are a softmax's, and go on as log p under a Softmax, so the score explained is log p (the logit, less what is the
    same for every class) and the probability p itself; anything else is class scores, as a logits head reads them.
    """
    if shape is None:
        raise InputError(f"{label} is a function, whose pictures' shape is not known: give it pictures to explain "
                         "(cn.explain(function, pictures)), which it is called on")
    import numpy as np

    probe = np.random.default_rng(0).random((2, *shape)).astype("float32")
    try:
        scores = np.asarray(function(keras.ops.convert_to_tensor(probe)))
    except Exception as error:  # the user's own function: whatever it raises is theirs to read, in one line
        raise InputError(f"{label} fails on a batch of shape {probe.shape} ({raised(error)}): "
                         "give a function of a (batch, height, width, channels) tensor") from None
    if scores.ndim != 2 or len(scores) != len(probe):
        raise InputError(f"{label} gives {scores.shape} for a batch of {len(probe)} pictures, not (batch, classes) scores: "
                         "return one vector of class scores per picture")
    picture = keras.Input(tuple(shape))
    out = keras.layers.Lambda(function, name="function")(picture)
    if scores.shape[1] >= 2 and (scores >= 0).all() and np.allclose(scores.sum(axis=1), 1, atol=1e-4):
        log = keras.layers.Lambda(lambda p: keras.ops.log(keras.ops.maximum(p, 1e-30)), name="log_probabilities")(out)
        out = keras.layers.Softmax(name="softmax")(log)
    return keras.Model(picture, out, name=label)
