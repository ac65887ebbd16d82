"""The atlas's live page: its model (and a model beside it, the note's DNN) exported, a few dozen inputs shipped with it,
live.html written beside the index; or one line saying why there is none, the rest of the atlas made as always."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cnn_note.core import inputs
from cnn_note.errors import InputError
from cnn_note.io import imaging
from cnn_note.live import export, page
from cnn_note.network_atlas.plan import Plan

SHIPPED = 36  # inputs the page can load with a click: the atlas's first ones (the MNIST test digits 0-35 for the note)


def page_size(plan: Plan) -> tuple[int, int]:
    """The input size the page runs at: the model's own, else its first input's, else the pictures' canvas."""
    if plan.view.size:
        return plan.view.size
    if plan.source is not None:
        return tuple(plan.source.picture(0).shape[:2])
    return (plan.chosen.size, plan.chosen.size)


def shipped_inputs(plan: Plan, size: tuple[int, int]) -> str | None:
    """The first SHIPPED inputs of the atlas's examples, at the page's size, with their labels when known, as a script."""
    source = plan.source
    if source is None:
        return None
    count = min(SHIPPED, len(source))
    pictures = np.stack([source.picture(index) for index in range(count)])
    if pictures.shape[1:3] != tuple(size):
        pictures = imaging.resize_area(pictures, size)
    labels = getattr(source, "labels", None)
    return page.inputs_script(pictures, None if labels is None else [int(label) for label in labels[:count]],
                              list(range(count)), source.names[:count] if source.names else None)


def write(plan: Plan, beside=None, log: Callable[[str], None] = print) -> str | None:
    """live.html for the atlas `plan` makes, with `beside` (a model, a file or a View, as view_of takes; None: none)
    answering next to it; returns the page's path, or None after one line saying why there is no page."""
    view = plan.view
    views = [view] + ([inputs.view_of(beside, maps=False)] if beside is not None else [])  # a View is taken as it is
    for seen in views:
        why = export.refusal(seen)
        if why:
            log(why)
            return None
    size = page_size(plan)
    if any(seen.size and seen.size != size for seen in views[1:]):
        log(f"no live page: the model beside takes {views[1].size[0]}x{views[1].size[1]} inputs, the atlas's model "
            f"{size[0]}x{size[1]}: give one of the same input size")
        return None
    names = view.class_names(plan.class_names) if view.classes() else None
    try:
        models = [export.export(seen, seen.model.name, size, plan.layers if seen is view else (), plan.keys if seen is view else {},
                                names if names and seen.classes() == len(names) else None) for seen in views]
    except InputError as error:
        log(f"no live page: {error}")
        return None
    names = [model.spec["name"] for model in models]  # the models' own names: two files are both model.keras
    title = f"Live: {names[0]}" + (f", with {names[1]} beside it" if len(names) > 1 else "")
    return page.write(plan.out, title, models, shipped_inputs(plan, size))
