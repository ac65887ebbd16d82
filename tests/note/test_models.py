"""The note's two networks and the views of a trained CNN."""

import numpy as np
import pytest

from cnn_note.backend import keras
from cnn_note.core import loading
from cnn_note.errors import InputError
from cnn_note.note import models


def test_parameter_counts_match_the_note():
    assert models.build_dnn().count_params() == 898_510
    assert models.build_cnn().count_params() == 137_660
    assert models.build_cnn(layout="note").count_params() == 138_110


def test_note_layout_pools_filters_and_rows_and_conv2_reads_columns_as_channels():
    cnn = models.build_cnn(layout="note")
    assert cnn.input_shape == (None, 1, 28, 28)
    assert cnn.get_layer("conv1").output.shape == (None, 25, 26, 26)
    assert cnn.get_layer("pool1").output.shape == (None, 12, 13, 26)
    assert cnn.get_layer("conv2").kernel.shape == (3, 3, 26, 50)
    # pool1's map 0 is the max of conv1's filters 0 and 1 over pairs of rows, every column kept.
    x = np.random.default_rng(0).random((1, 1, 28, 28)).astype("float32")
    conv1, pool1 = keras.Model(cnn.inputs[0], [cnn.get_layer("conv1").output, cnn.get_layer("pool1").output])(x)
    expected = np.asarray(conv1)[0, :2, :26].reshape(1, 2, 13, 2, 26).max(axis=(1, 3))[0]
    np.testing.assert_allclose(np.asarray(pool1)[0, 0], expected, rtol=1e-6)


def test_cnn_convolutions_have_no_activation_unless_asked():
    assert [models.build_cnn().get_layer(n).activation.__name__ for n in ("conv1", "conv2")] == ["linear", "linear"]
    assert models.build_cnn("relu").get_layer("conv1").activation.__name__ == "relu"


def test_load_trained_explains_missing_and_foreign_files(tmp_path):
    with pytest.raises(InputError, match="python train_cnn.py"):
        loading.load_trained(str(tmp_path / "model.keras"), "python train_cnn.py")
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a Keras model"):
        loading.load_trained(str(junk), "python train_cnn.py")
