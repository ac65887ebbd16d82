"""The live page of a transformer: cnn_note.note.transformer's ViT, trained on real MNIST digits, in a real browser (every
layer on its patch grid, the probabilities and the class token's attention against Keras); the export of its new
operations; the transformers and settings the page cannot compute, refused in one line."""

import base64
import json
import os
import re
import warnings

import numpy as np
import pytest
import token_models
from conftest import headless_chromium

import cnn_note as cn
from cnn_note.backend import keras
from cnn_note.core.inputs import view_of
from cnn_note.errors import InputError
from cnn_note.live import export, page
from cnn_note.note.transformer import build_vit

RTOL, ATOL = 1e-4, 1e-6  # the page's float32 against Keras's: relative, with a floor for values near 0
TRAIN, STEPS, BATCH = 2000, 320, 32
PREFIX = "(window.cnnNoteModels = window.cnnNoteModels || []).push("
layers = keras.layers


def spec_and_weights(exported: export.Exported) -> tuple[dict, dict[str, np.ndarray]]:
    """The script the page loads, read back: its spec, and each operation's weights by "<operation>/<variable>"."""
    script = exported.script()
    data = json.loads(script[len(PREFIX):-3])
    blob = np.frombuffer(base64.b64decode(data["weights"]), "<f4")
    return data, {key: blob[start:start + int(np.prod(shape))].reshape(shape) for key, (start, shape) in data["offsets"].items()}


def test_the_export_sends_a_vits_new_operations_with_their_settings_and_keras_weights():
    keras.utils.set_random_seed(0)
    model = build_vit()
    view = view_of(model)
    data, weights = spec_and_weights(export.export(view, "vit", (28, 28), [layer.name for layer in model.layers]))
    ops = {op["name"]: (index, op) for index, op in enumerate(data["operations"])}
    assert [op["kind"] for op in data["operations"]] == [
        "Conv2D", "Reshape", "ClassToken", "PositionEmbedding",
        *["LayerNormalization", "MultiHeadAttention", "Add", "LayerNormalization", "Dense", "Dense", "Add"] * 2,
        "LayerNormalization", "ClassTokenOutput", "Dense"]
    index, norm = ops["block1_norm1"]
    assert norm["config"] == {"axis": [-1], "epsilon": 1e-6, "center": True, "scale": True, "rms_scaling": False}
    index, attention = ops["block1_attention"]
    assert attention["config"] == {"num_heads": 2, "key_dim": 16, "value_dim": 16}
    assert attention["inputs"] == [norm["output"], norm["output"]]  # self-attention: the query is the value (and the key)
    layer = model.get_layer("block1_attention")
    for part, dense in (("query", layer.query_dense), ("key", layer.key_dense), ("value", layer.value_dense),
                        ("output", layer.output_dense)):
        np.testing.assert_array_equal(weights[f"{index}/{part}_kernel"], np.asarray(dense.kernel))
        np.testing.assert_array_equal(weights[f"{index}/{part}_bias"], np.asarray(dense.bias))
    assert weights[f"{index}/query_kernel"].shape == (32, 2, 16) and weights[f"{index}/output_kernel"].shape == (2, 16, 32)
    assert ops["block0_mlp1"][1]["config"] == {"activation": "gelu"} and ops["block0_mlp1"][1]["shape"] == [17, 64]
    for name, variable in (("class_token", "token"), ("positions", "positions")):
        index, op = ops[name]
        np.testing.assert_array_equal(weights[f"{index}/{variable}"], np.asarray(model.get_layer(name).weights[0]))
    assert ops["class_output"][1]["shape"] == [32] and "weights" in ops["class_output"][1]
    # Every layer drawn: the patches' maps, each token layer on its 4x4 grid (the class token left out), the class output.
    assert data["shown"] == [name for name in ops if name not in ("tokens", "output")]
    assert data["grids"] == {name: [1, 4, 4] for name in data["shown"] if name not in ("patches", "class_output")}
    assert data["attention"] == {"layer": "block1_attention", "grid": [1, 4, 4]}
    # Past MAX_SHOWN, the atlas's layers and the attention layers.
    assert export.export(view, "vit", (28, 28), ["patches"]).spec["shown"] == ["patches", "block0_attention", "block1_attention"]


def test_the_page_computes_every_token_operation_the_export_sends_and_no_other():
    with open(os.path.join(os.path.dirname(export.__file__), "assets", "live.js"), encoding="utf-8") as handle:
        script = handle.read()
    start = script.index("var TOKEN_OPERATIONS = {")
    block = script[start:script.index("\n  };", start)]
    assert set(re.findall(r"^    (\w+): function", block, re.M)) == set(export.TOKEN_OPERATIONS)
    assert not set(export.TOKEN_OPERATIONS) & set(export.OPERATIONS)


