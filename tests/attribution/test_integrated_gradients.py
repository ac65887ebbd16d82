"""Integrated Gradients against exact answers: w x from black for a linear score, w (x^2 - b^2) from a baseline b for
a squared one (the trapezoid rule is exact on a path whose gradient is linear), and its completeness error."""

import numpy as np
from by_hand import images, linear_model, square_model, weights_of

from cnn_note.attribution import ExplainSettings
from cnn_note.attribution.integrated_gradients import IntegratedGradients
from cnn_note.core import loading
from cnn_note.core.views import View


def test_integrated_gradients_of_a_linear_score_from_black_is_weights_times_input_exactly():
    model = linear_model()
    x, classes = images(3), np.array([2, 0, 1])
    view, settings, method = View.of(model, maps=False), ExplainSettings(steps=8), IntegratedGradients()
    maps = method.attribute(view, x, classes, settings)
    for map_, image, cls in zip(maps, x, classes):
        np.testing.assert_allclose(map_, (weights_of(model, cls) * image)[..., 0], rtol=1e-5, atol=1e-7)
    assert method.completeness(view, x, classes, maps, settings).max() < 1e-5  # completeness to float precision


def test_integrated_gradients_of_a_squared_score_from_white_is_the_change_in_each_term():
    model = square_model(channels=3)
    x, classes = images(2, channels=3, seed=6), np.array([0, 2])
    maps = IntegratedGradients().attribute(View.of(model, maps=False), x, classes, ExplainSettings(steps=4, baseline="white"))
    for map_, image, cls in zip(maps, x, classes):
        np.testing.assert_allclose(map_, (weights_of(model, cls) * (image**2 - 1.0)).sum(axis=-1), rtol=1e-4, atol=1e-6)


def test_the_completeness_error_measures_a_map_against_the_scores_change():
    model = linear_model()
    x, classes = images(2, seed=7), np.array([1, 2])
    view, settings, method = View.of(model, maps=False), ExplainSettings(), IntegratedGradients()
    exact = np.stack([(weights_of(model, cls) * image)[..., 0] for image, cls in zip(x, classes)])  # adds up to the change
    np.testing.assert_allclose(method.completeness(view, x, classes, exact, settings), 0.0, atol=1e-5)
    np.testing.assert_allclose(method.completeness(view, x, classes, 3 * exact, settings), 2.0, rtol=1e-4)  # 3 times: off by 2


def test_integrated_gradients_completeness_holds_for_a_real_network(random_cnn_file):
    view = View.of(loading.load_trained(random_cnn_file, "x"), maps=False)
    x, classes, settings, method = images(2, 28, 28), np.array([3, 5]), ExplainSettings(baseline="blur"), IntegratedGradients()
    assert method.completeness(view, x, classes, method.attribute(view, x, classes, settings), settings).max() < 0.05
