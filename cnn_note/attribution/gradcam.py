"""Grad-CAM (Selvaraju et al. 2017): a layer's maps weighted by their mean gradient, on the layer's grid."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from cnn_note.attribution.method import Method
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK
from cnn_note.settings import setting

if TYPE_CHECKING:
    from cnn_note.core.views import View


class GradCAM(Method):
    """Selvaraju et al. 2017: ReLU of the layer's channels weighted by their mean gradient, resized to the image."""

    name = "gradcam"
    needs = "layer"

    @dataclasses.dataclass(frozen=True)
    class Settings:
        layer: str | None = setting(None, "Grad-CAM's layer, with a (batch, height, width, channels) output or tokens on a "
                                    "grid (default: the last conv layer; on a transformer, what its last attention reads)")

    def attribute(self, view, images, classes, settings, callback=NO_CALLBACK):
        from cnn_note.attribution.gradients import batch_of  # TensorFlow: here, not above (see method.py)
        from cnn_note.core import batching

        layer = gradcam_layer(view, settings.layer)
        if layer is None:
            raise InputError(f"gradcam needs a layer with a (batch, height, width, channels) output and {view.label} has none: "
                             "leave gradcam out of ", Argument("methods"))
        height, width = images.shape[1:3]
        batch = batch_of(view, height, width)
        run = view.memo("gradcam", layer, height, width, build=lambda: compiled_gradcam(view, layer, height, width))
        return batching.map_batches(lambda part, wanted: run(part, wanted.astype("int32")), batch, images, classes)


def gradcam_layer(view: View, asked: str | None) -> str | None:
    """The layer Grad-CAM uses: the one asked (checked to be 4-D or tokens on a grid); else on a transformer what its last
    attention layer reads (pytorch-grad-cam's blocks[-1].norm1: the class token's own last layers see no patch token);
    else the last conv layer, else None (no such layer)."""
    if asked:
        view.check_layers([asked])
        return asked
    graph, attention = view.recorded, view.attention_layers()
    if attention:
        return next(name for name, out in graph.produced.items() if out is graph.received[attention[-1]])
    convs = view.conv_layer_names() or [layer.name for layer in view.feature_layers()]
    return convs[-1] if convs else None


def compiled_gradcam(view: View, layer: str, height: int, width: int) -> Callable:
    """(images, classes) -> Grad-CAM maps on `layer` resized to height x width, compiled for such pictures."""
    import numpy as np

    from cnn_note.backend import keras
    from cnn_note.core import autodiff

    shape = (height, width, view.channels)
    model, token_map, ops = view.layer_and_scores(layer, shape), view.token_map(layer), keras.ops
    added = model.inputs[1]  # zeros added to the layer's output: the gradient with respect to them is the output's

    def score(outputs, wanted):
        return autodiff.pick(ops.cast(outputs[1], "float32"), wanted)

    def cam(values, outputs, grads):
        # A mixed-precision layer gives float16 or bfloat16 maps; the map is made in float32.
        # A transformer's tokens are differentiated as computed, then both put on their grid, extra tokens left out.
        grads, maps = ops.cast(token_map(grads[0]), "float32"), ops.cast(token_map(outputs[0]), "float32")
        weights = ops.mean(grads, axis=[1, 2], keepdims=True)
        found = ops.relu(ops.sum(weights * maps, axis=-1, keepdims=True))
        return ops.image.resize(found, (height, width), interpolation="bilinear", antialias=False)[..., 0]

    run = autodiff.differentiate(model, score, [(shape, "float32"), (tuple(added.shape[1:]), added.dtype)], [((), "int32")],
                                 wrt=[1], then=cam)
    return lambda pixels, wanted: run(pixels, np.zeros((len(pixels), *added.shape[1:]), added.dtype), wanted)
