"""Shared fixtures: the real MNIST file, tiny synthetic data sets, and script runners."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


SHARED_MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist.npz")
KERAS_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"  # keras.datasets.mnist's source


def find_mnist() -> tuple[str | None, str]:
    """The real MNIST npz and where it came from, or None and why there is none.

    $MNIST_PATH, else ../shared/data/mnist.npz, else (not in CI) what the scripts fall back on:
    Keras' own download, cached in ~/.keras/datasets (or $KERAS_HOME/datasets) after the first time.
    """
    path = os.environ.get("MNIST_PATH")
    if path:
        return (path, "$MNIST_PATH") if os.path.isfile(path) else (None, f"real MNIST not found at MNIST_PATH={path}")
    if os.path.isfile(SHARED_MNIST):
        return SHARED_MNIST, "shared/data"
    if os.environ.get("CI") == "true":
        return None, f"real MNIST not found at {SHARED_MNIST}: set MNIST_PATH"
    from cnn_note.backend import keras

    try:
        return keras.utils.get_file("mnist.npz", origin=KERAS_MNIST_URL), "Keras' cache"
    except Exception as error:  # no network and nothing cached: nothing to test against
        return None, f"no MNIST_PATH, no {SHARED_MNIST}, and Keras could not download MNIST ({type(error).__name__})"


@pytest.fixture(scope="session")
def mnist_path() -> str:
    """The real MNIST npz (see find_mnist); missing is a failure in CI and a skip, with the reason, elsewhere."""
    path, why = find_mnist()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return path


def make_npz(path, n_train: int = 60, n_test: int = 20, seed: int = 0, **override) -> str:
    """A tiny Keras-layout npz of random digits; keyword arguments replace or (None) drop arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays.update(override)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return str(path)


@pytest.fixture
def tiny_npz(tmp_path) -> str:
    """A valid tiny npz in a temporary folder."""
    return make_npz(tmp_path / "tiny.npz")


def run_script(script: str, *args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a top-level script as a user would, from the repo root."""
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, script), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def cnn_methods() -> list[str]:
    """The attribution methods a CNN's default run gives, in the registry's order: all but the attention maps."""
    from cnn_note import attribution

    return [name for name, method in attribution.METHODS.items() if method.needs != "attention"]


def committed(path: str) -> bytes:
    """A file of the repository as committed (HEAD), not as the working tree has it: a user's own `python reproduce.py`
    rewrites results/ with its processor's numbers, and a test that reads results/ must not fail then."""
    done = subprocess.run(["git", "-C", ROOT, "show", f"HEAD:{path}"], capture_output=True, timeout=60)
    if done.returncode:
        why = f"no committed {path} to read (not a git checkout?): {done.stderr.decode(errors='replace').strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return done.stdout


def assert_one_line_error(stderr: str, *words: str) -> None:
    """A clean failure: exactly one non-empty stderr line, no traceback, naming the given words."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]


@pytest.fixture(scope="session")
def random_cnn_file(tmp_path_factory) -> str:
    """An untrained CNN of the note's shape, saved as train_cnn.py saves one (fast to make)."""
    from cnn_note.backend import keras
    from cnn_note.note import models

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("random") / "model.keras"
    models.build_cnn().save(path)
    return str(path)


@pytest.fixture(scope="session")
def trained_cnn_file(mnist_path, tmp_path_factory) -> str:
    """A CNN trained by train_cnn.py for one epoch on 500 real MNIST digits."""
    results = tmp_path_factory.mktemp("trained")
    done = run_script("train_cnn.py", "--data", mnist_path, "--train-samples", "500", "--epochs", "1", "--quiet",
                      "--no-epoch-test", "--results-dir", str(results))
    assert done.returncode == 0, done.stderr
    return str(results / "cnn" / "model.keras")


def rgb_residual_model(classes: int = 5):
    """A small functional RGB classifier of any input size: BatchNormalization, a residual Add, Dropout, a separate Softmax."""
    from cnn_note.backend import keras

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Activation("relu", name="relu")(x)
    y = keras.layers.SeparableConv2D(8, 3, padding="same", name="sep")(x)
    x = keras.layers.Add(name="add")([x, y])
    x = keras.layers.DepthwiseConv2D(3, name="deep")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = keras.layers.Dropout(0.2, name="drop")(x)
    x = keras.layers.Dense(classes, name="scores")(x)
    return keras.Model(inputs, keras.layers.Softmax(name="softmax")(x))


# In a real browser: Debian's chromium and chromium-driver, driven by Selenium (see .ci/run).
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def headless_chromium(profile: str, width: int, height: int, console: bool = False):
    """Headless Chromium with a new empty profile in `profile`, `width` x `height`, its console kept when asked; the test
    is skipped with the reason where Chromium, its driver or Selenium is absent, and failed under CI=true."""
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
    # Without the background-networking flags Chromium tries hosts this closed network refuses.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(width, height)
    return driver



@contextlib.contextmanager
def static_server(root: str):
    """`python -m http.server` over `root` on a free port of 127.0.0.1, as a reader would serve a site; yields its URL."""
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
