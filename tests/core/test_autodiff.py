"""The differentiation seam on TensorFlow (core.autodiff): each answer against one computed another way (numpy, a tape
written out, finite differences). tests/core/test_backends.py runs the same tools on JAX and PyTorch."""

import numpy as np

from cnn_note.backend import keras, tf
from cnn_note.core import autodiff


def test_pick_takes_image_bs_own_class():
    scores = np.arange(12, dtype="float32").reshape(3, 4) * np.array([1, -2, 3, 0.5], "float32")
    for classes in ([2, 0, 3], [[2], [0], [3]]):
        got = keras.ops.convert_to_numpy(autodiff.pick(tf.constant(scores), tf.constant(classes, tf.int32)))
        np.testing.assert_array_equal(got, [scores[0, 2], scores[1, 0], scores[2, 3]])


def test_pick_passes_the_gradient_to_the_picked_scores_only():
    scores = tf.constant(np.random.default_rng(10).normal(size=(3, 4)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(scores)
        total = tf.reduce_sum(autodiff.pick(scores, tf.constant([1, 3, 1])))
    np.testing.assert_array_equal(tape.gradient(total, scores).numpy(), np.eye(4)[[1, 3, 1]])


def test_gradient_of_is_each_items_own_gradient():
    weights = np.random.default_rng(0).normal(size=(5,)).astype("float32")
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    values, grads = autodiff.gradient_of(lambda t: keras.ops.sum(keras.ops.sin(t) * weights, axis=1))(x)
    np.testing.assert_allclose(values, (np.sin(x) * weights).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(grads, np.cos(x) * weights, rtol=1e-5)  # d/dx sin = cos, by hand


def test_ascent_steps_are_plain_gradient_ascent_and_stop_once_every_score_passes():
    # score(x) = -sum((x - 3)^2) per row; a step x += 0.1 * gradient moves x a fifth of the way to 3: x_k = 3 - 3 * 0.8^k.
    steps = autodiff.ascent_steps(lambda x, i, extra: -keras.ops.sum((x - 3.0) ** 2, axis=1),
                                  lambda state, grads, i, extra: (state[0] + extra[0] * grads,))
    start = np.zeros((2, 4), "float32")
    (x,), values, done = steps((start,), (np.float32(0.1),), 5, np.inf)
    np.testing.assert_allclose(x, 3 - 3 * 0.8**5 * np.ones((2, 4)), rtol=1e-5)
    np.testing.assert_allclose(values, -4 * (3 * 0.8**4) ** 2, rtol=1e-5)  # the scores before the last step
    assert done == 5
    # The scores before each step: -36, -23.04, -14.75 (past -20: the step after it is not taken).
    (x,), values, done = steps((start,), (np.float32(0.1),), 50, -20.0)
    assert done == 3 and np.allclose(x, 3 - 3 * 0.8**3, rtol=1e-5) and np.allclose(values, -14.7456, rtol=1e-5)


def test_compiled_runs_the_function_on_arrays():
    run = autodiff.compiled(lambda a, b: (keras.ops.max(a, axis=1), a[:, 0] * b))
    top, product = run(np.array([[1, 5], [7, 2]], "float32"), np.array([2, 3], "float32"))
    np.testing.assert_array_equal(top, [5, 7])
    np.testing.assert_array_equal(product, [2, 21])
