"""A vision transformer trained on real MNIST (token_models.conv_vit, a class token): its units' pictures raise their units,
and its Grad-CAM maps pass the deletion test (Petsiuk et al. 2018) better than a random order. A few seconds of training."""

from __future__ import annotations

import numpy as np
import pytest
import token_models

import cnn_note as cn
from cnn_note.attribution import faithfulness
from cnn_note.backend import keras
from cnn_note.core.views import View

pytestmark = pytest.mark.slow  # trains a transformer on 2000 real digits: about 10 s here


@pytest.fixture(scope="module")
def trained(mnist_path):
    """conv_vit after 315 Adam steps (5 epochs of 2000 training digits, 32 a batch), and the first 500 test digits."""
    from cnn_note.note import data

    train, test = data.load("mnist", mnist_path)
    x, y = data.to_inputs(train.x[:2000], (28, 28, 1)), train.y[:2000].astype(int)
    keras.utils.set_random_seed(0)
    model = token_models.conv_vit()
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=5, shuffle=True, verbose=0)
    return model, data.to_inputs(test.x[:500], (28, 28, 1)), test.y[:500].astype(int)


def test_it_learns_the_digits(trained):
    model, x, y = trained
    accuracy = float((model.predict(x, verbose=0).argmax(axis=1) == y).mean())
    assert accuracy > 0.5, accuracy  # 0.778 here (chance: 0.1)


def test_each_units_picture_raises_its_units_mean_over_the_tokens(trained):
    model, _, _ = trained
    units = [0, 4, 9, 13, 18, 22, 27, 31]  # of block1_mlp1's 32
    found = cn.filter_pictures(model, "block1_mlp1", units, steps=30, progress=False, examples=0)
    assert found.images.shape == (len(units), 28, 28, 1) and 0 <= found.images.min() and found.images.max() <= 1
    tokens = keras.Model(model.input, model.get_layer("block1_mlp1").output)

    def means(pictures):  # each unit's mean over the 16 patch tokens, the class token left out: (pictures, units)
        return np.asarray(tokens(pictures))[:, 1:, units].mean(axis=1)

    table = means(found.images)  # row: picture, column: unit
    drawn, grey = np.diag(table), means(np.full((1, 28, 28, 1), 0.5, "float32"))[0]
    assert (drawn > grey).all(), (drawn, grey)  # 1.15..2.33 here, against -0.15..1.10 on the grey picture
    assert (table.argmax(axis=0) == np.arange(len(units))).all(), table  # and no other unit's picture drives it more


def test_gradcams_deletion_beats_a_random_order(trained):
    model, x, _ = trained
    x = x[:100]
    explained = cn.explain(model, x, methods=["gradcam"], progress=False)
    view, classes = View.of(model), np.asarray(explained.classes)

    def deletion(order):  # the mean area under the class probability as pixels go to 0, one row's worth a step
        return float(faithfulness.area(faithfulness.curves(view, x, classes, order, insertion=False)).mean())

    gradcam = deletion(faithfulness.most_first(explained.maps["gradcam"]))
    random = deletion(faithfulness.random_order(len(x), 28 * 28))
    # 0.394 against 0.503 here. Grad-CAM's order beats a random one partly because it is coarse: a random order dims each
    # 7x7 patch evenly, which this model's patch embedding barely notices; Grad-CAM's own reverse scores 0.415.
    assert gradcam < random, (gradcam, random)
