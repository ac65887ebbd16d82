"""The receptive field: the input region a unit of a layer sees, from the model's graph (kernels, strides, dilation,
padding, pooling), checked against the gradient's support in the tests."""


from __future__ import annotations

import dataclasses
from collections.abc import Callable

from cnn_note.backend import keras
from cnn_note.core.views import View

# Layers that mix no pixels: the field goes through them as it came (a merge takes the union of its inputs' fields).
PIXELWISE = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU,
             keras.layers.PReLU, keras.layers.ELU, keras.layers.Dropout, keras.layers.SpatialDropout2D, keras.layers.GaussianNoise,
             keras.layers.Rescaling, keras.layers.Normalization, keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply,
             keras.layers.Average, keras.layers.Maximum, keras.layers.Minimum, keras.layers.Concatenate, keras.layers.Identity)
WINDOWED = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D, keras.layers.MaxPooling2D,
            keras.layers.AveragePooling2D)


Span = Callable[[int, int, int], "tuple[int, int] | None"]  # (axis, first unit, last unit) -> first and last input pixel


@dataclasses.dataclass(frozen=True)
class Field:
    """Where a layer's units look in an input of a given size. Unit (row, col)'s field is height x width input pixels from
    (top + row * step_y, left + col * step_x), parts of it past the input's edge where the layers pad; `span` gives
    the pixels a unit really depends on, which at an edge can be fewer (padding, or a pooling that drops a last row)."""

    top: int
    left: int
    step_y: int
    step_x: int
    height: int
    width: int
    rows: int  # the layer's map size for that input
    cols: int
    span: Span = dataclasses.field(compare=False, repr=False)

    def nominal(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of unit (row, col)'s whole field, bottom and right exclusive: the crop shown."""
        top, left = self.top + row * self.step_y, self.left + col * self.step_x
        return top, left, top + self.height, left + self.width

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of the input pixels unit (row, col) depends on, bottom and right exclusive."""
        (top, bottom), (left, right) = self.span(0, row, row), self.span(1, col, col)
        return top, left, bottom + 1, right + 1


def _window(layer) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], str]:
    """A conv or pooling layer's (kernel, strides, dilation, padding)."""
    config = layer.get_config()
    if "pool_size" in config:
        kernel = tuple(config["pool_size"])
        return kernel, tuple(config["strides"] or kernel), (1, 1), config["padding"]
    return tuple(config["kernel_size"]), tuple(config["strides"]), tuple(config["dilation_rate"]), config["padding"]


def _taps(first: int, last: int, stride: int, before: int, kernel: int, dilation: int, size: int) -> tuple[int, int] | None:
    """The lowest and highest input units that output units first..last read, of `size` (None: they read only padding)."""
    low = high = None
    for unit in range(first, last + 1):
        base = unit * stride - before
        taps = [base + dilation * t for t in range(kernel) if 0 <= base + dilation * t < size]
        if taps:
            low = taps[0] if low is None else low
            high = taps[-1]
    return None if low is None else (low, high)


def _through(layer, fields: list[Field]) -> Field | None:
    """The field of `layer`'s output from its inputs' fields, or None where it cannot be told (a resize, a dense layer)."""
    if isinstance(layer, PIXELWISE) and all(field.step_y == fields[0].step_y and field.step_x == fields[0].step_x
                                            for field in fields):
        return None if isinstance(layer, keras.layers.Concatenate) and layer.axis not in (-1, 3) else _union(fields)
    if len(fields) != 1:
        return None
    if isinstance(layer, (keras.layers.ZeroPadding2D, keras.layers.Cropping2D)):
        return _padded(layer, fields[0])
    if not isinstance(layer, WINDOWED) or getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    return _windowed(layer, fields[0])


def _union(fields: list[Field]) -> Field:
    """Through a layer that mixes no pixels: the union of its inputs' fields."""
    top, left = min(field.top for field in fields), min(field.left for field in fields)
    bottom = max(field.top + field.height for field in fields)
    right = max(field.left + field.width for field in fields)

    def union(axis: int, first: int, last: int) -> tuple[int, int] | None:
        spans = [span for span in (field.span(axis, first, last) for field in fields) if span]
        return (min(low for low, _ in spans), max(high for _, high in spans)) if spans else None

    return dataclasses.replace(fields[0], top=top, left=left, height=bottom - top, width=right - left, span=union)


def _padded(layer, field: Field) -> Field:
    """Through a ZeroPadding2D or a Cropping2D: the same field, units added before (padding) or removed (cropping)."""
    sizes = (field.rows, field.cols)
    sign = 1 if isinstance(layer, keras.layers.ZeroPadding2D) else -1  # padding adds units before, cropping removes them
    (top_more, bottom_more), (left_more, right_more) = layer.padding if sign == 1 else layer.cropping

    def shifted(axis: int, first: int, last: int) -> tuple[int, int] | None:
        shift = (top_more, left_more)[axis] * sign
        first, last = max(first - shift, 0), min(last - shift, sizes[axis] - 1)
        return field.span(axis, first, last) if first <= last else None

    return dataclasses.replace(field, top=field.top - sign * top_more * field.step_y,
                               left=field.left - sign * left_more * field.step_x,
                               rows=field.rows + sign * (top_more + bottom_more),
                               cols=field.cols + sign * (left_more + right_more), span=shifted)


def _windowed(layer, field: Field) -> Field:
    """Through a convolution or a pooling: each unit sees a window of the units below, strided and dilated."""
    sizes = (field.rows, field.cols)
    kernel, strides, dilation, padding = _window(layer)
    axes = []
    for size, k, s, d, start, step, extent in zip(sizes, kernel, strides, dilation, (field.top, field.left),
                                                  (field.step_y, field.step_x), (field.height, field.width)):
        reach = d * (k - 1) + 1
        if padding == "same":
            out = -(-size // s)
            before = max((out - 1) * s + reach - size, 0) // 2  # TensorFlow puts the odd pixel after
        else:
            out, before = (size - reach) // s + 1, 0
        axes.append((start - before * step, step * s, extent + (reach - 1) * step, out, (s, before, k, d, size)))
    (top, step_y, height, rows, along_y), (left, step_x, width, cols, along_x) = axes

    def window(axis: int, first: int, last: int) -> tuple[int, int] | None:
        taps = _taps(first, last, *(along_y, along_x)[axis])
        return field.span(axis, *taps) if taps else None

    return Field(top, left, step_y, step_x, height, width, rows, cols, window)


def receptive_field(view: View, layer: str, height: int, width: int) -> Field | None:
    """Where `layer`'s units look in a height x width input, from the model's graph: for each unit, the smallest box that
    holds every input pixel it depends on (a dilated kernel right over a strided layer may skip pixels inside it). None
    where a layer on the way cannot be followed (then an example is shown whole, its unit's place marked)."""
    view.check_layers([layer])
    graph = view.recorded
    sizes = (height, width)

    def pixels(axis: int, first: int, last: int) -> tuple[int, int] | None:
        first, last = max(first, 0), min(last, sizes[axis] - 1)
        return (first, last) if first <= last else None

    known = {id(graph.input): Field(0, 0, 1, 1, 1, 1, height, width, pixels)}
    for name, produced in graph.produced.items():
        if isinstance(graph.layers[name], keras.Model):
            continue  # a nested model: its own layers were followed one by one
        received = graph.received[name]
        inputs = received if isinstance(received, (list, tuple)) else [received]
        fields = [known.get(id(tensor)) for tensor in inputs]
        known[id(produced)] = None if None in fields else _through(graph.layers[name], fields)
        if name == layer:
            return known[id(produced)]
    return None
