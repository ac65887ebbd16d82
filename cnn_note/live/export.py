"""A model as the live page runs it: its walked graph as a list of operations, with their settings and float32 weights.

The page (assets/live.js) computes each operation with TensorFlow.js's own ops (conv2d, maxPool,
matMul, batchNorm, ...) on its WebAssembly backend (the CPU's where that cannot run), in float32, from pixels 0..1: the model's pixel
convention goes first as one affine map per pixel (the View's `to_model`, measured here), so
the page takes what the tools take. The graph is the View's walk (core.traversal), the model
exactly as `model(x, training=False)` computes it: augmentation and Dropout pass pictures
through, BatchNormalization uses its moving statistics, a nested base is walked layer by layer.
A transformer's layers are computed too (TOKEN_OPERATIONS: LayerNormalization, MultiHeadAttention,
Embedding, the class token, position and class-output layers of cnn_note.note.transformer, known by their
registered names, and the constants a model adds), and its (batch, tokens, channels) layers are shown on
their patch grid (View.grids), with the class token's attention in the last attention layer.
A layer the page cannot compute is refused in one line naming it; nothing here imports
TensorFlow.js's converter, which does not read Keras 3 files.
"""

from __future__ import annotations

import base64
from typing import NamedTuple

import numpy as np

from cnn_note.backend import keras
from cnn_note.core.views import View
from cnn_note.errors import InputError

# What the page computes, by Keras class name: the settings of each layer it reads (the weights go by variable name).
CONV = ("strides", "padding", "dilation_rate", "activation")
POOL = ("pool_size", "strides", "padding")
OPERATIONS = {
    "Conv2D": CONV, "DepthwiseConv2D": CONV, "SeparableConv2D": CONV, "Dense": ("activation",),
    "MaxPooling2D": POOL, "AveragePooling2D": POOL, "GlobalAveragePooling2D": ("keepdims",), "GlobalMaxPooling2D": ("keepdims",),
    "Flatten": (), "Reshape": ("target_shape",), "Permute": ("dims",), "ZeroPadding2D": ("padding",),
    "Cropping2D": ("cropping",), "Activation": ("activation",), "ReLU": ("max_value", "negative_slope", "threshold"),
    "LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "PReLU": (), "Softmax": ("axis",),
    "BatchNormalization": ("axis", "epsilon"), "Rescaling": ("scale", "offset"), "Normalization": (),
    "Add": (), "Subtract": (), "Multiply": (), "Average": (), "Maximum": (), "Minimum": (), "Concatenate": ("axis",),
}
# A transformer's operations, in a table of their own (live.js's TOKEN_OPERATIONS): the settings of each layer it reads.
# ClassToken, PositionEmbedding and ClassTokenOutput are cnn_note.note.transformer's (OWN_LAYERS); a Constant is a
# tensor a layer takes that the model holds as a value (position embeddings computed once, when the model was built).
TOKEN_OPERATIONS = {
    "LayerNormalization": ("axis", "epsilon", "center", "scale", "rms_scaling"),
    "MultiHeadAttention": ("num_heads", "key_dim", "value_dim"), "Embedding": ("input_dim", "output_dim"),
    "ClassToken": (), "PositionEmbedding": (), "ClassTokenOutput": (), "Constant": (),
}
OWN_LAYERS = ("ClassToken", "PositionEmbedding", "ClassTokenOutput")  # registered as cnn_note>ClassToken, ...
# What a MultiHeadAttention call may be given by name, for the page to compute it: these at these values (and training).
ATTENTION_CALL = {"return_attention_scores": False, "use_causal_mask": False}
# Layers that give their input unchanged at inference (model(x, training=False)).
PASS_THROUGH = ("InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "ActivityRegularization", "RandomFlip", "RandomRotation", "RandomZoom",
                "RandomTranslation", "RandomContrast", "RandomBrightness")
