"""The public API, one call each, on a model in memory or any model the scripts take: what `import cnn_note as cn` gives.

Every function takes a keras.Model (Sequential or functional, a base network nested in a
fine-tuned one included), a model file, a keras.applications network by name, or a View; and
pictures as numpy arrays or tensors, pixels 0..1, (N, H, W, C) or (H, W, C) for one. It returns
numpy arrays, or small results that hold them, and writes no file. A refused input raises
cn.InputError (a ValueError) with the one line a script prints. Each keyword's default is the
scripts' (cnn_note/settings.py states it once for both).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import attribution, dataset_examples, settings
from cnn_note.attribution import choice
from cnn_note.backend import keras
from cnn_note.core import batching, checks
from cnn_note.core.inputs import model_size, pictures_of, view_of
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.io import imaging
from cnn_note.io.progress import Bar, Callbacks, Frames, keras_verbosity, log_lines, show_figures_inline
from cnn_note.note import data, models, training
from cnn_note.optvis import ascent, dream, parameterisation, render
from cnn_note.plots import figures
from cnn_note.results import Dream, Explanation, Pictures


def explain(model, images, classes=None, methods: Sequence[str] | str | None = None, *, input_range=None, preprocess=None,
            head: str = "auto", output=None, class_names: list[str] | None = None, progress: bool = True,
            log: Callable[[str], None] | None = None, **how) -> Explanation:
    """Why did the model decide this: a map over each picture by each attribution method.

    Every method explains the class score (the logit before a softmax or sigmoid; see `head`): gradient, smoothgrad,
    integrated_gradients and gradcam through its gradient, occlusion and lime through the probability. Noisy,
    interpolated and occluded copies go through the model hundreds at a time. A line per method goes to `log`.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of). A model on
            flat vectors of a square's pixels, the note's DNN, is seen as one on grey square pictures.
        images: pictures as a numpy array or tensor, pixels 0..1, (N, H, W, C), or (H, W, C) for one. A model that
            takes one size only gets them resized to it, with a line.
        classes: the class to explain: one number for every picture, one per picture, or None for each picture's
            predicted class.
        methods: the methods to run, a list or a comma-separated string ("gradient,gradcam"): any of gradient,
            smoothgrad, integrated_gradients, gradcam, occlusion and lime. None: all of them, Grad-CAM left out with a
            line on a model with no 4-D layer.
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        head: what the output is: "auto" (read from the last layer), "softmax", "logits", "sigmoid" or "regression".
        output: the output to explain, by its layer's name or its index, for a model with several.
        class_names: a name per class, for the titles (default: ImageNet's for a network by name where Keras has them
            cached, else the numbers).
        progress: whether to show a progress bar and print the lines (a widget in Jupyter, a bar in a terminal).
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: each method's settings, as explain.py's flags of the same names (settings.ExplainSettings): samples (50) and
            noise (0.15 of the pixel range) for SmoothGrad; steps (64) for Integrated Gradients; baseline ("black",
            "white", "grey" or "blur": where Integrated Gradients starts and what occlusion's patch shows); layer
            (Grad-CAM's, default the last conv layer); patch and stride (occlusion's, default a seventh of the shorter
            side and half of it); lime_samples (1000); max_side (512: occlusion and LIME work on a copy at most this
            large and map back); seed (0).

    Returns:
        Explanation: .maps {method: (N, H, W)}, .classes, .probabilities, .predicted, .outputs, .layer (Grad-CAM's),
            .completeness (Integrated Gradients' completeness error), and the pictures as explained.

    Raises:
        InputError: an unknown, doubled or empty method; gradcam asked of a model with no 4-D layer; a class out of
            range, or not one per picture; pictures of the wrong shape or channels, not finite, or not 0..1; class
            scores that are not finite numbers; a `head` that does not fit the last layer or an unknown `output`; class
            names that are not one per class; an unknown setting in `how` or a bad value; a model the tools do not take
            (see view_of).
    """
    log = log_lines(log, progress)
    view = view_of(model, input_range, preprocess, head, output, maps=False)
    the_head = view.head
    chosen = settings.make(settings.ExplainSettings, "explain", how)
    layer = attribution.gradcam_layer(view, chosen.layer)
    methods = choice.methods_of(view, methods, layer, log)
    names = view.class_names(class_names)
    pixels = model_size(view, pictures_of(images, view), log)
    outputs = attribution.Probabilities(view, *pixels.shape[1:3])(pixels)
    if not np.isfinite(outputs).all():
        raise InputError(f"{view.label}'s {the_head.measure} is not a finite number for picture "
                         f"{int(np.flatnonzero(~np.isfinite(outputs).all(axis=1))[0])}: the model overflows on it; check its "
                         "weights and the pixel range (", Argument("input_range", python="input_range=", flag="input_range=, --input-range"), ")")
    predicted = outputs.argmax(axis=1)
    wanted = predicted if classes is None else np.asarray(classes)
    if wanted.ndim > 1 or wanted.shape not in ((), predicted.shape) or not np.issubdtype(wanted.dtype, np.integer) or \
            not ((0 <= wanted) & (wanted < the_head.classes)).all():
        raise InputError(f"classes={classes!r} does not fit: give a class 0..{the_head.classes - 1}, one number or one per "
                         f"picture ({len(pixels)}), or None for the predicted ones")
    wanted = np.broadcast_to(wanted, predicted.shape).astype(predicted.dtype)
    chosen = dataclasses.replace(chosen, layer=layer)
    with Bar(len(methods) * len(pixels), "explain", "picture", progress) as bar:
        maps, completeness = attribution.explain(view, pixels, wanted, methods, chosen, log, bar.on_progress)
    return Explanation(pixels, maps, wanted, outputs[np.arange(len(pixels)), wanted], predicted, outputs, layer, completeness,
                       names, the_head)


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
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of).
        layer: the layer's name: any layer whose output is (batch, height, width, channels), in a nested model too.
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
            pictures; an unknown setting in `how` or a bad value; a model the tools do not take (see view_of).
    """
    view = view_of(model, input_range, preprocess)
    chosen = settings.make(settings.PictureSettings, "filter_pictures", how)
    filters = render.planned(view, [layer], filters, chosen.size, settings.MAX_FILTERS)[layer]
    param = parameterisation.choose(view.channels, chosen.param)
    steps = ascent.AscentSettings.of(chosen)
    chunk = chunk or render.batch_size(view, layer, len(filters), chosen.size)
    kept = Frames() if frames else None
    with Bar(chosen.steps * -(-len(filters) // chunk), layer, "step", progress) as bar:
        images, activations = render.filter_patterns(
            view, layer, filters, chosen.size, steps, Callbacks([bar, kept]), chunk, param,
            every=max(1, chosen.steps // 30) if frames else ascent.STEPS_PER_CALL)
    found = Pictures(images, filters, activations, f"{layer}: input that maximises each filter's mean activation (#index  activation)",
                     [f"#{index}  {value:.2f}" for index, value in zip(filters, activations)], layer, kept and kept.frames)
    ranked = dataset_examples.ranked(view, {layer: filters}, examples, examples_from, examples_whole, progress=progress, log=log)
    return dataset_examples.with_examples(view, found, ranked.get(layer))


def class_pictures(model, classes: Sequence[int] | None = None, *, input_range=None, preprocess=None, head: str = "auto",
                   output=None, prior: bool = True, class_names: list[str] | None = None, progress: bool = True,
                   **how) -> Pictures:
    """What the model thinks each class looks like: the picture that maximises the class score, by gradient ascent.

    The class score is the logit before the softmax or sigmoid (a regression's value itself), for every classifier
    head; the pictures start from the same grey, and a colour classifier's are drawn as filter_pictures draws them.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of).
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
            or a bad value; a model the tools do not take (see view_of).
    """
    view = view_of(model, input_range, preprocess, head, output)
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
    names = view.class_names(class_names)
    param = parameterisation.choose(view.channels, chosen.param) if prior else "pixels"
    steps = ascent.AscentSettings.of(chosen) if prior else dataclasses.replace(ascent.AscentSettings.of(chosen), jitter=0, blur=0.0)
    with Bar(chosen.steps, "classes", "step", progress) as bar:
        images, confidence = render.class_patterns(view, classes, chosen.size, steps, bar,
                                                     param)
    return Pictures(images, classes, confidence, f"What the model thinks each class looks like (class: {the_head.measure})",
                    [f"{names[c]}: {the_head.format(p)}" for c, p in zip(classes, confidence)])


def dream_layers(view: View, layers: dict[str, float] | str | None) -> dict[str, float]:
    """Dream layers and weights: a {name: weight} dict, deep_dream.py's `conv1=1,conv2=2`, or None for the view's default."""
    if isinstance(layers, dict):  # by name as given, whatever the names hold; quoted in a refusal as deep_dream.py's text
        text = ",".join(f"{name}={weight}" for name, weight in layers.items())
        return dream.checked_weights([(str(name), str(weight)) for name, weight in layers.items()], text, view)
    return dream.parse_layers(layers, view)


def deep_dream(model, image, layers: dict[str, float] | str | None = None, *, input_range=None, preprocess=None,
               invert: bool = False, progress: bool = True, frames: bool = False, log: Callable[[str], None] | None = None,
               **how) -> Dream:
    """Amplify what the layers already see in a picture: ascend the sum over layers of weight x mean(activation^2).

    The ascent runs over octaves (the picture smaller first, then larger, with the detail lost re-injected), each
    step in tiles rolled by a random shift, so memory depends on the tile, not on the picture, and no seam stays.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of).
        image: one picture (H, W, C) of any size, or a batch (N, H, W, C) of one size; pixels 0..1.
        layers: the layers and their weights, {"conv1": 1, "conv2": 2} or deep_dream.py's "conv1=1,conv2=2"; None:
            1, 2, ... by depth for the note's CNN, keras-io's mixed4-mixed7 for inception_v3, else 1, 1.5, 2.
        input_range: the model's own pixel range (low, high) when it is not 0..1; as --input-range (see view_of).
        preprocess: the keras.applications name whose preprocess_input the model expects; as --preprocess.
        invert: dream on the negative (1 - pixels), as --invert.
        progress: whether to show a progress bar and print the lines.
        frames: keep the picture through each octave's steps in .frames (about 30 in all), as --gif draws them.
        log: where each line goes (default: print, or nowhere with progress=False).
        **how: the dream's settings, as deep_dream.py's flags of the same names (settings.DreamSettings): octaves (3),
            octave_scale (1.4), steps (20 an octave), step_size (0.005), jitter (0), blur (0.0), seed (0), max_loss (end
            an octave once every picture's loss passes it; None: never), tile (1024 pixels a side), max_side (shrink a
            larger picture to this; None: its own size).

    Returns:
        Dream: .image, the dreamed picture(s) in the shape given, pixels 0..1 (np.asarray(result) too), .original,
            .layers (the weights used), .frames.

    Raises:
        InputError: an unknown layer, one named twice, or a weight that is not a finite number; a picture too small
            for the octaves or a tile too small for the layers; a tile that does not fit in memory; pictures of the
            wrong shape or channels, not finite, or not 0..1; an octave_scale below 1, an unknown setting in `how` or
            a bad value; a model the tools do not take (see view_of).
    """
    log = log_lines(log, progress)
    view = view_of(model, input_range, preprocess)
    chosen = settings.make(settings.DreamSettings, "deep_dream", how)
    settings.check_octave_scale(chosen.octave_scale)
    weights = dream_layers(view, layers)
    one = np.ndim(image) == 3
    pixels = pictures_of(image, view, "image")
    pixels, note = imaging.shrink(pixels, chosen.max_side)
    if note:
        log(note)
    pixels = 1.0 - pixels if invert else pixels
    need = view.smallest_side(list(weights))
    dream.check_size(pixels.shape[1], pixels.shape[2], chosen.octaves, chosen.octave_scale, need)
    if chosen.tile < 2 * need:
        raise InputError(Argument("tile", chosen.tile), f" is too small for {', '.join(weights)}: use at least {2 * need}")
    tile = min(chosen.tile, max(pixels.shape[1:3]))
    batching.fitting_batch(view.bytes_per_image(list(weights), tile, tile) * len(pixels), 1,
                           f"a {tile}x{tile} tile of {len(pixels)} image(s)", "use a smaller --tile")
    steps = ascent.AscentSettings.of(chosen)
    log(f"dreaming {len(pixels)} image(s) of {pixels.shape[1]}x{pixels.shape[2]} with {view.label} on "
        + ", ".join(f"{name}={weight:g}" for name, weight in weights.items()))
    kept = Frames() if frames else None
    with Bar(chosen.steps * chosen.octaves, "dream", "step", progress) as bar:
        dreamed = dream.ascend_octaves(view, pixels, weights, chosen.octaves, chosen.octave_scale, steps, chosen.tile,
                                       chosen.max_loss, log, Callbacks([bar, kept]))
    return Dream(dreamed[0] if one else dreamed, pixels[0] if one else pixels, weights, kept and kept.frames)


def feature_maps(model, image, layers: Sequence[str] | None = None, *, input_range=None, preprocess=None) -> dict[str, np.ndarray]:
    """Each named layer's output for one picture, the maps of feature_maps.png.

    Args:
        model: a keras.Model, a model file, a keras.applications network by name, or a View (see view_of).
        image: one picture (H, W, C), pixels 0..1, of any size the model takes.
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
    return render.feature_maps(view, pictures_of(image, view, "image", one=True)[0], names)


def build_dnn() -> keras.Model:
    """The note's DNN, untrained: Dense 784-500-500-500-10, ReLU then softmax.

    Returns:
        keras.Model: a Sequential of 898,510 parameters, on flat vectors of the 784 pixels; train it with train.
    """
    return models.build_dnn()


def build_cnn(layout: str = "intended", conv_activation: str | None = None) -> keras.Model:
    """The note's CNN, untrained: Conv(25, 3x3) > pool 2 > Conv(50, 3x3) > pool 2 > flatten > Dense(100, ReLU) > Dense(10).

    Args:
        layout: "intended", the CNN the note describes, channels_last throughout, input (28, 28, 1): 137,660
            parameters; or "note", the one its code builds: input (1, 28, 28) and data_format='channels_first' on
            conv1 only, so every later layer reads conv1's (filters, rows, columns) as (rows, columns, channels):
            138,110 parameters. The look-inside calls refuse the "note" layout: its maps have no image axes.
        conv_activation: the convolutions' activation; None, the note's, leaves them linear ("relu" adds ReLU, as
            train_cnn.py --conv-activation relu).

    Returns:
        keras.Model: a Sequential of layers conv1, pool1, conv2, pool2, flatten, dense and output (softmax); train it
            with train.

    Raises:
        InputError: a layout other than "intended" or "note".
    """
    if layout not in ("intended", "note"):
        raise InputError(f"layout={layout!r}: choose intended (the CNN the note describes) or note (the one its code builds)")
    return models.build_cnn(conv_activation, layout=layout)


def load_mnist(path: str | None = None) -> tuple[data.Split, data.Split]:
    """MNIST as Keras' load_data gives it, read from a file when there is one.

    Args:
        path: a Keras-layout mnist.npz (keys x_train, y_train, x_test, y_test), read with allow_pickle=False and its
            keys, shapes, dtypes and labels checked. None: $MNIST_PATH, else Keras' own download, cached in
            ~/.keras/datasets.

    Returns:
        tuple: ((x_train, y_train), (x_test, y_test)): images (N, 28, 28) and labels (N,), uint8; each pair is a
            named tuple with .x and .y.

    Raises:
        InputError: the file is missing, not an npz, damaged, holds pickled objects, lacks a key, or has images or
            labels of the wrong shape or dtype.
    """
    return data.load("mnist", data.data_path(path))


def seed(value: int = 0) -> None:
    """Seed Python, numpy and TensorFlow, with deterministic kernels, as the training scripts do before building a model.

    Call it before build_dnn or build_cnn (their initial weights draw on it) to get the scripts' numbers.

    Args:
        value: the seed (0 is the scripts' first).
    """
    training.seed_everything(value)


def train(model: keras.Model, mnist: tuple, *, progress: bool = True, **recipe) -> training.Run:
    """Train a model on MNIST by the note's recipe: the first 10,000 training images, 20 epochs, batch 100, Adam,
    categorical cross-entropy.

    For the scripts' numbers, call seed(0) (or the seed) before building the model, as they do.

    Args:
        model: the note's DNN or CNN (build_dnn, build_cnn), or any keras.Model of one input that takes 28x28 grey
            digits (flat (784,), (28, 28, 1) or (1, 28, 28)) and gives 10 outputs. It is compiled and trained in place.
        mnist: load_mnist()'s ((x_train, y_train), (x_test, y_test)).
        progress: whether to show Keras' progress (a bar in a terminal, a line an epoch when piped).
        **recipe: the recipe's settings, as the training scripts' flags of the same names (settings.Recipe): epochs
            (20), batch_size (100), train_samples (10,000), seed (0), steps_per_execution (50), epoch_test_samples
            (1,000: the fixed, class-balanced test images scored after every epoch for the curve; 0: none).

    Returns:
        Run: .train_acc, .test_acc (the whole training subset and the whole test set), .train_loss, .test_loss,
            .history (per epoch), .seconds and .model.

    Raises:
        InputError: not a keras.Model, several inputs, inputs that are not a 28x28 digit's, an output that is not 10
            classes; an unknown setting in `recipe` or a bad value.
    """
    chosen = settings.make(settings.Recipe, "train", recipe)
    _check_digit_model(model)
    train_split, test_split = mnist
    config = training.Config(**dataclasses.asdict(chosen), verbose=keras_verbosity() if progress else 0)
    shape = model.input_shape[1:]
    split = data.first(data.Split(*train_split), chosen.train_samples)
    prepared = [(data.to_inputs(part.x, shape), data.one_hot(part.y)) for part in (split, data.Split(*test_split))]
    return training.fit(model, config, *prepared)


def _check_digit_model(model) -> None:
    """One line unless `model` is a keras.Model of one input that takes 28x28 digits (flat, (28, 28, 1) or (1, 28, 28))
    and gives 10 outputs, as the note's recipe trains."""
    fix = "give cn.build_cnn(), cn.build_dnn() or a model like them"
    if not isinstance(model, keras.Model):
        raise InputError(f"cn.train trains a keras.Model, not a {type(model).__name__}: {fix}")
    if len(model.inputs) != 1:
        raise InputError(f"the model has {len(model.inputs)} inputs ({checks.inputs_listed(model)}), and the note's "
                         f"recipe feeds one, the digits: {fix}")
    shape, side = model.input_shape[1:], data.IMAGE_SHAPE
    if None in shape or math.prod(shape) != math.prod(side):
        raise InputError(f"the model takes inputs of shape {shape}, and the note's recipe feeds it {side[0]}x{side[1]} grey "
                         f"digits, as ({math.prod(side)},), ({side[0]}, {side[1]}, 1) or (1, {side[0]}, {side[1]}): {fix}")
    if model.output_shape[-1] != data.NUM_CLASSES:
        raise InputError(f"the model's output has shape {model.output_shape}, and the note's recipe trains {data.NUM_CLASSES} "
                         f"outputs, one per digit: {fix}")


def plot(result, ax=None, **options):
    """Draw a result of this API as the scripts draw it: the figure they save, shown inline in Jupyter.

    Args:
        result: what explain, filter_pictures, class_pictures, deep_dream or feature_maps returned.
        ax: a matplotlib axis to draw a compact view on instead: an explanation's map over its picture, a mosaic of
            the pictures, the dreamed picture, or the first layer's maps.
        **options: index (0: which picture of an explanation or a dreamed batch), method (the map drawn on `ax`,
            default the first), image (the picture shown before feature maps), rows (8: an explanation's pictures
            drawn), examples (True: filter pictures beside their dataset examples, when they have them).

    Returns:
        matplotlib.figure.Figure: the figure; with `ax`, the axis, drawn on.

    Raises:
        InputError: a result that none of those calls returns.
    """
    show_figures_inline()
    return figures.plot(result, ax, **options)
