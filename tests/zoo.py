"""The zoo of issue 23: models shaped as the official tutorials build them, small, with random weights, no downloads.

Each builder follows its tutorial's own code (the layers, their order, the augmentation and the
preprocessing where the tutorial puts them) at a small picture size and, where the tutorial's
widths would make the suite slow, narrower. No test functions here: tests/test_zoo.py uses them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from conftest import rgb_residual_model

from cnn_note.backend import keras
from cnn_note.note import models

layers = keras.layers
SIDE = 32  # every tutorial model's picture side here (MobileNetV2 takes 32 and up)


@dataclasses.dataclass
class Entry:
    """A zoo model and what the tools need to be told about it."""

    name: str
    model: keras.Model
    input_range: tuple[float, float] | None  # None: pixels 0..1
    head: str  # "softmax", "logits" or "binary": what its output is (see heads.Head)
    layer: str | None  # a conv layer to draw filters of and dream on (None: no 4-D layer, the DNN)
    shape: tuple[int, int, int]  # one picture as the tools take it (pixels 0..1)
    maps: bool = True  # False: the DNN, seen as a model on grey square images

    def to_model(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels 0..1 as the model takes them: its range, and the DNN's flat vectors."""
        low, high = self.input_range or (0.0, 1.0)
        values = (low + (high - low) * pixels).astype("float32")
        return values.reshape(len(values), -1) if len(self.model.input_shape) == 2 else values


