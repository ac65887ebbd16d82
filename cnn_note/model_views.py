"""Any Keras image model as the look-inside tools see it: what each method needs, and nothing more.

A View turns the user's model (a file from train_cnn.py or anyone else, or a keras.applications
network by name) into small models that take pixels 0..1 (batch, height, width, channels) at any
size the layers allow: the outputs of named layers, what a layer receives, and the class scores
before softmax. Each is a new graph over the user's own layers, so the trained weights are used as
they are; the user's model itself is never changed. The pixel convention (0..1, another range, or
a keras.applications preprocess_input) is applied inside, so ascent always works on 0..1 pixels.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import math
import os
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from cnn_note import models
from cnn_note.backend import keras
from cnn_note.cli import InputError
from cnn_note.settings import HEADS

# name: (constructor in keras.applications, module whose preprocess_input it takes)
NETWORKS = {
    "vgg16": ("VGG16", "vgg16"),
    "vgg19": ("VGG19", "vgg19"),
    "resnet50": ("ResNet50", "resnet"),
    "resnet50_v2": ("ResNet50V2", "resnet_v2"),
    "inception_v3": ("InceptionV3", "inception_v3"),
    "xception": ("Xception", "xception"),
    "mobilenet": ("MobileNet", "mobilenet"),
    "mobilenet_v2": ("MobileNetV2", "mobilenet_v2"),
    "densenet121": ("DenseNet121", "densenet"),
    "efficientnet_b0": ("EfficientNetB0", "efficientnet"),
    "convnext_tiny": ("ConvNeXtTiny", "convnext"),
}
DREAM_LAYERS = {"inception_v3": {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5}}  # keras-io's deep dream
WEIGHTS = "imagenet"  # what networks named by --model load; tests set None to build them without a download
RELUS = ("relu", "relu6")
FEATURE_TYPES = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


def _identity(layer):
    return layer


def _unchanged(pixels):
    return pixels


@dataclasses.dataclass(frozen=True)
class Head:
    """What a model's output is, and so what "the score of class c" and its probability are.

    softmax (k >= 2): the score is the logit before the softmax, the probability the softmax.
    logits (k >= 2, no activation): the score is the logit, the probability its softmax.
    binary (one unit, sigmoid or none): classes 0 and 1; class 1 scores the logit z, class 0 -z; P(1) = sigmoid(z).
    sigmoid (k >= 2, multi-label): each class scores its own logit before the sigmoid; its probability is the sigmoid.
    regression (asked for): the score and the "probability" are the output value itself.
    """

    kind: str
    units: int
    layer: str
    activation: str

    @property
    def classes(self) -> int:
        return 2 if self.kind == "binary" else self.units

    @property
    def measure(self) -> str:
        """What the probabilities are called in titles and lines."""
        return {"softmax": "softmax confidence", "logits": "softmax of the logits", "binary": "sigmoid probability",
                "sigmoid": "sigmoid probability", "regression": "value"}[self.kind]

    def format(self, value: float) -> str:
        """A probability as a percentage; a regression's value as a number."""
        return f"{value:.4g}" if self.kind == "regression" else f"{value:.1%}"

    def describe(self, label: str) -> str | None:
        """One line saying what is explained, for every head but softmax (None)."""
        where = f"{label}'s output {self.layer} ({self.units} unit{'s' if self.units > 1 else ''}, activation {self.activation})"
        return {
            "softmax": None,
            "logits": f"head: logits: {where}; each class's score is its logit, its probability their softmax",
            "binary": f"head: binary: {where}; class 1's score is the logit z, class 0's -z, P(class 1) = sigmoid(z)"
                      + ("; --head regression explains the value itself" if self.activation == "linear" else ""),
            "sigmoid": f"head: sigmoid, multi-label: {where}; each class's score is its own logit before the sigmoid, "
                       "its probability the sigmoid",
            "regression": f"head: regression: {where}; the score is the output value itself",
        }[self.kind]


