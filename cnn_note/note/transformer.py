"""A small vision transformer for MNIST, every layer of it one the live page computes.

build_vit makes a ViT as the well-known libraries build one, small: the picture cut into patches by one
Conv2D (its stride the patch's side), the patches as tokens, a learned class token before them, learned
position embeddings added, pre-norm blocks (LayerNormalization, MultiHeadAttention, Add;
LayerNormalization, a GELU Dense, a Dense, Add), a last LayerNormalization, and the class token's output
read by a softmax Dense. Its own layers (ClassToken, PositionEmbedding, ClassTokenOutput) are registered
with Keras under the package "cnn_note", so a .keras file of it opens wherever this module is imported.
May import: backend.
"""

from __future__ import annotations

from cnn_note.backend import keras

SIDE = 28  # MNIST's pictures: 28x28, one channel, pixels 0..1
MLP_RATIO = 2  # each block's hidden GELU layer is this many times the token width (ViT's own is 4; the note's model is small)
EPSILON = 1e-6  # LayerNormalization's, as ViT's


@keras.saving.register_keras_serializable(package="cnn_note")
class ClassToken(keras.layers.Layer):
    """A learned token put before the patch tokens: (batch, tokens, channels) to (batch, 1 + tokens, channels)."""

    def build(self, input_shape: tuple) -> None:
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer=keras.initializers.RandomNormal(stddev=0.02),
                                     name="token")

    def call(self, tokens):
        ops = keras.ops
        token = ops.broadcast_to(ops.cast(self.token, tokens.dtype), (ops.shape(tokens)[0], 1, ops.shape(tokens)[2]))
        return ops.concatenate([token, tokens], axis=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], None if input_shape[1] is None else input_shape[1] + 1, input_shape[2])


@keras.saving.register_keras_serializable(package="cnn_note")
class PositionEmbedding(keras.layers.Layer):
    """A learned embedding of each token's position, added to it: one (tokens, channels) weight."""

    def build(self, input_shape: tuple) -> None:
        self.positions = self.add_weight(shape=(1, *input_shape[1:]), initializer=keras.initializers.RandomNormal(stddev=0.02),
                                         name="positions")

    def call(self, tokens):
        return tokens + keras.ops.cast(self.positions, tokens.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


@keras.saving.register_keras_serializable(package="cnn_note")
class ClassTokenOutput(keras.layers.Layer):
    """The class token's output, what the head reads: (batch, tokens, channels) to (batch, channels), the first token."""

    def call(self, tokens):
        return tokens[:, 0]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[2])


def block(x, index: int, dim: int, heads: int):
    """One pre-norm transformer block on tokens `x` (batch, tokens, dim): attention, then a GELU MLP, each added back."""
    layers = keras.layers
    y = layers.LayerNormalization(epsilon=EPSILON, name=f"block{index}_norm1")(x)
    y = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads, name=f"block{index}_attention")(y, y)
    x = layers.Add(name=f"block{index}_add1")([x, y])
    y = layers.LayerNormalization(epsilon=EPSILON, name=f"block{index}_norm2")(x)
    y = layers.Dense(MLP_RATIO * dim, activation="gelu", name=f"block{index}_mlp1")(y)
    y = layers.Dense(dim, name=f"block{index}_mlp2")(y)
    return layers.Add(name=f"block{index}_add2")([x, y])


def build_vit(patch_size: int = 7, dim: int = 32, heads: int = 2, blocks: int = 2, classes: int = 10) -> keras.Model:
    """A ViT of 28x28x1 pictures (pixels 0..1): (28 / patch_size)^2 patch tokens and a class token, `blocks` pre-norm
    blocks of `heads`-head attention, the class token's output read by a softmax Dense of `classes` units.

    Args:
        patch_size: the side of each patch, in pixels; 28 must be a multiple of it.
        dim: each token's width; `heads` must divide it (each head's key_dim is dim // heads).
        heads: attention heads per block.
        blocks: transformer blocks.
        classes: the output's classes.

    Returns:
        keras.Model: the ViT, named "vit", uncompiled (about 19,000 parameters at the defaults).

    Raises:
        ValueError: a patch size that does not divide 28, or a head count that does not divide dim.
    """
    if SIDE % patch_size:
        raise ValueError(f"patch_size={patch_size} does not divide the {SIDE}-pixel side of MNIST's pictures")
    if dim % heads:
        raise ValueError(f"heads={heads} does not divide dim={dim}: each head takes dim // heads channels")
    layers, grid = keras.layers, SIDE // patch_size
    inputs = keras.Input((SIDE, SIDE, 1))
    x = layers.Conv2D(dim, patch_size, strides=patch_size, name="patches")(inputs)
    x = layers.Reshape((grid * grid, dim), name="tokens")(x)
    x = PositionEmbedding(name="positions")(ClassToken(name="class_token")(x))
    for index in range(blocks):
        x = block(x, index, dim, heads)
    x = ClassTokenOutput(name="class_output")(layers.LayerNormalization(epsilon=EPSILON, name="norm")(x))
    return keras.Model(inputs, layers.Dense(classes, activation="softmax", name="output")(x), name="vit")
