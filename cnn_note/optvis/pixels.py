"""The pixels themselves move: normalised gradient steps with jitter and a light blur, pixels kept in 0..1.

The note's way (and Keras' filter-visualisation example's), right for small grey networks such as its CNN: each
step scores a copy rolled by a random shift of up to `jitter` pixels, moves `step_size` along the gradient scaled
to a mean magnitude of 1, clips to 0..1 and mixes in `blur` of a 3x3 blur (ascent.update, which dreams share).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note.core import autodiff
from cnn_note.optvis import ascent
from cnn_note.optvis.parameterisation import Parameterisation


class Pixels(Parameterisation):
    """Pixels from grey with a little noise, climbed by normalised gradient steps under jitter and blur."""

    name = "pixels"
    prior = "with jitter and blur"

    def start(self, count: int, height: int, width: int, channels: int, seed: int) -> np.ndarray:
        """Grey canvases with a little seeded noise (ascent.start_images)."""
        return ascent.start_images(count, height, width, seed, channels)

    def to_pixels(self, moving, height: int, width: int):
        """What moves is the pictures."""
        return moving

    def step(self, objective: ascent.Objective, height: int, width: int) -> Callable:
        """Each step scores a shifted copy (jitter), then ascent.update()."""

        def score(images, i, extra):
            shifts = extra[0]
            # Jitter: score a shifted copy, so the picture cannot rely on exact pixel positions.
            return objective(ascent.roll(images, shifts[i]))

        def advance(state, grads, i, extra):
            _, step_size, blur = extra
            return (ascent.update(state[0], grads, step_size, blur),)

        return autodiff.ascent_steps(score, advance)

    def extra(self, settings: ascent.AscentSettings, count: int) -> Callable[[int], tuple]:
        """Each call's jitter shifts, step size and blur."""
        rng = np.random.default_rng(settings.seed)
        # STEPS_PER_CALL shifts per call's worth, drawn one block at a time as ever, so the same seed moves the same way.
        shifts = np.concatenate([rng.integers(-settings.jitter, settings.jitter + 1, size=(ascent.STEPS_PER_CALL, 2))
                                 for _ in range(-(-settings.steps // ascent.STEPS_PER_CALL))]
                                + [np.zeros((ascent.STEPS_PER_CALL, 2), int)])
        step_size, blur = (np.float32(value) for value in (settings.step_size, settings.blur))

        def extra(done: int) -> tuple:
            # Always STEPS_PER_CALL shifts, so every call has the same shapes and reuses the trace.
            return shifts[done:done + ascent.STEPS_PER_CALL].astype("int32"), step_size, blur

        return extra


PARAMETERISATION = Pixels()
