"""The note's two networks, and views of a trained CNN for looking inside it."""

from __future__ import annotations

import os
import zipfile

from cnn_note.backend import keras

from cnn_note.cli import InputError
from cnn_note.data import IMAGE_SHAPE, NUM_CLASSES


def build_dnn(dtype: str = "float32") -> keras.Sequential:
    """Dense 784-500-500-500-10, ReLU then softmax: 898,510 parameters."""
    return keras.Sequential(
        [
            keras.Input((IMAGE_SHAPE[0] * IMAGE_SHAPE[1],)),
            keras.layers.Dense(500, activation="relu", name="dense1", dtype=dtype),
            keras.layers.Dense(500, activation="relu", name="dense2", dtype=dtype),
            keras.layers.Dense(500, activation="relu", name="dense3", dtype=dtype),
            # softmax in float32 even under mixed precision, so the loss stays exact.
            keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output", dtype="float32"),
        ],
        name="dnn",
    )


def build_cnn(conv_activation: str | None = None, dtype: str = "float32") -> keras.Sequential:
    """Conv(25,3x3) > pool 2 > Conv(50,3x3) > pool 2 > flatten > Dense(100) > Dense(10): 137,660 parameters.

    The note's convolutions have no activation (conv_activation=None); channels_last throughout.
    """
    return keras.Sequential(
        [
            keras.Input((*IMAGE_SHAPE, 1)),
            keras.layers.Conv2D(25, 3, activation=conv_activation, name="conv1", dtype=dtype),
            keras.layers.MaxPooling2D(2, name="pool1", dtype=dtype),
            keras.layers.Conv2D(50, 3, activation=conv_activation, name="conv2", dtype=dtype),
            keras.layers.MaxPooling2D(2, name="pool2", dtype=dtype),
            keras.layers.Flatten(name="flatten", dtype=dtype),
            keras.layers.Dense(100, activation="relu", name="dense", dtype=dtype),
            keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output", dtype="float32"),
        ],
        name="cnn",
    )


def load_trained(path: str, command: str) -> keras.Model:
    """Load a saved model with Keras' safe mode on; a missing or foreign file says how to make one."""
    if not os.path.isfile(path):
        raise InputError(f"no trained model at {path}: run `{command}` first (or pass --model PATH)")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (ValueError, OSError, TypeError, KeyError, zipfile.BadZipFile) as error:
        raise InputError(f"{path} is not a Keras model file ({type(error).__name__}): re-create it with `{command}`") from None


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers, in order."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def check_layers(model: keras.Model, names: list[str]) -> None:
    """Fail with the list of conv layers when a requested name is not one of them."""
    known = conv_layer_names(model)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InputError(f"unknown layer {', '.join(unknown)}: this model's conv layers are {', '.join(known)}")


def conv_features(model: keras.Model, names: list[str]) -> keras.Model:
    """The model's layers up to the deepest of `names`, on an input of any height and width.

    Returns a model whose outputs are those layers' activations, in the order asked. Layers are
    shared, not copied, so the trained weights are used as they are.
    """
    check_layers(model, names)
    inputs = keras.Input((None, None, 1))
    outputs, x = {}, inputs
    for layer in model.layers:
        x = layer(x)
        if layer.name in names:
            outputs[layer.name] = x
        if len(outputs) == len(names):
            break
    return keras.Model(inputs, [outputs[name] for name in names])


def layer_input(model: keras.Model, name: str) -> keras.Model:
    """The model's layers before `name`, on an input of any height and width: what `name` receives."""
    check_layers(model, [name])
    inputs = keras.Input((None, None, 1))
    x = inputs
    for layer in model.layers:
        if layer.name == name:
            break
        x = layer(x)
    return keras.Model(inputs, x)


def class_logits(model: keras.Model) -> keras.Model:
    """The classifier with its final softmax removed: class scores before normalisation."""
    last = model.layers[-1]
    logits_layer = keras.layers.Dense.from_config({**last.get_config(), "activation": "linear", "name": "logits"})
    inputs = keras.Input(model.input_shape[1:])
    x = inputs
    for layer in model.layers[:-1]:
        x = layer(x)
    outputs = logits_layer(x)
    logits_layer.set_weights(last.get_weights())
    return keras.Model(inputs, outputs)
