"""Run in a process of its own under KERAS_BACKEND=jax or torch by tests/core/test_backends.py: no test functions here.

    python tests/backend_probe.py MODEL.keras PICTURES.npz OUT.npz

Writes, computed on the backend the process runs on: every attribution method's maps by cn.explain for the pictures'
classes, the feature maps of layer "conv", the class logits' gradient by that backend's own autodiff written out here
(jax.grad over the model's stateless_call; torch.autograd.grad), and each refused tool's one line.
"""

from __future__ import annotations

import sys

import numpy as np

import cnn_note as cn
from cnn_note.backend import keras


def by_hand(model: keras.Model, pictures: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """d logit[class] / d pixels, by the backend's own autodiff (the logit: the last Dense before its softmax)."""
    logits = keras.Model(model.inputs, model.get_layer("logits").output)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def total(x, trainable, non_trainable):
            out, _ = logits.stateless_call(trainable, non_trainable, x)
            return jax.numpy.sum(jax.numpy.take_along_axis(out, jax.numpy.asarray(classes)[:, None], axis=1))

        return np.asarray(jax.grad(total)(jax.numpy.asarray(pictures), [v.value for v in logits.trainable_variables],
                                          [v.value for v in logits.non_trainable_variables]))
    import torch

    x = torch.tensor(pictures, requires_grad=True)
    chosen = torch.take_along_dim(logits(x), torch.tensor(classes)[:, None].long(), dim=1).sum()
    return torch.autograd.grad(chosen, x)[0].numpy()


def refused(call) -> str:
    try:
        call()
    except cn.InputError as error:
        return str(error)
    return "not refused"


def main(model_path: str, pictures_path: str, out: str) -> None:
    model = keras.saving.load_model(model_path)
    with np.load(pictures_path) as saved:
        pictures, classes = saved["pictures"], saved["classes"]
    explained = cn.explain(model, pictures, classes, progress=False, samples=8, steps=32, lime_samples=100)
    found = {f"map_{name}": values for name, values in explained.maps.items()}
    found["by_hand"] = by_hand(model, pictures, classes)
    found["feature_maps"] = cn.feature_maps(model, pictures[0], ["conv"])["conv"]
    found["refused"] = np.array(refused(lambda: cn.filter_pictures(model, "conv", [0], progress=False, examples=0)))
    found["backend"] = np.array(keras.backend.backend())
    np.savez(out, **found)


if __name__ == "__main__":
    main(*sys.argv[1:])
