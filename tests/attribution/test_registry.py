"""The registry (attribution.METHODS) is the one list of methods: each is what it says (its maps' sign included), and
the flags, the figures' colours, cn.explain's docstring and docs/explain.md follow it; a method added to it as the docs
say is run, flagged and drawn, and gone once taken out; reading it loads no TensorFlow."""

import dataclasses
import os
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from by_hand import images, linear_model
from conftest import ROOT, cnn_methods

import cnn_note as cn
from cnn_note import attribution
from cnn_note.api import explaining
from cnn_note.attribution import choice
from cnn_note.attribution.method import NEEDS, Method
from cnn_note.backend import keras
from cnn_note.cli import explain
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.settings import setting

matplotlib.use("Agg")


def words(text: str) -> str:
    return " ".join(text.split())


def help_text(capsys) -> str:
    with pytest.raises(SystemExit):
        explain.parse_args(["--help"])
    return words(capsys.readouterr().out)


def drawn_with(found, method: str) -> str:
    """The colour map cn.plot draws `method`'s map with."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    cn.plot(found, ax=ax, method=method)
    plt.close(figure)
    return ax.images[-1].get_cmap().name


def test_each_registered_method_is_a_method_under_its_own_name():
    for name, method in attribution.METHODS.items():
        assert isinstance(method, Method) and method.name == name
        assert method.needs in NEEDS and isinstance(method.signed, bool)
        assert dataclasses.is_dataclass(method.Settings) and all("help" in item.metadata for item in dataclasses.fields(method.Settings))


def test_the_flags_are_the_registered_methods_and_their_settings(capsys):
    shown = help_text(capsys)
    assert (f"of {', '.join(attribution.METHODS)} (default: every method that applies; gradcam needs a 4-D layer; rollout and "
            "attention need attention layers)") in shown
    declared = [item for method in attribution.METHODS.values() for item in dataclasses.fields(method.Settings)]
    assert [item.name for item in dataclasses.fields(attribution.ExplainSettings)] == [item.name for item in declared]
    defaults = explain.parse_args([])
    for item in declared:
        assert f"--{item.name.replace('_', '-')}" in shown and words(item.metadata["help"]) in shown, item.name
        assert getattr(defaults, item.name) == item.default == getattr(attribution.ExplainSettings(), item.name)


def test_the_maps_are_signed_as_their_method_says_and_drawn_so():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((12, 12, 1))
    maps = keras.layers.Conv2D(4, 3, activation="tanh", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(maps)))
    found = cn.explain(model, images(4, 12, 12, seed=9), progress=False, samples=4, steps=8, lime_samples=60)
    assert list(found.maps) == cnn_methods()
    for name, values in found.maps.items():
        signed = name in attribution.SIGNED
        assert signed == attribution.METHODS[name].signed
        assert (values.min() < 0 < values.max()) if signed else values.min() >= 0, (name, values.min())
        assert drawn_with(found, name) == ("RdBu_r" if signed else "inferno"), name


def test_cn_explains_docstring_and_the_docs_page_name_every_method_and_setting():
    doc = words(explaining.explain.__doc__)
    asked = doc[doc.index("methods: "):doc.index("input_range: ")]
    how = doc[doc.index("**how: "):doc.index("Returns: ")]
    with open(os.path.join(ROOT, "docs", "explain.md"), encoding="utf-8") as handle:
        first_paragraph = handle.read().split("\n\n")[1]
    for name in attribution.METHODS:
        assert name in asked and f"`{name}`" in first_paragraph, name
    for item in dataclasses.fields(attribution.ExplainSettings):
        assert re.search(rf"\b{item.name}\b", how), item.name


def documented_method() -> type:
    """The example class of docs/explain.md's "Adding a method", run as the page shows it."""
    with open(os.path.join(ROOT, "docs", "explain.md"), encoding="utf-8") as handle:
        code = re.search(r"^## Adding a method\n.*?^```python\n(.*?)^```$", handle.read(), re.S | re.M).group(1)
    namespace = {"dataclasses": dataclasses, "np": np, "Method": Method, "setting": setting}
    exec(code, namespace)
    return next(value for value in namespace.values() if isinstance(value, type) and issubclass(value, Method) and value is not Method)


def test_a_method_added_as_the_docs_say_is_run_flagged_and_drawn_then_gone(monkeypatch, capsys):
    added = documented_method()
    model, x = linear_model(), images(2)
    with monkeypatch.context() as patch:
        patch.setitem(attribution.METHODS, added.name, added())  # the one line in METHODS
        found = cn.explain(model, x, methods=f"gradient,{added.name}", level=2.5, progress=False)
        np.testing.assert_array_equal(found.maps[added.name], np.full((2, 6, 5), 2.5))
        assert explain.parse_args(["--methods", added.name, "--level", "3"]).level == 3.0
        shown = help_text(capsys)
        assert f"attention, {added.name} (default" in shown and "--level LEVEL the constant's value at every pixel (default: 1.0)" in shown
        assert drawn_with(found, added.name) == "inferno" and added.name not in attribution.SIGNED
        patch.setattr(added, "signed", True)
        assert drawn_with(found, added.name) == "RdBu_r" and added.name in attribution.SIGNED
    assert added.name not in attribution.METHODS and "--level" not in help_text(capsys)
    with pytest.raises(InputError, match="has no setting 'level'"):
        cn.explain(model, x, methods="gradient", level=2.5, progress=False)


def test_a_method_that_needs_a_layer_is_left_out_where_there_is_none(monkeypatch):
    class Layered(Method):
        name, needs = "layered", "layer"

    monkeypatch.setitem(attribution.METHODS, "layered", Layered())
    view, said = View.of(linear_model(), maps=False), []
    assert choice.methods_of(view, None, None, said.append) == ["gradient", "smoothgrad", "integrated_gradients", "occlusion", "lime"]
    assert said == [f"{name}: skipped (the model has no layer with a (batch, height, width, channels) output)"
                    for name in ("gradcam", "layered")]
    with pytest.raises(InputError, match="layered needs a layer .* leave layered out of"):
        choice.methods_of(view, "gradient,layered", None)


def test_a_setting_is_declared_by_one_method_only(monkeypatch):
    class Again(Method):
        name = "again"

        @dataclasses.dataclass(frozen=True)
        class Settings:
            seed: int = setting(1, "a second seed")

    monkeypatch.setitem(attribution.METHODS, "again", Again())
    with pytest.raises(TypeError, match="seed"):
        attribution.ExplainSettings()


def test_the_registry_and_the_flags_load_no_tensorflow():
    code = ("import sys; from cnn_note import attribution; from cnn_note.cli import explain; import cnn_note.plots.plotting; "
            "explain.parse_args(['--methods', 'gradient']); attribution.ExplainSettings(); attribution.SIGNED; "
            "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
