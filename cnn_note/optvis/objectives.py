"""What to maximise: each objective maps a batch of pixel images (B, H, W, C) to one score per image (B,), in keras.ops."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import autodiff
from cnn_note.core.traversal import RELUS
from cnn_note.core.views import View
from cnn_note.optvis.ascent import Objective

ANTI_MATCH_WEIGHT = 0.1


def border(height: int, width: int) -> int:
    """Pixels to crop from each side of a feature map before averaging: 2 where the map is large enough."""
    return 2 if min(height, width) >= 10 else 0


def filter_mean(view: View, layer: str, filters: Sequence[int], before_relu: bool = False) -> Objective:
    """Image b scores the mean activation of channel filters[b] of layer `layer`.

    Matches count in full, anti-matches (negative outputs) a tenth. The note's convolutions are
    linear, and the plain mean of a linear filter's output is its weight sum times the mean pixel,
    which ascent maximises with a blank white or black image; counting mostly the matches brings
    out the filter's pattern. The tenth keeps a gradient for a filter silent on the grey start.
    With `before_relu`, a layer that ends in a ReLU is scored before it (View.before_relu): after
    it, a filter silent everywhere has no gradient at all.
    """
    filters = list(filters)
    conv = view.layer(layer)
    maps_of = own_filter_maps(view, conv, filters, before_relu) if type(conv) is keras.layers.Conv2D and conv.groups == 1 \
        else picked_channels(view, layer, filters, before_relu)

    def objective(images):
        return mean_score(maps_of(images))  # maps (B, h, w): image b's own filter

    return objective


def mean_score(maps):
    """Maps (B, h, w) to what filter_mean scores: the mean inside a border, anti-matches counted a tenth; (B,)."""
    crop = border(maps.shape[1], maps.shape[2])
    if crop:
        maps = maps[:, crop:-crop, crop:-crop]
    return keras.ops.mean(keras.ops.leaky_relu(maps, negative_slope=ANTI_MATCH_WEIGHT), axis=[1, 2])


def picked_channels(view: View, layer: str, filters: list[int], before_relu: bool = False):
    """Images (B, H, W, C) to channel filters[b] of the layer's output (or the value before its ReLU) for image b: (B, h, w)."""
    features = view.before_relu(layer) if before_relu else None
    features = features if features is not None else view.features([layer])
    index = np.asarray(filters, "int32")[:, None, None, None]
    return lambda images: keras.ops.take_along_axis(features(images), index, axis=3)[..., 0]


def own_filter_maps(view: View, conv: keras.layers.Conv2D, filters: list[int], before_relu: bool = False):
    """As picked_channels for a Conv2D, computing each image's own filter only: 1/F of the layer's work.

    Folding the batch into channels lets one depthwise convolution apply filter filters[b] to image b alone.
    """
    below = view.layer_input(conv.name)
    dtype = conv.compute_dtype  # a mixed-precision layer computes in float16 or bfloat16, and so does its twin here
    weights = keras.ops.convert_to_numpy(conv.kernel)
    kernel = weights[..., filters].transpose(0, 1, 3, 2).reshape(*weights.shape[:2], -1, 1)  # (h, w, B*C, 1)
    bias = keras.ops.convert_to_numpy(conv.bias)[filters] if conv.use_bias else np.zeros(len(filters), "float32")
    kernel, bias = (keras.ops.cast(value, dtype) for value in (kernel, bias))
    channels = weights.shape[2]
    plain = before_relu and conv.get_config()["activation"] in RELUS
    activate = (lambda x: x) if plain else conv.activation

    def maps(images):
        x = keras.ops.cast(below(images), dtype)  # (B, H, W, C)
        folded = keras.ops.reshape(keras.ops.transpose(x, [1, 2, 0, 3]), (1, *sides(x), -1))
        per_channel = keras.ops.depthwise_conv(folded, kernel, conv.strides, conv.padding, "channels_last", conv.dilation_rate)
        summed = keras.ops.sum(keras.ops.reshape(per_channel, (*sides(per_channel), -1, channels)), axis=-1) + bias  # (h, w, B)
        return keras.ops.cast(keras.ops.transpose(activate(summed), [2, 0, 1]), "float32")

    return maps


def sides(maps) -> tuple:
    """Maps' (height, width): on TensorFlow as computed in the graph, where static sizes let its optimiser round the
    ascent's steps otherwise (the note's conv2 pictures moved by up to 0.1); their numbers elsewhere."""
    if autodiff.backend() != "tensorflow":
        return tuple(maps.shape[1:3])
    import tensorflow as tf

    return tf.shape(maps)[1], tf.shape(maps)[2]


def class_score(scores: keras.Model, classes: Sequence[int]) -> Objective:
    """Image b scores class classes[b]: its logit before softmax or sigmoid (View.class_scores, see heads.Head)."""
    index = np.asarray(list(classes), "int32")

    def objective(images):
        return autodiff.pick(scores(images), index)

    return objective


def dream_loss(features: keras.Model, weights: Sequence[float]) -> Objective:
    """Deep dream: sum over layers of weight x mean(a^2), so what a layer sees is amplified either sign."""
    weights = [float(weight) for weight in weights]

    def objective(images):
        outputs = features(images)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return sum(weight * keras.ops.mean(keras.ops.square(a), axis=[1, 2, 3]) for weight, a in zip(weights, outputs))

    return objective
