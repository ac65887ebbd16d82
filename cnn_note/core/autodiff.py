"""The one place that differentiates: a score of a model's outputs, and its gradient with respect to chosen inputs, on
the backend Keras runs on, compiled once (the View's memo keeps what is built here).

- TensorFlow: tf.GradientTape inside a tf.function of fixed input signatures (traced once per picture size);
- JAX: jax.grad over the model's stateless_call inside jax.jit, the variables passed in at each call (so a model
  trained since is differentiated as it is now, as the tf.function reads its variables);
- PyTorch: autograd (torch.autograd.grad) on the model's call.

Everything around it (the score, which class, the maps) is keras.ops or numpy, the same on each backend. Keras has
no backend-neutral gradient yet (keras-team/keras#19220); this follows its guides "writing a training loop from
scratch" for JAX and PyTorch.
May import: errors, backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnn_note.backend import keras
from cnn_note.errors import InputError

Spec = tuple[tuple, str]  # one input's shape without the batch, and its dtype


def backend() -> str:
    """The backend Keras runs on: "tensorflow", "jax" or "torch"."""
    return keras.backend.backend()


def require_tensorflow(what: str) -> None:
    """One line when Keras runs on another backend than TensorFlow, for a tool that runs on TensorFlow only for now."""
    if backend() != "tensorflow":
        raise InputError(f"{what} run on TensorFlow only for now, and Keras runs on {backend()} here (KERAS_BACKEND): set "
                         f"KERAS_BACKEND=tensorflow for them; on {backend()}, cn.explain and explain.py (every method) and "
                         "cn.feature_maps run")


def pick(scores, classes):
    """Scores (B, classes) to picture b's score of class classes[b]: (B,), in keras.ops (any backend)."""
    return keras.ops.take_along_axis(scores, keras.ops.reshape(classes, (-1, 1)), axis=1)[:, 0]


def differentiate(model: keras.Model, score: Callable, inputs: Sequence[Spec], extra: Sequence[Spec] = (),
                  wrt: Sequence[int] | None = None, then: Callable | None = None) -> Callable:
    """run(*inputs, *extra) -> (values (N,), the model's outputs, [d sum(values) / d each input in `wrt`]), as numpy.

    `values` is score(the model's outputs, *extra), one per picture; pictures do not interact, so the gradient of the
    sum is each picture's own. `inputs` and `extra` are the specs of the model's inputs and of what the score takes
    besides (the classes); `wrt` the indices of the inputs to differentiate (default: all). `then(values, outputs,
    grads)`, in keras.ops, runs inside the compiled function on what it found, and its answer is returned instead
    (Grad-CAM's weighting, compiled with the gradient as it always was).
    """
    wrt = list(range(len(inputs))) if wrt is None else list(wrt)
    then = then or (lambda values, outputs, grads: (values, outputs, list(grads)))
    make = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}[backend()]
    return make(model, score, list(inputs), list(extra), wrt, then)


def _call(model: keras.Model, inputs: list):
    return model(inputs[0] if len(inputs) == 1 else inputs)


def _numpy(found) -> object:
    return keras.tree.map_structure(keras.ops.convert_to_numpy, found)


def _tensorflow(model, score, inputs, extra, wrt, then):
    import tensorflow as tf

    specs = [tf.TensorSpec((None, *shape), dtype) for shape, dtype in [*inputs, *extra]]

    @tf.function(input_signature=specs)
    def run(*given):
        values_in, rest = list(given[:len(inputs)]), given[len(inputs):]
        with tf.GradientTape() as tape:
            tape.watch([values_in[index] for index in wrt])
            outputs = _call(model, values_in)
            values = score(outputs, *rest)
            total = tf.reduce_sum(values)
        return then(values, outputs, tape.gradient(total, [values_in[index] for index in wrt]))

    return lambda *given: _numpy(run(*given))


def _jax(model, score, inputs, extra, wrt, then):
    import jax

    count = len(inputs)

    def total(chosen, trainable, non_trainable, others, rest):
        values_in = list(others)
        for index, value in zip(wrt, chosen):
            values_in.insert(index, value)
        outputs, _ = model.stateless_call(trainable, non_trainable, values_in[0] if count == 1 else values_in)
        values = score(outputs, *rest)
        return jax.numpy.sum(values), (values, outputs)

    grad = jax.grad(total, has_aux=True)

    @jax.jit
    def compiled(chosen, trainable, non_trainable, others, rest):
        grads, (values, outputs) = grad(chosen, trainable, non_trainable, others, rest)
        return then(values, outputs, list(grads))

    def run(*given):
        values_in, rest = [jax.numpy.asarray(value) for value in given[:count]], [jax.numpy.asarray(v) for v in given[count:]]
        chosen = [values_in[index] for index in wrt]
        others = [value for index, value in enumerate(values_in) if index not in wrt]
        return _numpy(compiled(chosen, [v.value for v in model.trainable_variables],
                               [v.value for v in model.non_trainable_variables], others, rest))

    return run


def _torch(model, score, inputs, extra, wrt, then):
    import torch

    count = len(inputs)

    def run(*given):
        values_in = [keras.ops.convert_to_tensor(np.asarray(value)) for value in given[:count]]  # on Keras' device
        rest = [keras.ops.convert_to_tensor(np.asarray(value)) for value in given[count:]]
        for index in wrt:
            values_in[index].requires_grad_(True)
        outputs = _call(model, values_in)
        values = score(outputs, *rest)
        grads = torch.autograd.grad(values.sum(), [values_in[index] for index in wrt])
        with torch.no_grad():
            return _numpy(then(values.detach(), keras.tree.map_structure(lambda t: t.detach(), outputs), list(grads)))

    return run
