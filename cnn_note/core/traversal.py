"""A model's graph walked once on a new input, in inference mode: the tensors every look-inside tool starts from.

The walk calls the model's own layers again (as keras.models.clone_model does), so the trained
weights are used as they are and the user's model is never changed. Every layer that takes a
`training` argument is called with training=False, so the walked graph computes exactly what
`model(x, training=False)` does: augmentation layers (RandomFlip, RandomRotation, RandomZoom, ...)
pass pictures through unchanged, Dropout is off, BatchNormalization uses its moving statistics.
Called plainly, Keras 3's random preprocessing layers default to training=True, and Keras records
that value in the graph, so every later call would augment.

A layer's name is the user's, any string Keras takes (`c<img src=x>`, `b, "q" é`). Each call of a Keras
layer opens a TensorFlow name scope of that name, and TensorFlow refuses one holding anything but
letters, digits and _ . \\ / > - while tracing a graph (a tf.function, predict), so such a layer is
called through a ScopeSafe stand-in (see call_layer); the user's layer keeps its name.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from cnn_note.backend import keras

# Rectifiers a unit is climbed before: below 0 their gradient is 0 (ReLU) or nearly (GELU, a transformer's MLP), and a unit
# silent on the start picture would never move.
RELUS = ("relu", "relu6", "gelu")
# What TensorFlow takes as a name scope inside another (tensorflow/python/framework/ops.py, _VALID_SCOPE_NAME_REGEX).
SCOPE_NAME = re.compile(r"[A-Za-z0-9_.\\/>-]*")


class Graph(NamedTuple):
    """The model's graph walked once on a new input: every layer, what it received and gave, in order."""

    input: object
    outputs: list
    layers: dict
    received: dict
    produced: dict
    arguments: dict  # every argument of each call (`received` holds the first): the constants of `x / 127.5` too
    calls: dict  # each call's (positional arguments, arguments by name: an attention layer's value=, use_causal_mask=)


class ScopeSafe(keras.layers.Layer):
    """Stands in the walked graph for a user's layer whose name TensorFlow refuses as a scope, and calls it.

    Keras opens a name scope of a layer's name in each call (Layer._open_name_scope) but opens none when
    the innermost scope is already that layer's own (its deduplication, for a layer calling itself). The
    stand-in, under a name TensorFlow takes, opens that scope as Keras' path alone (no TensorFlow scope)
    and calls the user's layer in it: everything else the layer's call does (dtype conversion, autocast,
    masks, training) is as it always is, and its name stays the user's.
    """

    def __init__(self, layer):
        super().__init__(dtype=layer.dtype_policy, autocast=layer.autocast)  # converts as the layer does, so nothing more
        self.layer = layer
        self.supports_masking = layer.supports_masking
        self.built = True

    def call(self, *args, **kwargs):
        from keras.src.backend.common.name_scope import name_scope  # Keras' own path scope, not TensorFlow's

        with name_scope(self.layer.name, caller=self.layer):
            return self.layer(*args, **kwargs)

    def compute_mask(self, inputs, previous_mask):
        return self.layer.compute_mask(inputs, previous_mask)


def user_layer(layer):
    """The user's layer that a layer of a walked graph is: itself, or the one a ScopeSafe stands in for."""
    return layer.layer if isinstance(layer, ScopeSafe) else layer


def call_layer(layer, *args, **kwargs):
    """Call `layer` on symbolic inputs, through a ScopeSafe when TensorFlow would refuse its name as a scope."""
    if SCOPE_NAME.fullmatch(layer.name):
        return layer(*args, **kwargs)
    if not layer.built:  # a new layer (a linear twin) makes its variables here, eagerly, not in the stand-in's trace
        layer(*args, **kwargs)
    return ScopeSafe(layer)(*args, **kwargs)


def inference(layer, *args, **kwargs):
    """Call `layer` as model(x, training=False) calls it."""
    if "training" in getattr(layer, "call_signature_parameters", ()):
        kwargs["training"] = False
    return call_layer(layer, *args, **kwargs)


def run_through(model: keras.Model, inputs, outputs, call_fn=inference):
    """`model`'s own graph from its inputs to `outputs` (its tensors), called on `inputs` (a list for several) layer by layer."""
    # Keras' own graph runner, as clone_model uses it; it calls call_fn(layer, *args, **kwargs) for every layer.
    return keras.Model(model.inputs if len(model.inputs) > 1 else model.inputs[0], outputs)._run_through_graph(inputs, call_fn=call_fn)


