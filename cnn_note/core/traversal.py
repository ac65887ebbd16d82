"""A model's graph walked once on a new input, in inference mode: the tensors every look-inside tool starts from.

The walk calls the model's own layers again (as keras.models.clone_model does), so the trained
weights are used as they are and the user's model is never changed. Every layer that takes a
`training` argument is called with training=False, so the walked graph computes exactly what
`model(x, training=False)` does: augmentation layers (RandomFlip, RandomRotation, RandomZoom, ...)
pass pictures through unchanged, Dropout is off, BatchNormalization uses its moving statistics.
Called plainly, Keras 3's random preprocessing layers default to training=True, and Keras records
that value in the graph, so every later call would augment.
"""

from __future__ import annotations

from typing import NamedTuple

from cnn_note.backend import keras

RELUS = ("relu", "relu6")


class Graph(NamedTuple):
    """The model's graph walked once on a new input: every layer, what it received and gave, in order."""

    input: object
    outputs: list
    layers: dict
    received: dict
    produced: dict


def inference(layer, *args, **kwargs):
    """Call `layer` as model(x, training=False) calls it."""
    if "training" in getattr(layer, "call_signature_parameters", ()):
        kwargs["training"] = False
    return layer(*args, **kwargs)


def run_through(model: keras.Model, inputs, outputs, call_fn=inference):
    """`model`'s own graph from its first input to `outputs` (its tensors), called on `inputs` layer by layer."""
    # Keras' own graph runner, as clone_model uses it; it calls call_fn(layer, *args, **kwargs) for every layer.
    return keras.Model(model.inputs[0], outputs)._run_through_graph(inputs, call_fn=call_fn)


def walk(model: keras.Model) -> Graph:
    """Call the model's own layers again on a new input, in inference mode, recording every tensor.

    A model nested in it (a keras.applications base inside a fine-tuned classifier, an augmentation
    Sequential) is walked layer by layer too, so its layers can be chosen like any other. The
    tensors recorded here belong to this walk alone: a layer's own .output may be that of another
    graph it is part of.
    """
    layers, received, produced = {}, {}, {}

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.Model):
            # Every output of the model itself, the first of one nested in it.
            out = run_through(layer, args[0], list(layer.outputs) if layer is model else layer.outputs[0], call)
        else:
            out = inference(layer, *args, **kwargs)
        layers[layer.name], received[layer.name], produced[layer.name] = layer, args[0], out
        return out

    inputs = keras.Input(model.input_shape[1:])
    return Graph(inputs, call(model, inputs), layers, received, produced)


def without_activation(layer, below, suffix: str):
    """What `layer` gives on `below` before its activation: a linear twin holding the same weights.

    The twin is a new layer (named <layer>_<suffix>), so the user's layer keeps its activation.
    """
    twin = type(layer).from_config({**layer.get_config(), "activation": "linear", "name": f"{layer.name}_{suffix}"})
    outputs = twin(below)
    twin.set_weights(layer.get_weights())
    return outputs


def activation_of(layer) -> str:
    """A layer's activation by name: its own activation setting, softmax for a Softmax layer, linear for none, custom for a function."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = layer.get_config().get("activation") or "linear"
    return activation if isinstance(activation, str) else "custom"


def before_relu(graph: Graph, name: str):
    """The symbolic value before the ReLU that layer `name` ends in (a conv layer with a relu or relu6 activation, or a
    ReLU or relu Activation layer), or None when its output is no ReLU."""
    layer = graph.layers[name]
    activation = layer.get_config().get("activation")
    if isinstance(layer, keras.layers.ReLU) or isinstance(layer, keras.layers.Activation) and activation in RELUS:
        return graph.received[name]
    if activation not in RELUS or not layer.weights:
        return None
    return without_activation(layer, graph.received[name], "before_relu")