def recalibrate_batch_norm(model: keras.Model, inputs: np.ndarray, seed: int = 0) -> None:
    """Give every BatchNormalization moving statistics that differ clearly from a batch's own.

    Untrained, they hold mean 0 and variance 1, which a random network's activations are far
    from, and the signal fades through a deep base; one pass over `inputs` in training mode with
    momentum 0 sets them to that batch's statistics, as training would. Then they are moved off it
    by random amounts, so a layer run in training mode (batch statistics) gives clearly other
    values than in inference mode (moving statistics): a test passing with BatchNormalization in
    training mode fails here. Call it on the model whose layers the BatchNormalizations are, before
    freezing it (a frozen one stays in inference mode).
    """
    norms = [layer for layer in iter_layers(model) if isinstance(layer, layers.BatchNormalization)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0
    model(inputs, training=True)
    rng = np.random.default_rng(seed)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
        mean, variance = (np.asarray(weight) for weight in (norm.moving_mean, norm.moving_variance))
        norm.moving_mean.assign((mean + rng.uniform(-0.3, 0.3, mean.shape) * np.sqrt(variance)).astype(mean.dtype))
        norm.moving_variance.assign((variance * rng.uniform(0.6, 1.6, variance.shape)).astype(variance.dtype))


def photos(count: int = 8, side: int = SIDE, seed: int = 0) -> np.ndarray:
    """Random pictures, pixels 0..255, to set BatchNormalization statistics on."""
    return np.random.default_rng(seed).uniform(0.0, 255.0, (count, side, side, 3)).astype("float32")


def iter_layers(model: keras.Model):
    """Every layer of the model, those of models nested in it included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from iter_layers(layer)


def flowers(side: int = SIDE, num_classes: int = 5, head_dtype: str | None = None) -> keras.Model:
    """TensorFlow's "Image classification" tutorial (flowers), its model with data augmentation and Dropout.

    As the tutorial: an augmentation Sequential first, Rescaling(1./255), three Conv2D +
    MaxPooling2D, Dropout(0.2), Flatten, Dense(128), Dense(num_classes) logits. A keras.Input first
    (the tutorial passes input_shape= to RandomFlip instead), so the model has a graph to walk.
    """
    data_augmentation = keras.Sequential([
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
    ])
    return keras.Sequential([
        keras.Input((side, side, 3)),
        data_augmentation,
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(num_classes, name="outputs", dtype=head_dtype),
    ])


def flowers_mixed(policy: str, side: int = SIDE, num_classes: int = 5) -> keras.Model:
    """The flowers model built under a mixed-precision policy, its logits in float32 as the Keras guide says.

    The policy is set back to float32 after, whatever happens, so no other model is built under it.
    """
    keras.mixed_precision.set_global_policy(policy)
    try:
        return flowers(side, num_classes, head_dtype="float32")  # the guide's way: the last layer computes in float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


def transfer(side: int = SIDE) -> keras.Model:
    """TensorFlow's "Transfer learning and fine-tuning" tutorial: a frozen MobileNetV2 base called with training=False.

    Augmentation and mobilenet_v2.preprocess_input (applied as a function) before the base,
    GlobalAveragePooling2D, Dropout(0.2), Dense(1) logit; pixels 0..255. alpha=0.35 and no
    ImageNet weights (no download); the base's BatchNormalization statistics are set near, not at,
    a batch's (recalibrate_batch_norm), so the signal reaches the logit and the two modes differ.
    """
    data_augmentation = keras.Sequential([
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.2),
    ])
    preprocess_input = keras.applications.mobilenet_v2.preprocess_input
    base_model = keras.applications.MobileNetV2(input_shape=(side, side, 3), include_top=False, weights=None, alpha=0.35)
    recalibrate_batch_norm(base_model, np.asarray(preprocess_input(photos(side=side))))  # in place of ImageNet's weights
    base_model.trainable = False
    global_average_layer = layers.GlobalAveragePooling2D()
    prediction_layer = layers.Dense(1)
    inputs = keras.Input(shape=(side, side, 3))
    x = data_augmentation(inputs)
    x = preprocess_input(x)
    x = base_model(x, training=False)
    x = global_average_layer(x)
    x = layers.Dropout(0.2)(x)
    outputs = prediction_layer(x)
    return keras.Model(inputs, outputs)


def xception(side: int = SIDE, widths: tuple[int, ...] = (8, 16, 32), entry: int = 8, last: int = 32) -> keras.Model:
    """keras-io's "Image classification from scratch": its small Xception make_model, augmentation inside (option 1).

    The tutorial's structure with narrower widths (its entry 128, blocks 256, 512, 728, last 1024):
    the augmentation layers called one by one on the input, Rescaling(1.0 / 255), a strided Conv2D,
    BatchNormalization, ReLU, then blocks of two SeparableConv2D + BatchNormalization and a
    MaxPooling2D added to a strided 1x1 Conv2D of the block's input, SeparableConv2D, BN, ReLU,
    GlobalAveragePooling2D, Dropout(0.25), Dense(1) logit (two classes, activation=None).
    """
    data_augmentation_layers = [
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
    ]

    def data_augmentation(images):
        for layer in data_augmentation_layers:
            images = layer(images)
        return images

    inputs = keras.Input(shape=(side, side, 3))
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(entry, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for size in widths:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.SeparableConv2D(last, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(1, activation=None)(x)
    model = keras.Model(inputs, outputs)
    recalibrate_batch_norm(model, photos(side=side))
    return model


def first_conv(model: keras.Model) -> str:
    """The name of the model's first convolution layer (a nested base's included)."""
    kinds = (layers.Conv2D, layers.SeparableConv2D, layers.DepthwiseConv2D)
    return next(layer.name for layer in iter_layers(model) if isinstance(layer, kinds))


RGB = (SIDE, SIDE, 3)
BUILDERS: dict[str, Callable[[], Entry]] = {
    "cnn": lambda: Entry("cnn", models.build_cnn(), None, "softmax", "conv1", (28, 28, 1)),
    "dnn": lambda: Entry("dnn", models.build_dnn(), None, "softmax", None, (28, 28, 1), maps=False),
    "rgb_residual": lambda: Entry("rgb_residual", rgb_residual_model(), None, "softmax", "stem", RGB),
    "flowers": lambda: Entry("flowers", flowers(), (0, 255), "logits", None, RGB),
    "flowers_float16": lambda: Entry("flowers_float16", flowers_mixed("mixed_float16"), (0, 255), "logits", None, RGB),
    "flowers_bfloat16": lambda: Entry("flowers_bfloat16", flowers_mixed("mixed_bfloat16"), (0, 255), "logits", None, RGB),
    "transfer": lambda: Entry("transfer", transfer(), (0, 255), "binary", "Conv1", RGB),
    "xception": lambda: Entry("xception", xception(), (0, 255), "binary", None, RGB),
}
NAMES = list(BUILDERS)
WITH_AUGMENTATION = ("flowers", "flowers_float16", "flowers_bfloat16", "transfer", "xception")


def build(name: str, seed: int = 0) -> Entry:
    """Zoo model `name`, its weights drawn from `seed`; its conv layer found when not fixed by name."""
    keras.utils.set_random_seed(seed)
    entry = BUILDERS[name]()
    if entry.layer is None and entry.maps:
        entry.layer = first_conv(entry.model)
    return entry


def two_input_model(side: int = SIDE) -> keras.Model:
    """A picture and a vector, concatenated after a Flatten: the tools look at the picture, the vector held."""
    picture = keras.Input((side, side, 3), name="picture")
    vector = keras.Input((4,), name="vector")
    x = layers.Flatten()(layers.Conv2D(4, 3, name="conv")(picture))
    x = layers.Concatenate()([x, vector])
    return keras.Model([picture, vector], layers.Dense(3, activation="softmax", name="scores")(x))
