"""A Fourier-basis picture with decorrelated colour, through a sigmoid, climbed by Adam under random moves.

As Olah, Mordvintsev and Schubert's "Feature Visualization" (Distill 2017) describes and Lucid's
param.image(fft=True, decorrelate=True) builds it: each picture is the inverse real FFT of a
spectrum whose frequencies are scaled by 1/f, so a step changes coarse structure as readily as
fine; its three channels are mixed by the square root of ImageNet's colour correlation, so a step
moves along natural colours; a sigmoid maps it to 0..1, so no pixel is ever clipped. Each step
scores every picture under its own random move (transforms.LUCID) and takes Lucid's Adam step:
the rate and the moves are Lucid's, so of the ascent settings only steps and seed apply.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import autodiff
from cnn_note.optvis import ascent, transforms
from cnn_note.optvis.parameterisation import Parameterisation

# Lucid's color_correlation_svd_sqrt (ImageNet's colour covariance), its columns scaled to at most unit norm.
COLOR_CORRELATION_SVD_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], "float32")
COLOR = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
START_SPREAD = 0.01  # Lucid's sd of the starting spectrum: a near-grey picture
LEARNING_RATE = 0.05  # Lucid's Adam rate for Fourier-basis pictures


def spectrum_scale(height: int, width: int, decay: float = 1.0) -> np.ndarray:
    """1/f for each frequency of an rfft2d of height x width (the lowest clamped to 1/side), times sqrt(pixels), as Lucid has it."""
    frequencies = np.sqrt(np.fft.fftfreq(height)[:, None] ** 2 + np.fft.rfftfreq(width)[None, :] ** 2)
    return (np.sqrt(width * height) / np.maximum(frequencies, 1.0 / max(width, height)) ** decay).astype("float32")


class Fourier(Parameterisation):
    """Spectra (B, C, height, width // 2 + 1, 2) of real and imaginary parts, climbed by Adam under Lucid's moves."""

    name = "fourier"
    honours = ("steps", "seed")
    moves = transforms.LUCID
    prior = "Fourier basis, random moves"

    def start(self, count: int, height: int, width: int, channels: int, seed: int) -> np.ndarray:
        """Small seeded spectra: a near-grey picture each."""
        rng = np.random.default_rng(seed)
        return (START_SPREAD * rng.standard_normal((count, channels, height, width // 2 + 1, 2))).astype("float32")

    def to_pixels(self, moving, height: int, width: int):
        """Spectra to pictures: 1/f-scaled inverse real FFT, a quarter of it, colour decorrelated (3 channels), sigmoid."""
        scale = keras.ops.convert_to_tensor(spectrum_scale(height, width))
        images = keras.ops.transpose(irfft2d(moving[..., 0] * scale, moving[..., 1] * scale, height, width), [0, 2, 3, 1]) / 4.0
        if images.shape[-1] == 3:
            images = keras.ops.tensordot(images, COLOR.T, axes=1)
        return keras.ops.sigmoid(images)

    def step(self, objective: ascent.Objective, height: int, width: int) -> Callable:
        """Each step scores every picture under its own random move and takes an Adam step on the spectra (Lucid's:
        learning rate 0.05, TensorFlow 1's Adam)."""
        beta1, beta2, epsilon = 0.9, 0.999, 1e-8

        def score(spectra, i, extra):
            drawn, _ = extra
            return objective(transforms.moved(self.to_pixels(spectra, height, width), self.moves, drawn[i]))

        def advance(state, grads, i, extra):
            spectra, first, second = state
            t = keras.ops.cast(extra[1] + i + 1, "float32")
            first = beta1 * first + (1 - beta1) * grads
            second = beta2 * second + (1 - beta2) * keras.ops.square(grads)
            rate = LEARNING_RATE * keras.ops.sqrt(1 - beta2**t) / (1 - beta1**t)
            return spectra + rate * first / (keras.ops.sqrt(second) + epsilon), first, second

        return autodiff.ascent_steps(score, advance)

    def state(self, starts: np.ndarray) -> tuple:
        """The spectra and Adam's two moments, zero."""
        return starts, np.zeros_like(starts), np.zeros_like(starts)

    def extra(self, settings: ascent.AscentSettings, count: int) -> Callable[[int], tuple]:
        """Each call's random moves (transforms.draws: one seed pair per step, (seed, steps done)) and the steps done
        (Adam's step count)."""
        return lambda done: (transforms.draws(count, settings.seed, range(done, done + ascent.STEPS_PER_CALL)),
                             np.int32(done))


def irfft2d(real, imaginary, height: int, width: int):
    """The inverse real FFT over the last two axes of a spectrum (..., height, width // 2 + 1) given as its real and
    imaginary parts, as numpy's irfft2: keras.ops has the inverse FFT of one axis (the last) and the forward complex one,
    so the columns' inverse is a forward FFT of the conjugate, conjugated, over height."""
    columns = [keras.ops.swapaxes(part, -1, -2) for part in (real, imaginary)]  # (..., width // 2 + 1, height)
    real, imaginary = keras.ops.fft((columns[0], -columns[1]))
    real, imaginary = (keras.ops.swapaxes(part, -1, -2) / height for part in (real, -imaginary))
    return keras.ops.irfft((real, imaginary), fft_length=width)


PARAMETERISATION = Fourier()
