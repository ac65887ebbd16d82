"""LIME against the lime package called directly, as its MNIST tutorial calls it."""

import numpy as np
from by_hand import images, lime_by_hand, square_model

from cnn_note.attribution import ExplainSettings
from cnn_note.attribution.lime import Lime
from cnn_note.core.views import View


def test_lime_is_each_superpixels_weight_as_the_lime_package_gives_it():
    model = square_model(12, 12)
    x, classes = images(2, 12, 12, seed=8), np.array([0, 2])
    maps = Lime().attribute(View.of(model, maps=False), x, classes, ExplainSettings(lime_samples=60))
    want = lime_by_hand(model, x, classes, samples=60)
    assert len(np.unique(want[0])) > 2  # several superpixels, weighed apart
    np.testing.assert_allclose(maps, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
