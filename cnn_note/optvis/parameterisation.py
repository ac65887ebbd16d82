"""What the ascent moves for natural-image networks: a Fourier-basis image with decorrelated colour, through a sigmoid.

As Olah, Mordvintsev and Schubert's "Feature Visualization" (Distill 2017) describes and Lucid's
param.image(fft=True, decorrelate=True) builds it: each picture is the inverse real FFT of a
spectrum whose frequencies are scaled by 1/f, so a step changes coarse structure as readily as
fine; its three channels are mixed by the square root of ImageNet's colour correlation, so a step
moves along natural colours; a sigmoid maps it to 0..1, so no pixel is ever clipped.
"""

from __future__ import annotations

import numpy as np

from cnn_note.backend import tf

# Lucid's color_correlation_svd_sqrt (ImageNet's colour covariance), its columns scaled to at most unit norm.
COLOR_CORRELATION_SVD_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], "float32")
COLOR = COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
START_SPREAD = 0.01  # Lucid's sd of the starting spectrum: a near-grey picture


def spectrum_scale(height: int, width: int, decay: float = 1.0) -> np.ndarray:
    """1/f for each frequency of an rfft2d of height x width (the lowest clamped to 1/side), times sqrt(pixels), as Lucid has it."""
    frequencies = np.sqrt(np.fft.fftfreq(height)[:, None] ** 2 + np.fft.rfftfreq(width)[None, :] ** 2)
    return (np.sqrt(width * height) / np.maximum(frequencies, 1.0 / max(width, height)) ** decay).astype("float32")


def start(count: int, height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    """Starting spectra (count, channels, height, width // 2 + 1, 2): real and imaginary parts, small and seeded."""
    rng = np.random.default_rng(seed)
    return (START_SPREAD * rng.standard_normal((count, channels, height, width // 2 + 1, 2))).astype("float32")


def to_pixels(spectra: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """Spectra (B, C, h, w//2+1, 2) to pictures (B, height, width, C) with pixels in 0..1."""
    scale = tf.constant(spectrum_scale(height, width))
    complex_spectra = tf.complex(spectra[..., 0] * scale, spectra[..., 1] * scale)
    images = tf.transpose(tf.signal.irfft2d(complex_spectra, fft_length=[height, width]), [0, 2, 3, 1]) / 4.0
    if images.shape[-1] == 3:
        images = tf.tensordot(images, tf.constant(COLOR.T), axes=1)
    return tf.sigmoid(images)


def choose(channels: int, asked: str | None) -> str:
    """What the ascent moves: as asked, else Fourier-basis pictures for a colour model and pixels for a grey one."""
    return asked or ("fourier" if channels == 3 else "pixels")
