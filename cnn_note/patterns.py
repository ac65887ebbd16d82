"""Looking inside a trained CNN: what each filter and each class responds to, and a digit's feature maps."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import ascent, models, objectives
from cnn_note.backend import keras, tf
from cnn_note.cli import InputError


def filter_patterns(model: keras.Model, layer: str, filters: Sequence[int], size: int, settings: ascent.Settings,
                    on_progress: Callable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ascend every requested filter of `layer` together, one image each; returns images and final mean activations."""
    objective = objectives.filter_mean(model, layer, filters)
    images = ascent.ascend(ascent.make_step(objective), ascent.start_images(len(filters), size, size, settings.seed),
                           settings, on_progress)
    return images, objective(tf.constant(images)).numpy()


def class_patterns(model: keras.Model, settings: ascent.Settings, on_progress: Callable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ascend each of the 10 class logits from the same start; returns images and the CNN's softmax confidence in each class."""
    classes = list(range(model.output_shape[-1]))
    height, width = model.input_shape[1:3]
    start = np.repeat(ascent.start_images(1, height, width, settings.seed), len(classes), axis=0)
    objective = objectives.class_logit(models.class_logits(model), classes)
    images = ascent.ascend(ascent.make_step(objective), start, settings, on_progress)
    confidence = model.predict(images, verbose=0)[np.arange(len(classes)), classes]
    return images, confidence


def feature_maps(model: keras.Model, image: np.ndarray) -> dict[str, np.ndarray]:
    """Every conv layer's output for one image (H, W, 1): {layer: (h, w, channels)}."""
    names = models.conv_layer_names(model)
    outputs = models.conv_features(model, names)(image[None])
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {name: np.asarray(maps)[0] for name, maps in zip(names, outputs)}


def check_filters(model: keras.Model, layer: str, filters: Sequence[int]) -> None:
    """Fail clearly when a filter index is outside the layer's range."""
    count = model.get_layer(layer).filters
    bad = [index for index in filters if not 0 <= index < count]
    if bad:
        raise InputError(f"filter index {bad[0]} is out of range: {layer} has filters 0..{count - 1}")
