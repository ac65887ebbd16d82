"""Run in a process of its own under KERAS_BACKEND=jax or torch by tests/core/test_backends.py: no test functions here.

    python tests/backend_probe.py MODEL.keras PICTURES.npz OUT.npz

Writes, computed on the backend the process runs on: every tool's answers (`answers`: every attribution method's maps
by cn.explain for the pictures' classes, the feature maps of layer "conv", filter pictures by pixels and by Fourier
spectra under random moves, class pictures, a dream, dataset examples, an atlas's arrays and its live page), and the
class logits' gradient by that backend's own autodiff written out here (jax.grad over the model's stateless_call;
torch.autograd.grad) and by finite differences at one pixel. tests/core/test_backends.py calls `answers` on TensorFlow
too, in its own process, and `trained`: the note's training recipe from the same weights.
"""

from __future__ import annotations

import glob
import hashlib
import os
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


def finite_difference(model: keras.Model, pictures: np.ndarray, classes: np.ndarray, at: tuple) -> float:
    """d logit[class] / d pixel `at` of picture 0, by central differences (float32, a step of 1e-2: about 1e-4 close)."""
    logits = keras.Model(model.inputs, model.get_layer("logits").output)
    moved = np.repeat(pictures[:1], 2, axis=0)
    moved[(0, *at)] += 1e-2
    moved[(1, *at)] -= 1e-2
    out = keras.ops.convert_to_numpy(logits(moved))[:, classes[0]].astype("float64")
    return (out[0] - out[1]) / 2e-2


def answers(model: keras.Model, pictures: np.ndarray, classes: np.ndarray, folder: str) -> dict:
    """Every tool's answers on the backend Keras runs on, few steps each, as arrays."""
    explained = cn.explain(model, pictures, classes, progress=False, samples=8, steps=32, lime_samples=100)
    found = {f"map_{name}": values for name, values in explained.maps.items()}
    found["feature_maps"] = cn.feature_maps(model, pictures[0], ["conv"])["conv"]
    quiet = dict(size=13, steps=30, progress=False)
    found["filters_pixels"] = cn.filter_pictures(model, "conv", [0, 2, 5], examples=0, **quiet).images
    found["filters_fourier"] = cn.filter_pictures(model, "conv", [0, 2, 5], examples=0, param="fourier", **quiet).images
    found["classes"] = cn.class_pictures(model, [0, 3], **quiet).images
    found["dream"] = np.asarray(cn.deep_dream(model, pictures[:1], layers={"conv": 1.0}, steps=5, octaves=1, progress=False))
    ranked = cn.filter_pictures(model, "conv", [0, 2], examples=1, examples_from=pictures, size=13, steps=1, progress=False).examples
    found["examples"] = np.concatenate([ranked.top, ranked.bottom], axis=1)
    found["examples_activations"] = np.concatenate([ranked.top_activations, ranked.bottom_activations, ranked.best_mean[:, None]], axis=1)
    out = cn.atlas(model, f"{folder}/atlas", examples=1, examples_from=pictures, class_inputs=3, size=13, steps=10, progress=False)
    for name in ("patterns", "connections"):
        with np.load(f"{out}/{name}.npz") as saved:
            found.update({f"atlas_{name}_{key}": saved[key] for key in saved.files if saved[key].dtype.kind in "fiu"})
    # Trained since: the View kept on the model (and what it compiled) computes with the weights as they are now.
    conv = model.get_layer("conv")
    kernel = keras.ops.convert_to_numpy(conv.kernel)
    conv.kernel.assign(kernel * 2.0)
    again = cn.filter_pictures(model, "conv", [0, 2], examples=1, examples_from=pictures, size=13, steps=1, progress=False).examples
    found["examples_after_training"] = np.concatenate([again.top_activations, again.bottom_activations], axis=1)
    conv.kernel.assign(kernel)
    live = sorted(glob.glob(f"{out}/live/*")) + [f"{out}/live.html"]  # the live page and the model it runs, as written
    found["live_files"] = np.array([f"{os.path.basename(path)} {hashlib.sha256(open(path, 'rb').read()).hexdigest()}" for path in live])
    return found


def trained(folder: str) -> dict:
    """The note's recipe (note.training.fit) for 2 epochs on 64 random digits in one batch, from the weights saved in
    `folder`: losses, scores and the last layer's weights (one batch: no shuffling's order to differ between backends)."""
    from cnn_note.note import training

    model = keras.saving.load_model(f"{folder}/note_cnn.keras")
    with np.load(f"{folder}/digits.npz") as saved:
        digits = (saved["x"], saved["y"])
    config = training.Config(epochs=2, batch_size=64, train_samples=64, epoch_test_samples=0, verbose=0)
    run = training.fit(model, config, digits, digits)
    return {"trained_loss": np.array(run.history["loss"]), "trained_scores": np.array([run.train_loss, run.train_acc]),
            "trained_weights": keras.ops.convert_to_numpy(model.layers[-1].kernel)}


def main(model_path: str, pictures_path: str, out: str) -> None:
    model = keras.saving.load_model(model_path)
    with np.load(pictures_path) as saved:
        pictures, classes = saved["pictures"], saved["classes"]
    found = {**answers(model, pictures, classes, os.path.dirname(out)), **trained(os.path.dirname(model_path))}
    found["by_hand"] = by_hand(model, pictures, classes)
    found["finite_difference"] = np.array(finite_difference(model, pictures, classes, (4, 7, 0)))
    found["backend"] = np.array(keras.backend.backend())
    np.savez(out, **found)


if __name__ == "__main__":
    main(*sys.argv[1:])
