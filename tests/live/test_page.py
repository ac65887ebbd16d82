"""The live page in a real browser (Chromium via Selenium): what it shows against Keras on the same input, from file:// and
over http, offline, at a phone's width; the note's shift and row-dropping controls against why_cnn.py's own changes."""

import json
import os

import numpy as np
import pytest
from conftest import headless_chromium, static_server

import cnn_note as cn
from cnn_note.backend import keras
from cnn_note.core.inputs import view_of
from cnn_note.live import export, page
from cnn_note.note import distortions, models

pytestmark = pytest.mark.slow
WIDTH = 390  # a phone's width: the page may not scroll sideways at it
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def note_models():
    keras.utils.set_random_seed(3)
    return models.build_cnn(), models.build_dnn()


@pytest.fixture(scope="module")
def note_atlas(note_models, mnist_path, tmp_path_factory):
    """The atlas of a CNN of the note's shape (random weights), the DNN beside it on the live page, the real MNIST digits."""
    cnn, dnn = note_models
    out = str(tmp_path_factory.mktemp("live") / "atlas")
    lines = []
    cn.atlas(cnn, out, examples=2, data=mnist_path, class_inputs=20, steps=2, size=28, beside=dnn, progress=False,
             log=lines.append)
    assert os.path.exists(os.path.join(out, "live.html")), lines
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-profile")), WIDTH, 900, console=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served(note_atlas):
    """python -m http.server over the atlas's parent folder, on a free port of 127.0.0.1."""
    with static_server(os.path.dirname(note_atlas)) as url:
        yield f"{url}/{os.path.basename(note_atlas)}"


def opened(driver, url: str) -> None:
    driver.get(url)
    driver.execute_async_script("var done = arguments[arguments.length - 1]; "
                                "window.cnnNote.ready.then(function () { done(1); }, function (e) { done(String(e)); })")


def set_pixels(driver, pixels: np.ndarray) -> None:
    found = driver.execute_async_script("var done = arguments[arguments.length - 1]; "
                                        "cnnNote.set(arguments[0]).then(function () { done(1); }, function (e) { done(String(e)); })",
                                        pixels.astype("float64").ravel().tolist())
    assert found == 1, found


def stroke(driver, kind: str = "mouse") -> None:
    """A 7-like stroke across the drawing, with a mouse or a finger (pointer events either way)."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.interaction import POINTER_MOUSE, POINTER_TOUCH
    from selenium.webdriver.common.actions.pointer_input import PointerInput

    canvas = driver.find_element("id", "draw")
    actions = ActionBuilder(driver, mouse=PointerInput(POINTER_TOUCH if kind == "touch" else POINTER_MOUSE, kind))
    pointer = actions.pointer_action
    pointer.move_to(canvas, -60, -90).pointer_down()
    for step in range(10):
        pointer.move_to(canvas, -60 + 12 * step, -90 + 2 * step)
    for step in range(12):
        pointer.move_to(canvas, 60 - 6 * step, -70 + 13 * step)
    pointer.pointer_up()
    actions.perform()


def keras_answers(model: keras.Model, x: np.ndarray, names: list[str]) -> tuple[dict, np.ndarray]:
    """Every named layer's output and the probabilities, by Keras: model(x, training=False) and sub-models of its layers."""
    x = x.reshape((1, *model.input_shape[1:]))
    layers = {name: np.asarray(keras.Model(model.inputs, model.get_layer(name).output)([x], training=False)).ravel()
              for name in names}
    return layers, np.asarray(model(x, training=False))[0]


