"""Parameterisations: each one's pictures against numpy by hand, the registry that --param reads, one added as the docs
say, and a setting a parameterisation ignores refused in one line, in Python's words and the scripts'."""

import numpy as np
import pytest
from conftest import assert_one_line_error, rgb_residual_model

import cnn_note as cn
from cnn_note import settings
from cnn_note.backend import keras, tf
from cnn_note.cli import atlas, visualize_filters
from cnn_note.core import autodiff
from cnn_note.core.inputs import view_of
from cnn_note.optvis import ascent, fourier, objectives, parameterisation, pixels
from cnn_note.optvis.parameterisation import Parameterisation


def fourier_by_hand(spectra: np.ndarray, height: int, width: int) -> np.ndarray:
    """Lucid's Fourier-basis picture in numpy: each frequency (fy, fx) scaled by sqrt(h w) / max(|f|, 1 / longer side),
    numpy's irfft2, a quarter of it, the three channels mixed by ImageNet's colour correlation (Lucid's matrix, its
    columns scaled to at most unit norm), a sigmoid."""
    fy = np.array([k if k <= height // 2 else k - height for k in range(height)]) / height  # signed, as a DFT's rows run
    fx = np.arange(width // 2 + 1) / width
    f = np.hypot(fy[:, None], fx[None, :])
    scale = np.sqrt(height * width) / np.maximum(f, 1 / max(height, width))
    images = np.fft.irfft2((spectra[..., 0] + 1j * spectra[..., 1]) * scale, s=(height, width)) / 4  # (B, C, h, w)
    images = images.transpose(0, 2, 3, 1)
    if images.shape[-1] == 3:
        lucid = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
        mix = lucid / np.sqrt((lucid ** 2).sum(axis=0)).max()
        images = np.einsum("bhwk,ck->bhwc", images, mix)  # channel c is row c of the matrix times the picture's channels
    return 1 / (1 + np.exp(-images))


@pytest.mark.parametrize("height, width, channels", [(32, 40, 3), (17, 9, 1), (8, 8, 3)])
def test_fourier_pictures_are_numpys_inverse_fft_of_the_scaled_spectra_colour_mixed(height, width, channels):
    param = fourier.PARAMETERISATION
    spectra = 30 * param.start(2, height, width, channels, seed=1)  # loud enough that every step of the recipe shows
    np.testing.assert_allclose(param.pictures(spectra, height, width), fourier_by_hand(spectra, height, width), atol=2e-6)


def test_pixel_pictures_are_the_pixels_from_grey_with_seeded_noise():
    param = pixels.PARAMETERISATION
    starts = param.start(3, 5, 7, 2, seed=4)
    rng = np.random.default_rng(4)
    by_hand = np.stack([np.clip(0.5 + 0.05 * rng.standard_normal((5, 7, 2)), 0, 1) for _ in range(3)]).astype("float32")
    np.testing.assert_array_equal(starts, by_hand)
    np.testing.assert_array_equal(param.pictures(starts, 5, 7), starts)


def test_a_colour_model_of_one_size_sees_its_class_pictures_inside_the_border_the_moves_add():
    """Lucid's moves pad 12 grey pixels and crop 6 again: the Fourier picture is 6 pixels short of the model's input
    on every side and shown, as the model saw it, in a grey border; a pixel picture fills the input."""
    inputs = keras.Input((32, 32, 3))
    scores = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3, name="conv")(inputs)))
    model = keras.Model(inputs, scores)
    framed = cn.class_pictures(model, [0, 1], head="logits", steps=2, progress=False).images
    inside = np.zeros((32, 32), bool)
    inside[6:-6, 6:-6] = True
    assert framed.shape == (2, 32, 32, 3) and (framed[:, ~inside] == 0.5).all() and (framed[:, inside] != 0.5).all()
    assert (cn.class_pictures(model, [0, 1], head="logits", steps=2, param="pixels", progress=False).images != 0.5).all()


def test_the_registry_is_what_param_and_the_scripts_param_choose_from():
    for name in settings.PARAMS:
        param = parameterisation.named(name)
        assert isinstance(param, Parameterisation) and param.name == name
        assert set(param.honours) <= set(ascent.AscentSettings.__dataclass_fields__)
        for parse in (visualize_filters.parse_args, atlas.parse_args):
            assert parse(["--param", name]).param == name
    assert list(settings.PARAMS) == ["fourier", "pixels"]  # --help's and the refusal's order, as ever
    with pytest.raises(cn.InputError, match="choose from fourier, pixels, None"):
        cn.filter_pictures(rgb_residual_model(), "stem", param="nope")


