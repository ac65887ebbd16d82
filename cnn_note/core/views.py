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
checks.py, how many pictures fit in memory in batching.py; the names of its classes in
inputs.class_names, the --list-layers table in cli.arguments, the dream's default layers in optvis.dream.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import batching, checks, heads, tokens, traversal
from cnn_note.core.heads import Head
from cnn_note.core.held import HELD, Held, held_layer, values_of
from cnn_note.core.traversal import Graph, walk
from cnn_note.errors import Argument, InputError

GRID = Argument("grid", python="grid=(height, width)", flag="--grid HxW")  # a transformer's patch grid, where it cannot be read
FEATURE_TYPES = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)


def _identity(layer):
    return layer


def _unchanged(pixels):
    return pixels


class LayerRow(NamedTuple):
    """A layer that can be chosen (View.layer_table): its name, its type, its output (height, width, channels), each None
    where the input's size is free, and its channels."""

    name: str
    type: str
    output: tuple
    channels: int


@dataclasses.dataclass(frozen=True)
class View:
    """A trained image model seen through pixels 0..1; build one with model_loading.load() or View.of()."""

    model: keras.Model
    label: str
    to_model: Callable = _unchanged  # pixels 0..1 -> what the model was trained on
    head_asked: str = "auto"  # what its output is: one of HEADS (see Head)
    output: str | int | None = None  # which output to score, by its layer's name or index, when it has several
    grid: tuple[int, int] | None = None  # the patch grid (height, width) of a transformer's tokens, where it cannot be read
    # What has been built for it, by what was asked (see memo): never compared, hashed or shown.
    _built: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, model: keras.Model, label: str = "the model", to_model: Callable | None = None, maps: bool = True,
           head: str = "auto", output: str | int | None = None, shape: tuple | None = None,
           grid: tuple[int, int] | None = None, picture: str | int | None = None, held_at=None) -> View:
        """Check that `model` is an image model with channels last and finite weights, and view it (a subclassed model
        traced as a functional one on its own layers: checks.traced, on `shape` if never called). A model of several
        inputs is seen through its `picture` input (default: the first), the others held at `held_at` (by input name;
        default zeros: see core.held).

        The head and the output are settled when class scores are first asked for (View.head).

        With maps=False (explaining a decision needs no feature maps) a model on flat vectors
        of a square's pixels, the note's DNN, is seen as one on grey square images, and a model
        with no 4-D layer is accepted.
        """
        model = checks.image_model(model, label, maps, head, shape, picture)
        view = cls(model, label, to_model or _unchanged, head, output, None if grid is None else tuple(grid))
        if view.held is not None and held_at is not None:
            view.held.hold(values_of(view.held, held_at, label), given=True)
        elif held_at is not None:
            raise InputError(HELD, f" gives values to hold but {label} has one input: leave it out")
        if maps and not view.feature_layers():
            have = ", ".join(f"{layer.name} {layer.output.shape}" for layer in model.layers[:8])
            fix = ("give the patch grid of its (batch, tokens, channels) layers as ", GRID, ", or a CNN") \
                if any(len(shape) == 3 for shape in view.shapes.values()) else ("give a CNN",)
            raise InputError(f"{label} has no layer with a (batch, height, width, channels) output to look at "
                             f"(it has {have}): ", *fix, ", such as results/cnn/model.keras")
        return view

    @functools.cached_property
    def _graph(self) -> Graph:
        return walk(self.model)

    @functools.cached_property
    def held(self) -> Held | None:
        """The layer that holds a model's other inputs (core.held), or None for a model of one input."""
        return held_layer(self.model)

    def memo(self, kind: str, *parts, build: Callable[[], object]):
        """What `build()` gives, built on the first ask for this `kind` of thing with these `parts` and kept: the small
        models below, and what the methods compile on them (a tf.function reads the model's variables as they are at
        each call, so training the model later shows in it).

        The key is minted here, so that no caller builds one: a list among the parts counts as the tuple of its items
        (layers given as a list or a tuple are one thing, and a list is no key).
        """
        key = (kind, *(tuple(part) if isinstance(part, list) else part for part in parts))
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

    @functools.cached_property
    def shapes(self) -> dict[str, tuple]:
        """Each layer's output shape, sizes the graph leaves None measured by one forward pass (tokens.measured_shapes)."""
        return tokens.measured_shapes(self._graph, self.size)

    @functools.cached_property
    def grids(self) -> dict[str, tokens.Grid]:
        """The grid of each layer whose (batch, tokens, channels) output the tools see as a map (see core.tokens)."""
        return tokens.grids(self._graph, self.shapes, self.grid)

    def feature_layers(self) -> list:
        """Every layer whose output is (batch, height, width, channels), or tokens on a patch grid (grids), in order, that
        sees the picture (of a model of several inputs, not a layer of the held inputs alone)."""
        graph, seen = self._graph, self._seen
        return [graph.layers[name] for name, out in graph.produced.items() if graph.layers[name] is not self.model and name in seen
                and (len(getattr(out, "shape", ())) == 4 or name in self.grids)]

    @functools.cached_property
    def _seen(self) -> set[str]:
        """The layers whose output depends on the picture input (the held inputs feed none of them on their own)."""
        graph, reached, seen = self._graph, {id(self._graph.input)}, set()
        for name, out in graph.produced.items():
            if graph.layers[name] is not self.held and any(id(tensor) in reached for tensor in keras.tree.flatten(graph.arguments[name])):
                seen.add(name)
                reached.update(id(tensor) for tensor in keras.tree.flatten(out))
        return seen

    def as_map(self, name: str, tensor=None):
        """Layer `name`'s symbolic output (or `tensor`, a value of the same tokens) as (batch, height, width, channels):
        itself, or its tokens on their grid (tokens.TokenMap)."""
        grid = self.grids.get(name)
        if grid is None:
            return self._graph.produced[name] if tensor is None else tensor
        if tensor is None:  # one map per layer, however often asked (each call is recorded in the user's graph)
            return self.memo("token_map", name, build=lambda: tokens.TokenMap(*grid)(self._graph.produced[name]))
        return tokens.TokenMap(*grid)(tensor)

    def layer_table(self) -> list[LayerRow]:
        """Every layer that can be chosen, in order: its name, type, output shape and channels (--list-layers prints them
        as a table)."""
        return [LayerRow(layer.name, type(layer).__name__, self._map_shape(layer.name), self.filters(layer.name))
                for layer in self.feature_layers()]

    def _map_shape(self, name: str) -> tuple:
        grid = self.grids.get(name)
        return tuple(self.shapes[name][1:]) if grid is None else (grid.height, grid.width, self.filters(name))

    def conv_layer_names(self) -> list[str]:
        """The convolution layers among them."""
        return [layer.name for layer in self.feature_layers() if isinstance(layer, FEATURE_TYPES)]

    def default_layers(self) -> list[str]:
        """Every conv layer when there are at most four (the note's CNN has two); else those at a third, half and two
        thirds of the depth. A transformer without conv layers (its patches cut by keras.ops): its MLP layers (Dense on
        tokens with an activation) the same way, else its token layers."""
        convs = self.conv_layer_names() or [layer.name for layer in self.feature_layers() if isinstance(layer, keras.layers.Dense)
                                            and traversal.activation_of(layer) not in ("linear", "custom")]
        convs = convs or [layer.name for layer in self.feature_layers()]
        return convs if len(convs) <= 4 else [convs[len(convs) * k // 6] for k in (2, 3, 4)]

    def check_layers(self, names: Sequence[str]) -> None:
        """Fail in one line when a name is not a layer the tools can look at (a 4-D output, or tokens on a grid, that sees
        the picture), saying what there is."""
        known = {layer.name for layer in self.feature_layers()}
        for name in names:
            if name in known:
                continue
            if name in self._graph.produced and name not in self._seen:
                raise InputError(f"layer {name} does not see {self.held.picture}, the picture the tools look at (it takes the held "
                                 "inputs alone): choose a layer after the picture, or look at another picture input with ",
                                 Argument("picture"))
            if name in self._graph.produced:
                shape = getattr(self._graph.produced[name], "shape", "several tensors")
                tokens_too = (" nor tokens on a patch grid it can read: give the grid as ", GRID, ", or") \
                    if len(self.shapes.get(name, ())) == 3 else (":",)
                raise InputError(f"layer {name} has output {shape}, not (batch, height, width, channels)", *tokens_too,
                                 " choose one that ", Argument("list_layers", python="cn.view_of(model).layer_table()"), " shows")
            convs = self.conv_layer_names()
            listed = ", ".join(convs[:12]) + (f" and {len(convs) - 12} more" if len(convs) > 12 else "")
            raise InputError(f"unknown layer {name}: {self.label}'s conv layers are {listed} (",
                             Argument("list_layers", python="cn.view_of(model).layer_table()"), " shows every choice)")

    def filters(self, name: str) -> int:
        """How many channels (filters) layer `name` outputs."""
        return self.shapes[name][-1]

    def graph(self, outputs: list, shape: tuple | None = None, on_call: Callable | None = None,
              float32: bool = True) -> keras.Model:
        """A model from pixels 0..1 of `shape` (default: any height and width) to the user's symbolic `outputs`.

        The layers are the user's own, called again on the new input; where the free size fails
        (a Flatten before the outputs, say), the model's own input size is used. The layers compute
        in their own dtypes (a mixed-precision model in float16 or bfloat16); the outputs are cast to
        float32, so ascent, gradients and maps are float32 (float32=False keeps them as computed).
        A model of several inputs gets its other inputs from the view's held values (see with_inputs).
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

    def with_inputs(self, outputs: list, shape: tuple, held: bool = True, added: str | None = None,
                    float32: bool = True) -> keras.Model:
        """A model from [pixels 0..1 of `shape`, each other input (core.held) when `held`, and with `added` a tensor
        added to that layer's output] to `outputs`: what depends on them can be differentiated. The tensor added is
        zeros when run, so the outputs are the model's own, and the gradient with respect to it is the gradient with
        respect to the layer's output (Grad-CAM's, on any backend: JAX differentiates inputs only)."""
        others = {name: keras.Input(size, dtype=self.held.values[name].dtype, name=name)
                  for name, size in self.held.shapes.items()} if held and self.held else {}
        extra = []
        if added is not None:
            layer_output = self.graph([self._graph.produced[added]], shape, float32=False)
            out = keras.ops.convert_to_numpy(layer_output(np.zeros((1, *shape), "float32")))
            extra = [keras.Input(out.shape[1:], dtype=str(out.dtype), name=f"{added}_added")]

        def call(layer, *args, **kwargs):
            if others and traversal.user_layer(layer) is self.held:
                return list(others.values())
            found = layer(*args, **kwargs)
            return found + extra[0] if extra and traversal.user_layer(layer) is self._graph.layers[added] else found

        pixels = keras.Input(shape)
        found = keras.Model(self._graph.input, outputs)._run_through_graph(self.to_model(pixels), call_fn=call)
        return keras.Model([pixels, *others.values(), *extra], keras.tree.map_structure(in_float32, found) if float32 else found)

    def features(self, names: Sequence[str]) -> keras.Model:
        """Pixels to the outputs of the named layers, in the order asked."""
        self.check_layers(names)
        return self.memo("features", names, build=lambda: self.graph([self.as_map(name) for name in names]))

    def before_relu(self, name: str) -> keras.Model | None:
        """Pixels to the value before the ReLU that layer `name` ends in (a conv layer with a relu or relu6 activation, or a
        ReLU or relu Activation layer), or None when its output is no ReLU. Lucid ascends such channels here: a filter
        silent (0) everywhere on the start picture has no gradient after the ReLU, and its picture would stay grey."""
        self.check_layers([name])

        def build() -> keras.Model | None:
            tensor = traversal.before_relu(self._graph, name)
            return None if tensor is None else self.graph([self.as_map(name, tensor)])

        return self.memo("before_relu", name, build=build)

    def responses(self, names: Sequence[str]) -> keras.Model:
        """Pixels to each named layer's response as its pictures are ascended: before the ReLU it ends in, else its output."""
        self.check_layers(names)

        def build() -> keras.Model:
            tensors = [traversal.before_relu(self._graph, name) for name in names]
            return self.graph([self.as_map(name, tensor) for name, tensor in zip(names, tensors)])

        return self.memo("responses", names, build=build)

    def layer_input(self, name: str) -> keras.Model:
        """Pixels to what layer `name` receives."""
        self.check_layers([name])
        return self.memo("layer_input", name, build=lambda: self.graph([self._graph.received[name]]))

    def class_scores(self, on_call: Callable | None = None) -> keras.Model:
        """Pixels to the class scores (see Head): what ascending or explaining a class differentiates. `on_call(layer,
        output)` may replace each layer's output on the way (see graph): such a model is built anew each time."""
        if on_call is not None:
            return self.graph([self._settled[1]], on_call=on_call)
        return self.memo("class_scores", build=lambda: self.graph([self._settled[1]]))

    def class_scores_with_inputs(self, shape: tuple) -> keras.Model:
        """[Pixels 0..1 of `shape`, each other input] to the class scores, for a model of several inputs (see with_inputs)."""
        return self.memo("class_scores_with_inputs", tuple(shape), build=lambda: self.with_inputs([self._settled[1]], shape))

    def layer_and_scores(self, name: str, shape: tuple) -> keras.Model:
        """[Pixels of `shape`, zeros added to layer `name`'s output] to [that output, the class scores], for Grad-CAM: as
        computed, the scores' gradient with respect to the zeros being that with respect to the output (with_inputs; a
        transformer's tokens too: token_map makes both maps)."""
        self.check_layers([name])
        return self.memo("layer_and_scores", name, tuple(shape), build=lambda: self.with_inputs(
            [self._graph.produced[name], self._settled[1]], tuple(shape), held=False, added=name, float32=False))

    def attention_layers(self, on_grid: bool = True) -> list[str]:
        """The attention layers whose scores can be read, in call order: keras.layers.MultiHeadAttention and any layer
        whose call takes return_attention_scores the same way, on tokens on a grid (on_grid=False: on any tokens)."""
        return [name for name, layer in self._graph.layers.items()
                if "return_attention_scores" in getattr(layer, "call_signature_parameters", ()) and (name in self.grids or not on_grid)]

    def attention_scores(self) -> keras.Model:
        """Pixels to every attention layer's scores (batch, heads, queries, keys), in call order: each layer called again
        on what it received, with return_attention_scores=True, in inference mode (its own weights, nothing copied)."""

        def build() -> keras.Model:
            names = self.attention_layers()
            called = [traversal.with_attention_scores(self._graph, name) for name in names]
            return self.graph([scores for _, scores in called])

        return self.memo("attention_scores", build=build)

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

    def probability_model(self, shape: tuple | None = None) -> keras.Model:
        """Pixels 0..1 of `shape` (default: any height and width) to the probabilities (see Head): the model's own softmax,
        the softmax of logits, sigmoids, or a regression's value."""
        shape = None if shape is None else tuple(shape)
        return self.memo("probabilities", shape, build=lambda: self.graph([self._settled[2]], shape=shape))

    def probabilities(self, pixels: np.ndarray, others: dict | None = None) -> np.ndarray:
        """The probabilities (see Head) for pixels 0..1, in batches that fit (batching.batch_size); with `others`, at each
        picture's own other inputs ({input name: (N, ...)}) instead of the held ones."""
        shape, (height, width) = tuple(pixels.shape[1:]), pixels.shape[1:3]
        model = self.probability_model(shape) if others is None else \
            self.memo("probabilities_with_inputs", shape, build=lambda: self.with_inputs([self._settled[2]], shape))
        given = [] if others is None else [np.asarray(others[name], self.held.values[name].dtype) for name in self.held.shapes]
        batch = batching.batch_size(self, None, height, width, len(pixels), f"a {height}x{width} picture", "give smaller pictures", True)
        return batching.map_batches(lambda part, *rest: keras.ops.convert_to_numpy(model([part, *rest] if rest else part)), batch,
                                    pixels, *given)

    def only_size(self, names: Sequence[str]) -> tuple[int, int] | None:
        """The one (height, width) the named layers take pictures of, or None where they take any size: a transformer's
        position embeddings fix their tokens, so its layers take only the model's size (and the tools make pictures at it,
        as class pictures do)."""
        size = tuple(self.features(names).input_shape[1:3])
        if None in size and any(name in self.grids for name in names):
            size = self.size or size  # their grid holds at the model's size, whatever the graph lets through
        return None if None in size else size

    def token_map(self, name: str) -> Callable:
        """Layer `name`'s output as computed (layer_and_scores) to its map: its tokens on their grid, else as it is."""
        grid = self.grids.get(name)
        return _unchanged if grid is None else self.memo("token_map_layer", name, build=lambda: tokens.TokenMap(*grid))

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
