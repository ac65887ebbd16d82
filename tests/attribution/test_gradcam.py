"""Grad-CAM against a one-channel layer worked out by hand, its layer's choice, and its refusal on a model with none."""

import numpy as np
import pytest
from by_hand import bilinear_by_hand, images
from conftest import rgb_residual_model

from cnn_note import attribution
from cnn_note.attribution import ExplainSettings
from cnn_note.attribution.gradcam import GradCAM
from cnn_note.backend import keras
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.note import models


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_gradcam_with_one_channel_is_that_maps_relu_resized(padding):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    maps = keras.layers.Conv2D(1, 3, padding=padding, name="only")(inputs)
    scores = keras.layers.Dense(2, activation="softmax", name="out")(keras.layers.GlobalAveragePooling2D()(maps))
    model = keras.Model(inputs, scores)
    model.get_layer("out").set_weights([np.array([[2.0, -1.0]], "float32"), np.zeros(2, "float32")])
    x = images(2, 8, 8)
    cam = GradCAM().attribute(View.of(model, maps=False), x, np.array([0, 0]), ExplainSettings(layer="only"))
    layer = np.asarray(keras.Model(inputs, maps)(x))[..., 0]
    side = layer.shape[1]
    expected = bilinear_by_hand(np.maximum(layer, 0) * 2.0 / side**2, 8, 8)  # weight = mean gradient = 2 / cells
    np.testing.assert_allclose(cam, expected, rtol=1e-4, atol=1e-6)
    assert cam.min() >= 0 and cam.max() > 0


def test_gradcam_uses_the_last_conv_layer_unless_told():
    view = View.of(rgb_residual_model(), maps=False)
    assert attribution.gradcam_layer(view, None) == "deep"
    assert attribution.gradcam_layer(view, "add") == "add"
    assert attribution.gradcam_layer(View.of(models.build_dnn(), maps=False), None) is None


def test_gradcam_on_a_model_with_no_4d_layer_is_refused_saying_so():
    with pytest.raises(InputError, match="gradcam needs a layer"):
        GradCAM().attribute(View.of(models.build_dnn(), maps=False), images(1, 28, 28), np.array([0]), ExplainSettings())
