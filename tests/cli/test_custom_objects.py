"""--custom-objects: a subclassed model saved as a .keras file, explained by explain.py once its class's file is given."""

import importlib.util
import os
import textwrap

import numpy as np
import pytest
from conftest import assert_one_line_error, run_script

MODULE = textwrap.dedent('''
    import keras

    @keras.saving.register_keras_serializable(package="cnn_note_tests")
    class TinyNet(keras.Model):
        """A subclassed classifier of 16x16 colour pictures, as MTCNN writes its networks."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = keras.layers.Conv2D(4, 3, name="conv")
            self.prelu = keras.layers.PReLU(shared_axes=[1, 2], name="prelu")
            self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
            self.box = keras.layers.Dense(4, name="box")
            self.face = keras.layers.Dense(2, activation="softmax", name="face")

        def call(self, x, training=False):
            x = self.pool(self.prelu(self.conv(x)))
            return [self.box(x), self.face(x)]
''')


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The module file, the model saved from it (random weights) and a picture, in a folder of their own."""
    folder = tmp_path_factory.mktemp("custom")
    (folder / "tinynet.py").write_text(MODULE)
    spec = importlib.util.spec_from_file_location("tinynet_for_saving", folder / "tinynet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from PIL import Image

    from cnn_note.backend import keras

    keras.utils.set_random_seed(0)
    model = module.TinyNet()
    picture = np.random.default_rng(0).integers(0, 256, (16, 16, 3)).astype("uint8")
    model(picture[None].astype("float32") / 255)
    model.save(folder / "tiny.keras")
    Image.fromarray(picture).save(folder / "face.png")
    return folder, model, picture


@pytest.mark.slow
def test_explain_py_takes_a_subclassed_model_with_its_classes_file(saved):
    folder, model, picture = saved
    done = run_script("explain.py", "--model", str(folder / "tiny.keras"), "--custom-objects", str(folder / "tinynet.py"),
                      "--image", str(folder / "face.png"), "--output", "face", "--class", "1", "--methods", "gradient,occlusion",
                      "--out-dir", str(folder / "out"))
    assert done.returncode == 0, done.stderr
    import cnn_note as cn

    want = cn.explain(model, picture / np.float32(255), classes=[1], output="face", methods=["gradient", "occlusion"], progress=False)
    with np.load(folder / "out" / "attributions.npz") as found:
        for method in ("gradient", "occlusion"):
            np.testing.assert_allclose(found[method], want.maps[method], atol=1e-5, err_msg=method)


def test_without_its_classes_file_the_model_is_one_line_naming_the_flag(saved):
    folder, _, _ = saved
    done = run_script("explain.py", "--model", str(folder / "tiny.keras"), "--image", str(folder / "face.png"))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "needs the class", "TinyNet", "--custom-objects FILE")


def test_a_classes_file_that_is_missing_or_fails_is_one_line(saved, tmp_path):
    folder, _, _ = saved
    done = run_script("explain.py", "--model", str(folder / "tiny.keras"), "--custom-objects", str(tmp_path / "none.py"))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "--custom-objects", "none.py not found")
    broken = tmp_path / "broken.py"
    broken.write_text("import keras\nraise RuntimeError('no such layer here')\n")
    done = run_script("explain.py", "--model", str(folder / "tiny.keras"), "--custom-objects", str(broken))
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "broken.py fails on import (RuntimeError: no such layer here)")
    assert not os.path.exists(folder / "out-broken")
