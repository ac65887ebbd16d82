"""Each objective on tiny models with hand-set weights: the score numpy computes, image b's own unit, the gradient ascent follows."""

import numpy as np
import pytest

from cnn_note.backend import keras, tf
from cnn_note.core.views import View
from cnn_note.optvis import objectives

# conv's three filters, set by hand: a vertical edge, the identity (the centre pixel), a 3x3 box blur.
EDGE, IDENTITY, BOX = 0, 1, 2
KERNEL = np.zeros((3, 3, 1, 3), "float32")
KERNEL[:, :, 0, EDGE] = [[-1, 0, 1]] * 3
KERNEL[1, 1, 0, IDENTITY] = 1.0
KERNEL[:, :, 0, BOX] = 1 / 9
BIAS = np.array([0.1, -0.05, -0.5], "float32")  # the box filter is silent (below 0) on any picture of pixels up to 0.4


def correlate(x, kernel, bias=None, strides=(1, 1), dilation=(1, 1), padding="valid"):
    """Keras' Conv2D (a cross-correlation) by loops in float64: x (B, H, W, C), kernel (kh, kw, C, F) -> (B, h, w, F)."""
    x, kernel = np.asarray(x, "float64"), np.asarray(kernel, "float64")
    (_, height, width, _), (kh, kw, _, filters) = x.shape, kernel.shape
    span_y, span_x = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    if padding == "same":  # TensorFlow's: out = ceil(in / stride), the odd pixel of padding at the bottom and right
        rows, cols = -(-height // strides[0]), -(-width // strides[1])
        pad_y = max((rows - 1) * strides[0] + span_y - height, 0)
        pad_x = max((cols - 1) * strides[1] + span_x - width, 0)
        x = np.pad(x, ((0, 0), (pad_y // 2, pad_y - pad_y // 2), (pad_x // 2, pad_x - pad_x // 2), (0, 0)))
    else:
        rows, cols = (height - span_y) // strides[0] + 1, (width - span_x) // strides[1] + 1
    out = np.zeros((len(x), rows, cols, filters))
    for i in range(rows):
        for j in range(cols):
            top, left = i * strides[0], j * strides[1]
            patch = x[:, top:top + span_y:dilation[0], left:left + span_x:dilation[1], :]
            out[:, i, j] = np.einsum("bhwc,hwcf->bf", patch, kernel)
    return out + (0.0 if bias is None else np.asarray(bias, "float64"))


def relu(x):
    return np.maximum(x, 0.0)


def leaky(x):
    return np.where(x > 0, x, 0.1 * x)


def max_pool(x):
    """2x2 max pooling, stride 2, a last odd row or column dropped."""
    rows, cols = x.shape[1] // 2, x.shape[2] // 2
    return x[:, :2 * rows, :2 * cols].reshape(len(x), rows, 2, cols, 2, -1).max(axis=(2, 4))


def grey_arrays(x, weights):
    """The grey model's layers by numpy: conv before and after its ReLU, pool, conv2."""
    conv_z = correlate(x, KERNEL, BIAS)
    pool = max_pool(relu(conv_z))
    return {"conv_z": conv_z, "conv": relu(conv_z), "pool": pool,
            "conv2": correlate(pool, *weights["conv2"], strides=(2, 2), padding="same")}


@pytest.fixture(scope="module")
def grey():
    """Grey pictures of any size -> conv (the hand-set kernels, ReLU) -> pool -> conv2 (stride 2, same padding, linear)."""
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="conv2")(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    weights = {"conv": (KERNEL, BIAS), "conv2": (rng.normal(size=(3, 3, 3, 2)).astype("float32"),
                                                 rng.normal(size=2).astype("float32"))}
    for name, values in weights.items():
        model.get_layer(name).set_weights(list(values))
    return View.of(model), weights


@pytest.fixture(scope="module")
def rgb():
    """RGB pictures -> a dilated tanh conv without bias (same padding) -> a conv in 2 groups (ReLU) -> a depthwise conv (ReLU)."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, dilation_rate=2, padding="same", use_bias=False, activation="tanh", name="dilated")(inputs)
    x = keras.layers.Conv2D(4, 3, groups=2, activation="relu", name="grouped")(x)
    x = keras.layers.DepthwiseConv2D(3, activation="relu", name="depthwise")(x)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(1)
    model.get_layer("grouped").set_weights([rng.normal(size=(3, 3, 2, 4)).astype("float32"), rng.normal(size=4).astype("float32")])
    return View.of(model), model


@pytest.fixture(scope="module")
def classifier():
    """12x12 grey pictures -> conv (the hand-set kernels, ReLU) -> Flatten -> Dense(4, softmax): logits known to numpy."""
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(3, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Dense(4, activation="softmax", name="scores")(keras.layers.Flatten(name="flat")(x))
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(2)
    dense = (rng.normal(size=(300, 4)).astype("float32") / 10, rng.normal(size=4).astype("float32"))
    model.get_layer("conv").set_weights([KERNEL, BIAS])
    model.get_layer("scores").set_weights(list(dense))
    return View.of(model), dense


def logits_by_numpy(x, dense):
    return relu(correlate(x, KERNEL, BIAS)).reshape(len(x), -1) @ dense[0].astype("float64") + dense[1]


def pictures(count, height, width, channels=1, seed=0, high=1.0):
    return (np.random.default_rng(seed).random((count, height, width, channels)) * high).astype("float32")


def numbers(tensor) -> np.ndarray:
    return np.asarray(tensor, "float64")


def gradient(objective, images):
    """The gradient of the sum of the scores with respect to the pictures, as the ascent takes it."""
    x = tf.constant(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.reduce_sum(objective(x))
    return numbers(tape.gradient(score, x))


def placed(kernel, rows, cols, height, width, weights):
    """sum over output places (i, j) of weights[i, j] x kernel put at (i, j): the gradient of sum_ij weights[i, j] z[i, j]
    with respect to the input of a valid, stride-1 correlation z of one filter (kernel (kh, kw, C))."""
    out = np.zeros((height, width, kernel.shape[-1]))
    for i in range(rows):
        for j in range(cols):
            out[i:i + kernel.shape[0], j:j + kernel.shape[1]] += weights[i, j] * kernel
    return out


# --- border and mean_score ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("height, width, crop", [(10, 10, 2), (11, 40, 2), (40, 10, 2), (9, 10, 0), (10, 9, 0), (9, 9, 0),
                                                 (1, 100, 0), (1, 1, 0)])
def test_border_is_two_pixels_once_both_sides_reach_ten(height, width, crop):
    assert objectives.border(height, width) == crop


def test_mean_score_crops_two_pixels_a_side_and_counts_anti_matches_a_tenth():
    maps = np.random.default_rng(4).normal(size=(3, 12, 11)).astype("float32")
    expected = leaky(maps[:, 2:10, 2:9].astype("float64")).mean(axis=(1, 2))
    np.testing.assert_allclose(numbers(objectives.mean_score(tf.constant(maps))), expected, rtol=1e-5, atol=1e-7)
    # One place at a time: the first row and column kept count in full, or a tenth when negative; the ring outside never.
    ring = np.zeros((4, 12, 11), "float32")
    ring[0, 2, 2] = 56.0
    ring[1, 9, 8] = -56.0
    ring[2, 1, 5], ring[2, 10, 5], ring[2, 5, 1], ring[2, 5, 9] = 1e3, 1e3, 1e3, 1e3
    ring[3, 0, 0] = -1e3
    np.testing.assert_allclose(numbers(objectives.mean_score(tf.constant(ring))), [1.0, -0.1, 0.0, 0.0], atol=1e-6)


def test_mean_score_of_a_small_map_is_its_whole_mean():
    maps = np.random.default_rng(5).normal(size=(2, 9, 13)).astype("float32")
    np.testing.assert_allclose(numbers(objectives.mean_score(tf.constant(maps))), leaky(maps.astype("float64")).mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-7)


# --- picked_channels and own_filter_maps: image b's own filter ------------------------------------------------------

def test_the_hand_set_kernels_give_the_answers_known_without_numpy(grey):
    view, _ = grey
    x = pictures(2, 14, 13, high=0.4)
    maps = numbers(objectives.picked_channels(view, "conv", [IDENTITY, BOX], before_relu=True)(tf.constant(x)))
    np.testing.assert_allclose(maps[0], x[0, 1:-1, 1:-1, 0] - 0.05, atol=1e-6)  # the identity: the picture, less its bias
    assert maps.shape == (2, 12, 11) and (maps[1] < 0).all()  # the box filter stays below 0 on pixels up to 0.4


@pytest.mark.parametrize("layer, before_relu", [("conv", False), ("conv", True), ("pool", False), ("conv2", False)])
def test_picked_channels_gives_image_b_its_own_filter(grey, layer, before_relu):
    view, weights = grey
    x = pictures(4, 29, 26, seed=1)
    filters = [2, 0, 1, 0] if layer != "conv2" else [1, 0, 1, 1]
    expected = grey_arrays(x, weights)["conv_z" if before_relu else layer]
    maps = numbers(objectives.picked_channels(view, layer, filters, before_relu)(tf.constant(x)))
    assert maps.shape == expected.shape[:3]
    for b, f in enumerate(filters):
        np.testing.assert_allclose(maps[b], expected[b, ..., f], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer, before_relu, filters", [("conv", False, [2, 0, 1]), ("conv", True, [2, 2, 0]),
                                                         ("conv2", False, [1, 0, 1]), ("conv", False, [1])])
def test_own_filter_maps_are_the_conv_layers_output_for_image_bs_filter(grey, layer, before_relu, filters):
    view, weights = grey
    x = pictures(len(filters), 30, 27, seed=2)
    expected = grey_arrays(x, weights)["conv_z" if before_relu else layer]
    maps = numbers(objectives.own_filter_maps(view, view.layer(layer), filters, before_relu)(tf.constant(x)))
    assert maps.shape == expected.shape[:3]
    for b, f in enumerate(filters):
        np.testing.assert_allclose(maps[b], expected[b, ..., f], rtol=1e-5, atol=1e-5)


def test_own_filter_maps_follow_dilation_padding_and_an_activation_that_is_no_relu(rgb):
    view, model = rgb
    x = pictures(3, 11, 14, channels=3, seed=3)
    (kernel,) = model.get_layer("dilated").get_weights()
    z = correlate(x, kernel, dilation=(2, 2), padding="same")
    for before_relu in (False, True):  # tanh is no ReLU: scored as it is either way
        maps = numbers(objectives.own_filter_maps(view, view.layer("dilated"), [3, 0, 2], before_relu)(tf.constant(x)))
        assert maps.shape == (3, 11, 14)
        for b, f in enumerate([3, 0, 2]):
            np.testing.assert_allclose(maps[b], np.tanh(z[b, ..., f]), rtol=1e-5, atol=1e-6)


def test_own_filter_maps_of_a_mixed_precision_conv_compute_in_its_dtype_and_give_float32():
    inputs = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(3, 3, name="half", dtype="mixed_bfloat16")
    view = View.of(keras.Model(inputs, conv(inputs)))
    conv.set_weights([KERNEL, BIAS])
    x = pictures(2, 12, 12, seed=4)
    maps = objectives.own_filter_maps(view, conv, [0, 1])(tf.constant(x))
    assert maps.dtype == tf.float32
    expected = correlate(x, KERNEL, BIAS)
    np.testing.assert_allclose(numbers(maps), np.stack([expected[0, ..., 0], expected[1, ..., 1]]), atol=0.03)


# --- filter_mean ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, before_relu", [("conv", False), ("conv", True), ("pool", False), ("conv2", False)])
def test_filter_mean_is_mean_score_of_image_bs_filter_by_numpy(grey, layer, before_relu):
    view, weights = grey
    x = pictures(3, 46, 45, seed=5)  # conv2's map is 11 x 11: a border there too
    filters = [1, 0, 1] if layer == "conv2" else [2, 0, 1]
    maps = grey_arrays(x, weights)["conv_z" if before_relu else layer]
    crop = 2
    expected = [leaky(maps[b, crop:-crop, crop:-crop, f]).mean() for b, f in enumerate(filters)]
    got = numbers(objectives.filter_mean(view, layer, filters, before_relu)(tf.constant(x)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["grouped", "depthwise"])
def test_filter_mean_of_grouped_and_depthwise_convs_scores_the_layers_own_channel(rgb, layer):
    view, model = rgb
    x = pictures(4, 20, 19, channels=3, seed=6)
    filters = [3, 0, 2, 1]
    maps = numbers(keras.Model(model.input, model.get_layer(layer).output)(x))  # the user's model itself, cut at the layer
    expected = [leaky(maps[b, 2:-2, 2:-2, f]).mean() for b, f in enumerate(filters)]
    np.testing.assert_allclose(numbers(objectives.filter_mean(view, layer, filters)(tf.constant(x))), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", ["conv", "grouped", "depthwise"])
def test_image_bs_score_depends_on_image_b_and_filter_b_alone(grey, rgb, layer):
    """Scored as a batch, each picture gets what it gets alone with its own filter: folding the batch mixes nothing."""
    view = grey[0] if layer == "conv" else rgb[0]
    x = pictures(3, 17, 16, channels=view.channels, seed=7)
    filters = (2, 0, 1)
    batch = numbers(objectives.filter_mean(view, layer, filters)(tf.constant(x)))
    alone = [numbers(objectives.filter_mean(view, layer, [f])(tf.constant(x[b:b + 1])))[0] for b, f in enumerate(filters)]
    assert batch.shape == (3,)
    np.testing.assert_allclose(batch, alone, rtol=1e-5, atol=1e-6)
    swapped = numbers(objectives.filter_mean(view, layer, filters)(tf.constant(x[::-1])))
    assert not np.allclose(swapped, batch)  # the filters go with the batch's order


@pytest.mark.parametrize("before_relu", [True, False])
def test_filter_mean_gradient_is_the_kernel_placed_at_each_counted_place(grey, before_relu):
    """Before the ReLU, score = mean over the cropped map of leaky(z), z linear in the pixels: its gradient is the kernel
    at every place, weighted 1 (or 0.1 where z < 0) over the places. After it, the places where z <= 0 weigh nothing."""
    view, _ = grey
    x = pictures(3, 15, 14, seed=8)
    filters = [EDGE, IDENTITY, BOX]
    z = correlate(x, KERNEL, BIAS)  # (3, 13, 12, 3)
    got = gradient(objectives.filter_mean(view, "conv", filters, before_relu), x)
    for b, f in enumerate(filters):
        inner = z[b, 2:-2, 2:-2, f]
        slope = np.where(inner > 0, 1.0, 0.1 if before_relu else 0.0) / inner.size
        weights = np.zeros(z.shape[1:3])
        weights[2:-2, 2:-2] = slope
        expected = placed(KERNEL[..., f], *z.shape[1:3], *x.shape[1:3], weights)
        np.testing.assert_allclose(got[b], expected, rtol=1e-5, atol=1e-7)


def test_a_silent_filter_has_a_gradient_before_its_relu_only(grey):
    view, _ = grey
    x = pictures(1, 14, 14, seed=9, high=0.4)  # the box filter's z < 0 everywhere
    after = gradient(objectives.filter_mean(view, "conv", [BOX]), x)
    before = gradient(objectives.filter_mean(view, "conv", [BOX], before_relu=True), x)
    assert not after.any()
    weights = np.zeros((12, 12))
    weights[2:-2, 2:-2] = 0.1 / 64
    np.testing.assert_allclose(before[0], placed(KERNEL[..., BOX], 12, 12, 14, 14, weights), rtol=1e-5, atol=1e-8)


# --- class_score -------------------------------------------------------------------------------------------

def test_class_score_is_image_bs_logit_of_its_class_before_the_softmax(classifier):
    view, dense = classifier
    x = pictures(5, 12, 12, seed=11)
    classes = [3, 0, 2, 2, 1]
    logits = logits_by_numpy(x, dense)
    got = numbers(objectives.class_score(view.class_scores(), classes)(tf.constant(x)))
    np.testing.assert_allclose(got, logits[np.arange(5), classes], rtol=1e-5, atol=1e-5)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert not np.allclose(got, softmax[np.arange(5), classes], atol=1e-2)  # scores, not probabilities
    again = numbers(objectives.class_score(view.class_scores(), range(4))(tf.constant(x[:4])))
    np.testing.assert_allclose(again, np.diag(logits[:4, :4]), rtol=1e-5, atol=1e-5)


def test_class_score_gradient_is_the_dense_weights_through_the_open_units(classifier):
    """logit_c = sum over (i, j, f) of W[(i, j, f), c] relu(z_f[i, j]) + b_c: its gradient is each filter's kernel placed at
    every place, weighted by W where z > 0."""
    view, dense = classifier
    x = pictures(2, 12, 12, seed=12)
    classes = [1, 3]
    got = gradient(objectives.class_score(view.class_scores(), classes), x)
    z = correlate(x, KERNEL, BIAS)  # (2, 10, 10, 3), flattened by Dense in that order
    for b, c in enumerate(classes):
        weights = dense[0][:, c].reshape(10, 10, 3) * (z[b] > 0)
        expected = sum(placed(KERNEL[..., f], 10, 10, 12, 12, weights[..., f]) for f in range(3))
        np.testing.assert_allclose(got[b], expected, rtol=1e-5, atol=1e-6)
    assert np.abs(got).sum() > 0


# --- dream ----------------------------------------------------------------------------------------------------------

def test_dream_is_the_weighted_sum_of_each_layers_mean_square(grey):
    view, weights = grey
    x = pictures(2, 31, 22, seed=14)
    arrays = grey_arrays(x, weights)
    features = view.features(["conv", "conv2"])
    expected = 1.5 * (arrays["conv"] ** 2).mean(axis=(1, 2, 3)) - 0.5 * (arrays["conv2"] ** 2).mean(axis=(1, 2, 3))
    np.testing.assert_allclose(numbers(objectives.dream_loss(features, [1.5, -0.5])(tf.constant(x))), expected, rtol=1e-5, atol=1e-6)
    # Linear in the weights, and a model with one output (no list) is taken as one layer.
    one = [numbers(objectives.dream_loss(view.features([name]), [1.0])(tf.constant(x))) for name in ("conv", "conv2")]
    np.testing.assert_allclose(numbers(objectives.dream_loss(features, [2, 3])(tf.constant(x))), 2 * one[0] + 3 * one[1], rtol=1e-5)
    np.testing.assert_allclose(one[0], (arrays["conv"] ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_dream_gradient_is_twice_the_weighted_response_through_the_kernel(grey):
    """d/dx of w x mean(z^2) over (h, w, filters) for the linear z before conv's ReLU: 2 w / N sum z x the kernel placed."""
    view, _ = grey
    x = pictures(2, 9, 8, seed=15)
    z = correlate(x, KERNEL, BIAS)  # (2, 7, 6, 3)
    got = gradient(objectives.dream_loss(view.before_relu("conv"), [0.75]), x)
    for b in range(2):
        expected = sum(placed(KERNEL[..., f], 7, 6, 9, 8, 2 * 0.75 * z[b, ..., f] / z[b].size) for f in range(3))
        np.testing.assert_allclose(got[b], expected, rtol=1e-5, atol=1e-7)


def test_dream_gradient_of_two_layers_matches_a_finite_difference(rgb):
    """On smooth responses (the tanh conv, and the grouped conv before its ReLU) a central difference is the derivative."""
    view, _ = rgb
    x = pictures(2, 13, 12, channels=3, seed=16)
    objective = objectives.dream_loss(view.responses(["dilated", "grouped"]), [1.0, 2.0])
    got = gradient(objective, x)
    direction = np.random.default_rng(17).normal(size=x.shape).astype("float32")
    step = 1e-2
    scores = [numbers(objective(tf.constant(x + sign * step * direction))) for sign in (1, -1)]
    np.testing.assert_allclose((scores[0] - scores[1]) / (2 * step), (got * direction).sum(axis=(1, 2, 3)), rtol=1e-3)