def assert_shows_keras(driver, note_models) -> np.ndarray:
    """Every map and probability the page shows, for both models, equal Keras's on the page's own input; returns it."""
    shown = driver.execute_script("return cnnNote.read()")
    x = np.array(shown["input"], dtype="float32")
    assert x.shape == (28 * 28,)
    assert [model["name"] for model in shown["models"]] == ["cnn", "dnn"]
    for model, answer in zip(note_models, shown["models"]):
        layers, probabilities = keras_answers(model, x, list(answer["layers"]))
        assert sorted(layers) == sorted({"cnn": ["conv1", "pool1", "conv2", "pool2", "dense"],
                                         "dnn": ["dense1", "dense2", "dense3"]}[model.name])
        for name, values in layers.items():
            np.testing.assert_allclose(answer["layers"][name], values, atol=TOLERANCE, err_msg=name)
        np.testing.assert_allclose(answer["probabilities"], probabilities, atol=TOLERANCE)
    return x


def assert_offline_and_whole(driver, folder_url: str) -> None:
    """Every resource the page loaded is in its folder, every picture is decoded, the console has no error, and the
    page is no wider than a phone."""
    # Chromium keeps resource timings over http, not for file://: the page's own elements name what it loaded there.
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; }).concat("
        "Array.from(document.querySelectorAll('script[src], img[src]')).map(function (e) { return e.src; }),"
        "Array.from(document.querySelectorAll('link[href]')).map(function (e) { return e.href; }))")
    loaded = [name for name in names if not name.startswith("data:")]  # the icon is data:, nothing to load
    assert len(loaded) >= 8 and all(name.startswith(folder_url + "/") for name in loaded), names
    images = driver.execute_script("return Array.from(document.images).map(function (i) { return [i.src, i.naturalWidth]; })")
    assert all(width > 0 for _, width in images), images
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
    assert driver.execute_script("return document.documentElement.scrollWidth") <= WIDTH


def drawn_like_mnist(x: np.ndarray) -> None:
    """The drawing made as the MNIST digits were: the ink's box at most 20 pixels a side, its centre of mass the centre."""
    picture = x.reshape(28, 28)
    rows, columns = np.nonzero(picture)
    assert picture.max() <= 1 and picture.sum() > 10
    assert max(rows.max() - rows.min() + 1, columns.max() - columns.min() + 1) in (20, 21)  # 20, and a smoothed edge
    weights = picture / picture.sum()
    centre = (weights.sum(axis=1) @ np.arange(28), weights.sum(axis=0) @ np.arange(28))
    assert abs(centre[0] - 13.5) <= 1 and abs(centre[1] - 13.5) <= 1, centre


def check_note_page(driver, url: str, folder_url: str, note_models, mnist_path) -> None:
    opened(driver, url)
    assert driver.execute_script("return cnnNote.backend") == "wasm"  # the binary arrived as a data: URL, from file:// too
    assert driver.find_element("id", "backend").text == "WebAssembly"
    for kind in ("mouse", "touch"):
        driver.find_element("id", "clear").click()
        stroke(driver, kind)
        drawn_like_mnist(assert_shows_keras(driver, note_models))
    with np.load(mnist_path) as mnist:
        digits, labels = mnist["x_test"][:36], mnist["y_test"][:36]
    digit = digits[0] / np.float32(255)
    set_pixels(driver, digit)
    np.testing.assert_array_equal(assert_shows_keras(driver, note_models), digit.ravel())
    for button in ("right", "right", "down"):  # 1 down, 2 right: why_cnn's shift
        driver.find_element("css selector", f'button[aria-label="{button}"]').click()
    np.testing.assert_allclose(assert_shows_keras(driver, note_models), distortions.shift(digit[None], 1, 2).ravel(), atol=1e-7)
    right = [int((model.predict_on_batch(distortions.shift(digits / np.float32(255), 1, 2).reshape(36, *model.input_shape[1:]))
                  .argmax(axis=1) == labels).sum()) for model in note_models]
    assert driver.find_element("id", "tally").text == (f"On these 36 test inputs, with this change: cnn right on {right[0]}, "
                                                       f"dnn right on {right[1]}.")
    driver.find_element("xpath", "//button[.='none']").click()
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", "subsampling")).select_by_visible_text("odd rows dropped")
    np.testing.assert_allclose(assert_shows_keras(driver, note_models), distortions.subsample(digit[None], "odd rows dropped").ravel(),
                               atol=1e-7)
    hover_shows_the_units_picture(driver)
    assert_offline_and_whole(driver, folder_url)


