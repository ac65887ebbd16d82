"""Vision transformers as people build them, small, with random weights, no downloads: no test functions here.

- keras_io_vit: keras-io's "Image classification with Vision Transformer" recipe (its Patches layer cuts
  patches with keras.ops.image.extract_patches, its PatchEncoder adds position embeddings; no class
  token; the head flattens every token), registered so that a .keras file of it opens;
- conv_vit: a ViT as the well-known libraries build one: Conv2D patching, a class token, position
  embeddings, pre-norm blocks, the head on the class token;
- swin_like: a transformer whose grid shrinks (patch merging between stages, as Swin's), the head on the
  tokens' mean.
"""

from __future__ import annotations

from cnn_note.backend import keras

layers, ops = keras.layers, keras.ops


@keras.saving.register_keras_serializable(package="tests")
class Patches(keras.layers.Layer):
    """keras-io's Patches: the picture cut into patch_size x patch_size patches, one token each."""

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size

    def call(self, images):
        shape = ops.shape(images)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        patches = ops.image.extract_patches(images, size=self.patch_size)
        count = (height // self.patch_size) * (width // self.patch_size)
        return ops.reshape(patches, (batch, count, self.patch_size * self.patch_size * channels))

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}


@keras.saving.register_keras_serializable(package="tests")
class PatchEncoder(keras.layers.Layer):
    """keras-io's PatchEncoder: each patch projected, plus its position's embedding."""

    def __init__(self, num_patches, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_patches, self.projection_dim = num_patches, projection_dim
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

    def call(self, patch):
        positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
        return self.projection(patch) + self.position_embedding(positions)

    def get_config(self):
        return {**super().get_config(), "num_patches": self.num_patches, "projection_dim": self.projection_dim}


@keras.saving.register_keras_serializable(package="tests")
class ClassToken(keras.layers.Layer):
    """A learned class token put before the patch tokens."""

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="random_normal", name="token")

    def call(self, tokens):
        token = ops.broadcast_to(ops.cast(self.token, tokens.dtype), (ops.shape(tokens)[0], 1, ops.shape(tokens)[2]))
        return ops.concatenate([token, tokens], axis=1)


@keras.saving.register_keras_serializable(package="tests")
class FirstToken(keras.layers.Layer):
    """The class token's output: the first token."""

    def call(self, tokens):
        return tokens[:, 0]


@keras.saving.register_keras_serializable(package="tests")
class PositionEmbedding(keras.layers.Layer):
    """Learned position embeddings, one per token, added."""

    def build(self, input_shape):
        self.positions = self.add_weight(shape=(1, *input_shape[1:]), initializer="random_normal", name="positions")

    def call(self, tokens):
        return tokens + ops.cast(self.positions, tokens.dtype)


