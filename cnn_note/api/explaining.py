"""cn.explain: why the model decided, as a map over each picture by each attribution method."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import attribution, settings
from cnn_note.attribution import choice
from cnn_note.core import held, inputs
from cnn_note.core.inputs import model_size, pictures_of, view_of
from cnn_note.errors import Argument, InputError
from cnn_note.io.progress import Bar, log_lines
from cnn_note.results import Explanation


def explain(model, images, classes=None, methods: Sequence[str] | str | None = None, *, input_range=None, preprocess=None,
            head: str = "auto", output=None, class_names: list[str] | None = None, progress: bool = True,
            log: Callable[[str], None] | None = None, **how) -> Explanation:
    """Why did the model decide this: a map over each picture by each attribution method.

    Every method explains the class score (the logit before a softmax or sigmoid; see `head`): gradient, smoothgrad,
    integrated_gradients and gradcam through its gradient, occlusion and lime through the probability. Noisy,
    interpolated and occluded copies go through the model hundreds at a time. A line per method goes to `log`.

    Args:
        model: a keras.Model (Sequential, functional or subclassed), a model file, a keras.applications network by
            name, a View (see view_of), or any function from a batch of pictures to class scores (a tf.function, a
            Python function of TensorFlow ops: its probabilities are explained as log p; no Grad-CAM, which needs
            maps). A model on flat vectors of a square's pixels, the note's DNN, is seen as one on grey square pictures.
        images: pictures as a numpy array or tensor, pixels 0..1, (N, H, W, C), or (H, W, C) for one. A model that
            takes one size only gets them resized to it, with a line. For a model of several inputs, every input: a
            dict by input name, or a list in the model's inputs' order (each picture's own other inputs, or one value
            for all); pictures alone are explained with the others held (see view_of).
        classes: the class to explain: one number for every picture, one per picture, or None for each picture's
            predicted class.
        methods: the methods to run, a list or a comma-separated string ("gradient,gradcam"): any of the registry's
            (attribution.METHODS), gradient, smoothgrad, integrated_gradients, gradcam, occlusion, lime, and on a
            transformer rollout (attention rollout over every layer) and attention (the last layer's). None: all of
            them, Grad-CAM left out with a line on a model with no 4-D layer, the attention maps on a model with no
            attention layer.
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        head: what the output is: "auto" (read from the last layer), "softmax", "logits", "sigmoid" or "regression".
        output: the output to explain, by its layer's name or its index, for a model with several.
        class_names: a name per class, for the titles (default: ImageNet's for a network by name where Keras has them
            cached, else the numbers).
        progress: whether to show a progress bar and print the lines (a widget in Jupyter, a bar in a terminal).
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: each method's settings, as explain.py's flags of the same names (attribution.ExplainSettings, every
            method's Settings): samples (50) and noise (0.15 of the pixel range) for SmoothGrad; steps (64) for
            Integrated Gradients; baseline ("black", "white", "grey" or "blur": where Integrated Gradients starts and
            what occlusion's patch shows); layer (Grad-CAM's, default the last conv layer; on a transformer, what its
            last attention layer reads, its tokens put on their grid); patch and stride
            (occlusion's, default a seventh of the shorter side and half of it); lime_samples (1000); max_side (512:
            occlusion and LIME work on a copy at most this large and map back); seed (0).

    Returns:
        Explanation: .maps {method: (N, H, W)}, .classes, .probabilities, .predicted, .outputs, .layer (Grad-CAM's),
            .completeness (Integrated Gradients' completeness error, over every input), .others (the attributions to a
            model's other inputs: {method: {input name: values}}), and the pictures as explained.

    Raises:
        InputError: an unknown, doubled or empty method; gradcam asked of a model with no 4-D layer; a class out of
            range, or not one per picture; pictures of the wrong shape or channels, not finite, or not 0..1; class
            scores that are not finite numbers; a `head` that does not fit the last layer or an unknown `output`; class
            names that are not one per class; an unknown setting in `how` or a bad value; a model the tools do not take
            (see view_of).
    """
    log = log_lines(log, progress)
    view = view_of(model, input_range, preprocess, head, output, maps=False, input_shape=picture_shape(images))
    images, others = split_inputs(view, images)
    if view.held is not None and others is None:
        log(held.held_line(view.held))
    the_head = view.head
    chosen = settings.make(attribution.ExplainSettings, "explain", how)
    layer = attribution.gradcam_layer(view, chosen.layer)
    methods = choice.methods_of(view, methods, layer, log)
    names = inputs.class_names(view, class_names)
    pixels = model_size(view, pictures_of(images, view), log)
    others = None if others is None else held.rows_of(view.held, others, len(pixels), view.label)
    outputs = attribution.Probabilities(view, *pixels.shape[1:3])(pixels) if others is None else view.probabilities(pixels, others)
    if not np.isfinite(outputs).all():
        raise InputError(f"{view.label}'s {the_head.measure} is not a finite number for picture "
                         f"{int(np.flatnonzero(~np.isfinite(outputs).all(axis=1))[0])}: the model overflows on it; check its "
                         "weights and the pixel range (",
                         Argument("input_range", python="input_range=", flag="input_range=, --input-range"), ")")
    predicted = outputs.argmax(axis=1)
    wanted = predicted if classes is None else np.asarray(classes)
    if wanted.ndim > 1 or wanted.shape not in ((), predicted.shape) or not np.issubdtype(wanted.dtype, np.integer) or \
            not ((0 <= wanted) & (wanted < the_head.classes)).all():
        raise InputError(f"classes={classes!r} does not fit: give a class 0..{the_head.classes - 1}, one number or one per "
                         f"picture ({len(pixels)}), or None for the predicted ones")
    wanted = np.broadcast_to(wanted, predicted.shape).astype(predicted.dtype)
    chosen = dataclasses.replace(chosen, layer=layer)
    with Bar(len(methods) * len(pixels), "explain", "picture", progress) as bar:
        maps, completeness, theirs = attribution.explain(view, pixels, wanted, methods, chosen, log, bar, others)
    return Explanation(pixels, maps, wanted, outputs[np.arange(len(pixels)), wanted], predicted, outputs, layer, completeness,
                       names, the_head, theirs)


def split_inputs(view, images) -> tuple:
    """The pictures, and a model of several inputs' other inputs when `images` gives every input: a dict by input name,
    or a list in the model's inputs' order; else (images, None): pictures alone (a list of pictures too), the others
    held."""
    held_inputs = view.held
    if held_inputs is None or not isinstance(images, (list, tuple, dict)):
        return images, None
    names = held_inputs.order
    if isinstance(images, dict):
        given = dict(images)
        if held_inputs.picture not in given:
            raise InputError(f"the inputs given have no {held_inputs.picture}, {view.label}'s picture input: give every input "
                             f"({', '.join(names)}) by name")
    elif len(images) == len(names) and all(np.ndim(value) >= len(held_inputs.shapes[name])
                                           for name, value in zip(names, images) if name in held_inputs.shapes):
        given = dict(zip(names, images))
    else:
        return images, None
    return given.pop(held_inputs.picture), given


def picture_shape(images) -> tuple | None:
    """One picture's (height, width, channels) as the images hold it, to trace a subclassed model on; None where they
    do not say (a grey batch without its channel axis, a list of files)."""
    shape = np.shape(images) if isinstance(images, np.ndarray) or hasattr(images, "shape") else ()
    if len(shape) == 4:
        return tuple(int(side) for side in shape[1:])
    if len(shape) == 3 and shape[-1] in (1, 3):
        return tuple(int(side) for side in shape)
    return None
