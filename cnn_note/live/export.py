"""A model as the live page runs it: its walked graph as a list of operations, with their settings and float32 weights.

The page (assets/live.js) computes each operation with TensorFlow.js's own ops (conv2d, maxPool,
matMul, batchNorm, ...) on its WebAssembly backend (the CPU's where that cannot run), in float32, from pixels 0..1: the model's pixel
convention goes first as one affine map per pixel (the View's `to_model`, measured here), so
the page takes what the tools take. The graph is the View's walk (core.traversal), the model
exactly as `model(x, training=False)` computes it: augmentation and Dropout pass pictures
through, BatchNormalization uses its moving statistics, a nested base is walked layer by layer.
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
# Layers that give their input unchanged at inference (model(x, training=False)).
PASS_THROUGH = ("InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                "GaussianDropout", "AlphaDropout", "ActivityRegularization", "RandomFlip", "RandomRotation", "RandomZoom",
                "RandomTranslation", "RandomContrast", "RandomBrightness")
ACTIVATIONS = ("linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish",
               "silu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "exponential", "gelu")
# Layers shown reshape or pass their input: a page of every layer shows the others.
NOT_SHOWN = ("Flatten", "Reshape", "Permute", "ZeroPadding2D", "Cropping2D", "Arithmetic", *PASS_THROUGH)
# Keras operations a functional model applies to tensors (x / 127.5 - 1, as mobilenet_v2.preprocess_input), not layers.
ARITHMETIC = {"TrueDivide": "div", "Divide": "div", "Subtract": "sub", "Add": "add", "Multiply": "mul", "Maximum": "maximum",
              "Minimum": "minimum"}
MAX_PARAMETERS = 4_000_000  # the largest model a live page holds: MobileNetV2 (3.5 M) fits, its page a 19 MB load
MAX_SHOWN = 12  # a model of more layers worth showing gets the atlas's layers alone


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


def weights_of(layer) -> dict[str, np.ndarray]:
    """The layer's weights by variable name (kernel, bias, gamma, moving_mean, ...), as float32."""
    if type(layer).__name__ == "Normalization":  # kept as constants or adapt_* variables, broadcast to the input
        return {"mean": np.asarray(layer.mean, "float32"), "variance": np.asarray(layer.variance, "float32")}
    return {variable.name: np.asarray(variable, "float32") for variable in layer.weights}


def operations(view: View) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Every layer of the walked graph as an operation, in the order called: its kind, settings, input and output
    tensors (numbers; 0 is the model's input), and its weights (named "<operation>/<variable>"); one line for a layer
    the page cannot compute."""
    graph = view.recorded
    numbers = {id(graph.input): 0}
    ops, weights = [], {}

    def number(tensor) -> int:
        return numbers.setdefault(id(tensor), len(numbers))

    for name, layer in graph.layers.items():
        if isinstance(layer, keras.Model):
            continue  # a nested model: its layers are in the walk, and its output is its last layer's
        kind = type(layer).__name__
        if not isinstance(layer, keras.layers.Layer) and kind in ARITHMETIC:
            ops.append(arithmetic(name, kind, graph.arguments[name], graph.produced[name], numbers, number))
            continue
        # Keras's own class of that name only: an operation (keras.ops.concatenate) or a user's class named Dense is not it.
        known = isinstance(layer, keras.layers.Layer) and type(layer) is getattr(keras.layers, kind, None)
        if not known or (kind not in OPERATIONS and kind not in PASS_THROUGH):
            what = f"a {kind}" if known or isinstance(layer, keras.layers.Layer) else f"the operation {kind}"
            raise InputError(f"layer {name!r} is {what}, which the page does not compute: leave it out of the model, or "
                             "use the atlas without its live page")
        received, produced = graph.received[name], graph.produced[name]
        inputs = list(received) if isinstance(received, (list, tuple)) else [received]
        if isinstance(produced, (list, tuple)):
            raise InputError(f"layer {name!r} ({kind}) gives several outputs, which the page does not follow")
        missing = [tensor for tensor in inputs if id(tensor) not in numbers]
        if missing:
            raise InputError(f"layer {name!r} ({kind}) takes a tensor the walk did not make: a model with several inputs, "
                             "or a layer called twice, is not one the page runs")
        operation = {"name": name, "kind": kind, "inputs": [numbers[id(tensor)] for tensor in inputs],
                     "output": number(produced), "shape": list(produced.shape[1:])}
        if kind in PASS_THROUGH:
            operation["pass"] = True  # its input, unchanged: what model(x, training=False) gives
        else:
            operation["config"] = config_of(layer, OPERATIONS[kind])
            own = weights_of(layer)
            operation["weights"] = sorted(own)
            weights.update({f"{len(ops)}/{key}": value for key, value in own.items()})
        ops.append(operation)
    return ops, weights


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


def shown_layers(ops: list[dict], head: dict | None, atlas_layers: list[str]) -> list[str]:
    """The layers the page draws: every one with maps or a vector (not the output, drawn as bars), in order; for a model
    of more than MAX_SHOWN of them, the atlas's layers alone."""
    last = head["layer"] if head else None
    shown = [op["name"] for op in ops if op["kind"] not in NOT_SHOWN and len(op["shape"]) in (1, 3) and op["name"] != last]
    return shown if len(shown) <= MAX_SHOWN else [name for name in shown if name in atlas_layers]


def export(view: View, name: str, size: tuple[int, int], atlas_layers: list[str] = (), atlas_keys: dict[str, str] | None = None,
           class_names: list[str] | None = None) -> Exported:
    """The model as the page runs it (see the module's docstring) at `size`, its shown layers linked to the atlas's pages.

    Raises:
        InputError: a layer the page does not compute (naming it), a model with several inputs, or a pixel convention
            that is not affine.
    """
    ops, named = operations(view)
    head = head_of(view)
    offsets, start = {}, 0
    for key, value in named.items():
        offsets[key] = [start, list(value.shape)]
        start += value.size
    blob = np.concatenate([value.ravel() for value in named.values()]) if named else np.zeros(0, "float32")
    spec = {"name": name, "input": [*size, view.channels], "pixels": pixel_map(view), "operations": ops,
            "offsets": offsets, "shown": shown_layers(ops, head, list(atlas_layers)), "head": head,
            "classes": class_names or ([str(k) for k in range(head["classes"])] if head else []),
            "atlas": dict(atlas_keys or {})}
    return Exported(spec, blob.astype("float32"))