def hover_shows_the_units_picture(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    link = driver.find_elements("css selector", "a[data-picture]")[3]
    assert link.get_dom_attribute("href") == "0-conv1/3.html" and link.get_dom_attribute("data-picture") == "0-conv1/3.png"
    ActionChains(driver).move_to_element(link).perform()
    preview = driver.find_element("id", "preview")
    assert preview.is_displayed() and preview.get_dom_attribute("src") == "0-conv1/3.png"
    driver.execute_async_script("var done = arguments[arguments.length - 1], i = document.getElementById('preview');"
                                "if (i.complete) { done(1); } else { i.onload = function () { done(1); }; }")


def test_the_note_page_from_file_shows_what_keras_computes(browser, note_atlas, note_models, mnist_path):
    check_note_page(browser, f"file://{note_atlas}/live.html", f"file://{note_atlas}", note_models, mnist_path)
    links = browser.find_elements("css selector", "a[data-picture]")
    assert all(os.path.exists(os.path.join(note_atlas, link.get_dom_attribute("href"))) for link in links)
    browser.get(f"file://{note_atlas}/index.html")
    browser.find_element("link text", "Live").click()
    assert browser.current_url == f"file://{note_atlas}/live.html"
    browser.find_element("link text", "the atlas").click()
    assert browser.current_url == f"file://{note_atlas}/index.html"


def test_both_answers_and_the_count_are_seen_without_scrolling_at_1280x800(note_atlas, tmp_path_factory):
    """A laptop's view: the CNN's bars, the DNN's and the count over the 36 digits all inside it, the page not scrolled,
    after the reader shifts the digit (the note's second reason) with the buttons under the drawing."""
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-laptop")), 1280, 800)
    try:
        # The window's size holds the browser's own bars too: the view itself is set to 1280x800.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1,
                                                                        "mobile": False})
        opened(driver, f"file://{note_atlas}/live.html")
        for _ in range(4):
            driver.find_element("css selector", 'button[aria-label="right"]').click()
        seen = driver.execute_script(
            "return {view: [innerWidth, innerHeight, scrollY], rects: Array.from(document.querySelectorAll("
            "'.model .bars, #tally')).map(function (e) { var r = e.getBoundingClientRect(); "
            "return [e.id || e.closest('.model').querySelector('h2').textContent, r.left, r.top, r.right, r.bottom]; })}")
        assert seen["view"] == [1280, 800, 0]
        assert [name for name, *_ in seen["rects"]] == ["tally", "cnn", "dnn"], seen
        outside = [rect for rect in seen["rects"] if not (0 <= rect[1] < rect[3] <= 1280 and 0 <= rect[2] < rect[4] <= 800)]
        assert not outside, outside  # [name, left, top, right, bottom] of each
        assert driver.find_element("id", "tally").text.startswith("On these 36 test inputs, with this change: cnn right on ")
        assert driver.find_element("css selector", ".about-count").is_displayed()  # the page's text says what it counts
    finally:
        driver.quit()


def test_the_note_page_over_http_shows_what_keras_computes(browser, served, note_models, mnist_path):
    check_note_page(browser, f"{served}/live.html", served, note_models, mnist_path)


def test_a_file_that_is_not_a_picture_is_a_message_on_the_page(browser, note_atlas, tmp_path):
    opened(browser, f"file://{note_atlas}/live.html")
    before = browser.execute_script("return cnnNote.read().input")
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    browser.find_element("id", "open").send_keys(str(text))
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda d: d.find_element("id", "message").text)
    assert browser.find_element("id", "message").text == ("notes.png is not a picture this browser can read: open a PNG, "
                                                           "JPEG, GIF or WebP file.")
    assert browser.execute_script("return cnnNote.read().input") == before


