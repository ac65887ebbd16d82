"""The atlas's live page: its model (and a model beside it, the note's DNN) exported, a few dozen inputs shipped with it,
live.html written beside the index; or one line saying why there is none, the rest of the atlas made as always."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

import numpy as np

from cnn_note.core import inputs
from cnn_note.core.views import View
from cnn_note.errors import Argument, Command, InputError
from cnn_note.io import imaging
from cnn_note.live import export, page
from cnn_note.network_atlas.plan import Plan

SHIPPED = 36  # inputs the page can load with a click: the atlas's first ones (the MNIST test digits 0-35 for the note)
DIGITS = 10  # the MNIST labels the default inputs come with mean something to a classifier of ten classes only


def page_size(plan: Plan) -> tuple[int, int]:
    """The input size the page runs at: the model's own, else its first input's, else the pictures' canvas."""
    if plan.view.size:
        return plan.view.size
    if plan.source is not None:
        return tuple(plan.source.picture(0).shape[:2])
    return (plan.chosen.size, plan.chosen.size)


def beside_view(beside, plan: Plan) -> View | None:
    """The model to answer beside the atlas's on its live page, checked now, before any work: it must take the same
    inputs, be one the page runs, and be a classifier. None stays None.

    Raises:
        InputError: another input size or number of channels, a layer the page does not compute, too many parameters,
            or an output the tools cannot read as classes (see view_of for the rest).
    """
    if beside is None:
        return None
    if isinstance(beside, (str, os.PathLike)) and str(beside).endswith((".keras", ".h5")) and not os.path.exists(beside):
        raise InputError(Argument("beside", os.fspath(beside)), " not found: run `", Command("train_dnn"), "` for the note's DNN, or "
                         "give another model file")
    seen = inputs.view_of(beside, maps=False)
    size, view = page_size(plan), plan.view
    if seen.channels != view.channels or (seen.size and seen.size != tuple(size)):
        takes = f"{seen.size[0]}x{seen.size[1]}x{seen.channels}" if seen.size else f"{seen.channels}-channel pictures of any size"
        raise InputError(Argument("beside", seen.label), f" takes {takes}, {view.label} {size[0]}x{size[1]}x{view.channels}: "
                         "give a model of the same inputs beside it")
    why = export.refusal(seen) or (None if seen.classes() else f"{seen.label} is not a classifier the tools can read")
    if why:
        raise InputError(Argument("beside", seen.label), f" cannot answer on the live page ({why.removeprefix('no live page: ')}): "
                         "give another model, or none")
    return seen


def shipped_inputs(plan: Plan, size: tuple[int, int]) -> str | None:
    """The first SHIPPED inputs of the atlas's examples, at the page's size (each resized where it is not), with their
    labels where they mean classes of the model, as a script."""
    source = plan.source
    if source is None:
        return None
    count = min(SHIPPED, len(source))
    pictures = [source.picture(index) for index in range(count)]
    pictures = np.stack([picture if picture.shape[:2] == tuple(size) else imaging.resize_area(picture, size) for picture in pictures])
    labels, view = getattr(source, "labels", None), plan.view
    meant = labels is not None and view.classes() == DIGITS and view.head.kind != "regression"
    return page.inputs_script(pictures, [int(label) for label in labels[:count]] if meant else None, list(range(count)),
                              source.names[:count] if source.names else None)


def remove(out: str) -> None:
    """An earlier run's live page and its folder, gone: what the atlas no longer makes must not be left stale."""
    if os.path.isfile(os.path.join(out, "live.html")):
        os.remove(os.path.join(out, "live.html"))
    shutil.rmtree(os.path.join(out, page.FOLDER), ignore_errors=True)


def write(plan: Plan, beside: View | None = None, log: Callable[[str], None] = print) -> str | None:
    """live.html for the atlas `plan` makes, with `beside` (see beside_view) answering next to it; returns the page's
    path, or None after one line saying why there is no page."""
    view = plan.view
    why = export.refusal(view)
    if why:
        log(why)
        remove(plan.out)
        return None
    size = page_size(plan)
    names = inputs.class_names(view, plan.class_names) if view.classes() else None
    models = [export.export(view, view.model.name, size, plan.layers, plan.keys, names)]
    if beside is not None:
        models.append(export.export(beside, beside.model.name, size, beside.conv_layer_names(), {},
                                    names if names and beside.classes() == len(names) else None))
    titles = [model.spec["name"] for model in models]  # the models' own names: two files are both model.keras
    title = f"Live: {titles[0]}" + (f", with {titles[1]} beside it" if len(titles) > 1 else "")
    return page.write(plan.out, title, models, shipped_inputs(plan, size))
