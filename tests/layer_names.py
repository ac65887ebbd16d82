"""A layer's name is data (issue 28, item 12): one small CNN built twice, its layers named as Keras allows or plainly.

The two copies hold the same random weights, so every tool must give the same numbers on both: the
plain one goes the way every ordinary model goes, the other has names TensorFlow refuses as name
scopes (`<`, `>`, `=`, `,`, spaces, quotes, non-ASCII). No test functions here: tests/test_api_layer_names.py,
core/test_walk_layer_names.py, optvis/test_dream_layer_names.py and cli/test_scripts_layer_names.py use them.
"""

from __future__ import annotations

import numpy as np

from cnn_note.backend import keras

# The first conv layer's name is the issue's; the second holds every other kind of character a tool once split or
# refused. Keras itself refuses "/" in a name (Operation.__init__), so no model can hold one.
ODD = {"conv_a": "c<img src=x onerror=window.__pwned=1>", "norm_a": "norm, 'one'", "pool_a": "pool ü",
       "conv_b": 'b, "q" \'é= 中=2', "drop_b": "drop > =", "flat": "flat (1)", "scores": "scores=10"}
PLAIN = {key: key for key in ODD}


def cnn(names: dict[str, str]) -> keras.Model:
    """28x28 grey pictures -> conv (3, ReLU) -> batch norm -> pool -> conv (4) -> dropout -> 10 softmax classes."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name=names["conv_a"])(inputs)
    x = keras.layers.BatchNormalization(name=names["norm_a"])(x)
    x = keras.layers.MaxPooling2D(2, name=names["pool_a"])(x)
    x = keras.layers.Conv2D(4, 3, name=names["conv_b"])(x)
    x = keras.layers.Dropout(0.5, name=names["drop_b"])(x)
    x = keras.layers.Flatten(name=names["flat"])(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name=names["scores"])(x), name="tiny")
    norm = model.get_layer(names["norm_a"])  # moving statistics far from a batch's own: inference mode shows
    norm.moving_mean.assign(np.array([0.2, 0.5, 0.1], "float32"))
    norm.moving_variance.assign(np.array([0.3, 2.0, 0.7], "float32"))
    return model


def twins() -> tuple[keras.Model, keras.Model]:
    """The CNN with ODD names and with PLAIN ones, holding the same weights."""
    odd, plain = cnn(ODD), cnn(PLAIN)
    plain.set_weights(odd.get_weights())
    return odd, plain


def pictures(count: int = 3, seed: int = 0) -> np.ndarray:
    """Random grey 28x28 pictures, pixels 0..1."""
    return np.random.default_rng(seed).random((count, 28, 28, 1)).astype("float32")


def layer_output(model: keras.Model, name: str, images: np.ndarray) -> np.ndarray:
    """Layer `name`'s output on `images` by Keras alone, eagerly (where TensorFlow checks no scope name)."""
    return np.asarray(keras.Model(model.input, model.get_layer(name).output)(images, training=False))
