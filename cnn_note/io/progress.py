"""How work reports as it goes: one callback protocol, the progress bar and the animation's frames among its callbacks.

A computation that takes a while (an ascent, a dream, a pass over a dataset, explaining a batch) is handed one
Callback and tells it three things: a run begins, some work is done (and, at the moments an animation wants, the
pictures as they are), the work ends. Bar draws progress where the code runs (tqdm's widget in Jupyter, Keras' bar in a
terminal, one plain line when piped); Frames keeps the pictures for a GIF; Callbacks hands the news to several.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence

import numpy as np


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's shell there comes from ipykernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__module__.startswith("ipykernel")


def show_figures_inline() -> None:
    """In Jupyter, let a Figure returned by a cell show as a picture: IPython draws one only once pyplot has set its
    inline formatter up, and this package never touches pyplot. A format the user chose is kept."""
    if not in_notebook():
        return
    from IPython import get_ipython
    from IPython.core.pylabtools import select_figure_formats
    from matplotlib.figure import Figure

    def draws_figures(kind: str) -> bool:
        try:
            shell.display_formatter.formatters[kind].lookup_by_type(Figure)
            return True
        except KeyError:
            return False

    shell = get_ipython()
    if not any(draws_figures(kind) for kind in ("image/png", "image/svg+xml", "image/jpeg", "application/pdf")):
        select_figure_formats(shell, {"png"})


def log_lines(log: Callable[[str], None] | None, progress: bool) -> Callable[[str], None]:
    """Where a call's progress lines go: `log` when given, else print, or nowhere when progress is off."""
    return log or (print if progress else (lambda line: None))


def keras_verbosity() -> int:
    """Keras' verbose for fit and Progbar: 1 (a live bar) in a terminal or notebook, 2 (a plain line when done) when piped.

    Keras draws its bar with colour codes and carriage returns whenever it runs on POSIX, tty or not.
    """
    return 1 if in_notebook() or sys.stdout.isatty() else 2


class Callback:
    """What a long computation tells as it goes; subclass it and override what you need (every hook does nothing here).

    The producer calls on_begin() as each run of pictures starts (each chunk of filters ascends as a run of its own),
    on_progress(count, pictures) as work gets done, and on_end() once, when all is done.
    """

    def on_begin(self) -> None:
        """A run of pictures begins: the pictures offered next are of other units than those before."""

    def on_progress(self, count: float, pictures: Callable[[], np.ndarray] | None = None) -> None:
        """`count` more units of work done (steps, pictures; 0 for a snapshot); `pictures()`, offered at the moments an
        animation wants, gives the pictures as they are now, (B, H, W, C), pixels 0..1 (a call, as a copy costs)."""

    def on_end(self) -> None:
        """The work is done (or stopped)."""

    def __enter__(self) -> Callback:
        return self

    def __exit__(self, *exc) -> None:
        self.on_end()


class Callbacks(Callback):
    """Several callbacks heard as one, in order; None entries are left out."""

    def __init__(self, callbacks: Sequence[Callback | None]) -> None:
        self.callbacks = [callback for callback in callbacks if callback is not None]

    def on_begin(self) -> None:
        for callback in self.callbacks:
            callback.on_begin()

    def on_progress(self, count: float, pictures: Callable[[], np.ndarray] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_progress(count, pictures)

    def on_end(self) -> None:
        for callback in self.callbacks:
            callback.on_end()


NO_CALLBACK = Callback()  # hears nothing: the default where no one listens


class Frames(Callback):
    """Keeps the pictures offered, for an animation: `frames` is one (B, H, W, C) array a moment, the runs' pictures of
    that moment joined (the chunks of a layer's filters, ascended one after another, become one frame a moment)."""

    def __init__(self) -> None:
        self.runs: list[list[np.ndarray]] = []

    def on_begin(self) -> None:
        self.runs.append([])

    def on_progress(self, count: float, pictures: Callable[[], np.ndarray] | None = None) -> None:
        if pictures is not None:
            if not self.runs:
                self.on_begin()
            self.runs[-1].append(np.asarray(pictures()))

    @property
    def frames(self) -> list[np.ndarray]:
        """The pictures at each moment, the runs joined along the batch."""
        return [np.concatenate(moment) for moment in zip(*self.runs)]


class Bar(Callback):
    """A bar over `total` units of work (steps, pictures), or nothing at all when not `shown`."""

    def __init__(self, total: float, what: str, unit: str = "step", shown: bool = True) -> None:
        self.done, self._tqdm, self._keras = 0.0, None, None
        if not shown or total <= 0:
            return
        if in_notebook():
            # tqdm's widget where ipywidgets is installed (Colab has it), else its text bar, without tqdm.auto's warning.
            if importlib.util.find_spec("ipywidgets"):
                from tqdm.notebook import tqdm
            else:
                from tqdm import tqdm
            self._tqdm = tqdm(total=total, desc=what, unit=unit, leave=False)
        else:
            from cnn_note.backend import keras

            self._keras = keras.utils.Progbar(total, unit_name=unit, verbose=keras_verbosity())

    def on_progress(self, count: float = 1, pictures: Callable[[], np.ndarray] | None = None) -> None:
        """`count` more units done."""
        if count:
            self.to(self.done + count)

    def to(self, done: float) -> None:
        """`done` units done in all."""
        if self._tqdm is not None:
            self._tqdm.update(done - self.done)
        if self._keras is not None:
            self._keras.update(done)
        self.done = done

    def on_end(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
