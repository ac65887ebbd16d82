"""The ascent core and each objective: scores rise, steps are traced once per shape, seeds repeat."""

import numpy as np
import pytest

from cnn_note.backend import keras, tf
from cnn_note.core.views import View
from cnn_note.io.progress import Callback
from cnn_note.note import models
from cnn_note.optvis import ascent, objectives
from cnn_note.optvis.pixels import PARAMETERISATION as PIXELS


@pytest.fixture(scope="module")
def cnn():
    keras.utils.set_random_seed(1)
    return View.of(models.build_cnn())


def ascend(objective, images, settings, *args, **kwargs):
    """Pixel ascent of `objective` from `images`."""
    return PIXELS.ascend(objective, images, *images.shape[1:3], settings, *args, **kwargs)


def rises(objective, images, steps=8, **settings):
    before = objective(tf.constant(images)).numpy()
    after_images = ascend(objective, images, ascent.AscentSettings(steps=steps, **settings))
    after = objective(tf.constant(after_images)).numpy()
    return before, after


def own_filter_score_by_hand(model, layer: str, filters: list[int]):
    """Pictures to each one's mean in its own filter (picture k, filters[k]) of the layer, a plain Keras sub-model's
    output: inside a border of 2 (maps of 10 or more a side), negative values counted a tenth."""
    maps_of = keras.Model(model.inputs[0], model.get_layer(layer).output)

    def score(pictures):
        maps = maps_of(pictures)
        own = tf.reduce_sum(maps * tf.one_hot(filters, maps.shape[-1])[:, None, None, :], axis=-1)
        own = own[:, 2:-2, 2:-2] if min(own.shape[1:3]) >= 10 else own
        return tf.reduce_mean(tf.where(own > 0, own, 0.1 * own), axis=[1, 2])

    return score


def ascent_by_hand(score, pictures: np.ndarray, steps: int) -> np.ndarray:
    """AscentSettings' defaults written out: each step scores a copy rolled by seed 0's jitter (-1..1 each way, drawn 50
    steps at a time), moves 0.02 along the gradient scaled to a mean magnitude of 1 per picture, clips to 0..1 and mixes
    in a tenth of a 1-2-1 blur with mirrored edges."""
    shifts = np.random.default_rng(0).integers(-1, 2, size=(50, 2))
    for shift in shifts[:steps]:
        x = tf.constant(pictures)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(score(tf.roll(x, shift, axis=[1, 2])))
        grads = tape.gradient(total, x).numpy()
        pictures = np.clip(pictures + 0.02 * grads / np.maximum(np.abs(grads).mean(axis=(1, 2, 3), keepdims=True), 1e-8), 0, 1)
        padded = np.pad(pictures, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="symmetric")
        rows = (padded[:, :-2] + 2 * padded[:, 1:-1] + padded[:, 2:]) / 4
        pictures = 0.9 * pictures + 0.1 * (rows[:, :, :-2] + 2 * rows[:, :, 1:-1] + rows[:, :, 2:]) / 4
    return pictures.astype("float32")


@pytest.mark.parametrize("layer, filters", [("conv1", [0, 5, 24]), ("conv2", [0, 17, 49])])
def test_filter_mean_rises_for_every_filter_at_once(cnn, layer, filters):
    start = ascent.start_images(len(filters), 28, 28)
    objective = objectives.filter_mean(cnn, layer, filters)
    found = ascend(objective, start, ascent.AscentSettings(steps=8))
    score = own_filter_score_by_hand(cnn.model, layer, filters)
    by_hand = ascent_by_hand(score, start, steps=8)
    np.testing.assert_allclose(found, by_hand, atol=1e-5)
    np.testing.assert_allclose(objective(tf.constant(found)).numpy(), score(by_hand).numpy(), rtol=1e-4, atol=1e-6)
    assert np.all(score(by_hand).numpy() > score(start).numpy())  # every filter's score rose