def keras_probabilities(entry, view, x: np.ndarray) -> np.ndarray:
    """The probabilities as each head makes them (core.heads.Head), from model(x, training=False) on the model's pixels."""
    pixels = x[None] if entry.to_model is None else entry.to_model(x[None])
    out = np.asarray(entry.model(pixels, training=False), dtype="float64")[0]
    kind, activation = view.head.kind, view.head.activation
    if kind == "logits":
        return np.exp(out - out.max()) / np.exp(out - out.max()).sum()
    if kind == "binary":
        p = out[0] if activation == "sigmoid" else 1 / (1 + np.exp(-out[0]))
        return np.array([1 - p, p])
    return out


def test_colour_models_of_the_zoo_show_what_keras_computes(browser, tmp_path):
    """One page, four RGB models: softmax with a residual Add, logits after augmentation and Rescaling (0..255), and two
    binary heads on nested bases (MobileNetV2, an Xception-like one): every shown layer and probability, to 1e-4."""
    import zoo

    entries = [zoo.build(name) for name in ("rgb_residual", "flowers", "transfer", "xception")]
    views = [view_of(entry.model, entry.input_range) for entry in entries]
    exported = [export.export(view, entry.name, (zoo.SIDE, zoo.SIDE), [entry.layer]) for entry, view in zip(entries, views)]
    page.write(str(tmp_path), "zoo", exported, None, back=None)
    opened(browser, f"file://{tmp_path}/live.html")
    x = (zoo.photos(1)[0] / 255).astype("float32")  # pixels 0..1, as the tools and the page take them
    set_pixels(browser, x)
    shown = browser.execute_script("return cnnNote.read()")
    np.testing.assert_allclose(shown["input"], x.ravel(), atol=1e-7)
    for entry, view, answer in zip(entries, views, shown["models"]):
        assert answer["name"] == entry.name and answer["layers"]
        for name, values in answer["layers"].items():
            want = np.asarray(view.graph([view.recorded.produced[name]])(x[None])).ravel()
            np.testing.assert_allclose(values, want, atol=TOLERANCE, err_msg=f"{entry.name} {name}")
        np.testing.assert_allclose(answer["probabilities"], keras_probabilities(entry, view, x), atol=TOLERANCE, err_msg=entry.name)
    assert not browser.find_element("css selector", ".about-count").is_displayed()  # no labels shipped, so no count
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe


def test_without_webassembly_the_page_computes_the_same_on_the_cpu_backend(tmp_path_factory):
    """A browser with no WebAssembly: the page falls back on TensorFlow.js's CPU backend, and still shows Keras's answers."""
    import zoo

    entry = zoo.build("rgb_residual")
    view = view_of(entry.model)
    folder = tmp_path_factory.mktemp("cpu")
    page.write(str(folder), "cpu", [export.export(view, entry.name, (zoo.SIDE, zoo.SIDE), [entry.layer])], None, back=None)
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-no-wasm")), WIDTH, 900, console=True)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.WebAssembly;"})
        opened(driver, f"file://{folder}/live.html")
        assert driver.execute_script("return [typeof WebAssembly, cnnNote.backend]") == ["undefined", "cpu"]
        assert driver.find_element("id", "backend").text == "CPU"
        x = (zoo.photos(1, seed=4)[0] / 255).astype("float32")
        set_pixels(driver, x)
        answer = driver.execute_script("return cnnNote.read()")["models"][0]
        for name, values in answer["layers"].items():
            np.testing.assert_allclose(values, np.asarray(view.graph([view.recorded.produced[name]])(x[None])).ravel(), atol=TOLERANCE)
        np.testing.assert_allclose(answer["probabilities"], keras_probabilities(entry, view, x), atol=TOLERANCE)
        severe = [line for line in driver.get_log("browser") if line["level"] == "SEVERE"]
        assert not severe, severe
    finally:
        driver.quit()