def settle_head(asked: str, activation: str, units: int, where: str) -> str:
    """The kind of head (see Head) that `asked` (one of HEADS) means for a last layer with this activation and units."""
    if asked not in HEADS:
        raise InputError(f"unknown head {asked!r}: choose from {', '.join(HEADS)}")
    if asked == "auto":
        if activation == "softmax" and units >= 2:
            return "softmax"
        if activation in ("sigmoid", "linear"):
            return "binary" if units == 1 else "sigmoid" if activation == "sigmoid" else "logits"
        raise InputError(f"cannot tell what {where} gives ({units} unit{'s' if units > 1 else ''}, activation {activation}): "
                         "say it with --head logits, sigmoid or regression")
    fits = {"softmax": activation == "softmax" and units >= 2, "logits": activation == "linear" and units >= 2,
            "sigmoid": activation in ("sigmoid", "linear"), "regression": True}[asked]
    if not fits:
        raise InputError(f"--head {asked} does not fit {where}, which has {units} unit{'s' if units > 1 else ''} and "
                         f"activation {activation}: use --head auto, or the head it is")
    return "binary" if asked == "sigmoid" and units == 1 else asked


class Graph(NamedTuple):
    """The model's graph walked once on a new input: every layer, what it received and gave, in order."""

    input: object
    outputs: list
    layers: dict
    received: dict
    produced: dict


def walk(model: keras.Model) -> Graph:
    """Call the model's own layers again on a new input, as clone_model does, recording every tensor.

    A model nested in it (a keras.applications base inside a fine-tuned classifier) is walked
    layer by layer too, so its layers can be chosen like any other. The tensors recorded here
    belong to this walk alone: a layer's own .output may be that of another graph it is part of.
    """
    layers, received, produced = {}, {}, {}

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.Model):
            # Keras' own graph runner (what clone_model uses), so the nested layers are called one by one;
            # every output of the model itself, the first of one nested in it.
            ends = list(layer.outputs) if layer is model else layer.outputs[0]
            out = keras.Model(layer.inputs[0], ends)._run_through_graph(args[0], call_fn=call)
        else:
            out = layer(*args, **kwargs)
        layers[layer.name], received[layer.name], produced[layer.name] = layer, args[0], out
        return out

    inputs = keras.Input(model.input_shape[1:])
    return Graph(inputs, call(model, inputs), layers, received, produced)


