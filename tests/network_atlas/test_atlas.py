"""atlas.py and cn.atlas: the arrays, the site, resuming, and one-line refusals, on a tiny 2-conv model."""

from __future__ import annotations

import filecmp
import os

import numpy as np
import pytest
from conftest import ROOT, assert_one_line_error, headless_chromium, run_script, static_server

from cnn_note.backend import keras

HOSTILE = 'c<img src=x onerror="window.hacked=1">'  # a layer name Keras accepts; the site must show it as text
STEPS = ["--steps", "5"]


def tiny_model(second: str = "conv_b"):
    """Two small conv layers through a ReLU and a pooling, then a 3-class softmax: 7 units in all."""
    from cnn_note.backend import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(3, 3, name="conv_a")(inputs)
    x = keras.layers.Activation("relu", name="relu_a")(x)
    x = keras.layers.MaxPooling2D(2, name="pool_a")(x)
    x = keras.layers.Conv2D(4, 3, name=second)(x)
    x = keras.layers.Flatten(name="flat")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="scores")(x), name="tiny")


@pytest.fixture(scope="session")
def tiny_files(tmp_path_factory) -> tuple[str, str]:
    """The tiny model's file and an .npz of 1,100 random pictures to rank: three shards of the scan with Ray."""
    folder = tmp_path_factory.mktemp("atlas_inputs")
    model = folder / "tiny.keras"
    tiny_model().save(model)
    tiny_model(HOSTILE).save(folder / "hostile.keras")
    pictures = np.random.default_rng(0).integers(0, 256, (1100, 28, 28), dtype=np.uint8)
    np.savez(folder / "inputs.npz", images=pictures)
    return str(model), str(folder / "inputs.npz")


def layer_output(model_file: str, layer: str, pictures: np.ndarray) -> np.ndarray:
    """The layer's output on pictures 0..1 (N, 28, 28, 1), from a keras sub-model of the user's model in inference mode."""
    model = keras.models.load_model(model_file)
    return np.asarray(keras.Model(model.input, model.get_layer(layer).output)(pictures, training=False))


def score_by_hand(maps: np.ndarray) -> np.ndarray:
    """A picture's activation as the ascent scores it, in numpy: each (N, h, w) map's mean inside a border of 2 (maps of 10
    or more a side), negative values counted a tenth."""
    if min(maps.shape[1:3]) >= 10:
        maps = maps[:, 2:-2, 2:-2]
    return np.where(maps > 0, maps, 0.1 * maps).mean(axis=(1, 2))


def tree_state(root) -> dict[str, tuple]:
    """Every file and folder under `root`: a file's SHA-256, inode and modification time (a file written again, even with
    the same bytes, shows), a folder as itself."""
    import hashlib

    state = {}
    for folder, folders, files in os.walk(root):
        for name in folders:
            state[os.path.relpath(os.path.join(folder, name), root) + os.sep] = ("folder",)
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            info = os.stat(path)
            state[os.path.relpath(path, root)] = (digest, info.st_ino, info.st_mtime_ns)
    return state


def atlas_args(model: str, inputs: str, out) -> list[str]:
    return ["--model", model, "--examples-from", inputs, "--examples", "3", "--class-inputs", "20", *STEPS,
            "--out", str(out), "--quiet"]


@pytest.fixture(scope="session")
def made(tiny_files, tmp_path_factory) -> str:
    """An atlas of the tiny model made by the script, in one process."""
    out = tmp_path_factory.mktemp("atlas") / "one"
    done = run_script("atlas.py", *atlas_args(*tiny_files, out))
    assert done.returncode == 0, done.stderr
    assert "0 of 7 units found done" in done.stdout
    return str(out)