def test_a_saved_vit_opens_where_its_module_is_imported_and_answers_the_same(tmp_path):
    keras.utils.set_random_seed(1)
    model = build_vit(patch_size=4, dim=16, heads=4, blocks=1)
    path = str(tmp_path / "vit.keras")
    model.save(path)
    x = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    again = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert [type(layer).__name__ for layer in again.layers][3:6] == ["ClassToken", "PositionEmbedding", "LayerNormalization"]
    np.testing.assert_allclose(np.asarray(again(x, training=False)), np.asarray(model(x, training=False)), rtol=1e-6, atol=1e-7)
    assert export.refusal(view_of(again)) is None
    with pytest.raises(ValueError, match="does not divide"):
        build_vit(patch_size=5)


def one_line(why: str | None, start: str) -> None:
    assert why is not None and "\n" not in why and why.startswith(start), why


def test_a_keras_io_vit_is_refused_in_one_line_naming_its_patches_layer():
    view = view_of(token_models.keras_io_vit())
    assert export.refusal(view) == ("no live page: layer 'patches' is a Patches, which the page does not compute: leave it out "
                                    "of the model, or use the atlas without its live page")
    with pytest.raises(InputError, match="'patches'"):
        export.export(view, "m", (28, 28))


def test_the_notes_own_layers_are_known_by_their_registered_names_not_their_class_names():
    """conv_vit's ClassToken is the tests' (registered under "tests"): refused. transformer.py loaded as a file, as
    --custom-objects loads one (another module, the same registered names): computed."""
    import importlib.util

    from cnn_note.note import transformer

    one_line(export.refusal(view_of(token_models.conv_vit())), "no live page: layer 'class_token' is a ClassToken, which the page")
    registry = keras.saving.get_custom_objects()  # Keras's own registry: the copy's classes take the names over
    own = {name: registry[name] for name in registry if name.startswith("cnn_note>")}
    spec = importlib.util.spec_from_file_location("as_custom_objects", transformer.__file__)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        assert registry["cnn_note>ClassToken"] is module.ClassToken is not transformer.ClassToken
        assert export.refusal(view_of(module.build_vit(blocks=1))) is None
    finally:  # the names back to the module's own classes
        registry.update(own)


