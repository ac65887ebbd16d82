"""atlas.py and cn.atlas: the arrays, the site, resuming, and one-line refusals, on a tiny 2-conv model."""

from __future__ import annotations

import filecmp
import os

import numpy as np
import pytest
from conftest import ROOT, assert_one_line_error, run_script

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
    """An atlas of the tiny model with its second conv layer named like an HTML tag. TensorFlow refuses such a name as a
    scope in predict (the dataset scan), so without examples: the site and its file names are what this is about."""
    out = tmp_path_factory.mktemp("atlas") / "hostile"
    done = run_script("atlas.py", "--model", os.path.join(os.path.dirname(tiny_files[0]), "hostile.keras"), "--examples", "0",
                      *STEPS, "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    return str(out)


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
        # The negative picture scores lower than the positive one for every unit.
        assert (patterns[f"{layer}_negative_activations"] < patterns[f"{layer}_activations"]).all()
        assert patterns[f"{layer}_negative_images"].shape == patterns[f"{layer}_images"].shape


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_examples_keys_and_histograms(made, tiny_files):
    examples = np.load(os.path.join(made, "examples.npz"))
    # Each unit's strongest response on every input, from the model's own layers, binned with numpy.
    model = keras.models.load_model(tiny_files[0])
    pictures = np.load(tiny_files[1])["images"][..., None].astype("float32") / 255
    for layer in ("conv_a", "conv_b"):
        maps = np.asarray(keras.Model(model.inputs, model.get_layer(layer).output)(pictures, training=False))
        strongest = maps.reshape(len(maps), -1, maps.shape[-1]).max(axis=1)  # (inputs, units)
        edges = examples[f"{layer}_histogram_edges"]
        expected = [np.histogram(np.clip(strongest[:, u], edges[u, 0], edges[u, -1]), edges[u])[0] for u in range(len(edges))]
        np.testing.assert_array_equal(examples[f"{layer}_histogram"], np.array(expected))
    for layer in ("conv_a", "conv_b"):
        for suffix in ("filters", "top", "bottom", "best_mean", "best_mean_input", "top_activations", "bottom_activations",
                       "top_positions", "bottom_positions", "field", "optimised", "optimised_score"):
            assert f"{layer}_{suffix}" in examples.files
        counts, edges = examples[f"{layer}_histogram"], examples[f"{layer}_histogram_edges"]
        assert (counts.sum(axis=1) == 1100).all()  # every scanned input, once per unit
        # The top example's strongest response is the highest of all: it sits in the last bin.
        assert (counts[:, -1] >= 1).all() and np.allclose(edges[:, -1], examples[f"{layer}_top_activations"][:, 0])
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
    assert len(pages) == 1 + 2 + 7  # index, a page per layer, per unit (no classes page without inputs)
    text = "\n".join(pages)
    assert "onerror=" not in text.replace("onerror=&quot;", "")  # only ever the escaped name
    assert "c&lt;img src=x onerror=&quot;window.hacked=1&quot;&gt;" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched from the network
    assert os.path.isfile(os.path.join(hostile, "1-c-img-src-x-onerror-window-hacked-1", "0.html"))
    unit = open(os.path.join(made, "1-conv_b", "0.html"), encoding="utf-8").read()
    for part in ('id="next"', 'id="up"', "<svg", "0-negative.png", "0-top0.png", "../inputs/", "Incoming, from conv_a",
                 'href="../0-conv_a/', "Pushes up most"):
        assert part in unit, part


@pytest.mark.slow  # the atlas it reads takes about 30 s to make here
def test_resume_computes_only_what_is_missing(made, tiny_files, tmp_path):
    import shutil

    out = tmp_path / "again"
    shutil.copytree(made, out)
    unit = out / "0-conv_a" / "1.npz"
    before = {name: (out / name).read_bytes() for name in ("patterns.npz", "connections.npz")}
    os.remove(unit)
    os.remove(out / "0-conv_a" / "1.png")
    done = run_script("atlas.py", *atlas_args(*tiny_files, out))
    assert done.returncode == 0, done.stderr
    assert "6 of 7 units found done" in done.stdout and "; 1 to compute" in done.stdout
    assert filecmp.cmp(os.path.join(made, "0-conv_a", "1.png"), out / "0-conv_a" / "1.png", shallow=False)
    after = np.load(out / "patterns.npz")
    with np.load(os.path.join(made, "patterns.npz")) as first:
        for key in first.files:
            assert np.array_equal(first[key], after[key]), key
    assert before["connections.npz"] and np.load(out / "connections.npz").files


@pytest.mark.slow
def test_ctrl_c_then_the_same_command_finishes_the_atlas(made, tiny_files, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "interrupted"
    run = subprocess.Popen([sys.executable, os.path.join(ROOT, "atlas.py"), *atlas_args(*tiny_files, out)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           # A background job inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while run.poll() is None and not (out / "0-conv_a" / "0.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 2
    assert_one_line_error(stderr, "interrupted", "the same command computes the rest")
    # Usually in the pictures; on a fast machine the last piece may be done and the scan interrupted instead.
    done_before = len(list(out.glob("*/*.npz")))
    assert 1 <= done_before <= 7
    assert not [path for path in out.rglob("*") if ".tmp" in path.name]  # nothing half-written
    again = run_script("atlas.py", *atlas_args(*tiny_files, out))
    assert again.returncode == 0, again.stderr
    assert f"{done_before} of 7 units found done" in again.stdout
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
    monkeypatch.syspath_prepend(ROOT)
    model, inputs = tiny_files
    out = tmp_path / "none"
    refused(capsys, [*atlas_args(model, inputs, out), "--layers", "nope"], "unknown layer nope")
    refused(capsys, [*atlas_args(model, inputs, out), "--examples", "1101"], "--examples 1101", "1100 inputs")
    assert not out.exists()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    refused(capsys, atlas_args(model, inputs, a_file), "is a file")
    hostile_file = os.path.join(os.path.dirname(model), "hostile.keras")
    refused(capsys, ["--model", hostile_file, *atlas_args(model, inputs, out)[2:]], "TensorFlow refuses", "--examples 0")
    assert not out.exists()
    listing = sorted(os.listdir(made))
    refused(capsys, [*atlas_args(model, inputs, made), "--steps", "6"], "other settings", "steps")
    assert sorted(os.listdir(made)) == listing


def test_ray_missing_is_one_line(tiny_files, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    refused(capsys, [*atlas_args(*tiny_files, tmp_path / "r"), "--layers", "conv_a", "--ray"], "pip install ray")
    assert not (tmp_path / "r").exists()


def test_ray_unreachable_is_one_line(tiny_files, tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.syspath_prepend(ROOT)
    for address in ("127.0.0.1:9", "ray://127.0.0.1:9"):  # the discard port: nothing answers there
        refused(capsys, [*atlas_args(*tiny_files, tmp_path / "r"), "--ray", address], f"cannot reach a Ray cluster at {address}",
                "without an address")
    assert not (tmp_path / "r").exists()


def same_atlas(first: str, second: str) -> None:
    """Every array equal (but the scan's own time) and every other file byte for byte the same."""
    for folder, _, files in os.walk(first):
        for name in files:
            one = os.path.join(folder, name)
            other = os.path.join(second, os.path.relpath(one, first))
            if name.endswith(".npz"):
                with np.load(one) as a, np.load(other) as b:
                    assert sorted(a.files) == sorted(b.files), one
                    for key in a.files:
                        assert key == "scan_seconds" or np.array_equal(a[key], b[key]), (one, key)
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

    pytest.importorskip("ray")
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


# In a real browser: Debian's chromium and chromium-driver, driven by Selenium (see .ci/run).
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH = 390  # a phone's width: no page may scroll sideways at it


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium at 390 pixels wide, with a new empty profile; skipped with the reason where it is absent,
    failed under CI=true."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(path)]
    try:
        from selenium import webdriver
    except ImportError:
        missing.append("selenium (pip install -r requirements-dev.txt)")
    if missing:
        why = f"no {', '.join(missing)}: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}", f"--window-size={WIDTH},800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(WIDTH, 800)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served(made, hostile):
    """A static server on 127.0.0.1 (a free port) over the folder holding both atlases."""
    import socket
    import subprocess
    import sys
    import time

    root = os.path.commonpath([made, hostile])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", root],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    yield root, f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


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


def walk(driver, index: str) -> None:
    """Index, a layer, a unit, a connection link, back; the arrow keys; every page checked."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(index)
    checked(driver)
    driver.find_element(By.LINK_TEXT, "conv_b").click()
    checked(driver)
    assert driver.current_url.endswith("1-conv_b.html")
    driver.find_element(By.CSS_SELECTOR, "a.tile[href$='/1.html']").click()
    checked(driver)
    unit = driver.current_url
    assert unit.endswith("1-conv_b/1.html")
    example = driver.find_element(By.CSS_SELECTOR, "figure.example")
    whole = example.find_element(By.CSS_SELECTOR, ".whole")
    assert not whole.is_displayed()
    ActionChains(driver).move_to_element(example).perform()  # hovering shows the whole input, its field boxed
    assert whole.is_displayed() and whole.find_element(By.CSS_SELECTOR, ".box").size["width"] > 0
    driver.find_element(By.PARTIAL_LINK_TEXT, "conv_a #").click()  # the strongest incoming connection
    checked(driver)
    assert "/0-conv_a/" in driver.current_url
    assert "Outgoing, to conv_b" in driver.page_source
    driver.back()
    checked(driver)
    assert driver.current_url == unit
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    checked(driver)
    assert driver.current_url.endswith("1-conv_b/2.html")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_UP)
    checked(driver)
    assert driver.current_url.endswith("1-conv_b.html")


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


@pytest.mark.slow
def test_site_in_a_browser_from_file(browser, made, hostile):
    walk(browser, f"file://{made}/index.html")
    hostile_shown_as_text(browser, f"file://{hostile}/index.html")


@pytest.mark.slow
def test_site_in_a_browser_over_http(browser, served, made, hostile):
    root, url = served
    walk(browser, f"{url}/{os.path.relpath(made, root)}/index.html")
    hostile_shown_as_text(browser, f"{url}/{os.path.relpath(hostile, root)}/index.html")


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
    cn.filter_pictures draws in chunks of 8."""
    import cnn_note as cn
    from cnn_note import settings
    from cnn_note.backend import keras
    from cnn_note.network_atlas.make import PIECE, piece_pictures

    keras.utils.set_random_seed(4)
    inputs = keras.Input((12, 12, 1))
    view = cn.view_of(keras.Model(inputs, keras.layers.Conv2D(10, 3, name="c")(inputs)))
    chosen = settings.PictureSettings(size=12, steps=3)
    pieces = [piece_pictures(view, "c", first, min(PIECE, 10 - first), chosen) for first in range(0, 10, PIECE)]
    drawn = cn.filter_pictures(view, "c", chunk=PIECE, examples=0, progress=False, size=12, steps=3)
    assert np.array_equal(np.concatenate([piece["image"] for piece in pieces]), drawn.images)


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