@dataclasses.dataclass(frozen=True)
class View:
    """A trained image model seen through pixels 0..1; build one with load() or View.of()."""

    model: keras.Model
    label: str
    to_model: Callable = _unchanged  # pixels 0..1 -> what the model was trained on
    head_asked: str = "auto"  # what its output is: one of HEADS (see Head)
    output: str | int | None = None  # which output to score, by its layer's name or index, when it has several

    @classmethod
    def of(cls, model: keras.Model, label: str = "the model", to_model: Callable | None = None, maps: bool = True,
           head: str = "auto", output: str | int | None = None) -> View:
        """Check that `model` is a one-input image model with channels last and finite weights, and view it.

        The head and the output are settled when class scores are first asked for (View.head).

        With maps=False (explaining a decision needs no feature maps) a model on flat vectors
        of a square's pixels, the note's DNN, is seen as one on grey square images, and a model
        with no 4-D layer is accepted.
        """
        if not isinstance(model, keras.Model):
            raise InputError(f"{label} is a {type(model).__name__}, not a keras.Model: give a Keras model, a model file or a network name")
        try:
            model.inputs
        except AttributeError:
            kind = "Sequential with no input yet" if isinstance(model, keras.Sequential) else f"subclassed {type(model).__name__}"
            raise InputError(f"{label} is a {kind}, with no graph of layers to walk: build it with keras.Input first, "
                             "as keras.Sequential([keras.Input(shape), ...]) or functionally (keras.Model(inputs, outputs))") from None
        if not maps and len(model.input_shape) == 2 and math.isqrt(model.input_shape[-1] or 0) ** 2 == model.input_shape[-1]:
            model = square_images(model)
        if len(model.inputs) != 1:
            raise InputError(f"{label} has {len(model.inputs)} inputs: only models with one image input can be looked inside")
        shape = model.input_shape
        first = [layer for layer in model.layers if getattr(layer, "data_format", None) == "channels_first"]
        if first:
            raise InputError(
                f"{label}'s layer {first[0].name} is channels_first, and looking inside needs channels-last maps "
                "(the note's code as written, train_cnn.py --layout note, has conv1 so and reads it channels_last after): "
                "look inside a CNN trained with --layout intended (the default)")
        if len(shape) != 4 or shape[-1] not in (1, 3):
            raise InputError(f"{label} takes inputs of shape {shape[1:]}, not images (height, width, 1 or 3 channels): "
                             "give a CNN, such as results/cnn/model.keras from python train_cnn.py")
        if head not in HEADS:
            raise InputError(f"unknown head {head!r}: choose from {', '.join(HEADS)}")
        broken = next((weight.path for weight in model.weights
                       if not bool(keras.ops.all(keras.ops.isfinite(weight)))), None)
        if broken:
            raise InputError(f"{label}'s weights are not all finite ({broken} holds NaN or infinity): its training diverged; "
                             "retrain it (a smaller learning rate, say) or give another model")
        view = cls(model, label, to_model or _unchanged, head, output)
        if maps and not view.feature_layers():
            have = ", ".join(f"{layer.name} {layer.output.shape}" for layer in model.layers[:8])
            raise InputError(f"{label} has no layer with a (batch, height, width, channels) output to look at "
                             f"(it has {have}): give a CNN, such as results/cnn/model.keras")
        return view

    @functools.cached_property
    def _graph(self) -> Graph:
        return walk(self.model)

    @property
    def recorded(self) -> Graph:
        """The model's graph as walked on a free-size input: every layer in call order, what it received and gave."""
        return self._graph

    def layer(self, name: str):
        """The layer called `name`, in a nested model too."""
        return self._graph.layers[name]

    @property
    def channels(self) -> int:
        return self.model.input_shape[-1]

    @property
    def size(self) -> tuple[int, int] | None:
        """The (height, width) the whole model requires, or None where it takes any size."""
        height, width = self.model.input_shape[1:3]
        return None if height is None or width is None else (height, width)

    def feature_layers(self) -> list:
        """Every layer whose output is (batch, height, width, channels), in order."""
        graph = self._graph
        return [graph.layers[name] for name, out in graph.produced.items()
                if graph.layers[name] is not self.model and len(getattr(out, "shape", ())) == 4]

    def layer_table(self) -> str:
        """What --list-layers prints: every layer that can be chosen, its type, output shape and channels."""
        rows = [(layer.name, type(layer).__name__, str(tuple(self._graph.produced[layer.name].shape[1:])), str(self.filters(layer.name)))
                for layer in self.feature_layers()]
        rows.insert(0, ("layer", "type", "output (h, w, c)", "channels"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)

    def conv_layer_names(self) -> list[str]:
        """The convolution layers among them."""
        return [layer.name for layer in self.feature_layers() if isinstance(layer, FEATURE_TYPES)]

    def default_layers(self) -> list[str]:
        """Every conv layer when there are at most four (the note's CNN has two); else those at a third, half and two thirds of the depth."""
        convs = self.conv_layer_names()
        return convs if len(convs) <= 4 else [convs[len(convs) * k // 6] for k in (2, 3, 4)]

    def dream_weights(self) -> dict[str, float]:
        """Dream layers and weights when none are asked for: keras-io's for inception_v3, else the default layers, deeper ones more.

        1, 2, 3, ... when those are all the conv layers (the note's CNN: conv1=1, conv2=2), else 1, 1.5, 2.
        """
        if self.label in DREAM_LAYERS:
            return dict(DREAM_LAYERS[self.label])
        layers = self.default_layers()
        step = 1.0 if len(layers) == len(self.conv_layer_names()) else 0.5
        return {name: 1.0 + step * depth for depth, name in enumerate(layers)}

    def check_layers(self, names: Sequence[str]) -> None:
        """Fail in one line when a name is not a layer with a 4-D output, saying what there is."""
        known = {layer.name for layer in self.feature_layers()}
        for name in names:
            if name in known:
                continue
            if name in self._graph.produced:
                shape = getattr(self._graph.produced[name], "shape", "several tensors")
                raise InputError(f"layer {name} has output {shape}, not (batch, height, width, channels): "
                                 "choose one that --list-layers shows")
            convs = self.conv_layer_names()
            listed = ", ".join(convs[:12]) + (f" and {len(convs) - 12} more" if len(convs) > 12 else "")
            raise InputError(f"unknown layer {name}: {self.label}'s conv layers are {listed} (--list-layers shows every choice)")

    def filters(self, name: str) -> int:
        """How many channels (filters) layer `name` outputs."""
        return self._graph.produced[name].shape[-1]

    def graph(self, outputs: list, shape: tuple | None = None, on_call: Callable | None = None) -> keras.Model:
        """A model from pixels 0..1 of `shape` (default: any height and width) to the user's symbolic `outputs`.

        The layers are the user's own, called again on the new input; where the free size fails
        (a Flatten before the outputs, say), the model's own input size is used.
        """
        part = keras.Model(self._graph.input, outputs)
        shapes = [shape] if shape else [(None, None, self.channels), self.model.input_shape[1:]]
        call = (lambda layer, *args, **kwargs: on_call(layer, layer(*args, **kwargs))) if on_call else None
        for index, candidate in enumerate(shapes):
            try:
                inner = keras.models.clone_model(part, input_tensors=keras.Input(candidate), clone_function=_identity,
                                                 call_function=call)
            except (ValueError, TypeError):
                if index == len(shapes) - 1:
                    raise
                continue
            pixels = keras.Input(candidate)
            return keras.Model(pixels, inner(self.to_model(pixels)))

    def features(self, names: Sequence[str]) -> keras.Model:
        """Pixels to the outputs of the named layers, in the order asked."""
        self.check_layers(names)
        return self.graph([self._graph.produced[name] for name in names])

    def before_relu(self, name: str) -> keras.Model | None:
        """Pixels to the value before the ReLU that layer `name` ends in (a conv layer with a relu or relu6 activation, or a
        ReLU or relu Activation layer), or None when its output is no ReLU. Lucid ascends such channels here: a filter
        silent (0) everywhere on the start picture has no gradient after the ReLU, and its picture would stay grey."""
        self.check_layers([name])
        tensor = self._before_relu(name)
        return None if tensor is None else self.graph([tensor])

    def responses(self, names: Sequence[str]) -> keras.Model:
        """Pixels to each named layer's response as its pictures are ascended: before the ReLU it ends in, else its output."""
        self.check_layers(names)
        tensors = [self._before_relu(name) for name in names]
        return self.graph([self._graph.produced[name] if tensor is None else tensor for name, tensor in zip(names, tensors)])

    def _before_relu(self, name: str):
        """The symbolic value before layer `name`'s ReLU, or None when its output is no ReLU (see before_relu)."""
        layer = self.layer(name)
        activation = layer.get_config().get("activation")
        if isinstance(layer, keras.layers.ReLU) or isinstance(layer, keras.layers.Activation) and activation in RELUS:
            return self._graph.received[name]
        if activation not in RELUS or not layer.weights:
            return None
        return self._without_activation(layer, "before_relu")

    def layer_input(self, name: str) -> keras.Model:
        """Pixels to what layer `name` receives."""
        self.check_layers([name])
        return self.graph([self._graph.received[name]])

    def class_scores(self) -> keras.Model:
        """Pixels to the class scores (see Head): what ascending or explaining a class differentiates."""
        return self.graph([self._settled[1]])

    def layer_and_scores(self, name: str) -> keras.Model:
        """Pixels to [the output of layer `name`, the class scores], for Grad-CAM."""
        self.check_layers([name])
        return self.graph([self._graph.produced[name], self._settled[1]])

    @functools.cached_property
    def _output(self) -> tuple[str, object]:
        """The name of the layer that gives the output looked at, and that output in the walked graph."""
        outputs = self._graph.outputs
        names = [next(name for name, out in self._graph.produced.items()
                      if out is tensor and not isinstance(self._graph.layers[name], keras.Model)) for tensor in outputs]
        listed = ", ".join(f"{index} {name} {tuple(tensor.shape)}" for index, (name, tensor) in enumerate(zip(names, outputs)))
        if self.output is None:
            if len(outputs) > 1:
                raise InputError(f"{self.label} has {len(outputs)} outputs ({listed}): choose one with --output NAME or its index")
            return names[0], outputs[0]
        index = names.index(self.output) if self.output in names else int(self.output) if str(self.output).isdigit() else None
        if index is None or not 0 <= index < len(outputs):
            raise InputError(f"unknown output {self.output!r}: {self.label}'s outputs are {listed}")
        return names[index], outputs[index]

    @property
    def head(self) -> Head:
        """What the output looked at is (see Head), read from its last layer or as asked; one line when it does not fit."""
        return self._settled[0]

    @functools.cached_property
    def _settled(self) -> tuple:
        """The head, and its symbolic class scores and probabilities in the walked graph."""
        name, out = self._output
        if len(out.shape) != 2:
            raise InputError(f"{self.label}'s output {name} has shape {tuple(out.shape)[1:]}, not one vector of class scores per "
                             "image: give a classifier whose output is (batch, classes), or choose another with --output")
        layer, units = self._graph.layers[name], out.shape[-1]
        activation = layer.get_config().get("activation") or "linear"
        if isinstance(layer, keras.layers.Softmax):
            activation = "softmax"
        if not isinstance(activation, str):
            activation = "custom"
        kind = settle_head(self.head_asked, activation, units, f"{self.label}'s last layer {name}")
        head = Head(kind, units, name, activation)
        if kind == "regression" or activation == "linear":
            z = out
        elif isinstance(layer, (keras.layers.Softmax, keras.layers.Activation)):
            z = self._graph.received[name]
        else:
            z = self._without_activation(layer, "logits")
        ops = keras.ops
        if kind == "softmax":
            return head, z, out  # the model's own softmax, as it was trained
        if kind == "logits":
            return head, z, ops.softmax(z)
        if kind == "binary":
            return head, ops.concatenate([-z, z], axis=-1), ops.sigmoid(ops.concatenate([-z, z], axis=-1))
        if kind == "sigmoid":
            return head, z, ops.sigmoid(z)
        return head, out, out

    def _without_activation(self, layer, suffix: str):
        """What `layer` gives in the walked graph before its activation: a linear twin holding the same weights.

        The twin is a new layer, so the user's layer keeps its activation.
        """
        twin = type(layer).from_config({**layer.get_config(), "activation": "linear", "name": f"{layer.name}_{suffix}"})
        outputs = twin(self._graph.received[layer.name])
        twin.set_weights(layer.get_weights())
        return outputs

    def classes(self) -> int | None:
        """How many classes the model scores, or None when its head cannot be settled (see head)."""
        try:
            return self.head.classes
        except InputError:
            return None

    def class_names(self, given: list[str] | None = None) -> list[str]:
        """Names for the classes: those given (one per class), else ImageNet's for a network by name when Keras has
        them cached (it never downloads them here), else the class numbers."""
        count = self.classes() or 0
        if given is not None:
            if count and len(given) != count:
                raise InputError(f"--class-names gives {len(given)} names but {self.label} has {count} classes: give one name per class")
            return given
        if self.label in NETWORKS and count == 1000:
            cached = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser(os.path.join("~", ".keras"))),
                                  "models", "imagenet_class_index.json")
            try:
                with open(cached, encoding="utf-8") as handle:
                    index = json.load(handle)
                return [index[str(k)][1] for k in range(count)]
            except (OSError, ValueError, KeyError):
                pass
        return [str(k) for k in range(count)]

    def probability_model(self, shape: tuple | None = None) -> keras.Model:
        """Pixels 0..1 of `shape` (default: any height and width) to the probabilities (see Head): the model's own softmax,
        the softmax of logits, sigmoids, or a regression's value."""
        return self.graph([self._settled[2]], shape=shape)

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """The probabilities (see Head) for pixels 0..1."""
        return np.asarray(self.probability_model(pixels.shape[1:])(pixels))

    def bytes_per_image(self, names: Sequence[str] | None, height: int, width: int) -> int:
        """Working memory to ascend one image of height x width through the named layers (None: the whole model), forward and back."""
        elements = []

        def count(layer, out):
            elements.extend(int(np.prod(t.shape[1:])) for t in keras.tree.flatten(out))
            return out

        outputs = self._graph.outputs if names is None else [self._graph.produced[name] for name in names]
        self.graph(outputs, (height, width, self.channels), count)
        return 4 * 3 * (sum(elements) + height * width * self.channels)

    def smallest_side(self, names: Sequence[str]) -> int:
        """The smallest square input for which every named layer still has an output pixel."""
        features = self.features(names)
        low, high = 1, 2048
        while low < high:  # Keras refuses shapes whose output would be empty, and a larger side never does
            middle = (low + high) // 2
            try:
                features.compute_output_shape((1, middle, middle, self.channels))
                high = middle
            except ValueError:
                low = middle + 1
        return low


def square_images(model: keras.Model) -> keras.Model:
    """A model on flat vectors of n = side x side pixels, taking grey (side, side, 1) images: a Reshape, then its own layers."""
    length = model.input_shape[-1]
    side = math.isqrt(length)
    pixels = keras.Input((side, side, 1), name="pixels")
    flat = keras.layers.Reshape((length,), name="flat_pixels")(pixels)
    # The model's own layers called again on the flat pixels (as walk() does), so its last layer stays last.
    outputs = keras.Model(model.inputs[0], model.outputs[0])._run_through_graph(flat, call_fn=lambda layer, *args, **kwargs: layer(*args, **kwargs))
    return keras.Model(pixels, outputs, name=model.name)


def pixel_convention(input_range: tuple[float, float] | None, preprocess: str | None) -> Callable | None:
    """--input-range LOW,HIGH or --preprocess FAMILY as a function of pixels 0..1; None keeps 0..1."""
    if preprocess:
        module = importlib.import_module(f"keras.applications.{family(preprocess)}")
        return lambda pixels: module.preprocess_input(pixels * 255.0)
    if input_range:
        low, high = input_range
        return lambda pixels: low + (high - low) * pixels
    return None


def family(name: str) -> str:
    """The keras.applications module of a network name such as vgg16 or resnet50."""
    if name in NETWORKS:
        return NETWORKS[name][1]
    families = sorted({module for _, module in NETWORKS.values()})
    if name in families:
        return name
    raise InputError(f"unknown network {name}: known ones are {', '.join(NETWORKS)}")


def load(spec: keras.Model | str | os.PathLike, command: str, input_range: tuple[float, float] | None = None, preprocess: str | None = None,
         maps: bool = True, head: str = "auto", output: str | int | None = None) -> View:
    """A View of a keras.Model in memory, a Keras model file (.keras or .h5) or a keras.applications network by name
    (the rest: see View.of); `command` is what makes the missing model file."""
    if isinstance(spec, keras.Model):
        return View.of(spec, spec.name, pixel_convention(input_range, preprocess), maps, head, output)
    if not isinstance(spec, (str, os.PathLike)):
        raise InputError(f"a {type(spec).__name__} is not a model: give a keras.Model, a model file (.keras or .h5) or a "
                         f"keras.applications network name such as {', '.join(list(NETWORKS)[:4])}")
    spec = os.fspath(spec)
    if not os.path.exists(spec) and not spec.endswith((".keras", ".h5")) and os.sep not in spec:
        return network(spec, head, output)
    model = models.load_trained(spec, f"run `{command}`, pass another --model file, "
                                      f"or a network name such as {', '.join(list(NETWORKS)[:4])}")
    return View.of(model, os.path.basename(spec), pixel_convention(input_range, preprocess), maps, head, output)


def network(name: str, head: str = "auto", output: str | int | None = None) -> View:
    """A keras.applications network with its ImageNet weights (Keras downloads and caches them once), fed its own preprocessing."""
    constructor, module = NETWORKS.get(name, (None, None))
    if constructor is None:
        family(name)  # raises, listing the known names
    try:
        model = getattr(keras.applications, constructor)(weights=WEIGHTS)
    except Exception as error:  # no network, a broken cache: the fix is the same
        raise InputError(f"could not get {name}'s ImageNet weights ({type(error).__name__}): run once with a network so "
                         "Keras can download and cache them, or pass a model file with --model") from None
    return View.of(model, name, pixel_convention(None, module), head=head, output=output)
