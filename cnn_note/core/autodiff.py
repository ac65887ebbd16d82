"""The one place that differentiates, on the backend Keras runs on, compiled once per shape: a score of a model's outputs
and its gradient with respect to chosen inputs (`differentiate`; the View's memo keeps what is built here), a score of
a tensor and its gradient (`gradient_of`: a dream's tiles), and many ascent steps in one call (`ascent_steps`).

- TensorFlow: tf.GradientTape inside a tf.function of fixed input signatures (traced once per picture size);
- JAX: jax.grad over the model's stateless_call inside jax.jit, the variables passed in at each call (so a model
  trained since is differentiated as it is now, as the tf.function reads its variables);
- PyTorch: autograd (torch.autograd.grad) on the model's call.

Everything around it (the score, which class, the maps) is keras.ops or numpy, the same on each backend. Keras has
no backend-neutral gradient yet (keras-team/keras#19220); this follows its guides "writing a training loop from
scratch" for JAX and PyTorch.
May import: backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnn_note.backend import keras

Spec = tuple[tuple, str]  # one input's shape without the batch, and its dtype


def backend() -> str:
    """The backend Keras runs on: "tensorflow", "jax" or "torch"."""
    return keras.backend.backend()


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


def compiled(function: Callable) -> Callable:
    """function(*tensors), keras.ops, compiled once per shape (tf.function, jax.jit; on PyTorch run as it is, with no
    gradient kept); takes arrays and gives numpy."""
    if backend() == "tensorflow":
        import tensorflow as tf

        run = tf.function(function)
    elif backend() == "jax":
        import jax

        run = jax.jit(function)
    else:
        import torch

        run = torch.no_grad()(function)
    return lambda *given: _numpy(run(*(keras.ops.convert_to_tensor(value) for value in given)))


def gradient_of(score: Callable) -> Callable:
    """run(x) -> (score(x) (N,), d sum(score(x)) / dx), as numpy, compiled once per shape of x (a dream's tiles).

    `score` is keras.ops from a batch (N, ...) to one value per item; items do not interact, so the gradient of the sum
    is each one's own.
    """
    return {"tensorflow": _tensorflow_gradient, "jax": _jax_gradient, "torch": _torch_gradient}[backend()](score)


def ascent_steps(score: Callable, advance: Callable) -> Callable:
    """run(state, extra, count, stop_above) -> (state, values, steps run): up to `count` ascent steps in one call.

    The state's first part is what moves (pictures, or their spectra); the rest rides along (an optimiser's moments).
    `score(moving, i, extra)` gives each picture's score at step i of the call and `advance(state, grads, i, extra)` the
    next state, both keras.ops; `extra` is what changes from call to call (arrays). Stops before a step once every
    picture scored above `stop_above`. `values` are the scores before the last step run. Compiled once per shape: the
    loop itself runs inside TensorFlow or XLA (one Python round trip per call, not per step); on PyTorch, eagerly.
    """
    make = {"tensorflow": _tensorflow_steps, "jax": _jax_steps, "torch": _torch_steps}[backend()]
    run = make(score, advance)

    def steps(state, extra, count: int, stop_above: float):
        state, extra = (keras.tree.map_structure(keras.ops.convert_to_tensor, part) for part in (tuple(state), tuple(extra)))
        count, stop_above = keras.ops.convert_to_tensor(count, "int32"), keras.ops.convert_to_tensor(stop_above, "float32")
        state, values, done = run(state, extra, count, stop_above)
        return tuple(state), keras.ops.convert_to_numpy(values), int(done)

    steps.compiled = run  # the backend's compiled function (a tf.function, a jax.jit), to count its traces
    return steps


def _tensorflow_gradient(score):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            values = score(x)
            total = tf.reduce_sum(values)
        return values, tape.gradient(total, x)

    return lambda x: _numpy(run(tf.convert_to_tensor(x)))


def _jax_gradient(score):
    import jax

    def total(x):
        values = score(x)
        return jax.numpy.sum(values), values

    compiled = jax.jit(jax.grad(total, has_aux=True))

    def run(x):
        grads, values = compiled(jax.numpy.asarray(x))
        return _numpy((values, grads))

    return run


def _torch_gradient(score):
    import torch

    def run(x):
        x = keras.ops.convert_to_tensor(np.asarray(x)).requires_grad_(True)
        values = score(x)
        grads = torch.autograd.grad(values.sum(), x)[0]
        return _numpy((values.detach(), grads))

    return run


def _tensorflow_steps(score, advance):
    import tensorflow as tf

    @tf.function
    def run(state, extra, count, stop_above):
        values = tf.fill(tf.shape(state[0])[:1], -np.inf)
        done = tf.constant(0)
        for i in tf.range(count):
            if tf.reduce_min(values) > stop_above:
                break
            with tf.GradientTape() as tape:
                tape.watch(state[0])
                values = score(state[0], i, extra)
                total = tf.reduce_sum(values)
            state = advance(state, tape.gradient(total, state[0]), i, extra)
            done += 1
        return state, values, done

    return run


def _jax_steps(score, advance):
    import jax

    jnp = jax.numpy

    def total(moving, i, extra):
        values = score(moving, i, extra)
        return jnp.sum(values), values

    grad = jax.grad(total, has_aux=True)

    @jax.jit
    def run(state, extra, count, stop_above):
        def going(carry):
            _, values, done = carry
            return (done < count) & ~(jnp.min(values) > stop_above)

        def step(carry):
            state, _, done = carry
            grads, values = grad(state[0], done, extra)
            return tuple(advance(state, grads, done, extra)), values.astype("float32"), done + 1

        start = (tuple(state), jnp.full(state[0].shape[:1], -jnp.inf, "float32"), jnp.asarray(0, "int32"))
        return jax.lax.while_loop(going, step, start)

    return run


def _torch_steps(score, advance):
    import torch

    def run(state, extra, count, stop_above):
        values, done = torch.full(state[0].shape[:1], -np.inf), 0
        for i in range(int(count)):
            if values.min() > stop_above:
                break
            moving = state[0].detach().requires_grad_(True)
            values = score(moving, i, extra)
            grads = torch.autograd.grad(values.sum(), moving)[0]
            with torch.no_grad():
                state = tuple(advance((moving.detach(), *state[1:]), grads, i, extra))
            values, done = values.detach(), done + 1
        return state, values, done

    return run