def walk(model: keras.Model) -> Graph:
    """Call the model's own layers again on a new input, in inference mode, recording every tensor.

    A model nested in it (a keras.applications base inside a fine-tuned classifier, an augmentation
    Sequential) is walked layer by layer too, so its layers can be chosen like any other. The
    tensors recorded here belong to this walk alone: a layer's own .output may be that of another
    graph it is part of.
    """
    layers, received, produced, arguments, calls = {}, {}, {}, {}, {}

    def call(layer, *args, **kwargs):
        layer = user_layer(layer)  # a graph walked before (checks.square_images') holds stand-ins: the user's layer is recorded
        if isinstance(layer, keras.Model):
            # Every output of the model itself, the first of one nested in it.
            out = run_through(layer, args[0], list(layer.outputs) if layer is model else layer.outputs[0], call)
        else:
            out = inference(layer, *args, **kwargs)
        given = args or tuple(kwargs.values())  # a layer called by keyword alone (query=x, value=x) too
        layers[layer.name], received[layer.name], produced[layer.name], arguments[layer.name] = layer, given[0], out, given
        calls[layer.name] = (args, kwargs)
        return out

    inputs = keras.Input(model.input_shape[1:])
    return Graph(inputs, call(model, inputs), layers, received, produced, arguments, calls)


def twin_call(layer, args: tuple, suffix: str, config: dict | None = None, **kwargs):
    """`layer`'s twin (the same class and config, `config` changed, named <layer>_<suffix>) called on `args` in inference
    mode, computing with the layer's own variables.

    The twin is a new layer, so the user's layer is left as it is. It holds the layer's variables themselves, not
    copies, so a graph built on it once follows the model as it trains.
    """
    twin = type(layer).from_config({**layer.get_config(), **(config or {}), "name": f"{layer.name}_{suffix}"})
    outputs = inference(twin, *args, **kwargs)
    if not share_variables(twin, layer):
        twin.set_weights(layer.get_weights())  # variables it keeps where this cannot reach: a copy, as of now
    return outputs


def without_activation(layer, below, suffix: str):
    """What `layer` gives on `below` before its activation: a linear twin (twin_call)."""
    return twin_call(layer, (below,), suffix, {"activation": "linear"})


def with_attention_scores(graph: Graph, name: str):
    """Attention layer `name`'s (output, scores (batch, heads, queries, keys)) as the model calls it (its arguments,
    by position and by name: a value=, a causal mask): its twin called so with return_attention_scores=True (Keras
    records no scores when the layer itself, called before without, is called again with it: the graph would not
    connect)."""
    args, kwargs = graph.calls[name]
    return twin_call(graph.layers[name], args, "scores", **kwargs, return_attention_scores=True)


def share_variables(twin, layer) -> bool:
    """Point a freshly built twin (the same class and config) at `layer`'s variables instead of its own, in its
    attributes, its variable lists and its sublayers'; whether none of its own is left where its call could read it."""
    own, shared = list(twin.weights), list(layer.weights)
    if [tuple(v.shape) for v in own] != [tuple(v.shape) for v in shared]:
        return False
    theirs = {id(mine): other for mine, other in zip(own, shared)}
    seen, left = set(), []

    def rebind(holder) -> None:
        seen.add(id(holder))
        for name, value in list(vars(holder).items()):
            if id(value) in theirs:
                object.__setattr__(holder, name, theirs[id(value)])  # past Keras' tracking: the twin gains no variable
                continue
            if isinstance(value, list):
                value[:] = [theirs.get(id(item), item) for item in value]
            items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                left.extend([item] if id(item) in theirs else [])  # in a dict or a tuple: not replaced
                if isinstance(item, keras.layers.Layer) and id(item) not in seen:
                    rebind(item)

    rebind(twin)
    return not left and all(a is b for a, b in zip(twin.weights, shared))


def activation_of(layer) -> str:
    """A layer's activation by name: its own activation setting, softmax for a Softmax layer, linear for none, custom for a function."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = layer.get_config().get("activation") or "linear"
    return activation if isinstance(activation, str) else "custom"


def before_relu(graph: Graph, name: str):
    """The symbolic value before the ReLU that layer `name` ends in (a conv or dense layer with a relu, relu6 or gelu
    activation, or a ReLU or such an Activation layer), or None when its output is no such rectifier."""
    layer = graph.layers[name]
    activation = layer.get_config().get("activation")
    if isinstance(layer, keras.layers.ReLU) or isinstance(layer, keras.layers.Activation) and activation in RELUS:
        return graph.received[name]
    if activation not in RELUS or not layer.weights:
        return None
    return without_activation(layer, graph.received[name], "before_relu")
