"""The note's two networks and the views of a trained CNN."""

import keras
import numpy as np
import pytest

from cnn_note import models
from cnn_note.cli import InputError


def test_parameter_counts_match_the_note():
    assert models.build_dnn().count_params() == 898_510
    assert models.build_cnn().count_params() == 137_660


def test_cnn_convolutions_have_no_activation_unless_asked():
    assert [models.build_cnn().get_layer(n).activation.__name__ for n in ("conv1", "conv2")] == ["linear", "linear"]
    assert models.build_cnn("relu").get_layer("conv1").activation.__name__ == "relu"


def test_conv_features_accept_any_size_and_share_weights():
    cnn = models.build_cnn()
    features = models.conv_features(cnn, ["conv2", "conv1"])
    conv2, conv1 = features(np.zeros((2, 40, 33, 1), "float32"))
    assert conv1.shape == (2, 38, 31, 25) and conv2.shape == (2, 17, 13, 50)
    assert features.get_layer("conv1") is cnn.get_layer("conv1")


def test_unknown_layer_lists_the_conv_layers():
    with pytest.raises(InputError, match="conv1, conv2"):
        models.conv_features(models.build_cnn(), ["dense"])


def test_class_logits_are_the_scores_before_softmax():
    cnn = models.build_cnn()
    x = np.random.default_rng(0).random((3, 28, 28, 1)).astype("float32")
    logits = np.asarray(models.class_logits(cnn)(x))
    np.testing.assert_allclose(np.asarray(keras.ops.softmax(logits)), np.asarray(cnn(x)), rtol=1e-5, atol=1e-6)


def test_load_trained_explains_missing_and_foreign_files(tmp_path):
    with pytest.raises(InputError, match="python train_cnn.py"):
        models.load_trained(str(tmp_path / "model.keras"), "python train_cnn.py")
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a Keras model"):
        models.load_trained(str(junk), "python train_cnn.py")
