"""Loading and validating MNIST files."""


import numpy as np
import pytest
from conftest import make_npz

from cnn_note.errors import InputError
from cnn_note.note import data


def test_reads_a_valid_file_and_takes_the_first_images(tiny_npz):
    train, test = data.load("mnist", tiny_npz)
    assert train.x.shape == (60, 28, 28) and test.x.shape == (20, 28, 28)
    head = data.first(train, 10)
    np.testing.assert_array_equal(head.x, train.x[:10])


def test_inputs_are_scaled_and_shaped_for_each_model():
    x = np.full((3, 28, 28), 255, dtype=np.uint8)
    assert data.to_inputs(x, (784,)).shape == (3, 784)
    assert data.to_inputs(x, (1, 28, 28)).shape == (3, 1, 28, 28)
    cnn = data.to_inputs(x, (28, 28, 1))
    assert cnn.shape == (3, 28, 28, 1) and cnn.dtype == np.float32 and cnn.max() == 1.0
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0])).argmax(1), [2, 0])


def test_path_comes_from_flag_then_environment(monkeypatch):
    monkeypatch.setenv("MNIST_PATH", "/env.npz")
    assert data.data_path("/flag.npz") == "/flag.npz"
    assert data.data_path(None) == "/env.npz"
    assert data.data_path(None, "fashion_mnist") is None
    monkeypatch.delenv("MNIST_PATH")
    assert data.data_path(None) is None


@pytest.mark.parametrize(
    "override, words",
    [
        ({"y_test": None}, ["y_test"]),
        ({"x_train": np.zeros((60, 28, 27), np.uint8)}, ["shape"]),
        ({"x_train": np.zeros((60, 28, 28), np.float32)}, ["uint8"]),
        ({"y_train": np.zeros(59, np.uint8)}, ["labels", "shape"]),
        ({"y_test": np.full(20, 10, np.uint8)}, ["labels", "0..9"]),
        ({"y_test": np.array([object()] * 20)}, ["pickle"]),
        ({"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, np.uint8)}, ["(test)", "no images"]),
    ],
)
def test_bad_npz_contents_are_named(tmp_path, override, words):
    path = make_npz(tmp_path / "bad.npz", **override)
    with pytest.raises(InputError) as error:
        data.load("mnist", path)
    for word in words:
        assert word in str(error.value)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        data.load("mnist", str(tmp_path / "nope.npz"))
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(InputError, match="not an npz"):
        data.load("mnist", str(text))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(open(make_npz(tmp_path / "ok.npz"), "rb").read()[:500])
    with pytest.raises(InputError, match="not an npz|damaged"):
        data.load("mnist", str(truncated))


def test_too_many_training_images_is_refused(tiny_npz):
    train, _ = data.load("mnist", tiny_npz)
    with pytest.raises(InputError, match="only 60"):
        data.first(train, 61)


def test_keras_loader_failure_says_how_to_work_offline(monkeypatch):
    import keras

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(InputError, match="pass path= to a Keras-layout npz") as error:
        data.load("fashion_mnist", None)
    assert "pass --data PATH to a Keras-layout npz" in error.value.on_command_line()
