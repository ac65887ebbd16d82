"""Every script on a model file whose layers have names TensorFlow refuses as scopes (tests/layer_names.py's CNN).

Each runs as a user runs it and must finish (exit 0) with what it writes checked against the model itself, by Keras
alone, or against the same run on the copy with plain names.
"""

import html
import os

import numpy as np
import pytest
from conftest import make_npz, run_script
from layer_names import ODD, layer_output, twins

from cnn_note.backend import tf
from cnn_note.optvis import objectives

FIRST, SECOND = ODD["conv_a"], ODD["conv_b"]
pytestmark = pytest.mark.slow  # each runs a script or two, 10 to 30 s each here


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """The two model files, a tiny MNIST-layout npz and an .npz of 40 pictures to rank."""
    folder = tmp_path_factory.mktemp("layer_names")
    odd, plain = twins()
    odd.save(folder / "odd.keras")
    plain.save(folder / "plain.keras")
    pictures = np.random.default_rng(4).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    np.savez(folder / "inputs.npz", images=pictures)
    return {"odd": str(folder / "odd.keras"), "plain": str(folder / "plain.keras"), "data": make_npz(folder / "mnist.npz"),
            "inputs": str(folder / "inputs.npz"), "model": odd, "pictures": pictures}


def ran(script: str, *args: str) -> str:
    done = run_script(script, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_explain_py(files, tmp_path):
    how = ["--data", files["data"], "--index", "0-1", "--methods", "gradient,gradcam,occlusion"]
    ran("explain.py", "--model", files["odd"], *how, "--out-dir", str(tmp_path / "odd"))
    ran("explain.py", "--model", files["plain"], *how, "--out-dir", str(tmp_path / "plain"))
    got, want = np.load(tmp_path / "odd" / "attributions.npz"), np.load(tmp_path / "plain" / "attributions.npz")
    assert got.files == want.files and str(got["gradcam_layer"]) == SECOND
    for key in set(got.files) - {"gradcam_layer"}:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    outputs = np.asarray(files["model"](got["images"], training=False))
    np.testing.assert_allclose(got["probabilities"], outputs[np.arange(2), got["classes"]], rtol=1e-6)


def test_visualize_filters_py(files, tmp_path):
    out = tmp_path / "filters"
    printed = ran("visualize_filters.py", "--model", files["odd"], "--data", files["data"], "--steps", "3", "--examples", "2",
                  "--examples-from", files["inputs"], "--out-dir", str(out))
    assert f"{FIRST}: 3 filters x 3 steps" in printed and f"{SECOND}: 4 filters x 3 steps" in printed
    assert {f"{FIRST}.png", f"{SECOND}.png", "classes.png", "feature_maps.png"} <= set(os.listdir(out))
    patterns, examples = np.load(out / "patterns.npz"), np.load(out / "examples.npz")
    inputs = files["pictures"][..., None].astype("float32") / 255
    for name in (FIRST, SECOND):
        images = patterns[f"{name}_images"][..., None]
        maps = layer_output(files["model"], name, images)
        own = np.stack([maps[f, ..., f] for f in range(len(images))])
        np.testing.assert_allclose(patterns[f"{name}_activations"], objectives.mean_score(tf.constant(own)).numpy(), rtol=1e-5, atol=1e-7)
        maps = layer_output(files["model"], name, inputs)
        strongest = maps.reshape(len(maps), -1, maps.shape[-1]).max(axis=1)  # (inputs, units)
        np.testing.assert_allclose(examples[f"{name}_top_activations"][:, 0], strongest.max(axis=0), rtol=1e-5)
        np.testing.assert_array_equal(examples[f"{name}_top"][:, 0], strongest.argmax(axis=0))


@pytest.mark.parametrize("examples", [0, 2])
def test_atlas_py(files, tmp_path, examples):
    out = tmp_path / "atlas"
    ran("atlas.py", "--model", files["odd"], "--examples", str(examples), "--examples-from", files["inputs"], "--class-inputs", "10",
        "--steps", "3", "--out", str(out), "--quiet")
    index = (out / "index.html").read_text()
    assert html.escape(FIRST) in index and html.escape(SECOND) in index and FIRST not in index
    patterns = np.load(out / "patterns.npz")
    assert f"{FIRST}_images" in patterns.files and f"{SECOND}_images" in patterns.files
    if examples:
        found = np.load(out / "examples.npz")
        maps = layer_output(files["model"], SECOND, files["pictures"][..., None].astype("float32") / 255)
        strongest = maps.reshape(len(maps), -1, maps.shape[-1]).max(axis=1)
        counts = found[f"{SECOND}_histogram"]
        assert (counts.sum(axis=1) == 40).all()
        np.testing.assert_allclose(found[f"{SECOND}_top_activations"][:, 0], strongest.max(axis=0), rtol=1e-5)


def test_deep_dream_py_by_default_and_by_name(files, tmp_path):
    how = ["--data", files["data"], "--index", "0", "--octaves", "1", "--steps", "3"]
    printed = ran("deep_dream.py", "--model", files["odd"], *how, "--out-dir", str(tmp_path / "odd"))
    assert f"on {FIRST}=1, {SECOND}=2" in printed  # the default layers, as they are called
    ran("deep_dream.py", "--model", files["plain"], *how, "--out-dir", str(tmp_path / "plain"))
    for picture in ("digit_0_dream.png", "digit_0.png"):
        assert (tmp_path / "odd" / picture).read_bytes() == (tmp_path / "plain" / picture).read_bytes()
    printed = ran("deep_dream.py", "--model", files["odd"], *how, "--layers", f"{SECOND}=2,{FIRST}", "--out-dir", str(tmp_path / "named"))
    assert f"on {SECOND}=2, {FIRST}=1" in printed