@pytest.mark.parametrize("layer, size", [("conv1", 28), ("conv2", 28), ("conv2", 41)])
def test_filter_mean_scores_the_layers_own_output_for_the_requested_filter(cnn, layer, size):
    images = np.random.default_rng(0).random((3, size, size, 1)).astype("float32")
    maps = cnn.features([layer])(images).numpy()
    crop = objectives.border(*maps.shape[1:3])
    maps = maps[:, crop:maps.shape[1] - crop, crop:maps.shape[2] - crop, :]
    expected = np.where(maps > 0, maps, 0.1 * maps).mean(axis=(1, 2))
    got = objectives.filter_mean(cnn, layer, [3, 7, 0])(tf.constant(images)).numpy()
    np.testing.assert_allclose(got, [expected[0, 3], expected[1, 7], expected[2, 0]], rtol=1e-4, atol=1e-6)


def test_class_logit_rises(cnn):
    objective = objectives.class_score(cnn.class_scores(), list(range(10)))
    before, after = rises(objective, ascent.start_images(10, 28, 28))
    assert np.all(after > before)


def test_dream_loss_rises_on_a_non_square_image(cnn):
    objective = objectives.dream_loss(cnn.features(["conv1", "conv2"]), [1.0, 2.0])
    images = np.random.default_rng(0).random((1, 45, 31, 1)).astype("float32")
    before, after = rises(objective, images, jitter=0, blur=0.0)
    assert after[0] > before[0]


def test_step_is_traced_once_per_shape_not_per_step(cnn):
    step = PIXELS.step(objectives.dream_loss(cnn.features(["conv1"]), [1.0]), None, None)
    for size, steps in ((28, 5), (28, ascent.STEPS_PER_CALL * 2 + 3), (40, 5)):
        settings = ascent.AscentSettings(steps=steps, step_size=0.001 * steps)
        ascent.drive(step, PIXELS.state(ascent.start_images(2, size, size)), PIXELS.extra(settings, 2), settings, lambda state: None)
    assert step.compiled.experimental_get_tracing_count() == 2


def test_progress_is_reported_and_ascent_stops_once_every_score_passes(cnn):
    objective = objectives.filter_mean(cnn, "conv1", [0, 1])
    start = ascent.start_images(2, 28, 28)
    class Heard(Callback):  # what the one callback protocol tells: steps done, and the pictures offered
        def __init__(self):
            self.counts, self.pictures = [], []

        def on_progress(self, count, pictures=None):
            self.counts.append(count)
            self.pictures.append(pictures())

    heard = Heard()
    final = ascend(objective, start, ascent.AscentSettings(steps=ascent.STEPS_PER_CALL + 7), heard)
    assert heard.counts == [ascent.STEPS_PER_CALL, 7]
    np.testing.assert_array_equal(heard.pictures[-1], final)  # the last pictures offered are the result
    one = ascend(objective, start, ascent.AscentSettings(steps=1))
    stopped_early = Heard()
    stopped = ascend(objective, start, ascent.AscentSettings(steps=40), stopped_early, stop_above=-1e9)
    np.testing.assert_array_equal(stopped, one)
    assert stopped_early.counts == [1]


def test_same_seed_same_images_and_pixels_stay_in_range(cnn):
    objective = objectives.filter_mean(cnn, "conv1", [0, 1])

    def run(seed):
        return ascend(objective, ascent.start_images(2, 28, 28, seed), ascent.AscentSettings(steps=5, seed=seed))

    first, again, other = run(0), run(0), run(1)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.min() >= 0.0 and first.max() <= 1.0


def test_normalized_gradients_have_unit_mean_magnitude_per_image():
    grads = tf.constant(np.stack([np.full((4, 4, 1), 3.0), np.full((4, 4, 1), -0.01)]).astype("float32"))
    np.testing.assert_allclose(tf.reduce_mean(tf.abs(ascent.normalize(grads)), axis=[1, 2, 3]).numpy(), [1.0, 1.0], rtol=1e-6)


def test_blur_keeps_a_flat_image_and_softens_a_spike():
    flat = np.full((1, 5, 5, 1), 0.3, "float32")
    np.testing.assert_allclose(ascent.blur3x3(tf.constant(flat)).numpy(), flat, rtol=1e-6)
    spike = np.zeros((1, 5, 5, 1), "float32")
    spike[0, 2, 2, 0] = 1.0
    out = ascent.blur3x3(tf.constant(spike)).numpy()
    assert out[0, 2, 2, 0] == pytest.approx(0.25) and out.sum() == pytest.approx(1.0)
