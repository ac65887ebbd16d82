"""The scripts on a vision transformer's model file (token_models.conv_vit, random weights), its layers' classes given with
--custom-objects: they list its token layers on the patch grid, draw, explain, dream and map it, as a user runs them."""

import os
import re

import numpy as np
import pytest
from conftest import ROOT, assert_one_line_error, run_script
from PIL import Image

SCRIPTS = ["visualize_filters.py", "explain.py", "deep_dream.py", "atlas.py"]
CLASSES_FILE = os.path.join(ROOT, "tests", "token_models.py")


@pytest.fixture(scope="module")
def files(tmp_path_factory, mnist_path) -> dict[str, str]:
    """conv_vit saved as a .keras file, and a 56x56 PNG of MNIST test digit 0 (the model takes 28x28)."""
    import token_models

    from cnn_note.backend import keras
    from cnn_note.note import data

    folder = tmp_path_factory.mktemp("transformer")
    keras.utils.set_random_seed(0)
    token_models.conv_vit().save(folder / "vit.keras")
    _, test = data.load("mnist", mnist_path)
    Image.fromarray(test.x[0]).resize((56, 56)).save(folder / "digit.png")
    return {"folder": folder, "model": str(folder / "vit.keras"), "digit": str(folder / "digit.png"), "data": mnist_path}


def ran(script: str, files: dict, *args: str) -> str:
    """The script's stdout, after a clean run (exit 0) on the transformer's file."""
    done = run_script(script, "--model", files["model"], "--custom-objects", CLASSES_FILE, "--data", files["data"], *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def filters(files) -> tuple[str, str]:
    """visualize_filters.py on four units of block1_mlp1, a few steps: its folder and what it printed."""
    out = str(files["folder"] / "filters")
    return out, ran("visualize_filters.py", files, "--layer", "block1_mlp1", "--filters", "0-3", "--steps", "3", "--examples", "0",
                    "--out-dir", out)


@pytest.mark.slow
def test_list_layers_shows_each_token_layer_on_its_grid(files):
    table = ran("visualize_filters.py", files, "--list-layers")
    assert re.search(r"^block1_attention\s+MultiHeadAttention\s+\(4, 4, 16\)\s+16$", table, re.M), table
    assert re.search(r"^block1_mlp1\s+Dense\s+\(4, 4, 32\)\s+32$", table, re.M), table


@pytest.mark.slow
def test_visualize_filters_draws_a_token_layers_units(filters):
    out, printed = filters
    assert "block1_mlp1: 4 filters x 3 steps" in printed
    for name in ("block1_mlp1.png", "classes.png", "patterns.npz"):
        assert os.path.getsize(os.path.join(out, name)) > 1000, name
    with Image.open(os.path.join(out, "block1_mlp1.png")) as grid:
        assert grid.format == "PNG" and grid.width > 400 and grid.height > 100  # four tiles in a row, titled
    with np.load(os.path.join(out, "patterns.npz")) as arrays:
        assert arrays["block1_mlp1_images"].shape == (4, 28, 28) and list(arrays["block1_mlp1_filters"]) == [0, 1, 2, 3]
        assert arrays["classes_images"].shape == (10, 28, 28)


@pytest.mark.slow
def test_visualize_filters_draws_a_digits_feature_maps_on_a_transformer(filters):
    out, printed = filters
    assert "feature maps: skipped" not in printed, printed
    assert os.path.getsize(os.path.join(out, "feature_maps.png")) > 1000


@pytest.mark.slow
def test_explain_py_draws_gradcam_on_a_transformer(files):
    out = files["folder"] / "explain"
    printed = ran("explain.py", files, "--index", "0,1", "--methods", "gradcam", "--out-dir", str(out))
    assert "gradcam: 2 image(s)" in printed
    with np.load(out / "attributions.npz") as found:
        assert found["gradcam"].shape == (2, 28, 28) and np.isfinite(found["gradcam"]).all()
    assert (out / "digit_0.png").exists() and (out / "digit_1.png").exists()


@pytest.mark.slow
def test_deep_dream_py_dreams_a_picture_at_the_transformers_size(files):
    out = files["folder"] / "dream"
    printed = ran("deep_dream.py", files, "--layers", "block0_mlp1", "--image", files["digit"], "--steps", "3", "--out-dir", str(out))
    assert "block0_mlp1 take only 28x28 pictures" in printed
    with Image.open(out / "digit_dream.png") as dreamed:
        assert dreamed.size == (28, 28)  # the 56x56 picture, dreamed at the size the position embeddings fix


@pytest.mark.slow
def test_atlas_py_maps_a_token_layer(files):
    out = files["folder"] / "atlas"
    printed = ran("atlas.py", files, "--layers", "block1_mlp1", "--steps", "2", "--examples", "0", "--class-inputs", "20", "--quiet",
                  "--out", str(out))
    assert "atlas written to" in printed
    assert "block1_mlp1" in (out / "index.html").read_text()
    assert "block1_mlp1" in (out / "0-block1_mlp1.html").read_text()  # the layer's page, its 32 units


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_grid_that_is_not_two_positive_numbers_is_one_line(script):
    done = run_script(script, "--grid", "0x3", "--list-layers")
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "--grid", "HxW", "0x3")