class Logistic(Parameterisation):
    """A parameterisation added as docs/own-model.md says: pixels as the sigmoid of what moves, plain gradient steps."""

    name = "logistic"
    honours = ("steps", "step_size", "seed")
    prior = "through a sigmoid"

    def start(self, count, height, width, channels, seed):
        return np.random.default_rng(seed).normal(0, 0.1, (count, height, width, channels)).astype("float32")

    def to_pixels(self, moving, height, width):
        return keras.ops.sigmoid(moving)

    def step(self, objective, height, width):
        def score(moving, i, extra):
            return objective(self.to_pixels(moving, height, width))

        def advance(state, grads, i, extra):
            return (state[0] + extra[0] * grads,)

        return autodiff.ascent_steps(score, advance)

    def extra(self, settings, count):
        step_size = np.float32(settings.step_size)
        return lambda done: (step_size,)


PARAMETERISATION = Logistic()


def test_a_parameterisation_added_as_the_docs_say_is_chosen_by_name_and_ascends(monkeypatch, random_cnn_file):
    monkeypatch.setitem(settings.PARAMS, "logistic", __name__)
    assert visualize_filters.parse_args(["--param", "logistic"]).param == "logistic"
    view = view_of(random_cnn_file)
    found = cn.filter_pictures(view, "conv1", [0, 3], param="logistic", steps=4, step_size=0.5, seed=2, examples=0, progress=False)
    # The same four steps by hand: x += 0.5 * gradient of the score of sigmoid(x), from the seeded start.
    x = tf.constant(PARAMETERISATION.start(2, 28, 28, 1, seed=2))
    score = objectives.filter_mean(view, "conv1", [0, 3], before_relu=True)
    for _ in range(4):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(score(tf.sigmoid(x)))
        x = x + 0.5 * tape.gradient(total, x)
    np.testing.assert_allclose(found.images, tf.sigmoid(x).numpy(), atol=1e-6)
    start = objectives.filter_mean(view, "conv1", [0, 3])(tf.sigmoid(PARAMETERISATION.start(2, 28, 28, 1, seed=2))).numpy()
    assert np.all(found.activations > start)
    with pytest.raises(cn.InputError) as refused:
        cn.filter_pictures(view, "conv1", [0], param="logistic", blur=0.3, examples=0, progress=False)
    assert str(refused.value) == "blur=0.3 does nothing with param='logistic': leave it out, or choose param='pixels'"


def test_a_setting_fourier_pictures_ignore_is_refused_in_pythons_words():
    model = rgb_residual_model()
    ignored = {"step_size": 0.05, "jitter": 2, "blur": 0.2}
    for setting, value in ignored.items():
        with pytest.raises(cn.InputError) as refused:
            cn.filter_pictures(model, "stem", **{setting: value}, examples=0, progress=False)
        assert str(refused.value) == (f"{setting}={value} does nothing with param='fourier' (the default for this model): "
                                      "leave it out, or choose param='pixels'")
        with pytest.raises(cn.InputError, match=f"^{setting}={value} does nothing with param='fourier': leave"):
            cn.class_pictures(model, [0], param="fourier", **{setting: value}, progress=False)
    # At its default a setting is one left out (the scripts give every one); with pixels, or without the prior, it counts.
    defaults = {setting: getattr(settings.PictureSettings, setting) for setting in ignored}
    cn.filter_pictures(model, "stem", [0], steps=1, examples=0, progress=False, **defaults)
    cn.filter_pictures(model, "stem", [0], steps=1, param="pixels", examples=0, progress=False, **ignored)
    cn.class_pictures(model, [0], steps=1, prior=False, progress=False, **ignored)


def test_a_flag_fourier_pictures_ignore_is_refused_in_one_line_with_the_flags_names(tmp_path, capsys):
    path = tmp_path / "rgb.keras"
    rgb_residual_model().save(path)
    with pytest.raises(SystemExit) as stop:
        visualize_filters.main(["--model", str(path), "--blur", "0.2", "--out-dir", str(tmp_path / "out")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, ": error: --blur 0.2 does nothing with --param fourier (the default for this model): leave it out, "
                               "or choose --param pixels")


def test_an_atlas_refuses_a_setting_its_pictures_ignore_before_writing_anything(tmp_path):
    with pytest.raises(cn.InputError, match="^jitter=2 does nothing with param='fourier'"):
        cn.atlas(rgb_residual_model(), str(tmp_path / "atlas"), jitter=2, progress=False)
    assert not (tmp_path / "atlas").exists()