def tiny_vit(norm=None, attend=None, embed=None):
    """A ViT of 8x8 pictures, 4 tokens of 8 channels and a class token, its layers replaceable."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((8, 8, 1))
    x = layers.Reshape((4, 8), name="tokens")(layers.Conv2D(8, 4, strides=4, name="patches")(inputs))
    if embed is not None:
        x = embed(x)
    x = (norm or layers.LayerNormalization(name="norm"))(x)
    x = attend(x) if attend else layers.MultiHeadAttention(2, 4, name="attention")(x, x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="out")(layers.Flatten(name="flat")(x)))


def causal(x):
    return layers.MultiHeadAttention(2, 4, name="attention")(x, x, use_causal_mask=True)


def masked(x):
    return layers.MultiHeadAttention(2, 4, name="attention")(x, x, attention_mask=np.tril(np.ones((1, 4, 4), bool)))


def gated(x):
    return layers.MultiHeadAttention(2, 4, use_gate=True, name="attention")(x, x)


@pytest.mark.parametrize("change, start", [
    (dict(norm=layers.LayerNormalization(axis=1, name="norm")),
     "no live page: layer 'norm' (LayerNormalization) normalizes over axis [1] of its 3-D input: the page normalizes the last axis"),
    (dict(attend=causal), "no live page: layer 'attention' (MultiHeadAttention) has use_causal_mask given in its call, which"),
    (dict(attend=masked), "no live page: layer 'attention' (MultiHeadAttention) has attention_mask given in its call, which"),
    (dict(attend=gated), "no live page: layer 'attention' (MultiHeadAttention) has use_gate=True, which the page does not"),
])
def test_settings_the_page_does_not_compute_are_one_line_naming_the_layer(change, start):
    one_line(export.refusal(view_of(tiny_vit(**change))), start)


def test_an_attention_layer_called_elsewhere_with_other_arguments_is_read_by_the_models_own_call():
    """Another tool calling the user's attention layer with a mask and for its scores (a graph of its own) changes nothing:
    the page reads the call the model makes."""
    model = tiny_vit()
    elsewhere = keras.Input((4, 8))
    model.get_layer("attention")(elsewhere, elsewhere, use_causal_mask=True, return_attention_scores=True)
    assert export.refusal(view_of(model)) is None


def embedding_models():
    """Two ways a model adds position embeddings from keras.layers.Embedding, both the page computes: an Add layer with
    the embeddings of arange(4) (computed once, when the model was built: a constant of the model), and an Embedding of
    indices the graph makes (the pixels scaled to 0..3, as Keras casts them, to int32); and the position embeddings."""
    keras.utils.set_random_seed(4)
    inputs = keras.Input((8, 8, 1))
    x = layers.Reshape((4, 8), name="tokens")(layers.Conv2D(8, 4, strides=4, name="patches")(inputs))
    embedding = layers.Embedding(4, 8, name="positions")
    x = layers.Add(name="placed")([x, embedding(keras.ops.arange(4)[None])])
    with warnings.catch_warnings():  # Keras's rms_scaling divides by the variance, not the mean square; the page as Keras
        warnings.simplefilter("ignore", UserWarning)
        norm = layers.LayerNormalization(rms_scaling=True, name="norm")
    x = layers.MultiHeadAttention(2, 4, value_dim=3, name="attention")(norm(x), x)
    x = layers.LayerNormalization(center=False, scale=False, epsilon=0.5, name="plain_norm")(x)
    constant = keras.Model(inputs, layers.Dense(3, activation="softmax", name="out")(layers.Flatten(name="flat")(x)), name="constant")
    indices = layers.Reshape((8, 8), name="rows")(layers.Rescaling(3.999, name="scaled")(inputs))
    looked_up = layers.Embedding(4, 2, name="looked_up")(indices)  # (8, 8, 2): a map per embedding channel
    gathered = keras.Model(inputs, layers.Dense(3, activation="softmax", name="out")(layers.Flatten(name="flat")(looked_up)),
                           name="gathered")
    return constant, gathered, np.asarray(embedding.embeddings)


def test_position_embeddings_from_an_embedding_go_to_the_page_as_a_constant_and_a_lookup():
    constant, gathered, positions = embedding_models()
    data, weights = spec_and_weights(export.export(view_of(constant), "constant", (8, 8)))
    kinds = {op["name"]: op for op in data["operations"]}
    added = kinds["placed"]
    value = next(op for op in data["operations"] if op["kind"] == "Constant")
    assert added["inputs"] == [kinds["tokens"]["output"], value["output"]] and value["name"] == "placed/constant2"
    np.testing.assert_array_equal(weights["2/value"], positions[None])
    assert kinds["attention"]["inputs"] == [kinds["norm"]["output"], added["output"]]  # a query on another value
    assert kinds["norm"]["config"]["rms_scaling"] is True
    data, weights = spec_and_weights(export.export(view_of(gathered), "gathered", (8, 8)))
    lookup = next(op for op in data["operations"] if op["kind"] == "Embedding")
    assert lookup["config"] == {"input_dim": 4, "output_dim": 2} and lookup["weights"] == ["embeddings"]
    masking = keras.Model(gathered.input, layers.Embedding(4, 2, mask_zero=True, name="masking")(gathered.get_layer("rows").output))
    one_line(export.refusal(view_of(masking, maps=False)), "no live page: layer 'masking' (Embedding) has mask_zero=True")


def test_an_atlas_of_a_transformer_the_page_cannot_compute_says_why_in_one_line_and_is_written(tmp_path):
    keras.utils.set_random_seed(0)
    lines = []
    out = cn.atlas(token_models.conv_vit(), str(tmp_path / "atlas"), examples=0, steps=2, size=28, progress=False, log=lines.append)
    assert [line for line in lines if "live page" in line] == [
        "no live page: layer 'class_token' is a ClassToken, which the page does not compute: leave it out of the model, or use "
        "the atlas without its live page"]
    assert os.path.exists(os.path.join(out, "index.html")) and not os.path.exists(os.path.join(out, "live.html"))


# ---- In a browser: the trained ViT's page against Keras ----


@pytest.fixture(scope="module")
def trained(mnist_path):
    """build_vit trained on TRAIN real MNIST digits for STEPS Adam steps; its accuracy on 1,000 test digits."""
    with np.load(mnist_path) as mnist:
        x, y = mnist["x_train"][:TRAIN, ..., None] / np.float32(255), mnist["y_train"][:TRAIN]
        x_test, y_test = mnist["x_test"][:1000, ..., None] / np.float32(255), mnist["y_test"][:1000]
    keras.utils.set_random_seed(0)
    model = build_vit()
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=STEPS * BATCH // TRAIN, verbose=0)
    accuracy = float((model.predict_on_batch(x_test).argmax(axis=1) == y_test).mean())
    return model, x_test, y_test, accuracy


@pytest.fixture(scope="module")
def vit_page(trained, tmp_path_factory):
    """The trained ViT's live page, every layer shown, the first 36 test digits shipped with their labels."""
    model, x_test, y_test, _ = trained
    view = view_of(model)
    out = str(tmp_path_factory.mktemp("vit-page"))
    exported = export.export(view, "vit", (28, 28), [layer.name for layer in model.layers])
    page.write(out, "vit", [exported], page.inputs_script(x_test[:36], [int(label) for label in y_test[:36]], list(range(36)), None),
               back=None)
    return out, view, exported


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = headless_chromium(str(tmp_path_factory.mktemp("chromium-vit")), 390, 900, console=True)
    yield driver
    driver.quit()


