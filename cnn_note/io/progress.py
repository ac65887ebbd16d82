"""Progress bars that suit where the code runs: tqdm's widget in Jupyter, Keras' bar in a terminal, one plain line when piped."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable


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


class Bar:
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

    def advance(self, count: float = 1) -> None:
        """`count` more units done."""
        self.to(self.done + count)

    def to(self, done: float) -> None:
        """`done` units done in all."""
        if self._tqdm is not None:
            self._tqdm.update(done - self.done)
        if self._keras is not None:
            self._keras.update(done)
        self.done = done

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
