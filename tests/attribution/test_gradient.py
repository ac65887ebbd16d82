"""The gradient: |d score / d pixel|, the largest over channels, against the weights of models with known gradients."""

import numpy as np
from by_hand import images, linear_model, square_model, weights_of

from cnn_note.attribution import ExplainSettings
from cnn_note.attribution.gradient import Gradient
from cnn_note.core.views import View


def test_gradient_of_a_linear_score_is_the_weights_magnitude_largest_over_channels():
    model = linear_model(channels=3)
    x, classes = images(4, channels=3), np.array([0, 1, 2, 1])
    maps = Gradient().attribute(View.of(model, maps=False), x, classes, ExplainSettings())
    for map_, cls in zip(maps, classes):
        np.testing.assert_allclose(map_, np.abs(weights_of(model, cls)).max(axis=-1), rtol=1e-5)


def test_gradient_of_a_squared_score_is_twice_weight_times_pixel():
    model = square_model(channels=3)
    x, classes = images(3, channels=3, seed=4), np.array([2, 0, 1])
    maps = Gradient().attribute(View.of(model, maps=False), x, classes, ExplainSettings())
    for map_, image, cls in zip(maps, x, classes):
        np.testing.assert_allclose(map_, np.abs(2 * weights_of(model, cls) * image).max(axis=-1), rtol=1e-5, atol=1e-7)
