"""Which attribution methods run: those asked, checked, with a method that needs a layer left out where the model has none."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cnn_note.attribution.methods import METHODS
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError


def methods_of(view: View, asked: Sequence[str] | str | None, layer: str | None, log: Callable[[str], None] = print) -> list[str]:
    """The methods to run: those asked (a list, or comma-separated), else all; a method that needs a layer (Grad-CAM) needs
    a 4-D one (skipped with a line when defaulted, refused when asked); an unknown, doubled or empty choice is refused."""
    methods = list(METHODS) if asked is None else \
        [name.strip() for name in (asked.split(",") if isinstance(asked, str) else asked)]
    if not any(methods):
        raise InputError(Argument("methods", python=f"methods={asked!r}"), f" is empty: name at least one of {', '.join(METHODS)}")
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise InputError(f"unknown method {unknown[0]!r} in ", Argument("methods"), f": choose from {', '.join(METHODS)}")
    twice = next((name for index, name in enumerate(methods) if name in methods[:index]), None)
    if twice:
        raise InputError(Argument("methods"), f" names {twice} twice: give each method once")
    return _applicable(view, methods, asked is not None, layer, log)


def _applicable(view: View, methods: list[str], asked: bool, layer: str | None, log: Callable[[str], None]) -> list[str]:
    """The methods whose needs the model meets: one it does not meet is refused when asked, else left out (with a line,
    except the attention maps on a model with no attention at all: a CNN's run is as it always was)."""
    kept = []
    for name in methods:
        needs = METHODS[name].needs
        try:
            if needs == "layer" and layer is None:
                raise InputError(f"{name} needs a layer with a (batch, height, width, channels) output and {view.label} has none "
                                 f"(a DNN's layers are vectors): leave {name} out of ", Argument("methods"))
            if needs == "attention":
                METHODS[name].layers(view)
            kept.append(name)
        except InputError as error:
            if asked:
                raise
            if needs == "layer":
                log(f"{name}: skipped ({view.label} has no layer with a (batch, height, width, channels) output)")
            elif view.attention_layers():
                log(f"{name}: skipped ({error})")
    return kept
