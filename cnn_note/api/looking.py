"""cn.filter_pictures, cn.class_pictures, cn.feature_maps: what the filters and classes look for, and a picture's maps."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import dataset_examples, settings
from cnn_note.core import inputs
from cnn_note.core.inputs import pictures_of, view_of
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io import imaging
from cnn_note.io.progress import Bar, Callbacks, Frames, log_lines
from cnn_note.optvis import ascent, parameterisation, render
from cnn_note.results import Pictures


def filter_pictures(model, layer: str, filters: Sequence[int] | None = None, *, input_range=None, preprocess=None,
                    progress: bool = True, frames: bool = False, chunk: int | None = None, examples: int = settings.EXAMPLES,
                    examples_from=None, examples_whole: bool = False, log: Callable[[str], None] | None = None,
                    **how) -> Pictures:
    """What each filter of `layer` looks for: the picture that maximises its mean activation, and the inputs that excite it.

    The pictures are found by gradient ascent from grey, all the filters of the layer at once; on a colour model as
    Distill's "Feature Visualization" draws them (Fourier-basis pictures with decorrelated colour, moved at random
    before every step), on a grey one on the pixels. A layer that ends in a ReLU is climbed before the ReLU. With
    `examples` > 0, one pass over the inputs also ranks them for every filter (see dataset examples in the guides).

    Args:
        model: a keras.Model (a subclassed one too, once called), a model file, a keras.applications network by name,
            or a View (see view_of); not a function, which has no layers to look at (cn.explain takes one).
        layer: the layer's name: any layer whose output is (batch, height, width, channels), in a nested model too, or
            a transformer's layer of tokens on their patch grid (a unit is a channel; see view_of's `grid`).
        filters: the filters' indices (default: all of them, at most the first 64).
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        progress: whether to show a progress bar and print the lines.
        frames: keep the pictures every few steps (about 30 frames, whatever the steps) in .frames, as --gif draws them.
        chunk: how many filters ascend in one batch (default: as many as fit in half the memory free).
        examples: how many inputs to show per filter, the most exciting and the least (9; 0: none).
        examples_from: the inputs to rank: a folder of pictures, an .npz of images, or an array (N, H, W, C), uint8
            0..255 or floats 0..1. Default: the MNIST test set for a 1-channel model, none for a colour one (with a
            line saying how to add them).
        examples_whole: show whole inputs with the unit's receptive field boxed, instead of crops of the field.
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: the ascent's settings, as visualize_filters.py's flags of the same names (settings.PictureSettings): size (28,
            the canvas side), param ("fourier" or "pixels"; default by the channels), steps (200), step_size (0.02),
            jitter (1), blur (0.1), seed (0).

    Returns:
        Pictures: .images (F, H, W, C) pixels 0..1, .filters, .activations (each picture's mean activation), .layer,
            and with examples .examples (the ranked inputs), .optimised and .optimised_score.

    Raises:
        InputError: an unknown layer (naming the conv layers) or one whose output is not 4-D; a filter index out of
            range; a size too small for the layer; more examples than inputs, or examples_from not found or not
            pictures; an unknown setting in `how` or a bad value, or one the parameterisation ignores (step_size, jitter
            or blur with param "fourier"); a model the tools do not take (see view_of).
    """
    log = log_lines(log, progress)
    view = view_of(model, input_range, preprocess, log=log)
    chosen = settings.make(settings.PictureSettings, "filter_pictures", how)
    filters = render.planned(view, [layer], filters, chosen.size, settings.MAX_FILTERS)[layer]
    param = parameterisation.choose(view.channels, chosen)
    steps = ascent.AscentSettings.of(chosen)
    chunk = chunk or render.batch_size(view, layer, len(filters), chosen.size)
    kept = Frames() if frames else None
    with Bar(chosen.steps * -(-len(filters) // chunk), layer, "step", progress) as bar:
        images, activations = render.filter_patterns(
            view, layer, filters, chosen.size, steps, Callbacks([bar, kept]), chunk, param,
            every=max(1, chosen.steps // 30) if frames else ascent.STEPS_PER_CALL)
    found = Pictures(images, filters, activations, f"{layer}: input that maximises each filter's mean activation (#index  activation)",
                     [f"#{index}  {value:.2f}" for index, value in zip(filters, activations)], layer, kept and kept.frames)
    ranked = dataset_examples.ranked(view, {layer: filters}, examples, examples_from, examples_whole, progress=progress, log=log,
                                     default=mnist_digits)
    return dataset_examples.with_examples(view, found, ranked.get(layer))


def mnist_digits(view: View, data: str | None = None) -> dataset_examples.Source:
    """MNIST's 10,000 test digits with their labels, sized for the view: the inputs ranked for a grey model given none
    (from `data`, else as load_mnist finds them)."""
    from cnn_note.note import data as mnist

    _, test = mnist.load("mnist", mnist.data_path(data))
    source = dataset_examples.from_array(test.x, 1, f"the {len(test.x):,} MNIST test digits", view.size)
    source.labels = test.y
    return source


def class_pictures(model, classes: Sequence[int] | None = None, *, input_range=None, preprocess=None, head: str = "auto",
                   output=None, prior: bool = True, class_names: list[str] | None = None, progress: bool = True,
                   **how) -> Pictures:
    """What the model thinks each class looks like: the picture that maximises the class score, by gradient ascent.

    The class score is the logit before the softmax or sigmoid (a regression's value itself), for every classifier
    head; the pictures start from the same grey, and a colour classifier's are drawn as filter_pictures draws them.

    Args:
        model: a keras.Model (a subclassed one too, once called), a model file, a keras.applications network by name,
            or a View (see view_of); not a function, which has no layers to look at (cn.explain takes one).
        classes: the classes (default: every class of a classifier of at most 20).
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        head: what the output is: "auto" (read from the last layer), "softmax", "logits", "sigmoid" or "regression".
        output: the output to score, by its layer's name or its index, for a model with several.
        prior: True: ascend with jitter, blur (and Fourier moves on a colour model), the top row of classes.png;
            False: the raw pixels without them, the bottom row.
        class_names: a name per class, for the labels.
        progress: whether to show a progress bar.
        **how: the ascent's settings, as filter_pictures' (settings.PictureSettings): size, param, steps, step_size, jitter,
            blur, seed.

    Returns:
        Pictures: .images (K, H, W, C) pixels 0..1, .classes, .probabilities (the model's probability of each class
            for its picture; a regression's value).

    Raises:
        InputError: a class out of range; no classes given for a model of more than 20; a `head` that does not fit the
            last layer or an unknown `output`; class names that are not one per class; an unknown setting in `how`
            or a bad value, or one the parameterisation ignores (with the prior); a model the tools do not take (see view_of).
    """
    view = view_of(model, input_range, preprocess, head, output, log=log_lines(None, progress))
    the_head = view.head
    chosen = settings.make(settings.PictureSettings, "class_pictures", how)
    if classes is None:
        if the_head.classes > settings.MAX_CLASSES:
            raise InputError(f"{view.label} has {the_head.classes} classes: choose some with ",
                             Argument("classes", python="classes=", flag="classes= (--classes)"))
        classes = range(the_head.classes)
    classes = [int(c) for c in np.atleast_1d(classes)]
    bad = [c for c in classes if not 0 <= c < the_head.classes]
    if bad:
        raise InputError(f"class {bad[0]} is out of range: {view.label} has classes 0..{the_head.classes - 1}")
    names = inputs.class_names(view, class_names)
    param = parameterisation.choose(view.channels, chosen) if prior else parameterisation.named("pixels")
    steps = ascent.AscentSettings.of(chosen) if prior else dataclasses.replace(ascent.AscentSettings.of(chosen), jitter=0, blur=0.0)
    with Bar(chosen.steps, "classes", "step", progress) as bar:
        images, confidence = render.class_patterns(view, classes, chosen.size, steps, bar,
                                                     param)
    return Pictures(images, classes, confidence, f"What the model thinks each class looks like (class: {the_head.measure})",
                    [f"{names[c]}: {the_head.format(p)}" for c, p in zip(classes, confidence)])


def feature_maps(model, image, layers: Sequence[str] | None = None, *, input_range=None, preprocess=None) -> dict[str, np.ndarray]:
    """Each named layer's output for one picture, the maps of feature_maps.png.

    Args:
        model: a keras.Model (a subclassed one too, once called), a model file, a keras.applications network by name,
            or a View (see view_of); not a function, which has no layers to look at (cn.explain takes one).
        image: one picture (H, W, C), pixels 0..1, of any size the model takes (resized to a transformer's own size).
        layers: the layers' names (default: the conv layers filter_pictures draws by default).
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.

    Returns:
        dict: {layer: its output (h, w, channels)}, as numpy arrays.

    Raises:
        InputError: an unknown layer or one whose output is not 4-D; not exactly one picture, or pixels of the wrong
            channels, not finite, or not 0..1; a model the tools do not take (see view_of).
    """
    view = view_of(model, input_range, preprocess)
    names = list(layers) if layers is not None else view.default_layers()
    view.check_layers(names)
    picture, only = pictures_of(image, view, "image", one=True), view.only_size(names)
    if only and picture.shape[1:3] != only:  # a transformer's layers take its own size alone
        picture = imaging.resize_area(picture, only)
    return render.feature_maps(view, picture[0], names)