def test_an_atlas_of_a_model_the_page_cannot_run_says_why_and_is_written(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.UpSampling2D(name="grow")(keras.layers.Conv2D(2, 3, name="conv")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x)))
    lines = []
    out = cn.atlas(model, str(tmp_path / "atlas"), examples=0, steps=2, size=12, progress=False, log=lines.append)
    assert "no live page: layer 'grow' is a UpSampling2D, which the page does not compute: leave it out of the model, or use " \
           "the atlas without its live page" in lines
    assert os.path.exists(os.path.join(out, "index.html")) and not os.path.exists(os.path.join(out, "live.html"))
    with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
        assert "live.html" not in handle.read()


def edge_model():
    """Layers at their settings' edges, under names that are data: ReLU with a threshold, a cap and a slope; a
    BatchNormalization without centre or scale; a per-channel Rescaling; "constructor", "__proto__" and markup."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Rescaling(np.array([2.0, 1.0, 0.5], "float32"), offset=np.array([-1.0, 0.0, 0.25], "float32"),
                                   name="valueOf")(inputs)
    x = keras.layers.Conv2D(4, 3, name="constructor")(x)
    x = keras.layers.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.05, name="__proto__")(x)
    bn = keras.layers.BatchNormalization(center=False, scale=False, name='<img src=x onerror="window.hacked=1">')
    x = bn(x)
    bn.set_weights([np.array([0.1, -0.2, 0.3, 0.0], "float32"), np.array([0.5, 2.0, 1.0, 0.25], "float32")])
    x = keras.layers.GlobalAveragePooling2D(name="toString")(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="hasOwnProperty")(x))


def test_layers_at_their_edges_under_hostile_names_show_what_keras_computes(browser, tmp_path):
    model = edge_model()
    view = view_of(model)
    exported = export.export(view, "edge", (12, 12), [], {})
    assert exported.spec["shown"] == ["valueOf", "constructor", "__proto__", '<img src=x onerror="window.hacked=1">', "toString"]
    page.write(str(tmp_path), "<b>edge</b>", [exported], None, back=None)
    opened(browser, f"file://{tmp_path}/live.html")
    x = np.random.default_rng(2).random((12, 12, 3)).astype("float32")
    set_pixels(browser, x)
    # As text: WebDriver's own transport drops a key named __proto__, which the page keeps.
    answer = json.loads(browser.execute_script("return JSON.stringify(cnnNote.read())"))["models"][0]
    layers, probabilities = keras_answers(model, x, exported.spec["shown"])
    assert sorted(answer["layers"]) == sorted(layers)
    for name, values in layers.items():
        np.testing.assert_allclose(answer["layers"][name], values, atol=TOLERANCE, err_msg=name)
    np.testing.assert_allclose(answer["probabilities"], probabilities, atol=TOLERANCE)
    headings = [element.text for element in browser.find_elements("css selector", ".layer h3")]
    assert headings[3] == '<img src=x onerror="window.hacked=1"> 10x10x4' and browser.title == "<b>edge</b>"
    assert browser.execute_script("return typeof window.hacked") == "undefined"


def test_a_model_beside_of_other_inputs_is_one_line_before_any_work(tmp_path, note_models):
    import zoo

    cnn, _ = note_models
    out, colour = tmp_path / "atlas", zoo.build("rgb_residual").model
    with pytest.raises(cn.InputError) as refused:
        cn.atlas(cnn, str(out), examples=0, steps=2, size=28, beside=colour, progress=False)
    assert str(refused.value) == (f"beside='{colour.name}' takes 3-channel pictures of any size, cnn 28x28x1: give a model "
                                  "of the same inputs beside it")
    assert not out.exists()


def test_an_atlas_made_again_without_its_live_page_leaves_none_behind(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((10, 10, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, name="conv")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    out = cn.atlas(model, str(tmp_path / "atlas"), examples=0, steps=2, size=12, progress=False)
    assert os.path.isfile(os.path.join(out, "live.html")) and os.path.isfile(os.path.join(out, "live", "model-0.js"))
    cn.atlas(model, out, examples=0, steps=2, size=12, live=False, progress=False)
    assert not os.path.exists(os.path.join(out, "live.html")) and not os.path.exists(os.path.join(out, "live"))
    with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
        assert "live.html" not in handle.read()