def opened(driver, url: str) -> None:
    driver.get(url)
    assert driver.execute_async_script("var done = arguments[arguments.length - 1]; "
                                       "cnnNote.ready.then(function () { done(1); }, function (e) { done(String(e)); })") == 1


def set_pixels(driver, pixels: np.ndarray) -> None:
    assert driver.execute_async_script("var done = arguments[arguments.length - 1]; "
                                       "cnnNote.set(arguments[0]).then(function () { done(1); }, function (e) { done(String(e)); })",
                                       pixels.astype("float64").ravel().tolist()) == 1


def relative(page_values, keras_values) -> float:
    """The largest difference, relative to the layer's largest value (what 1e-4 of a layer means)."""
    keras_values = np.asarray(keras_values, "float64").ravel()
    return float(np.abs(np.asarray(page_values) - keras_values).max() / max(np.abs(keras_values).max(), 1e-12))


def class_attention(view, x: np.ndarray) -> np.ndarray:
    """The class token's attention in the last attention layer, by numpy from the View's scores: the heads averaged, row
    0, the patch tokens' columns, on the grid."""
    scores = keras.tree.flatten(view.attention_scores()(x[None]))[-1]  # (1, heads, queries, keys)
    extra, height, width = view.grids[view.attention_layers()[-1]]
    return np.asarray(scores, "float64").mean(axis=1)[0, 0, extra:].reshape(height, width)


def assert_shows_keras(driver, model, view, exported) -> dict:
    """Every layer, the probabilities and the attention the page shows, equal Keras's on the page's own input; returns
    the largest relative difference of each kind of layer."""
    answer = driver.execute_script("return cnnNote.read()")
    x = np.array(answer["input"], "float32").reshape(28, 28, 1)
    shown = answer["models"][0]
    names = exported.spec["shown"]
    assert sorted(shown["layers"]) == sorted(names)
    kinds = {op["name"]: op["kind"] for op in exported.spec["operations"]}
    worst = {}
    # The View's own maps of them: a map, tokens on their grid (the class token left out, core.tokens.TokenMap), a vector.
    for name, want in zip(names, view.graph([view.as_map(name) for name in names])(x[None])):
        assert np.asarray(want).shape[1:] in ((4, 4, 32), (4, 4, 64), (32,)), (name, np.asarray(want).shape)
        np.testing.assert_allclose(shown["layers"][name], np.asarray(want).ravel(), rtol=RTOL, atol=ATOL, err_msg=name)
        worst[kinds[name]] = max(worst.get(kinds[name], 0), relative(shown["layers"][name], want))
    probabilities = np.asarray(model(x[None], training=False))[0]
    np.testing.assert_allclose(shown["probabilities"], probabilities, rtol=RTOL, atol=ATOL)
    attention = class_attention(view, x)
    np.testing.assert_allclose(shown["attention"], attention.ravel(), rtol=RTOL, atol=ATOL)
    worst["probabilities"], worst["attention"] = relative(shown["probabilities"], probabilities), relative(shown["attention"], attention)
    return worst


