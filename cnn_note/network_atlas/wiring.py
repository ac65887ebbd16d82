"""An atlas's connections: which units of one layer feed a unit of the next most, and which classes a unit pushes.

Incoming and outgoing: the weight norm ||W[:, :, c, u]|| of a convolution (the effective kernel of
a depthwise or separable one), followed back through layers that act on each channel alone.
Classes: the mean over inputs of the sum over positions of A_u times the class score's gradient
with respect to A_u, from the layer's output through the rest of the model only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnn_note import dataset_examples
from cnn_note.backend import keras
from cnn_note.core import autodiff
from cnn_note.core.views import View

# Layers that act on each channel alone: an incoming connection is followed through them to the conv layer below.
PER_CHANNEL = (keras.layers.Activation, keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.ELU,
               keras.layers.BatchNormalization, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D,
               keras.layers.ZeroPadding2D, keras.layers.Cropping2D, keras.layers.Dropout, keras.layers.SpatialDropout2D,
               keras.layers.GaussianNoise, keras.layers.Identity)


def kernel_of(layer) -> np.ndarray | None:
    """A convolution's weights from each input channel to each unit, (h, w, in, units): a Conv2D's kernel; a
    DepthwiseConv2D's depthwise kernel on its own channel alone; a SeparableConv2D's depthwise kernel of each channel
    times the pointwise weights. None for any other layer (a grouped Conv2D among them)."""
    numpy = keras.ops.convert_to_numpy
    if type(layer) is keras.layers.Conv2D:
        return numpy(layer.kernel) if layer.groups == 1 else None
    if not isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
        return None
    # (h, w, in, multiplier); Keras names a DepthwiseConv2D's own depthwise kernel plainly "kernel"
    depthwise = numpy(layer.depthwise_kernel if isinstance(layer, keras.layers.SeparableConv2D) else layer.kernel)
    height, width, channels, multiplier = depthwise.shape
    if isinstance(layer, keras.layers.SeparableConv2D):
        pointwise = numpy(layer.pointwise_kernel)[0, 0].reshape(channels, multiplier, -1)  # (in, multiplier, units)
        return np.einsum("hwcm,cmu->hwcu", depthwise, pointwise)
    kernel = np.zeros((height, width, channels, channels * multiplier), depthwise.dtype)
    for channel in range(channels):  # unit channel * multiplier + m sees input channel `channel` alone
        kernel[:, :, channel, channel * multiplier:(channel + 1) * multiplier] = depthwise[:, :, channel]
    return kernel


def incoming(view: View, layer: str, chosen: Sequence[str]) -> str | None:
    """The chosen conv layer whose units feed `layer` (a convolution, see kernel_of) through layers that act on each
    channel alone, or None."""
    graph = view.recorded
    if kernel_of(view.layer(layer)) is None:
        return None
    producer = {id(tensor): name for name, tensor in graph.produced.items() if not isinstance(graph.layers[name], keras.Model)}
    tensor = graph.received[layer]
    while id(tensor) in producer:
        name = producer[id(tensor)]
        if name in chosen:
            return name if isinstance(view.layer(name), (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                                                          keras.layers.SeparableConv2D)) else None
        below = view.layer(name)
        if not isinstance(below, PER_CHANNEL) or below.get_config().get("activation") == "softmax":  # softmax mixes channels
            return None
        tensor = graph.received[name]
    return None


def weight_norms(view: View, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """||W[:, :, c, u]|| and the sign of the weights' sum, (in channels, units) each, of a convolution (see kernel_of)."""
    kernel = kernel_of(view.layer(layer))
    return np.sqrt((kernel**2).sum(axis=(0, 1))), np.sign(kernel.sum(axis=(0, 1)))


def strongest(norms: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each column's k largest entries' rows, largest first (ties to the lower row), and the values: (columns, k) each."""
    order = np.argsort(-norms, axis=0, kind="stable")[:k].T
    return order, np.take_along_axis(norms.T, order, axis=1)


def class_contributions(view: View, layer: str, source: dataset_examples.Source, count: int) -> np.ndarray:
    """Unit u's contribution to class c (units, classes): the mean over the first `count` inputs of the sum over positions
    of A_u * dScore_c/dA_u, differentiating from the layer's output through the rest of the model only (the gradient
    at zeros added to the layer's output, as Grad-CAM's: View.layer_and_scores)."""
    total, seen = 0.0, 0
    for _, batch in dataset_examples.batched(source.pictures(), view, None, 64, False, count):
        pictures = np.stack(batch).astype("float32")
        shape = pictures.shape[1:]
        run, added, classes = view.memo("class_contributions", layer, shape,
                                        build=lambda shape=shape: compiled_contributions(view, layer, shape))
        zeros = np.zeros((len(pictures), *added.shape[1:]), added.dtype)
        total = total + np.stack([run(pictures, zeros, np.full(len(pictures), c, "int32")).sum(axis=0) for c in range(classes)])
        seen += len(batch)
    return (total / max(seen, 1)).T


def compiled_contributions(view: View, layer: str, shape: tuple):
    """(pictures, zeros, classes) -> each picture's sum over positions of A_u * dScore/dA_u, (B, units); the zeros' input;
    the number of classes."""
    model = view.layer_and_scores(layer, shape)
    added, ops = model.inputs[1], keras.ops

    def score(outputs, wanted):
        return autodiff.pick(ops.cast(outputs[1], "float32"), wanted)

    def summed(values, outputs, grads):
        product = ops.cast(outputs[0], "float32") * ops.cast(grads[0], "float32")
        return ops.sum(product, axis=tuple(range(1, len(product.shape) - 1)))

    run = autodiff.differentiate(model, score, [(tuple(shape), "float32"), (tuple(added.shape[1:]), added.dtype)],
                                 [((), "int32")], wrt=[1], then=summed)
    return run, added, model.outputs[1].shape[-1]
