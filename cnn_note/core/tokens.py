"""Tokens as maps: a transformer layer's (batch, tokens, channels) output seen as (batch, grid height, grid width, channels).

Where a layer's tokens are a patch grid, possibly after a few extra tokens (class, distillation,
register tokens), every tool sees that layer as a map: a unit is a channel, its map that channel over
the grid, the extra tokens left out. The grid is read from the graph, each tensor from the one it was
made of:
- tokens made from a map (a Conv2D's output reshaped, or the picture cut into patches) are that map's
  grid cut by one stride f, (height // f, width // f) or rounded up, with no extra token: their count
  is exactly h*w;
- tokens made from tokens keep their grid when the count is the same; a different count is extra
  tokens added (a class token: k + h*w) or the grid shrunk by a whole factor (Swin's patch merging).
A grid that cannot be read (tokens cut in an order of their own, a class token added in the patching
layer) is given by the user (`grid=(h, w)`, --grid HxW): the patch grid, shrunk by the same rule in
later stages. Sizes the graph does not know (a `None` token count) are measured by one forward pass on a
picture of the model's size (measured_shapes).
May import: backend.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cnn_note.backend import keras

MAX_EXTRA = 8  # extra tokens before the grid: a class token, a distillation token, a few register tokens


class Grid(NamedTuple):
    """How a layer's tokens lie: `extra` tokens first, then a height x width patch grid, row by row."""

    extra: int
    height: int
    width: int


@keras.saving.register_keras_serializable(package="cnn_note")
class TokenMap(keras.layers.Layer):
    """(batch, tokens, channels) to (batch, grid height, grid width, channels): the extra tokens left out."""

    def __init__(self, extra: int, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.grid = Grid(extra, height, width)

    def call(self, tokens):
        extra, height, width = self.grid
        return keras.ops.reshape(tokens[:, extra:], (-1, height, width, tokens.shape[-1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.grid.height, self.grid.width, input_shape[-1])

    def get_config(self):
        return {**super().get_config(), **self.grid._asdict()}


def measured_shapes(graph, size: tuple[int, int] | None) -> dict[str, tuple]:
    """Each layer's output shape in the walked `graph`, the batch None. Where the graph leaves a size `None`, or a layer
    gives (batch, tokens, channels), one forward pass of two pictures of `size` (the model's own) measures it: a
    layer whose batch then is not 2 (Swin's windows, batch x windows) keeps its measured batch, and is no picture's
    tokens. Left as the graph has them where there is no size to measure at."""
    shapes = {name: tuple(out.shape) for name, out in graph.produced.items() if hasattr(out, "shape")}
    unknown = [name for name, shape in shapes.items() if None in shape[1:] or len(shape) == 3]
    if unknown and size is not None:
        channels = graph.input.shape[-1]
        model = keras.Model(graph.input, [graph.produced[name] for name in unknown])
        values = keras.tree.flatten(model(np.zeros((2, *size, channels), graph.input.dtype or "float32")))
        shapes.update({name: (None if value.shape[0] == 2 else value.shape[0], *value.shape[1:]) for name, value in zip(unknown, values)})
    return shapes


def _cut(count: int, height: int, width: int) -> tuple[int, int] | None:
    """The grid a height x width map cut into `count` patches by one stride is (floored or rounded up), or None."""
    for stride in range(1, max(height, width) + 1):
        for grid in ((height // stride, width // stride), (-(-height // stride), -(-width // stride))):
            if grid[0] * grid[1] == count:
                return grid
    return None


def _from_tokens(count: int, below: Grid) -> Grid | None:
    """The grid of `count` tokens made from tokens on grid `below`: the same, other extra tokens, or the grid shrunk by a
    whole factor (the extra count nearest below's first), or None."""
    if count == below.extra + below.height * below.width:
        return below
    found = []
    for shrink in range(1, max(below.height, below.width) + 1):
        for height, width in ((below.height // shrink, below.width // shrink),
                              (-(-below.height // shrink), -(-below.width // shrink))):
            if 0 <= count - height * width <= MAX_EXTRA and height * width:
                found.append((abs(count - height * width - below.extra), shrink, Grid(count - height * width, height, width)))
    return min(found)[2] if found else None


def grids(graph, shapes: dict[str, tuple], given: tuple[int, int] | None = None) -> dict[str, Grid]:
    """The grid of every layer whose output is (batch, tokens, channels) on a patch grid (see the module's rules); `given`
    is the user's patch grid, for tokens made from a map (it wins over the grid read: the user knows their model). A
    keras Reshape of a map makes tokens only of its every pixel (a stride of 1): a Reshape of a picture's rows (for an
    RNN) or of raw pixels in raster order is no patch grid."""
    sizes = {id(graph.input): tuple(graph.input.shape[1:3])}  # each map's (height, width), each token tensor's Grid
    found = {}
    for name, out in graph.produced.items():
        shape = shapes.get(name)
        if shape is None:
            continue
        if len(shape) == 4:
            sizes[id(out)] = shape[1:3]
            continue
        if len(shape) != 3 or shape[1] is None or shape[0] is not None:
            continue
        received = graph.received[name]
        below = [sizes.get(id(tensor)) for tensor in (received if isinstance(received, (list, tuple)) else [received])]
        below = next((size for size in below if size is not None), None)
        grid = None
        if isinstance(below, Grid):
            grid = _from_tokens(shape[1], below)
        elif given is not None:
            grid = _from_tokens(shape[1], Grid(0, *given))
        elif below is not None and None not in below:
            whole = isinstance(graph.layers[name], keras.layers.Reshape)
            cut = (below if shape[1] == below[0] * below[1] else None) if whole else _cut(shape[1], *below)
            grid = Grid(0, *cut) if cut else None
        if grid is not None:
            sizes[id(out)] = found[name] = grid
    return found
