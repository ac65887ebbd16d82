"""Occlusion against the probability drops computed by hand, on the picture and on a smaller copy of a large one."""

import numpy as np
from by_hand import bilinear_by_hand, images, linear_model, occlusion_by_hand
from conftest import rgb_residual_model

from cnn_note.attribution import ExplainSettings
from cnn_note.attribution.occlusion import Occlusion, positions
from cnn_note.backend import keras
from cnn_note.core.views import View


def test_occlusion_of_a_patch_is_the_probability_drop_computed_by_hand():
    model = linear_model()
    view = View.of(model, maps=False)
    x, cls = images(1), 1
    maps = Occlusion().attribute(view, x, np.array([cls]), ExplainSettings(patch=3, stride=3))
    before = model(x).numpy()[0, cls]
    # 6x5 with a 3-pixel patch every 3: rows start at 0, 3 and columns at 0, 2 (the last flush with the edge).
    for top, left in [(0, 0), (3, 0)]:
        hidden = x.copy()
        hidden[0, top:top + 3, left:left + 3] = 0.0
        np.testing.assert_allclose(maps[0, top:top + 3, left:left + 2], before - model(hidden).numpy()[0, cls], rtol=1e-4, atol=1e-6)
    assert positions(5, 3, 3) == [0, 2] and positions(6, 3, 3) == [0, 3]


def test_large_pictures_are_occluded_on_a_smaller_copy_and_mapped_back():
    keras.utils.set_random_seed(0)
    model = rgb_residual_model()
    scores = model.get_layer("scores").kernel
    scores.assign(5 * scores)  # sharper scores: a patch moves the probability well past float32's rounding
    x = images(1, 90, 120, 3)
    maps = Occlusion().attribute(View.of(model, maps=False), x, np.array([0]), ExplainSettings(max_side=40))
    # By hand: the 30x40 copy is each 3x3 block's mean (an area shrink by 3); it is occluded with a patch of a seventh of
    # its shorter side (4) every half patch (2), and the map enlarged bilinearly: the model saw the small picture only.
    small = x.reshape(1, 30, 3, 40, 3, 3).mean(axis=(2, 4))
    by_hand = occlusion_by_hand(model, small[0], 0, patch=4, stride=2)
    assert np.abs(by_hand).max() > 1e-3  # a map worth comparing
    np.testing.assert_allclose(maps, bilinear_by_hand(by_hand[None], 90, 120), rtol=1e-3, atol=1e-6)
