"""Any Keras image model as the look-inside tools see it: what each method needs, and nothing more.

A View turns the user's model (model_loading.load opens one from memory, a file or a network name)
into small models that take pixels 0..1 (batch, height, width, channels) at any size the layers
allow: the outputs of named layers, what a layer receives, and the class scores before softmax.
Each is a new graph over the walked model (model_graph: the user's own layers, in inference mode),
so the trained weights are used as they are; the user's model itself is never changed. A View
walks its model once and builds each small model once, when first asked (View.memo keeps them, and
what the methods compile on them): Keras keeps a record of every symbolic call of a layer, so a
graph built again for every question would add to the user's layers each time. The pixel
convention (0..1, another range, or a keras.applications preprocess_input) is applied inside, so
ascent always works on 0..1 pixels. What the output is lives in heads.py, what a model must be in
checks.py.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import batching, checks, heads, networks, traversal
from cnn_note.core.heads import Head
from cnn_note.core.traversal import Graph, walk
from cnn_note.errors import Argument, InputError

FEATURE_TYPES = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


def _identity(layer):
    return layer


def _unchanged(pixels):
    return pixels


@dataclasses.dataclass(frozen=True)
class View:
    """A trained image model seen through pixels 0..1; build one with model_loading.load() or View.of()."""

    model: keras.Model
    label: str
    to_model: Callable = _unchanged  # pixels 0..1 -> what the model was trained on
    head_asked: str = "auto"  # what its output is: one of HEADS (see Head)
    output: str | int | None = None  # which output to score, by its layer's name or index, when it has several
    # What has been built for it, by what was asked (see memo): never compared, hashed or shown.
    _built: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, model: keras.Model, label: str = "the model", to_model: Callable | None = None, maps: bool = True,
           head: str = "auto", output: str | int | None = None, shape: tuple | None = None) -> View:
        """Check that `model` is a one-input image model with channels last and finite weights, and view it (a
        subclassed model traced as a functional one on its own layers: checks.traced, on `shape` if never called).

        The head and the output are settled when class scores are first asked for (View.head).

        With maps=False (explaining a decision needs no feature maps) a model on flat vectors
        of a square's pixels, the note's DNN, is seen as one on grey square images, and a model
        with no 4-D layer is accepted.
        """
        model = checks.image_model(model, label, maps, head, shape)
        view = cls(model, label, to_model or _unchanged, head, output)
        if maps and not view.feature_layers():
            have = ", ".join(f"{layer.name} {layer.output.shape}" for layer in model.layers[:8])
            raise InputError(f"{label} has no layer with a (batch, height, width, channels) output to look at "
                             f"(it has {have}): give a CNN, such as results/cnn/model.keras")
        return view

    @functools.cached_property
    def _graph(self) -> Graph:
        return walk(self.model)

    def memo(self, key: tuple, build: Callable[[], object]):
        """What `build()` gives, built on the first ask with this `key` and kept: the small models below, and what the
        methods compile on them (a tf.function reads the model's variables as they are at each call, so training the
        model later shows in it)."""
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

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
        """Every conv layer when there are at most four (the note's CNN has two); else those at a third, half and two
        thirds of the depth."""
        convs = self.conv_layer_names()
        return convs if len(convs) <= 4 else [convs[len(convs) * k // 6] for k in (2, 3, 4)]

    def dream_weights(self) -> dict[str, float]:
        """Dream layers and weights when none are asked for: keras-io's for inception_v3, else the default layers, deeper ones more.

        1, 2, 3, ... when those are all the conv layers (the note's CNN: conv1=1, conv2=2), else 1, 1.5, 2.
        """
        if self.label in networks.DREAM_LAYERS:
            return dict(networks.DREAM_LAYERS[self.label])
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
                                 "choose one that ", Argument("list_layers", python="cn.view_of(model).layer_table()"), " shows")
            convs = self.conv_layer_names()
            listed = ", ".join(convs[:12]) + (f" and {len(convs) - 12} more" if len(convs) > 12 else "")
            raise InputError(f"unknown layer {name}: {self.label}'s conv layers are {listed} (",
                             Argument("list_layers", python="cn.view_of(model).layer_table()"), " shows every choice)")

    def filters(self, name: str) -> int:
        """How many channels (filters) layer `name` outputs."""
        return self._graph.produced[name].shape[-1]

    def graph(self, outputs: list, shape: tuple | None = None, on_call: Callable | None = None,
              float32: bool = True) -> keras.Model:
        """A model from pixels 0..1 of `shape` (default: any height and width) to the user's symbolic `outputs`.

        The layers are the user's own, called again on the new input; where the free size fails
        (a Flatten before the outputs, say), the model's own input size is used. The layers compute
        in their own dtypes (a mixed-precision model in float16 or bfloat16); the outputs are cast to
        float32, so ascent, gradients and maps are float32 (float32=False keeps them as computed).
        """
        part = keras.Model(self._graph.input, outputs)
        shapes = [shape] if shape else [(None, None, self.channels), self.model.input_shape[1:]]
        # on_call hears of the user's layer, not of a stand-in for one (traversal.ScopeSafe).
        call = (lambda layer, *args, **kwargs: on_call(traversal.user_layer(layer), layer(*args, **kwargs))) if on_call else None
        for index, candidate in enumerate(shapes):
            try:
                inner = keras.models.clone_model(part, input_tensors=keras.Input(candidate), clone_function=_identity,
                                                 call_function=call)
            except (ValueError, TypeError):
                if index == len(shapes) - 1:
                    raise
                continue
            pixels = keras.Input(candidate)
            found = inner(self.to_model(pixels))
            return keras.Model(pixels, keras.tree.map_structure(in_float32, found) if float32 else found)

    def features(self, names: Sequence[str]) -> keras.Model:
        """Pixels to the outputs of the named layers, in the order asked."""
        self.check_layers(names)
        return self.memo(("features", *names), lambda: self.graph([self._graph.produced[name] for name in names]))

    def before_relu(self, name: str) -> keras.Model | None:
        """Pixels to the value before the ReLU that layer `name` ends in (a conv layer with a relu or relu6 activation, or a
        ReLU or relu Activation layer), or None when its output is no ReLU. Lucid ascends such channels here: a filter
        silent (0) everywhere on the start picture has no gradient after the ReLU, and its picture would stay grey."""
        self.check_layers([name])

        def build() -> keras.Model | None:
            tensor = traversal.before_relu(self._graph, name)
            return None if tensor is None else self.graph([tensor])

        return self.memo(("before_relu", name), build)

    def responses(self, names: Sequence[str]) -> keras.Model:
        """Pixels to each named layer's response as its pictures are ascended: before the ReLU it ends in, else its output."""
        self.check_layers(names)

        def build() -> keras.Model:
            tensors = [traversal.before_relu(self._graph, name) for name in names]
            return self.graph([self._graph.produced[name] if tensor is None else tensor for name, tensor in zip(names, tensors)])

        return self.memo(("responses", *names), build)

    def layer_input(self, name: str) -> keras.Model:
        """Pixels to what layer `name` receives."""
        self.check_layers([name])
        return self.memo(("layer_input", name), lambda: self.graph([self._graph.received[name]]))

    def class_scores(self, on_call: Callable | None = None) -> keras.Model:
        """Pixels to the class scores (see Head): what ascending or explaining a class differentiates. `on_call(layer,
        output)` may replace each layer's output on the way (see graph): such a model is built anew each time."""
        if on_call is not None:
            return self.graph([self._settled[1]], on_call=on_call)
        return self.memo(("class_scores",), lambda: self.graph([self._settled[1]]))

    def layer_and_scores(self, name: str) -> keras.Model:
        """Pixels to [the output of layer `name`, the class scores], for Grad-CAM: as computed, so that the scores'
        gradient with respect to the layer's output can be taken."""
        self.check_layers([name])
        return self.memo(("layer_and_scores", name), lambda: self.graph([self._graph.produced[name], self._settled[1]], float32=False))

    @property
    def head(self) -> Head:
        """What the output looked at is (see Head), read from its last layer or as asked; one line when it does not fit."""
        return self._settled[0]

    @functools.cached_property
    def _settled(self) -> tuple:
        """The head, and its symbolic class scores and probabilities in the walked graph."""
        return heads.read(self._graph, self.head_asked, self.output, self.label)

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
                raise InputError(Argument("class_names"), f" gives {len(given)} names but {self.label} has {count} classes: "
                                 "give one name per class")
            return given
        cached = networks.imagenet_class_names() if self.label in networks.NETWORKS and count == 1000 else None
        return cached or [str(k) for k in range(count)]

    def probability_model(self, shape: tuple | None = None) -> keras.Model:
        """Pixels 0..1 of `shape` (default: any height and width) to the probabilities (see Head): the model's own softmax,
        the softmax of logits, sigmoids, or a regression's value."""
        shape = None if shape is None else tuple(shape)
        return self.memo(("probabilities", shape), lambda: self.graph([self._settled[2]], shape=shape))

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        """The probabilities (see Head) for pixels 0..1, in batches that fit (View.batch)."""
        model, (height, width) = self.probability_model(pixels.shape[1:]), pixels.shape[1:3]
        batch = self.batch(None, height, width, len(pixels), f"a {height}x{width} picture", "give smaller pictures", True)
        return batching.map_batches(lambda part: np.asarray(model(part)), batch, pixels)

    def tensor_sizes(self, names: Sequence[str] | None, height: int, width: int) -> list[int]:
        """The values in each tensor that one height x width picture makes on its way to the named layers (None: the whole
        model), the picture itself first."""

        def build() -> list[int]:
            sizes = [height * width * self.channels]

            def count(layer, out):
                sizes.extend(int(np.prod(t.shape[1:])) for t in keras.tree.flatten(out))
                return out

            outputs = self._graph.outputs if names is None else [self._graph.produced[name] for name in names]
            self.graph(outputs, (height, width, self.channels), count)
            return sizes

        return list(self.memo(("tensor_sizes", None if names is None else tuple(names), height, width), build))

    def bytes_per_image(self, names: Sequence[str] | None, height: int, width: int) -> int:
        """Working memory to ascend one image of height x width through the named layers (None: the whole model), forward and back."""
        return batching.bytes_needed(self.tensor_sizes(names, height, width))

    def batch(self, names: Sequence[str] | None, height: int, width: int, count: int, what: str, fix: str,
              forward_only: bool = False) -> int:
        """How many of `count` height x width pictures go through the named layers (None: the whole model) at once, by
        batching.fitting's rule; forward only keeps no activations for a way back."""
        return batching.fitting(self.tensor_sizes(names, height, width), count, what, fix, forward_only)

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


def in_float32(tensor):
    """A symbolic tensor as float32: itself when it is (so a float32 model's graph is unchanged), else cast."""
    return tensor if tensor.dtype == "float32" else keras.ops.cast(tensor, "float32")
