"""Attention maps of a transformer: attention rollout over every layer (Abnar and Zuidema 2020, "Quantifying Attention
Flow in Transformers") and the last layer's attention, read from its attention layers' scores (View.attention_scores).

Neither depends on the class asked: they say where the model looks, not what for. What the map is read from is the
class token's row (the tokens it draws on) where the model has extra tokens before its grid, else the mean over the
patch tokens' rows; the extra tokens are left out and the rest put on the grid, then resized to the picture as
Grad-CAM's maps are (bilinear).
"""

from __future__ import annotations

import numpy as np

from cnn_note.attribution.method import Method
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK


def attention_layers(view, method: str) -> list[str]:
    """The view's attention layers (View.attention_layers); one line naming `method` when it has none."""
    names = view.attention_layers()
    if not names:
        off_grid = view.attention_layers(on_grid=False)
        if off_grid:
            raise InputError(f"{method} needs attention over the patch grid and {view.label}'s ({', '.join(off_grid[:3])}) is over "
                             "tokens of no picture's grid (Swin's windows, say): use gradcam, or leave ", Argument("methods"),
                             f" without {method}")
        raise InputError(f"{method} needs attention layers (keras.layers.MultiHeadAttention, or one whose call takes "
                         f"return_attention_scores) and {view.label} has none: leave {method} out of ", Argument("methods"))
    return names


def rollout(scores: list[np.ndarray]) -> np.ndarray:
    """Attention rollout (B, T, T) of each layer's scores (B, heads, T, T), first layer first: each layer's attention
    averaged over its heads, the residual connection added (0.5 A + 0.5 I), its rows renormalised, and the layers
    multiplied from the first up."""
    flow = None
    for layer in scores:
        attention = layer.mean(axis=1)
        attention = 0.5 * attention + 0.5 * np.eye(attention.shape[-1])
        attention = attention / attention.sum(axis=-1, keepdims=True)
        flow = attention if flow is None else attention @ flow
    return flow


def on_grid(attention: np.ndarray, grid) -> np.ndarray:
    """What the tokens draw on (B, T, T) as maps (B, h, w): the class token's row where there are extra tokens (the
    first of them), else the mean of the patch tokens' rows; the extra tokens' columns left out."""
    extra, height, width = grid
    drawn = attention[:, 0] if extra else attention[:, extra:].mean(axis=1)
    return drawn[:, extra:].reshape(len(attention), height, width)


class AttentionMethod(Method):
    """What the two attention maps share: the scores read per batch, and the map put on the picture."""

    needs = "attention"

    def maps(self, scores: list[np.ndarray]) -> np.ndarray:
        """The (B, T, T) attention to draw from every attention layer's scores."""
        raise NotImplementedError

    def layers(self, view) -> list[str]:
        """The attention layers it reads; one line when the view has none it can use."""
        return attention_layers(view, self.name)

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK):
        from cnn_note.attribution.gradients import batch_of  # TensorFlow: here, not above (see method.py)
        from cnn_note.backend import keras
        from cnn_note.core import batching

        grid, model = view.grids[self.layers(view)[-1]], view.attention_scores()
        height, width = images.shape[1:3]

        def run(part: np.ndarray) -> np.ndarray:
            scores = [keras.ops.convert_to_numpy(value).astype("float64") for value in keras.tree.flatten(model(part))]
            drawn = on_grid(self.maps(scores), grid).astype("float32")
            return np.asarray(keras.ops.image.resize(drawn[..., None], (height, width), interpolation="bilinear"))[..., 0]

        return batching.map_batches(run, batch_of(view, height, width), images)


class AttentionRollout(AttentionMethod):
    """Attention rollout (Abnar and Zuidema 2020): how much each patch flows into the class token through every layer."""

    name = "rollout"

    def layers(self, view):
        names = attention_layers(view, self.name)
        grids = {view.grids[name] for name in names}
        if len(grids) > 1:
            raise InputError(f"rollout follows one token grid through every attention layer and {view.label}'s changes "
                             f"({', '.join(f'{h}x{w}' for _, h, w in sorted(grids, reverse=True))}, as Swin's stages do): "
                             "use attention (the last layer's) or gradcam")
        return names

    def maps(self, scores):
        return rollout(scores)


class LastAttention(AttentionMethod):
    """The last attention layer's attention, averaged over its heads: what the class token reads last."""

    name = "attention"

    def maps(self, scores):
        return scores[-1].mean(axis=1)