ACTIVATIONS = ("linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish",
               "silu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "exponential", "gelu")
# Layers shown reshape or pass their input: a page of every layer shows the others.
NOT_SHOWN = ("Flatten", "Reshape", "Permute", "ZeroPadding2D", "Cropping2D", "Arithmetic", "Constant", *PASS_THROUGH)
# Keras operations a functional model applies to tensors (x / 127.5 - 1, as mobilenet_v2.preprocess_input), not layers.
ARITHMETIC = {"TrueDivide": "div", "Divide": "div", "Subtract": "sub", "Add": "add", "Multiply": "mul", "Maximum": "maximum",
              "Minimum": "minimum"}
MAX_PARAMETERS = 4_000_000  # the largest model a live page holds: MobileNetV2 (3.5 M) fits, its page a 19 MB load
MAX_SHOWN = 12  # a model of more layers worth showing gets the atlas's layers alone (and a transformer's attention layers)


class Exported(NamedTuple):
    """What the page needs of one model: `spec` (JSON: the operations, the shown layers, the head) and its weights."""

    spec: dict
    weights: np.ndarray  # float32, every operation's weights one after another (spec says where each begins)

    def script(self) -> str:
        """The model as a script the page loads with <script src> (which works from file://, where fetch() is refused)."""
        import json

        data = {**self.spec, "weights": base64.b64encode(self.weights.astype("<f4").tobytes()).decode("ascii")}
        return "(window.cnnNoteModels = window.cnnNoteModels || []).push(" + json.dumps(data, separators=(",", ":")) + ");\n"


def refusal(view: View) -> str | None:
    """Why `view` gets no live page (one line), or None when it does."""
    if view.held is not None:
        return (f"no live page: {view.label} has several inputs ({', '.join(view.held.order)}), and the page draws on a model of "
                "one picture; the atlas is made as always")
    count = view.model.count_params()
    if count > MAX_PARAMETERS:
        return (f"no live page: {view.label} has {count:,} parameters, more than the {MAX_PARAMETERS:,} a page holds (their "
                f"float32 weights alone would be {MAX_PARAMETERS * 4 / 1e6:.0f} MB for the browser to load); the atlas is made as always")
    try:
        operations(view)
        pixel_map(view)
    except InputError as error:
        return f"no live page: {error}"
    return None


def pixel_map(view: View) -> tuple[list, list] | None:
    """The View's pixel convention as an affine map per pixel (matrix, offset), or None for pixels 0..1 as they are.

    Measured on the basis pictures and checked on random ones: every convention the tools know (an input range,
    keras.applications' preprocess_input: a scale, a mean, a channel order) is affine in the pixel's channels.
    """
    channels = view.channels
    basis = np.concatenate([np.zeros((1, channels)), np.eye(channels)]).astype("float32")[:, None, None, :]
    mapped = np.asarray(view.to_model(keras.ops.convert_to_tensor(basis)), dtype="float64")[:, 0, 0, :]
    offset, matrix = mapped[0], (mapped[1:] - mapped[0]).T  # matrix[c][k]: what channel k of the pixel adds to channel c
    if np.array_equal(offset, np.zeros(channels)) and np.array_equal(matrix, np.eye(channels)):
        return None
    trial = np.random.default_rng(0).random((1, 4, 4, channels)).astype("float32")
    expected = np.asarray(view.to_model(keras.ops.convert_to_tensor(trial)), dtype="float64")
    if not np.allclose(trial.astype("float64") @ matrix.T + offset, expected, atol=1e-4, rtol=1e-5):
        raise InputError(f"{view.label}'s pixel convention is not an affine map of the pixels, which is all the page computes")
    return matrix.tolist(), offset.tolist()


def plain(value):
    """A setting as JSON takes it: numpy arrays and scalars as lists and numbers."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def config_of(layer, keys: tuple[str, ...]) -> dict:
    """The settings the page reads, with one line for a setting it cannot follow."""
    config = layer.get_config()
    if type(layer).__name__ == "Rescaling":  # a per-channel scale is an array, which the config holds as a numpy record
        config = {**config, "scale": np.asarray(layer.scale, "float32").tolist(), "offset": np.asarray(layer.offset, "float32").tolist()}
    name, kind = layer.name, type(layer).__name__
    if config.get("data_format", "channels_last") != "channels_last":
        raise InputError(f"layer {name!r} ({kind}) is {config['data_format']}: the page computes channels-last maps only")
    if config.get("groups", 1) != 1:
        raise InputError(f"layer {name!r} ({kind}) is a grouped convolution, which TensorFlow.js lacks")
    if "activation" in keys and config.get("activation") not in ACTIVATIONS:
        raise InputError(f"layer {name!r} ({kind}) has activation {config.get('activation')!r}, which the page does not "
                         f"compute (it computes {', '.join(ACTIVATIONS)})")
    if kind == "Normalization" and config.get("invert"):
        raise InputError(f"layer {name!r} (Normalization) inverts, which the page does not compute")
    return {key: plain(config[key]) for key in keys if key in config}


def weights_of(layer, kind: str) -> dict[str, np.ndarray]:
    """The layer's weights by variable name (kernel, bias, gamma, moving_mean, ...), as float32; an attention layer's by
    part (query_kernel, query_bias, ..., output_bias), as Keras keeps them: (channels, heads, key_dim) for the query,
    key and value, (heads, value_dim, units) for the output."""
    if kind == "Normalization":  # kept as constants or adapt_* variables, broadcast to the input
        return {"mean": np.asarray(layer.mean, "float32"), "variance": np.asarray(layer.variance, "float32")}
    if kind == "MultiHeadAttention":
        parts = {"query": layer.query_dense, "key": layer.key_dense, "value": layer.value_dense, "output": layer.output_dense}
        own = {f"{part}_kernel": np.asarray(dense.kernel, "float32") for part, dense in parts.items()}
        return {**own, **{f"{part}_bias": np.asarray(dense.bias, "float32") for part, dense in parts.items() if dense.bias is not None}}
    return {variable.name: np.asarray(variable, "float32") for variable in layer.weights}


def kind_of(name: str, layer) -> str:
    """What the page computes `layer` as (its Keras class name), or one line naming it when the page does not compute it."""
    kind = type(layer).__name__
    # Keras's own class of that name only: an operation (keras.ops.concatenate) or a user's class named Dense is not it.
    known = isinstance(layer, keras.layers.Layer) and type(layer) is getattr(keras.layers, kind, None)
    if known and (kind in OPERATIONS or kind in TOKEN_OPERATIONS or kind in PASS_THROUGH):
        return kind
    # cnn_note.note.transformer's own layers, by the names Keras registered them under (nothing of the note imported here:
    # the same when the module is loaded as a file, by --custom-objects); a class of that name of another package is not it.
    if kind in OWN_LAYERS and keras.saving.get_registered_name(type(layer)) == f"cnn_note>{kind}":
        return kind
    what = f"a {kind}" if isinstance(layer, keras.layers.Layer) else f"the operation {kind}"
    raise InputError(f"layer {name!r} is {what}, which the page does not compute: leave it out of the model, or "
                     "use the atlas without its live page")


def taken(graph, name: str, kind: str) -> list:
    """What layer `name` takes, in order: its input or inputs; an attention layer's query, value (and key)."""
    what = graph.arguments[name] if kind == "MultiHeadAttention" else graph.received[name]
    return [item for item in (what if isinstance(what, (list, tuple)) else [what]) if item is not None]


class Numbering:
    """The walk's tensors as the page's numbers (0 the model's input), and the operations and weights found so far."""

    def __init__(self, first):
        self.numbers, self.ops, self.weights = {id(first): 0}, [], {}

    def number(self, tensor) -> int:
        """The number of `tensor`: the one it has, or the next."""
        return self.numbers.setdefault(id(tensor), len(self.numbers))

    def inputs(self, name: str, kind: str, tensors: list) -> list[int]:
        """The numbers of the tensors a layer takes; a value that is no tensor of the walk (position embeddings computed
        once, when the model was built) becomes a Constant before it; one line for a tensor the walk did not make."""
        numbers = []
        for tensor in tensors:
            if isinstance(tensor, keras.KerasTensor) or id(tensor) in self.numbers:  # a tensor of the walk, or a value seen
                if id(tensor) not in self.numbers:
                    raise InputError(f"layer {name!r} ({kind}) takes a tensor the walk did not make: a model with several "
                                     "inputs, or a layer called twice, is not one the page runs")
                numbers.append(self.numbers[id(tensor)])
            else:
                numbers.append(self.constant(name, kind, tensor))
        return numbers

    def constant(self, name: str, kind: str, value) -> int:
        """A value layer `name` takes, as a Constant operation whose weight is the value; its number."""
        try:
            array = np.asarray(keras.ops.convert_to_numpy(value), "float32")
        except (TypeError, ValueError):
            raise InputError(f"layer {name!r} ({kind}) takes {type(value).__name__} {value!r:.40}, which the page does not "
                             "follow") from None
        index = len(self.ops)
        self.weights[f"{index}/value"] = array
        self.ops.append({"name": f"{name}/constant{index}", "kind": "Constant", "inputs": [], "output": self.number(value),
                         "shape": list(array.shape), "config": {}, "weights": ["value"]})
        return self.numbers[id(value)]


def check_layer_normalization(name: str, layer, rank: int, produced) -> None:
    """One line for a LayerNormalization over any axis but the last."""
    axis = layer.get_config()["axis"]
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if [item % rank for item in axes] != [rank - 1]:
        raise InputError(f"layer {name!r} (LayerNormalization) normalizes over axis {axes} of its {rank}-D input: the page "
                         "normalizes the last axis only")


def given_by_name(produced) -> list[str]:
    """What the walk's call that made `produced` gave its layer by name, other than ATTENTION_CALL's at their values and
    training (the walk's own): that call's kwargs, as Keras records them with its output (the model's, for the walk
    calls each layer as the model does; a call elsewhere, another tool's, is not this one)."""
    history = getattr(produced, "_keras_history", None)
    if history is None:
        return []
    given = history.operation._inbound_nodes[history.node_index].arguments.kwargs
    return sorted(key for key, value in given.items() if key != "training" and value is not None
                  and not (isinstance(value, (bool, np.bool_)) and value == ATTENTION_CALL.get(key)))


def check_attention(name: str, layer, rank: int, produced) -> None:
    """One line for attention the page does not compute: with anything given by name in its call (masks, a causal mask,
    the query, value or key), over other axes than the tokens of (batch, tokens, channels), with a gate, a sliding
    window or a many-axis output."""
    config, odd = layer.get_config(), [f"{key} given in its call" for key in given_by_name(produced)]
    if not odd and (rank != 3 or tuple(config.get("attention_axes") or (1,)) != (1,)):
        raise InputError(f"layer {name!r} (MultiHeadAttention) attends over axes {config.get('attention_axes')} of a {rank}-D "
                         "input: the page computes attention over the tokens of (batch, tokens, channels)")
    odd += [f"{key}={config[key]!r}" for key in ("use_gate", "sliding_window") if config.get(key)]
    if len(config.get("output_shape") or ()) > 1:
        odd.append(f"output_shape={config['output_shape']!r}")
    if odd:
        raise InputError(f"layer {name!r} (MultiHeadAttention) has {', '.join(odd)}, which the page does not compute: it "
                         "computes self-attention (or a query's on a value), without masks")


def check_embedding(name: str, layer, rank: int, produced) -> None:
    """One line for an Embedding that masks (its mask would change the attention after it)."""
    if layer.get_config().get("mask_zero"):
        raise InputError(f"layer {name!r} (Embedding) has mask_zero=True, whose mask the page does not follow")


TOKEN_CHECKS = {"LayerNormalization": check_layer_normalization, "MultiHeadAttention": check_attention, "Embedding": check_embedding}


def settings_of(name: str, layer, kind: str, rank: int, produced) -> dict:
    """The settings the page reads of layer `name` (its input of `rank` dimensions, its output the walk's `produced`), or
    one line for one it cannot follow."""
    if kind in OPERATIONS:
        return config_of(layer, OPERATIONS[kind])
    if kind in TOKEN_CHECKS:
        TOKEN_CHECKS[kind](name, layer, rank, produced)
    return config_of(layer, TOKEN_OPERATIONS[kind])


def operations(view: View) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Every layer of the walked graph as an operation, in the order called: its kind, settings, input and output
    tensors (numbers; 0 is the model's input), and its weights (named "<operation>/<variable>"); one line for a layer
    the page cannot compute."""
    graph = view.recorded
    walk = Numbering(graph.input)
    for name, layer in graph.layers.items():
        if isinstance(layer, keras.Model):
            continue  # a nested model: its layers are in the walk, and its output is its last layer's
        kind = type(layer).__name__
        if not isinstance(layer, keras.layers.Layer) and kind in ARITHMETIC:
            walk.ops.append(arithmetic(name, kind, graph.arguments[name], graph.produced[name], walk.numbers, walk.number))
            continue
        kind, produced = kind_of(name, layer), graph.produced[name]
        if isinstance(produced, (list, tuple)):
            raise InputError(f"layer {name!r} ({kind}) gives several outputs, which the page does not follow")
        tensors = taken(graph, name, kind)
        operation = {"name": name, "kind": kind, "inputs": walk.inputs(name, kind, tensors), "output": walk.number(produced),
                     "shape": list(produced.shape[1:])}
        if kind in PASS_THROUGH:
            operation["pass"] = True  # its input, unchanged: what model(x, training=False) gives
        else:
            rank = len(getattr(tensors[0], "shape", ())) if tensors else 0
            operation["config"] = settings_of(name, layer, kind, rank, produced)
            own = weights_of(layer, kind)
            operation["weights"] = sorted(own)
            walk.weights.update({f"{len(walk.ops)}/{key}": value for key, value in own.items()})
        walk.ops.append(operation)
    return walk.ops, walk.weights


def arithmetic(name: str, kind: str, arguments: tuple, produced, numbers: dict, number) -> dict:
    """A Keras operation on tensors and constants (`x / 127.5`) as the page's "Arithmetic": its operands in order."""
    operands = []
    for argument in arguments:
        if isinstance(argument, keras.KerasTensor):
            if id(argument) not in numbers:
                raise InputError(f"operation {name!r} ({kind}) takes a tensor the walk did not make: it is not one the page runs")
            operands.append(["tensor", numbers[id(argument)]])
        else:
            operands.append(["constant", np.asarray(argument, "float32").tolist()])
    return {"name": name, "kind": "Arithmetic", "inputs": [value for what, value in operands if what == "tensor"],
            "output": number(produced), "shape": list(produced.shape[1:]),
            "config": {"function": ARITHMETIC[kind], "operands": operands}}


def head_of(view: View) -> dict | None:
    """What the page makes of the output (see core.heads.Head), or None when the model is no classifier it can read."""
    try:
        head = view.head
    except InputError:
        return None
    return {"kind": head.kind, "layer": head.layer, "activation": head.activation, "classes": head.classes}


def token_grids(view: View, ops: list[dict]) -> dict:
    """Each (batch, tokens, channels) layer's patch grid (core.tokens.Grid), as the View reads it; none for a model
    without tokens (nothing measured)."""
    return view.grids if any(len(op["shape"]) == 2 for op in ops) else {}


def attention_of(view: View, ops: list[dict], grids: dict) -> dict | None:
    """The attention the page draws: the class token's in the last attention layer (its row 0, the heads averaged, over
    the patch tokens' grid), as {"layer", "grid": [extra, height, width]}; None where there is no attention layer, no
    extra token before the grid, or the last attends to another tensor than its query (its keys on no grid of its own)."""
    names = view.attention_layers() if grids else []
    if not names:
        return None
    name = names[-1]
    op = next((op for op in ops if op["name"] == name), None)
    if op is None or op["kind"] != "MultiHeadAttention" or len(set(op["inputs"])) != 1 or grids[name].extra < 1:
        return None
    return {"layer": name, "grid": list(grids[name])}


def shown_layers(ops: list[dict], head: dict | None, atlas_layers: list[str], grids: dict | None = None,
                 attention: list[str] = ()) -> list[str]:
    """The layers the page draws: every one with maps, tokens on a patch grid (`grids`, drawn as maps) or a vector (not
    the output, drawn as bars), in order; for a model of more than MAX_SHOWN of them, the atlas's layers and the
    `attention` layers alone."""
    last, grids = (head["layer"] if head else None), grids or {}
    shown = [op["name"] for op in ops if op["kind"] not in NOT_SHOWN and (len(op["shape"]) in (1, 3) or op["name"] in grids)
             and op["name"] != last]
    return shown if len(shown) <= MAX_SHOWN else [name for name in shown if name in atlas_layers or name in attention]


def export(view: View, name: str, size: tuple[int, int], atlas_layers: list[str] = (), atlas_keys: dict[str, str] | None = None,
           class_names: list[str] | None = None) -> Exported:
    """The model as the page runs it (see the module's docstring) at `size`, its shown layers linked to the atlas's pages;
    a transformer's token layers shown on their grids (spec["grids"]: [extra tokens, height, width]), its class
    token's attention in spec["attention"] (see attention_of).

    Raises:
        InputError: a layer the page does not compute (naming it), a model with several inputs, or a pixel convention
            that is not affine.
    """
    ops, named = operations(view)
    head, grids = head_of(view), token_grids(view, ops)
    offsets, start = {}, 0
    for key, value in named.items():
        offsets[key] = [start, list(value.shape)]
        start += value.size
    blob = np.concatenate([value.ravel() for value in named.values()]) if named else np.zeros(0, "float32")
    shown = shown_layers(ops, head, list(atlas_layers), grids, view.attention_layers() if grids else [])
    spec = {"name": name, "input": [*size, view.channels], "pixels": pixel_map(view), "operations": ops,
            "offsets": offsets, "shown": shown, "head": head,
            "classes": class_names or ([str(k) for k in range(head["classes"])] if head else []),
            "atlas": dict(atlas_keys or {}), "grids": {layer: list(grids[layer]) for layer in shown if layer in grids},
            "attention": attention_of(view, ops, grids)}
    return Exported(spec, blob.astype("float32"))