@pytest.fixture(scope="session")
def hostile(tiny_files, tmp_path_factory) -> str:
    """An atlas of the tiny model with its second conv layer named like an HTML tag, without examples: the site and its
    file names are what this is about (tests/test_api_layer_names.py makes one with examples)."""
    out = tmp_path_factory.mktemp("atlas") / "hostile"
    done = run_script("atlas.py", "--model", os.path.join(os.path.dirname(tiny_files[0]), "hostile.keras"), "--examples", "0",
                      *STEPS, "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return str(out)


# Hostile text given as data: the file names of a folder of pictures (--examples-from) and --class-names.
PICTURE_NAMES = ['d<img src=x onerror="window.hacked=2">.png', "e&amp;#'%20?.png", '"><svg onload="window.hacked=3">.png',
                 "f <b>bold<b> & more.png", "g'><script>window.hacked=4<\\script>.png"]  # no "/" in a file's name
CLASS_NAMES = ["<script>window.hacked=5</script>", "b\"&amp;'", '<img src=y onerror="window.hacked=6">']


@pytest.fixture(scope="session")
def named(tiny_files, tmp_path_factory) -> tuple[str, str]:
    """An atlas of the tiny model ranking a folder of pictures named like HTML, its classes named so too; and the folder."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("hostile_pictures")
    rng = np.random.default_rng(6)
    for name in PICTURE_NAMES:
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(folder / name, format="PNG")
    out = tmp_path_factory.mktemp("atlas") / "named"
    done = run_script("atlas.py", "--model", tiny_files[0], "--examples-from", str(folder), "--examples", "2", "--class-inputs",
                      str(len(PICTURE_NAMES)), "--class-names", ",".join(CLASS_NAMES), "--steps", "2", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return str(out), str(folder)


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_arrays_are_the_filter_pictures_path(made, tiny_files):
    import cnn_note as cn

    model, _ = tiny_files
    patterns = np.load(os.path.join(made, "patterns.npz"))
    for layer in ("conv_a", "conv_b"):  # each a piece of at most 8 units: the same batch as cn.filter_pictures'
        drawn = cn.filter_pictures(model, layer, examples=0, progress=False, steps=5)
        assert np.array_equal(patterns[f"{layer}_images"], drawn.images[..., 0])
        assert np.array_equal(patterns[f"{layer}_activations"], drawn.activations)
    for layer in ("conv_a", "conv_b"):
        # Each unit's two pictures, positive and negative, score what the layer itself gives on that picture (a keras
        # sub-model of the user's model, scored in numpy), and the negative one lower.
        for prefix in ("", "negative_"):
            images = patterns[f"{layer}_{prefix}images"]
            maps = layer_output(model, layer, images[..., None])  # (units, h, w, units): picture u in row u
            own = score_by_hand(maps[np.arange(len(images)), ..., np.arange(len(images))])
            np.testing.assert_allclose(patterns[f"{layer}_{prefix}activations"], own, rtol=1e-4, atol=1e-5, err_msg=prefix)
        assert (patterns[f"{layer}_negative_activations"] < patterns[f"{layer}_activations"]).all()


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_examples_and_histograms_are_the_layers_own_output(made, tiny_files):
    """Every unit's top and bottom inputs, their values and places, the best by the ascent's score, and the histogram's
    edges and counts, against the layer's output on all 1,100 inputs from a keras sub-model, sorted and binned in numpy."""
    examples = np.load(os.path.join(made, "examples.npz"))
    pictures = np.load(tiny_files[1])["images"][..., None].astype("float32") / 255
    order = np.arange(len(pictures))
    for layer in ("conv_a", "conv_b"):
        maps = layer_output(tiny_files[0], layer, pictures)  # (inputs, h, w, units): no ReLU in either layer
        flat = maps.reshape(len(maps), -1, maps.shape[-1])
        strongest, weakest = flat.max(axis=1), flat.min(axis=1)  # (inputs, units)
        for unit in range(maps.shape[-1]):
            for which, sign, values in (("top", -1, strongest[:, unit]), ("bottom", 1, weakest[:, unit])):
                chosen = np.lexsort((order, sign * values))[:3]  # highest (lowest) first, ties to the earlier input
                np.testing.assert_array_equal(examples[f"{layer}_{which}"][unit], chosen, err_msg=f"{layer} {which} {unit}")
                found = examples[f"{layer}_{which}_activations"][unit]
                np.testing.assert_allclose(found, values[chosen], rtol=1e-5, atol=1e-6)
                rows, cols = examples[f"{layer}_{which}_positions"][unit].T  # the unit there gives that value
                np.testing.assert_allclose(maps[chosen, rows, cols, unit], found, rtol=1e-5, atol=1e-6)
        scores = np.stack([score_by_hand(maps[..., unit]) for unit in range(maps.shape[-1])], axis=1)  # (inputs, units)
        np.testing.assert_array_equal(examples[f"{layer}_best_mean_input"], scores.argmax(axis=0))
        np.testing.assert_allclose(examples[f"{layer}_best_mean"], scores.max(axis=0), rtol=1e-5, atol=1e-6)
        # 30 bins from the lowest value anywhere in the unit's maps (the scan keeps no lowest strongest response) to the
        # highest strongest response; every input's strongest response counted once per unit.
        edges = np.linspace(weakest.min(axis=0), strongest.max(axis=0), 31, axis=1, dtype="float64")
        np.testing.assert_allclose(examples[f"{layer}_histogram_edges"], edges, rtol=1e-5, atol=1e-6)
        expected = [np.histogram(strongest[:, unit], edges[unit])[0] for unit in range(len(edges))]
        np.testing.assert_array_equal(examples[f"{layer}_histogram"], np.array(expected))
        # Each unit's optimised picture (patterns.npz) is held beside them by its strongest value and its score.
        with np.load(os.path.join(made, "patterns.npz")) as patterns:
            drawn = patterns[f"{layer}_images"]
        units = np.arange(len(drawn))
        own = layer_output(tiny_files[0], layer, drawn[..., None])[units, ..., units]  # (units, h, w)
        np.testing.assert_allclose(examples[f"{layer}_optimised"], own.reshape(len(own), -1).max(axis=1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(examples[f"{layer}_optimised_score"], score_by_hand(own), rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(examples[f"{layer}_filters"], units)
    # The fields, by hand: conv_a's 3x3 kernel; a 2x2 pooling makes it 4, and conv_b's 3x3 at step 2 adds 2 x 2.
    assert tuple(examples["conv_a_field"]) == (3, 3) and tuple(examples["conv_b_field"]) == (8, 8)
    assert examples["conv_a_top"].shape == (3, 3)


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_incoming_connections_by_hand(made, tiny_files):
    from cnn_note.backend import keras

    connections = np.load(os.path.join(made, "connections.npz"))
    kernel = keras.models.load_model(tiny_files[0]).get_layer("conv_b").get_weights()[0]  # (3, 3, 3 in, 4 units)
    norms = np.sqrt((kernel**2).sum(axis=(0, 1)))
    assert str(connections["conv_b_in_layer"]) == "conv_a"  # through the ReLU and the pooling
    assert np.array_equal(connections["conv_b_in_units"], np.argsort(-norms, axis=0, kind="stable").T)
    assert np.allclose(connections["conv_b_in_norms"], -np.sort(-norms, axis=0).T)
    assert "conv_a_in_units" not in connections.files  # conv_a reads the pixels
    assert connections["conv_a_class_contributions"].shape == (3, 3)


def test_class_contributions_by_hand(tmp_path):
    """A linear model: score_c = sum A * V_c + b, so unit u's contribution is the mean of sum_hw A_u * V_c[h, w, u]."""
    from cnn_note import api, dataset_examples
    from cnn_note.backend import keras
    from cnn_note.network_atlas.wiring import class_contributions

    keras.utils.set_random_seed(2)
    inputs = keras.Input((8, 8, 1))
    conv = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="scores")(keras.layers.Flatten()(conv)))
    pictures = np.random.default_rng(3).random((7, 8, 8, 1)).astype("float32")
    view = api.view_of(model, head="logits")
    found = class_contributions(view, "conv", dataset_examples.from_array(pictures, 1, "test"), 5)
    maps = keras.Model(inputs, conv).predict(pictures[:5], verbose=0)  # (5, 6, 6, 2)
    weights = model.get_layer("scores").get_weights()[0].reshape(6, 6, 2, 3)
    expected = np.einsum("nhwu,hwuc->uc", maps, weights) / 5
    assert found.shape == (2, 3)
    assert np.allclose(found, expected, atol=1e-5)


def test_class_contributions_of_a_nonlinear_softmax_model_by_a_tape():
    """A ReLU, a second convolution and a softmax after the layer: the gradient depends on where it is taken, so the mean
    over inputs of each input's own sum_hw A_u * dlogit_c/dA_u, by a tf.GradientTape on the layer's output tensor."""
    from cnn_note import api, dataset_examples
    from cnn_note.backend import tf
    from cnn_note.network_atlas.wiring import class_contributions

    keras.utils.set_random_seed(3)
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv2")(keras.layers.Activation("relu", name="relu")(x))
    x = keras.layers.Flatten(name="flat")(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="scores")(x))
    pictures = np.random.default_rng(4).random((9, 10, 10, 1)).astype("float32")
    found = class_contributions(api.view_of(model), "conv", dataset_examples.from_array(pictures, 1, "test"), 6)

    dense = model.get_layer("scores")
    rest = [model.get_layer(name) for name in ("relu", "conv2", "flat")]

    below = keras.Model(model.input, model.get_layer("conv").output)

    @tf.function  # traced: some eager convolution gradients abort TensorFlow 2.21 on the CPU
    def by_hand(images):
        maps = below(images)  # A, (inputs, 8, 8, 3)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(maps)
            x = maps
            for layer in rest:
                x = layer(x)
            logits = tf.matmul(x, dense.kernel) + dense.bias  # the softmax's scores before it
            totals = [tf.reduce_sum(logits[:, c]) for c in range(3)]
        gradients = [tape.gradient(total, maps) for total in totals]  # each input's own gradient, at its own A
        return tf.stack([tf.reduce_mean(tf.reduce_sum(maps * g, axis=[1, 2]), axis=0) for g in gradients], axis=1)

    expected = by_hand(tf.constant(pictures[:6])).numpy()  # (units, classes), the first 6 inputs
    assert found.shape == (3, 3) and np.abs(expected).max() > 1e-2
    np.testing.assert_allclose(found, expected, rtol=1e-4, atol=1e-6)
    # Not what the mean input gives: the check can tell a gradient at the wrong point.
    assert not np.allclose(by_hand(tf.constant(pictures[:6].mean(axis=0, keepdims=True))).numpy(), expected, rtol=1e-2, atol=1e-4)


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_site_escapes_and_stays_inside(hostile, made):
    pages = []
    for folder, _, files in os.walk(hostile):
        for name in files:
            path = os.path.realpath(os.path.join(folder, name))
            assert path.startswith(os.path.realpath(hostile) + os.sep)
            assert "<" not in name and '"' not in name
            if name.endswith(".html"):
                with open(path, encoding="utf-8") as handle:
                    pages.append(handle.read())
    assert len(pages) == 1 + 2 + 7 + 1  # index, a page per layer, per unit, live.html (no classes page without inputs)
    text = "\n".join(pages)
    assert "onerror=" not in text.replace("onerror=&quot;", "")  # only ever the escaped name
    assert "c&lt;img src=x onerror=&quot;window.hacked=1&quot;&gt;" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched from the network
    assert os.path.isfile(os.path.join(hostile, "1-c-img-src-x-onerror-window-hacked-1", "0.html"))
    unit = open(os.path.join(made, "1-conv_b", "0.html"), encoding="utf-8").read()
    for part in ('id="next"', 'id="up"', "<svg", "0-negative.png", "0-top0.png", "../inputs/", "Incoming, from conv_a",
                 'href="../0-conv_a/', "Pushes up most"):
        assert part in unit, part


def unit_files(root, skip: tuple[str, int] | None = None) -> dict[str, tuple]:
    """tree_state of every finished unit's own files (its arrays and two pictures), but `skip`'s (layer folder, unit)."""
    state = tree_state(root)
    units = {(path.split(os.sep)[0], int(path.split(os.sep)[1][:-4])) for path in state if path.endswith(".npz") and os.sep in path}
    return {name: state[name] for folder, unit in sorted(units - {skip})
            for name in (os.path.join(folder, f"{unit}{end}") for end in (".npz", ".png", "-negative.png"))}


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_resume_computes_only_what_is_missing(made, tiny_files, tmp_path):
    """Unit 1 of conv_a deleted: the same command again leaves every other unit's files as they were (not written again,
    though unit 1's piece holds units 0 and 2) and makes the atlas the whole run made."""
    import shutil

    out = tmp_path / "again"
    shutil.copytree(made, out)
    os.remove(out / "0-conv_a" / "1.npz")
    os.remove(out / "0-conv_a" / "1.png")
    kept = unit_files(out)
    assert len(kept) == 6 * 3
    done = run_script("atlas.py", *atlas_args(*tiny_files, out))
    assert done.returncode == 0, done.stderr
    assert "6 of 7 units found done" in done.stdout and "; 1 to compute" in done.stdout
    assert unit_files(out, ("0-conv_a", 1)) == kept
    same_atlas(made, str(out))


# atlas.py as a user runs it, but Ctrl-C (a real SIGINT, to itself) comes the moment the first unit is written: in the
# pictures, inside the first piece, on any machine, however fast.
CTRL_C_AFTER_FIRST_UNIT = """
import os, signal, sys
sys.path.insert(0, {root!r})
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job inherits SIGINT ignored
from cnn_note.cli import atlas
from cnn_note.io import writing

save_npz = writing.save_npz

def save_then_ctrl_c(path, *args, **kwargs):
    save_npz(path, *args, **kwargs)
    if os.path.basename(path)[:-len(".npz")].isdigit():  # a unit's arrays, written last: the unit is done
        os.kill(os.getpid(), signal.SIGINT)

writing.save_npz = save_then_ctrl_c
atlas.main(sys.argv[1:])
"""


@pytest.mark.slow
def test_ctrl_c_in_the_pictures_then_the_same_command_finishes_the_atlas(made, tiny_files, tmp_path):
    import subprocess
    import sys

    script = tmp_path / "ctrl_c_atlas.py"
    script.write_text(CTRL_C_AFTER_FIRST_UNIT.format(root=ROOT))
    out = tmp_path / "interrupted"
    run = subprocess.run([sys.executable, str(script), *atlas_args(*tiny_files, out)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 2, run.stderr
    assert_one_line_error(run.stderr, "interrupted", "the same command computes the rest")
    # The first unit whole, the rest of its piece and everything after not begun, nothing half-written.
    assert sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()) == [
        "0-conv_a/0-negative.png", "0-conv_a/0.npz", "0-conv_a/0.png", "manifest.json"]
    first = unit_files(out)
    again = run_script("atlas.py", *atlas_args(*tiny_files, out))
    assert again.returncode == 0, again.stderr
    assert "1 of 7 units found done" in again.stdout
    after = unit_files(out)
    assert {name: after[name] for name in first} == first  # unit 0 is not written again with the rest of its piece
    same_atlas(made, str(out))


def refused(capsys, argv: list[str], *words: str) -> None:
    """atlas.py, run in this process, exits 2 with one stderr line naming `words`."""
    from cnn_note.cli import atlas as script

    with pytest.raises(SystemExit) as stop:
        script.main(argv)
    assert stop.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *words)


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_bad_input_is_one_line_and_writes_nothing(tiny_files, made, tmp_path, capsys, monkeypatch):
    """Every file and folder of --out, of an atlas already there and of the inputs: the same bytes, the same inode and
    modification time (nothing written again, even alike) after each refusal; no folder made."""
    monkeypatch.syspath_prepend(ROOT)
    model, inputs = tiny_files
    out = tmp_path / "none"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    watched = (tmp_path, made, os.path.dirname(model))
    before = [tree_state(root) for root in watched]
    assert before[1] and before[2]
    refused(capsys, [*atlas_args(model, inputs, out), "--layers", "nope"], "unknown layer nope")
    refused(capsys, [*atlas_args(model, inputs, out), "--examples", "1101"], "--examples 1101", "1100 inputs")
    refused(capsys, atlas_args(model, inputs, a_file), "is a file")
    refused(capsys, [*atlas_args(model, inputs, made), "--steps", "6"], "other settings", "steps")
    assert [tree_state(root) for root in watched] == before


def ray_or_why() -> None:
    """Ray for the tests that need it: skipped with the reason where it is missing, failed under CI=true (as the
    browser tests are without Chromium)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        why = "no ray: pip install -r requirements-ray.txt"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def test_ray_missing_is_one_line(tiny_files, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    refused(capsys, [*atlas_args(*tiny_files, tmp_path / "r"), "--layers", "conv_a", "--ray"], "pip install ray")
    assert not os.listdir(tmp_path)


def test_ray_unreachable_is_one_line(tiny_files, tmp_path, capsys, monkeypatch):
    ray_or_why()
    monkeypatch.syspath_prepend(ROOT)
    for address in ("127.0.0.1:9", "ray://127.0.0.1:9"):  # the discard port: nothing answers there
        refused(capsys, [*atlas_args(*tiny_files, tmp_path / "r"), "--ray", address], f"cannot reach a Ray cluster at {address}",
                "without an address")
    assert not os.listdir(tmp_path)


def same_atlas(first: str, second: str, label: tuple[str, str] | None = None) -> None:
    """Every array equal (but the scan's own time) and every other file byte for byte the same; `label`: the model's name
    in the first atlas and in the second, where they differ (the model's file, the model in memory)."""
    for folder, _, files in os.walk(first):
        for name in files:
            one = os.path.join(folder, name)
            other = os.path.join(second, os.path.relpath(one, first))
            if name.endswith(".npz"):
                with np.load(one) as a, np.load(other) as b:
                    assert sorted(a.files) == sorted(b.files), one
                    for key in a.files:
                        assert key == "scan_seconds" or np.array_equal(a[key], b[key]), (one, key)
            elif label and name in ("index.html", "manifest.json", "live.html"):
                with open(one, encoding="utf-8") as a, open(other, encoding="utf-8") as b:
                    assert a.read().replace(*label) == b.read(), one
            else:
                assert filecmp.cmp(one, other, shallow=False), one
    assert sum(len(files) for _, _, files in os.walk(first)) == sum(len(files) for _, _, files in os.walk(second))


def ray_task_pids(name: str = "ray::worker_piece") -> list[int]:
    """Processes whose title says they run our Ray task now (Ray names a busy worker after its task)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if handle.read().startswith(name.encode()):
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_ray_worker_killed_mid_run_still_identical(made, tiny_files, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    ray_or_why()
    out = tmp_path / "killed"
    run = subprocess.Popen([sys.executable, os.path.join(ROOT, "atlas.py"), *atlas_args(*tiny_files, out), "--ray"],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and run.poll() is None and time.monotonic() < deadline:
        busy = ray_task_pids()
        if busy:
            killed = busy[0]
            os.kill(killed, signal.SIGKILL)  # a worker dies in the middle of its task
        time.sleep(0.1)
    stdout, stderr = run.communicate(timeout=600)
    assert killed is not None, "no Ray worker was seen running a task"
    assert run.returncode == 0, stderr
    # The pictures and the scan both went out as Ray tasks (3 shards of the 1,100 inputs), and one process's atlas is
    # this one, file for file, though a worker died in the middle of a task.
    assert "with Ray (local)" in stdout and "3 shards of 512 inputs scanned with Ray" in stdout
    same_atlas(made, str(out))


@pytest.mark.slow
def test_a_model_in_memory_with_ray_true_is_the_one_process_atlas(made, tiny_files, tmp_path):
    """cn.atlas(model, out, ray=True) on a keras.Model in memory: the workers load it from the .keras file it is saved to
    first, and the pictures, the scan and the site are those atlas.py made from the model's file in one process."""
    import cnn_note as cn

    ray_or_why()
    lines = []
    out = cn.atlas(tiny_model(), str(tmp_path / "ray"), examples=3, examples_from=tiny_files[1], class_inputs=20, steps=5,
                   ray=True, progress=False, log=lines.append)
    assert "with Ray (local)" in lines[0] and "3 shards of 512 inputs scanned with Ray" in "\n".join(lines)
    same_atlas(made, out, label=("tiny.keras", "tiny"))  # the model's name: its file's, or the keras.Model's


WIDTH = 390  # a phone's width: no page may scroll sideways at it


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium at 390 pixels wide, with a new empty profile; skipped with the reason where it is absent,
    failed under CI=true."""
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-profile")), WIDTH, 800, console=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served(made, hostile, named):
    """A static server on 127.0.0.1 (a free port) over the folder holding both atlases."""
    root = os.path.commonpath([made, hostile, named[0]])
    with static_server(root) as url:
        yield root, url


def checked(driver) -> None:
    """The page now open: every picture decoded, nothing in the console at SEVERE, no sideways scroll, no script injected."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 20).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)"))
    images = driver.execute_script("return Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")
    assert images and all(width > 0 for _, width in images), [src for src, width in images if not width]
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
    assert driver.execute_script("return document.documentElement.scrollWidth") <= WIDTH, driver.current_url
    assert driver.execute_script("return typeof window.hacked") == "undefined"


def texts(driver, xpath: str) -> list[str]:
    """The text shown by every element at `xpath` on the page now open."""
    from selenium.webdriver.common.by import By

    return [element.text for element in driver.find_elements(By.XPATH, xpath)]


def index_shows_the_layers(driver) -> None:
    """The index's table: each layer's output shape, units and receptive field, worked out by hand for the tiny model."""
    rows = [row[:5] for row in (line.split() for line in texts(driver, "//table//tr[td]"))]
    assert rows == [["conv_a", "Conv2D", "26x26x3", "3", "3x3"], ["conv_b", "Conv2D", "11x11x4", "4", "8x8"]], rows


def unit_shows_its_arrays(driver, made: str, layer: str, unit: int) -> None:
    """The numbers a unit's page shows, against patterns.npz, examples.npz and connections.npz."""
    from selenium.webdriver.common.by import By

    with np.load(os.path.join(made, "patterns.npz")) as patterns:
        assert texts(driver, "//figure[contains(@class, 'big')]/figcaption") == [
            f"maximises the mean: {patterns[f'{layer}_activations'][unit]:.3f}",
            f"minimises it: {patterns[f'{layer}_negative_activations'][unit]:.3f}"]
    with np.load(os.path.join(made, "examples.npz")) as examples:
        figures = driver.find_elements(By.CSS_SELECTOR, "figure.example")
        shown = [(figure.find_element(By.CSS_SELECTOR, ".whole img").get_dom_attribute("src"),
                  figure.find_element(By.TAG_NAME, "figcaption").text) for figure in figures]
        expected = [(f"../inputs/{index}.png", f"input {index}\n{value:.2f}") for which in ("top", "bottom")
                    for index, value in zip(examples[f"{layer}_{which}"][unit], examples[f"{layer}_{which}_activations"][unit])]
        assert shown == expected
        counts = examples[f"{layer}_histogram"][unit]
        heights = [float(rect.get_dom_attribute("height")) for rect in driver.find_elements(By.CSS_SELECTOR, "svg rect")]
        np.testing.assert_allclose(heights, 80 * counts / counts.max(), atol=0.051)  # each bar drawn 80 high at the most
        edges = examples[f"{layer}_histogram_edges"][unit]
        assert texts(driver, "//*[local-name()='svg']/*[local-name()='text']")[-2:] == [f"{edges[0]:.2f}", f"{edges[-1]:.2f}"]
    with np.load(os.path.join(made, "connections.npz")) as connections:
        if f"{layer}_in_units" in connections.files:
            below = str(connections[f"{layer}_in_layer"])
            assert texts(driver, "//h3[starts-with(., 'Incoming')]/following-sibling::ol[1]/li") == [
                f"{below} #{c} ||W|| {norm:.3f} ({'+' if sign >= 0 else '−'})" for c, norm, sign in
                zip(connections[f"{layer}_in_units"][unit], connections[f"{layer}_in_norms"][unit], connections[f"{layer}_in_signs"][unit])]
        row = connections[f"{layer}_class_contributions"][unit]
        order = np.argsort(-row, kind="stable")
        for said, classes in (("up", [c for c in order if row[c] > 0][:3]), ("down", [c for c in order[::-1] if row[c] < 0][:3])):
            assert texts(driver, f"//p[.='Pushes {said} most:']/following-sibling::ol[1]/li") == [f"{c}: {row[c]:+.3f}" for c in classes]


def classes_show_the_models_probabilities(driver, tiny_files) -> None:
    """classes.html: for each class, the 3 of the first 20 inputs the model (its own output, here) gives the highest
    probability, with it."""
    from selenium.webdriver.common.by import By

    model_file, inputs = tiny_files
    pictures = np.load(inputs)["images"][:20, ..., None].astype("float32") / 255
    probabilities = np.asarray(keras.models.load_model(model_file)(pictures, training=False))
    headings = driver.find_elements(By.TAG_NAME, "h2")
    assert [heading.text.split(":")[0] for heading in headings] == ["0", "1", "2"]
    for cls, heading in enumerate(headings):
        tiles = heading.find_elements(By.XPATH, "following-sibling::div[1]/figure[not(contains(@class, 'big'))]")
        shown = [int(tile.find_element(By.TAG_NAME, "img").get_dom_attribute("src")[len("inputs/"):-len(".png")]) for tile in tiles]
        assert shown == list(np.argsort(-probabilities[:, cls], kind="stable")[:3]), cls
        values = [float(tile.text) for tile in tiles]
        np.testing.assert_allclose(values, probabilities[shown, cls], atol=5e-4 + 1e-6)  # as shown, to 3 places


def walk(driver, index: str, made: str, tiny_files) -> None:
    """Index, a layer, a unit, its strongest incoming connection (the unit the kernel says), back; the arrow keys; the
    classes page; every page checked, and the numbers each shows against the arrays and the model."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    kernel = keras.models.load_model(tiny_files[0]).get_layer("conv_b").get_weights()[0]
    norms = np.sqrt((kernel**2).sum(axis=(0, 1)))  # (conv_a units, conv_b units), by numpy
    driver.get(index)
    checked(driver)
    index_shows_the_layers(driver)
    driver.find_element(By.LINK_TEXT, "conv_b").click()
    checked(driver)
    assert driver.current_url.endswith("1-conv_b.html")
    with np.load(os.path.join(made, "patterns.npz")) as patterns:
        tiles = [f"#{u} {value:.2f}" for u, value in enumerate(patterns["conv_b_activations"])]
    assert texts(driver, "//a[contains(@class, 'tile')]") == tiles
    driver.find_element(By.CSS_SELECTOR, "a.tile[href$='/1.html']").click()
    checked(driver)
    unit = driver.current_url
    assert unit.endswith("1-conv_b/1.html")
    unit_shows_its_arrays(driver, made, "conv_b", 1)
    example = driver.find_element(By.CSS_SELECTOR, "figure.example")
    whole = example.find_element(By.CSS_SELECTOR, ".whole")
    assert not whole.is_displayed()
    ActionChains(driver).move_to_element(example).perform()  # hovering shows the whole input, its field boxed
    assert whole.is_displayed() and whole.find_element(By.CSS_SELECTOR, ".box").size["width"] > 0
    driver.find_element(By.PARTIAL_LINK_TEXT, "conv_a #").click()  # the strongest incoming connection
    checked(driver)
    strongest = int(np.argmax(norms[:, 1]))
    assert driver.current_url.endswith(f"/0-conv_a/{strongest}.html")
    assert driver.find_element(By.TAG_NAME, "h1").text == f"conv_a #{strongest}"
    outgoing = np.argsort(-norms[strongest], kind="stable")
    assert texts(driver, "//h3[.='Outgoing, to conv_b']/following-sibling::ol[1]/li/a") == [f"conv_b #{u}" for u in outgoing]
    unit_shows_its_arrays(driver, made, "conv_a", strongest)
    driver.back()
    checked(driver)
    assert driver.current_url == unit
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    checked(driver)
    assert driver.current_url.endswith("1-conv_b/2.html")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_UP)
    checked(driver)
    assert driver.current_url.endswith("1-conv_b.html")
    driver.get(index)
    driver.find_element(By.LINK_TEXT, "Classes").click()
    checked(driver)
    assert driver.current_url.endswith("/classes.html") and driver.find_element(By.TAG_NAME, "h1").text == "Classes"
    classes_show_the_models_probabilities(driver, tiny_files)


def hostile_shown_as_text(driver, index: str) -> None:
    """The layer named like an <img> tag shows as its text on the index, its layer page and a unit page; nothing runs."""
    from selenium.webdriver.common.by import By

    driver.get(index)
    checked(driver)
    driver.find_element(By.LINK_TEXT, HOSTILE).click()
    checked(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == HOSTILE
    driver.find_element(By.CSS_SELECTOR, "a.tile").click()
    checked(driver)
    assert driver.find_element(By.TAG_NAME, "h1").text == f"{HOSTILE} #0"


def names_shown_as_text(driver, index: str, folder: str) -> None:
    """Pictures' file names and class names written like HTML show as their text: each example's caption is the name of
    the input it shows, each class's heading its name; nothing runs."""
    import re

    from selenium.webdriver.common.by import By

    names = sorted(os.listdir(folder))  # the folder's pictures, in name order: input k is names[k]
    driver.get(index)
    checked(driver)
    for layer, units in (("conv_a", 3), ("conv_b", 4)):
        driver.get(index)
        driver.find_element(By.LINK_TEXT, layer).click()
        for unit in range(units):
            driver.find_element(By.CSS_SELECTOR, f"a.tile[href$='/{unit}.html']").click()
            checked(driver)
            figures = driver.find_elements(By.CSS_SELECTOR, "figure.example")
            assert len(figures) == 4  # two each way
            for figure in figures:
                whole = figure.find_element(By.CSS_SELECTOR, ".whole img")
                name = names[int(re.fullmatch(r"\.\./inputs/(\d+)\.png", whole.get_dom_attribute("src")).group(1))]
                assert figure.find_element(By.TAG_NAME, "figcaption").text.split("\n")[0] == name
                assert figure.find_element(By.TAG_NAME, "img").get_dom_attribute("alt") == name
                assert whole.get_dom_attribute("alt") == f"{name}, whole"
            pushed = texts(driver, "//p[.='Pushes up most:' or .='Pushes down most:']/following-sibling::ol[1]/li")
            assert sorted(text.rsplit(": ", 1)[0] for text in pushed) == sorted(CLASS_NAMES), pushed
            driver.back()
    driver.get(index)
    driver.find_element(By.LINK_TEXT, "Classes").click()
    checked(driver)
    assert [heading.rsplit(": ", 1)[0] for heading in texts(driver, "//h2")] == CLASS_NAMES


@pytest.mark.slow
def test_site_in_a_browser_from_file(browser, made, hostile, named, tiny_files):
    walk(browser, f"file://{made}/index.html", made, tiny_files)
    hostile_shown_as_text(browser, f"file://{hostile}/index.html")
    names_shown_as_text(browser, f"file://{named[0]}/index.html", named[1])


@pytest.mark.slow
def test_site_in_a_browser_over_http(browser, served, made, hostile, named, tiny_files):
    root, url = served
    walk(browser, f"{url}/{os.path.relpath(made, root)}/index.html", made, tiny_files)
    hostile_shown_as_text(browser, f"{url}/{os.path.relpath(hostile, root)}/index.html")
    names_shown_as_text(browser, f"{url}/{os.path.relpath(named[0], root)}/index.html", named[1])


def links_of(page: str) -> list[str]:
    """Every href and src of a page, as a browser reads them (entities decoded)."""
    from html.parser import HTMLParser

    found = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(value for name, value in attrs if name in ("href", "src") and value is not None)

    with open(page, encoding="utf-8") as handle:
        Links(convert_charrefs=True).feed(handle.read())
    return found


@pytest.mark.slow  # the atlases it reads take about a minute to make here
def test_every_href_and_src_of_every_page_is_a_file_of_the_atlas(made, hostile, named):
    """Each link and picture of each page, resolved as a browser does from the page's folder, is a file inside its atlas;
    nothing is fetched from elsewhere; and every page, picture, style sheet and script written is reached from a page."""
    from urllib.parse import unquote, urlsplit

    for root in (made, hostile, named[0]):
        written, reached = set(), set()
        for folder, _, files in os.walk(root):
            written.update(os.path.join(folder, name) for name in files
                           if name.endswith((".html", ".png", ".css", ".js")) or name == "LICENSE")  # the live page's too
        for page in sorted(path for path in written if path.endswith(".html")):
            for value in links_of(page):
                if value == "data:,":  # the empty icon: no request for favicon.ico
                    continue
                parts = urlsplit(value)
                assert not parts.scheme and not parts.netloc and not parts.query, (page, value)
                target = os.path.normpath(os.path.join(os.path.dirname(page), unquote(parts.path)))
                assert target.startswith(root + os.sep) and os.path.isfile(target), (page, value)
                reached.add(target)
        assert written == reached, sorted(written - reached)


def test_help_states_each_default_once(capsys, monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(ROOT, "tests", "cli"))
    from test_arguments import test_help_states_each_default_once_and_none_for_switches as help_check

    monkeypatch.syspath_prepend(ROOT)
    help_check("atlas", capsys)


@pytest.mark.slow
def test_api_takes_a_model_in_memory_and_returns_where_it_wrote(tmp_path):
    import cnn_note as cn

    model = tiny_model()
    with pytest.raises(cn.InputError, match="unknown layer nope"):
        cn.atlas(model, str(tmp_path / "bad"), ["nope"], examples=0, progress=False)
    assert not (tmp_path / "bad").exists()
    lines = []
    out = cn.atlas(model, str(tmp_path / "mine"), ["conv_a"], examples=0, steps=2, log=lines.append)
    assert out == str(tmp_path / "mine")
    assert (tmp_path / "mine" / "index.html").is_file() and (tmp_path / "mine" / "0-conv_a" / "2.html").is_file()
    assert lines[0].startswith("atlas: 0 of 3 units found done")
    with np.load(tmp_path / "mine" / "patterns.npz") as found:
        assert found["conv_a_images"].shape == (3, 28, 28)


@pytest.mark.slow
def test_pieces_of_a_layer_are_filter_pictures_in_chunks_of_eight():
    """A layer of 10 units is ascended as units 0-7 and 8-9, each from its own row of the layer's starts: the pictures
    cn.filter_pictures draws in chunks of 8, and those of an ascent written out here with tf.GradientTape and numpy."""
    import cnn_note as cn
    from cnn_note import settings
    from cnn_note.backend import keras, tf
    from cnn_note.network_atlas.plan import PIECE
    from cnn_note.network_atlas.units import piece_pictures

    keras.utils.set_random_seed(4)
    inputs = keras.Input((12, 12, 1))
    conv = keras.layers.Conv2D(10, 3, name="c")
    view = cn.view_of(keras.Model(inputs, conv(inputs)))
    chosen = settings.PictureSettings(size=12, steps=3)
    pieces = [piece_pictures(view, "c", first, min(PIECE, 10 - first), chosen) for first in range(0, 10, PIECE)]
    drawn = cn.filter_pictures(view, "c", chunk=PIECE, examples=0, progress=False, size=12, steps=3)
    assert np.array_equal(np.concatenate([piece.image for piece in pieces]), drawn.images)

    def score(pictures):
        """Each picture's mean in its own unit (unit k for picture k) inside a border of 2, negative values a tenth."""
        maps = tf.transpose(conv(pictures), [0, 3, 1, 2])[:, :, 2:-2, 2:-2]  # (B, unit, 6, 6)
        own = tf.linalg.diag_part(tf.transpose(maps, [2, 3, 0, 1]))  # (6, 6, B): picture k's unit k
        return tf.reduce_mean(tf.where(own > 0, own, 0.1 * own), axis=[0, 1])

    def blur(pictures):  # 1 2 1 by rows, then by columns, the edges mirrored
        padded = np.pad(pictures, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="symmetric")
        rows = (padded[:, :-2] + 2 * padded[:, 1:-1] + padded[:, 2:]) / 4
        return (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4

    def ascended(sign):
        """All 10 units at once from rows 0..9 of the starts (grey, noise of 0.05 drawn a canvas at a time from seed 0),
        3 steps: score a copy rolled by the seeded jitter (-1..1 each way), step 0.02 along the gradient scaled to a mean
        magnitude of 1, clip to 0..1, mix in a tenth of the blur."""
        rng = np.random.default_rng(0)
        pictures = np.stack([(0.5 + 0.05 * rng.standard_normal((12, 12, 1))).clip(0, 1) for _ in range(10)]).astype("float32")
        shifts = np.random.default_rng(0).integers(-1, 2, size=(50, 2))
        for shift in shifts[:3]:
            x = tf.constant(pictures)
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(sign * score(tf.roll(x, shift, axis=[1, 2])))
            grads = tape.gradient(total, x).numpy()
            grads /= np.maximum(np.abs(grads).mean(axis=(1, 2, 3), keepdims=True), 1e-8)
            pictures = np.clip(pictures + 0.02 * grads, 0, 1)
            pictures = 0.9 * pictures + 0.1 * blur(pictures)
        return pictures, score(tf.constant(pictures)).numpy()

    for prefix, sign in (("", 1.0), ("negative_", -1.0)):
        images, activations = ascended(sign)
        found = [np.concatenate([getattr(piece, f"{prefix}{name}") for piece in pieces]) for name in ("image", "activation")]
        np.testing.assert_allclose(found[0], images, atol=1e-5, err_msg=prefix)
        np.testing.assert_allclose(found[1], activations, rtol=1e-4, atol=1e-5, err_msg=prefix)


@pytest.mark.parametrize("layer", [keras.layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False),
                                   keras.layers.SeparableConv2D(5, 3, depth_multiplier=2, use_bias=False),
                                   keras.layers.Conv2D(5, 3, use_bias=False)], ids=lambda layer: type(layer).__name__)
def test_the_weights_a_connection_reads_are_the_layers_own(layer):
    """kernel_of, used as a plain convolution, gives the layer's own output: the depthwise kernel of each channel, then
    the pointwise weights, are exactly what the layer computes."""
    from cnn_note.network_atlas import wiring

    pictures = np.random.default_rng(4).standard_normal((2, 9, 9, 3)).astype("float32")
    own = np.asarray(layer(pictures))
    kernel = wiring.kernel_of(layer)
    assert kernel.shape[2:] == (3, own.shape[-1])
    np.testing.assert_allclose(np.asarray(keras.ops.conv(pictures, kernel)), own, rtol=1e-5, atol=1e-5)


def test_inputs_larger_than_128_pixels_are_shown_shrunk(tmp_path):
    from PIL import Image

    import cnn_note as cn

    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs))
    pictures = np.random.default_rng(5).integers(0, 256, (3, 150, 200), dtype=np.uint8)
    np.savez(tmp_path / "big.npz", images=pictures)
    out = cn.atlas(model, str(tmp_path / "atlas"), examples=1, examples_from=str(tmp_path / "big.npz"), steps=2, size=16,
                   progress=False)
    shown = sorted(os.listdir(os.path.join(out, "inputs")))
    assert shown and all(Image.open(os.path.join(out, "inputs", name)).size == (128, 96) for name in shown)
    assert os.path.exists(os.path.join(out, "index.html"))
