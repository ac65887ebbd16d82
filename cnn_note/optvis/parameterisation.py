"""What the ascent moves, as Lucid's `param_f`: a parameterisation is one object, looked up by name.

Lucid's render loop takes `param_f` (what makes the picture from what moves), an optimiser and a list of
transforms. Here one Parameterisation holds all three for one way of drawing: where the ascent starts, how what
moves becomes pixels, the step it takes, the ascent settings it honours and the random moves its pictures are
scored under. The render loop (render.py) knows none of them by name.

Adding one: a module of this package holding a subclass of Parameterisation as PARAMETERISATION, and its name and
module in settings.PARAMS, which param= and --param's choices read (see docs/own-model.md).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable

import numpy as np

from cnn_note import settings
from cnn_note.backend import keras
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.optvis import ascent, transforms

ASCENT_SETTINGS = tuple(field.name for field in dataclasses.fields(ascent.AscentSettings))


class Parameterisation:
    """One way of drawing a picture by gradient ascent: what moves, how it becomes pixels, and the step it takes.

    A subclass gives start, to_pixels and step (and state and extra, where its step carries more than what moves from
    call to call), and says which settings it honours.

    Attributes:
        name: what param= and --param call it (its key in settings.PARAMS).
        honours: the ascent settings (AscentSettings' fields) it uses; one it ignores is refused when set (see choose).
        moves: the random moves (Lucid's transforms) each step scores the pictures under; None: none.
        prior: how classes.png names the prior that its pictures are drawn with.
    """

    name: str = ""
    honours: tuple[str, ...] = ASCENT_SETTINGS
    moves: transforms.Moves | None = None
    prior: str = ""

    def start(self, count: int, height: int, width: int, channels: int, seed: int) -> np.ndarray:
        """Where `count` ascents begin, seeded: what moves, as a float32 array."""
        raise NotImplementedError

    def to_pixels(self, moving, height: int, width: int):
        """The pictures (B, height, width, C), pixels 0..1, that what moves stands for."""
        raise NotImplementedError

    def step(self, objective: ascent.Objective, height: int, width: int) -> Callable:
        """The compiled steps (core.autodiff.ascent_steps) that raise `objective` of height x width pictures."""
        raise NotImplementedError

    def state(self, starts: np.ndarray) -> tuple:
        """The steps' first state: what moves, then whatever rides along with it (an optimiser's moments)."""
        return (np.asarray(starts, "float32"),)

    def extra(self, settings: ascent.AscentSettings, count: int) -> Callable[[int], tuple]:
        """Each call's extra inputs to the steps for `count` pictures, given the steps done so far."""
        return lambda done: ()

    def pictures(self, moving, height: int, width: int) -> np.ndarray:
        """to_pixels on an array (or the steps' tensor): the pictures, as an array."""
        return keras.ops.convert_to_numpy(self.to_pixels(keras.ops.convert_to_tensor(moving), height, width))

    def ascend(self, objective: ascent.Objective, starts: np.ndarray, height: int, width: int, settings: ascent.AscentSettings,
               callback: Callback = NO_CALLBACK, stop_above: float | None = None, every: int = ascent.STEPS_PER_CALL) -> np.ndarray:
        """`settings.steps` steps from `starts` (from start()); the pictures, pixels 0..1 (see ascent.drive for the rest)."""

        def pictures(state: tuple) -> np.ndarray:
            return self.pictures(state[0], height, width)

        state = ascent.drive(self.step(objective, height, width), self.state(starts), self.extra(settings, len(starts)), settings, pictures,
                             callback, stop_above, every)
        return pictures(state)


def named(name: str) -> Parameterisation:
    """The parameterisation of that name, from the module settings.PARAMS gives for it."""
    return importlib.import_module(settings.PARAMS[name]).PARAMETERISATION


def choose(channels: int, chosen: settings.PictureSettings) -> Parameterisation:
    """The parameterisation `chosen.param` names, else Fourier-basis pictures for a colour model and pixels for a grey one.

    Raises:
        InputError: an ascent setting it ignores, set to other than its default (the scripts give every setting, so
            one at its default is one left out).
    """
    param = named(chosen.param or ("fourier" if channels == 3 else "pixels"))
    for name in ASCENT_SETTINGS:
        value = getattr(chosen, name)
        if name not in param.honours and value != getattr(type(chosen), name):
            others = [Argument("param", other) for other in settings.PARAMS if name in named(other).honours]
            raise InputError(Argument(name, value), " does nothing with ", Argument("param", param.name),
                             " (the default for this model)" if chosen.param is None else "", ": leave it out",
                             *([", or choose ", *others[:1]] if others else []))
    return param