@keras.saving.register_keras_serializable(package="tests")
class PatchMerging(keras.layers.Layer):
    """Swin's patch merging: each 2x2 block of tokens on the grid concatenated, then projected to 2x the channels."""

    def __init__(self, grid, **kwargs):
        super().__init__(**kwargs)
        self.grid = tuple(grid)
        self.reduce = None

    def build(self, input_shape):
        self.reduce = layers.Dense(2 * input_shape[-1], use_bias=False)
        self.reduce.build((None, 4 * input_shape[-1]))

    def call(self, tokens):
        height, width = self.grid
        channels = tokens.shape[-1]
        x = ops.reshape(tokens, (-1, height // 2, 2, width // 2, 2, channels))
        x = ops.transpose(x, (0, 1, 3, 4, 2, 5))  # Swin's order: (0,0), (1,0), (0,1), (1,1)
        x = ops.reshape(x, (-1, (height // 2) * (width // 2), 4 * channels))
        return self.reduce(x)

    def get_config(self):
        return {**super().get_config(), "grid": list(self.grid)}


def mlp(x, hidden_units, dropout_rate):
    """keras-io's mlp: Dense with GELU, then Dropout, per width."""
    for units in hidden_units:
        x = layers.Dense(units, activation=keras.activations.gelu)(x)
        x = layers.Dropout(dropout_rate)(x)
    return x


def keras_io_vit(side: int = 28, channels: int = 1, patch_size: int = 7, classes: int = 10, dim: int = 16,
                 heads: int = 2, blocks: int = 2, patches: type = Patches, num_patches: int | None = None) -> keras.Model:
    """keras-io's ViT recipe, small: no augmentation, two blocks, a narrow head (`patches`: another patching layer)."""
    num_patches = num_patches or (side // patch_size) ** 2
    inputs = keras.Input((side, side, channels))
    patches = patches(patch_size, name="patches")(inputs)
    encoded = PatchEncoder(num_patches, dim, name="patch_encoder")(patches)
    for block in range(blocks):
        x1 = layers.LayerNormalization(epsilon=1e-6, name=f"norm{block}a")(encoded)
        attention = layers.MultiHeadAttention(num_heads=heads, key_dim=dim, dropout=0.1, name=f"attention{block}")(x1, x1)
        x2 = layers.Add(name=f"add{block}a")([attention, encoded])
        x3 = layers.LayerNormalization(epsilon=1e-6, name=f"norm{block}b")(x2)
        x3 = mlp(x3, hidden_units=[2 * dim, dim], dropout_rate=0.1)
        encoded = layers.Add(name=f"add{block}b")([x3, x2])
    representation = layers.LayerNormalization(epsilon=1e-6, name="norm")(encoded)
    representation = layers.Dropout(0.5)(layers.Flatten()(representation))
    features = mlp(representation, hidden_units=[32], dropout_rate=0.5)
    return keras.Model(inputs, layers.Dense(classes, name="logits")(features), name="keras_io_vit")


def conv_vit(side: int = 28, channels: int = 1, patch_size: int = 7, classes: int = 10, dim: int = 16, heads: int = 2,
             blocks: int = 2) -> keras.Model:
    """A ViT with Conv2D patching and a class token; the head reads the class token after a last norm."""
    grid = side // patch_size
    inputs = keras.Input((side, side, channels))
    x = layers.Conv2D(dim, patch_size, strides=patch_size, name="patch_embed")(inputs)
    x = layers.Reshape((grid * grid, dim), name="to_tokens")(x)
    x = PositionEmbedding(name="positions")(ClassToken(name="class_token")(x))
    for block in range(blocks):
        y = layers.LayerNormalization(epsilon=1e-6, name=f"block{block}_norm1")(x)
        y = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads, name=f"block{block}_attention")(y, y)
        x = layers.Add(name=f"block{block}_add1")([x, y])
        y = layers.LayerNormalization(epsilon=1e-6, name=f"block{block}_norm2")(x)
        y = layers.Dense(2 * dim, activation="gelu", name=f"block{block}_mlp1")(y)
        y = layers.Dense(dim, name=f"block{block}_mlp2")(y)
        x = layers.Add(name=f"block{block}_add2")([x, y])
    x = layers.LayerNormalization(epsilon=1e-6, name="norm")(x)
    cls = FirstToken(name="class_output")(x)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax", name="head")(cls), name="conv_vit")


def swin_like(side: int = 32, channels: int = 3, patch_size: int = 4, classes: int = 5, dim: int = 8, heads: int = 2) -> keras.Model:
    """Two stages of attention over a grid that shrinks in between (patch merging), the head on the tokens' mean."""
    grid = side // patch_size
    inputs = keras.Input((side, side, channels))
    x = layers.Conv2D(dim, patch_size, strides=patch_size, name="patch_embed")(inputs)
    x = layers.Reshape((grid * grid, dim), name="to_tokens")(x)
    x = layers.LayerNormalization(name="embed_norm")(x)
    for stage in range(2):
        y = layers.LayerNormalization(name=f"stage{stage}_norm1")(x)
        y = layers.MultiHeadAttention(num_heads=heads, key_dim=dim // heads, name=f"stage{stage}_attention")(y, y)
        x = layers.Add(name=f"stage{stage}_add1")([x, y])
        y = layers.LayerNormalization(name=f"stage{stage}_norm2")(x)
        y = layers.Dense(dim, activation="gelu", name=f"stage{stage}_mlp")(y)
        x = layers.Add(name=f"stage{stage}_add2")([x, y])
        if stage == 0:
            x = PatchMerging((grid, grid), name="merge")(layers.LayerNormalization(name="merge_norm")(x))
            grid, dim = grid // 2, 2 * dim
    x = layers.GlobalAveragePooling1D(name="pool")(layers.LayerNormalization(name="norm")(x))
    return keras.Model(inputs, layers.Dense(classes, activation="softmax", name="head")(x), name="swin_like")