@pytest.mark.slow
def test_the_trained_vits_page_shows_every_layer_the_probabilities_and_the_attention_keras_computes(trained, vit_page, browser):
    from test_page import stroke

    model, x_test, y_test, accuracy = trained
    out, view, exported = vit_page
    assert accuracy > 0.6, accuracy  # a model that learned (chance is 0.1): its attention is not the untrained one's
    opened(browser, f"file://{out}/live.html")
    assert browser.execute_script("return cnnNote.backend") == "wasm"  # every op of the ViT on WebAssembly, none missing
    worst = {}
    for digit in (0, 7):
        set_pixels(browser, x_test[digit])
        for kind, value in assert_shows_keras(browser, model, view, exported).items():
            worst[kind] = max(worst.get(kind, 0), value)
    browser.find_element("id", "clear").click()
    stroke(browser)
    for kind, value in assert_shows_keras(browser, model, view, exported).items():
        worst[kind] = max(worst.get(kind, 0), value)
    print("largest difference from Keras, relative to the layer's largest value:", worst)
    heading = browser.find_element("css selector", ".attention h3").text
    assert heading.startswith("block1_attention: where the class token looks")
    painted = browser.execute_script("var c = document.querySelector('.attention-map'); return [c.width, c.height, "
                                     "Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
                                     ".filter(function (v, i) { return i % 4 === 1 && v > 0; }).length]")
    assert painted[:2] == [28, 28] and painted[2] > 0
    assert browser.find_elements("xpath", "//h3[.='block0_norm1 4x4x32 (tokens on their grid, 1 more left out)']")
    right = int((model.predict_on_batch(x_test[:36]).argmax(axis=1) == y_test[:36]).sum())
    assert browser.find_element("id", "tally").text == f"On these 36 test inputs, with this change: vit right on {right}."
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390


@pytest.mark.slow
def test_without_webassembly_the_vits_page_computes_the_same_on_the_cpu_backend(trained, vit_page, tmp_path):
    model, x_test, _, _ = trained
    out, view, exported = vit_page
    driver = headless_chromium(str(tmp_path / "profile"), 390, 900, console=True)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.WebAssembly;"})
        opened(driver, f"file://{out}/live.html")
        assert driver.execute_script("return cnnNote.backend") == "cpu"
        set_pixels(driver, x_test[3])
        assert_shows_keras(driver, model, view, exported)
    finally:
        driver.quit()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")
def test_position_embeddings_and_lookups_from_an_embedding_show_what_keras_computes(browser, tmp_path):
    models = embedding_models()[:2]
    views = [view_of(model, maps=False) for model in models]
    page.write(str(tmp_path), "embeddings", [export.export(view, model.name, (8, 8), [layer.name for layer in model.layers])
                                             for model, view in zip(models, views)], None, back=None)
    opened(browser, f"file://{tmp_path}/live.html")
    assert browser.execute_script("return cnnNote.backend") == "wasm"
    x = np.random.default_rng(3).random((8, 8, 1)).astype("float32")
    x[0, :4, 0] = [0.0, 0.25, 0.5, 0.75]  # indices 0..3 exactly where the pixels are quarters (3.999 x: 0, 0.99, 1.99, 2.99)
    set_pixels(browser, x)
    answers = browser.execute_script("return cnnNote.read()")["models"]
    assert [answer["name"] for answer in answers] == ["constant", "gathered"]
    for model, view, answer in zip(models, views, answers):
        assert answer["layers"] and answer["attention"] is None  # no class token: nothing to draw
        for name, values in answer["layers"].items():
            want = np.asarray(view.graph([view.recorded.produced[name]])(x[None])).ravel()
            np.testing.assert_allclose(values, want, rtol=RTOL, atol=ATOL, err_msg=f"{model.name} {name}")
        np.testing.assert_allclose(answer["probabilities"], np.asarray(model(x[None], training=False))[0], rtol=RTOL, atol=ATOL)
    assert "looked_up" in answers[1]["layers"]


@pytest.mark.slow
def test_the_atlas_of_the_vit_writes_its_live_page_with_its_token_layers_linked(trained, mnist_path, browser, tmp_path):
    """cn.atlas on the ViT, a token layer among its layers: the page shows the atlas's layers and the attention layers,
    each token layer's maps linked to its units' pages, and opens without an error."""
    model = trained[0]
    lines = []
    out = cn.atlas(model, str(tmp_path / "atlas"), layers=["patches", "block0_add2"], examples=2, data=mnist_path,
                   class_inputs=20, steps=2, size=28, progress=False, log=lines.append)
    assert not [line for line in lines if "live page" in line], lines
    opened(browser, f"file://{out}/live.html")
    heads = [h.text for h in browser.find_elements("css selector", ".layer h3")]
    assert heads[0].startswith("block1_attention: where the class token looks") and heads[1:] == [
        "patches 4x4x32", *(f"{name} 4x4x32 (tokens on their grid, 1 more left out)"
                            for name in ("block0_attention", "block0_add2", "block1_attention"))]
    links = [link.get_dom_attribute("href") for link in browser.find_elements("css selector", "a[data-picture]")]
    assert len(links) == 64 and links[32] == "1-block0_add2/0.html"
    assert all(os.path.exists(os.path.join(out, link)) for link in links)
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe
