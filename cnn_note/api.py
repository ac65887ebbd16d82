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
import os
import time
from collections.abc import Callable, Sequence

import numpy as np

from cnn_note import attribution, dataset_examples, settings
from cnn_note.backend import keras
from cnn_note.core import checks
from cnn_note.core.loading import load
from cnn_note.core.views import View
from cnn_note.errors import InputError
from cnn_note.io import imaging
from cnn_note.io.progress import Bar, keras_verbosity, show_figures_inline
from cnn_note.note import data, models, training
from cnn_note.optvis import ascent, dream, render
from cnn_note.plots import figures
from cnn_note.results import Dream, Explanation, Pictures


def view_of(model, input_range: tuple[float, float] | None = None, preprocess: str | None = None, head: str = "auto",
            output: str | int | None = None, maps: bool = True) -> View:
    """The model as the look-inside tools see it (see model_loading.load): a View is taken as it is."""
    if isinstance(model, View):
        return model
    return load(model, "python train_cnn.py", input_range, preprocess, maps, head, output)


def pictures_of(images, view: View, what: str = "images", one: bool = False) -> np.ndarray:
    """Pictures as float32 (N, H, W, C) for the view, checked: rank, channels, finite pixels 0..1, not empty."""
    try:
        pixels = np.asarray(images, dtype="float32")
    except (TypeError, ValueError) as error:
        raise InputError(f"{what} are not numbers ({error}): give a numpy array or tensor of pixels 0..1") from None
    if pixels.ndim == 3:
        pixels = pixels[None]
    if pixels.ndim != 4 or pixels.shape[-1] != view.channels or (one and len(pixels) != 1):
        shape = f"(H, W, {view.channels})" if one else f"(N, H, W, {view.channels}) or (H, W, {view.channels}) for one picture"
        raise InputError(f"{what} have shape {pixels.shape}: {view.label} takes {view.channels}-channel pictures, {shape}")
    if not len(pixels):
        raise InputError(f"{what} hold no picture: give at least one")
    if not np.isfinite(pixels).all():
        raise InputError(f"{what} hold NaN or infinite pixels: give finite pixels 0..1")
    if pixels.min() < -1e-3 or pixels.max() > 1 + 1e-3:
        raise InputError(f"{what} have pixels from {pixels.min():g} to {pixels.max():g}, not 0..1: divide 0..255 pictures by 255 "
                         "(the model's own range goes in input_range=, or preprocess=)")
    return pixels


def lines(log: Callable[[str], None] | None, progress: bool) -> Callable[[str], None]:
    """Where a call's progress lines go: `log` when given, else print, or nowhere when progress is off."""
    return log or (print if progress else (lambda line: None))


def model_size(view: View, pixels: np.ndarray, log: Callable[[str], None] = print, name: str = "the pictures") -> np.ndarray:
    """Pictures resized to the model's own size when it takes only one, with a line."""
    if view.size and pixels.shape[1:3] != view.size:
        log(f"{name}: {pixels.shape[2]}x{pixels.shape[1]} resized to the model's {view.size[1]}x{view.size[0]}")
        pixels = imaging.resize_area(pixels, view.size)
    return pixels


def methods_of(view: View, asked: Sequence[str] | str | None, layer: str | None, log: Callable[[str], None] = print) -> list[str]:
    """The methods to run: those asked (a list, or comma-separated), else all; Grad-CAM needs a 4-D layer (skipped with a
    line when defaulted, refused when asked); an unknown, doubled or empty choice is refused."""
    methods = list(attribution.METHODS) if asked is None else \
        [name.strip() for name in (asked.split(",") if isinstance(asked, str) else asked)]
    if not any(methods):
        raise InputError(f"--methods is empty: name at least one of {', '.join(attribution.METHODS)}")
    unknown = [name for name in methods if name not in attribution.METHODS]
    if unknown:
        raise InputError(f"unknown method {unknown[0]!r} in --methods: choose from {', '.join(attribution.METHODS)}")
    twice = next((name for index, name in enumerate(methods) if name in methods[:index]), None)
    if twice:
        raise InputError(f"--methods names {twice} twice: give each method once")
    if "gradcam" in methods and layer is None:
        if asked is not None:
            raise InputError(f"gradcam needs a layer with a (batch, height, width, channels) output and {view.label} has none "
                             "(a DNN's layers are vectors): leave gradcam out of --methods")
        log(f"gradcam: skipped ({view.label} has no layer with a (batch, height, width, channels) output)")
        methods.remove("gradcam")
    return methods


def explain(model, images, classes=None, methods: Sequence[str] | str | None = None, *, input_range=None, preprocess=None,
            head: str = "auto", output=None, class_names: list[str] | None = None, progress: bool = True,
            log: Callable[[str], None] | None = None, **how) -> Explanation:
    """Why did the model decide this: a map per picture by each method (all that apply by default), for `classes` (a number,
    one per picture, or None: each picture's predicted class). `how`: the settings of settings.Explain. A line per method
    goes to `log` (default: print, or nowhere with progress=False)."""
    log = lines(log, progress)
    view = view_of(model, input_range, preprocess, head, output, maps=False)
    the_head = view.head
    chosen = settings.make(settings.Explain, "explain", how)
    layer = attribution.gradcam_layer(view, chosen.layer)
    methods = methods_of(view, methods, layer, log)
    names = view.class_names(class_names)
    pixels = model_size(view, pictures_of(images, view), log)
    outputs = attribution.Probabilities(view, *pixels.shape[1:3])(pixels)
    if not np.isfinite(outputs).all():
        raise InputError(f"{view.label}'s {the_head.measure} is not a finite number for picture "
                         f"{int(np.flatnonzero(~np.isfinite(outputs).all(axis=1))[0])}: the model overflows on it; check its "
                         "weights and the pixel range (input_range=, --input-range)")
    predicted = outputs.argmax(axis=1)
    wanted = predicted if classes is None else np.asarray(classes)
    if wanted.ndim > 1 or wanted.shape not in ((), predicted.shape) or not np.issubdtype(wanted.dtype, np.integer) or \
            not ((0 <= wanted) & (wanted < the_head.classes)).all():
        raise InputError(f"classes={classes!r} does not fit: give a class 0..{the_head.classes - 1}, one number or one per "
                         f"picture ({len(pixels)}), or None for the predicted ones")
    wanted = np.broadcast_to(wanted, predicted.shape).astype(predicted.dtype)
    chosen = dataclasses.replace(chosen, layer=layer)
    with Bar(len(methods) * len(pixels), "explain", "picture", progress) as bar:
        maps, completeness = attribution.explain(view, pixels, wanted, methods, chosen, log, bar.advance)
    return Explanation(pixels, maps, wanted, outputs[np.arange(len(pixels)), wanted], predicted, outputs, layer, completeness,
                       names, the_head)


def ascent_settings(chosen: settings.Pictures | settings.Dream) -> ascent.Settings:
    """How to ascend, from picture or dream settings: the step and the regularisers."""
    return ascent.Settings(chosen.steps, chosen.step_size, chosen.jitter, chosen.blur, chosen.seed)


def parameterisation(view: View, asked: str | None) -> str:
    """What the ascent moves: as asked, else Fourier-basis pictures for a colour model and pixels for a grey one."""
    return asked or ("fourier" if view.channels == 3 else "pixels")


def checked_filters(view: View, layer: str, filters: Sequence[int] | None, cap: int | None = None) -> list[int]:
    """The filters asked for, checked against the layer, else all of them (the first `cap` when given)."""
    view.check_layers([layer])
    if filters is None:
        return list(range(min(view.filters(layer), cap or view.filters(layer))))
    filters = [int(index) for index in np.atleast_1d(filters)]
    render.check_filters(view, layer, filters)
    return filters


def example_source(view: View, examples_from=None, count: int = settings.EXAMPLES, log: Callable[[str], None] = print,
                   mnist: str | None = None) -> dataset_examples.Source | None:
    """Where `count` dataset examples a filter come from: `examples_from` (a folder of pictures, an .npz of images, an
    array, or a Source), else the MNIST test set (load_mnist(mnist)) for a 1-channel model, else None, with a line saying
    how to add them. Fewer inputs than `count` are refused."""
    source = _source(view, examples_from, log, mnist)
    if source is not None and count > len(source):
        raise InputError(f"--examples {count} is more than the {len(source)} inputs: use at most {len(source)}")
    return source


def _source(view: View, examples_from, log: Callable[[str], None], mnist: str | None) -> dataset_examples.Source | None:
    if isinstance(examples_from, dataset_examples.Source):
        return examples_from
    if examples_from is None and view.channels != 1:
        log("examples: none for a colour model without pictures to rank: give examples_from= (--examples-from) a folder "
            "of pictures or an .npz of images")
        return None
    if examples_from is None:
        _, test = load_mnist(mnist)
        return dataset_examples.from_array(test.x, 1, f"the {len(test.x):,} MNIST test digits", view.size)
    if isinstance(examples_from, (str, os.PathLike)):
        if not os.path.exists(examples_from):
            raise InputError(f"--examples-from {os.fspath(examples_from)} not found: give a folder of pictures or an .npz of images")
        return dataset_examples.from_path(os.fspath(examples_from), view.channels, view.size, log)
    return dataset_examples.from_array(np.asarray(examples_from), view.channels, "examples_from", view.size)


def dataset_examples_of(model, chosen: dict[str, Sequence[int]], examples: int = settings.EXAMPLES, examples_from=None,
                        whole: bool = False, *, input_range=None, preprocess=None, progress: bool = True,
                        log: Callable[[str], None] | None = None, scanned: tuple | None = None) -> dict[str, dataset_examples.Examples]:
    """For every {layer: filters}, in one pass over the inputs (see example_source), the `examples` inputs whose strongest
    response is highest and the `examples` whose weakest is lowest; {} when there are no inputs to rank. `scanned`: that
    pass already made (dataset_examples.merged of shards' scans, as the atlas makes them with Ray)."""
    log = lines(log, progress)
    view = view_of(model, input_range, preprocess)
    chosen = {layer: checked_filters(view, layer, filters, settings.MAX_FILTERS) for layer, filters in chosen.items()}
    if examples < 0 or isinstance(examples, bool) or not isinstance(examples, int):
        raise InputError(f"examples={examples!r}: it must be a whole number of at least 0 (0: none)")
    source = example_source(view, examples_from, examples, log) if examples else None
    if source is None:
        return {}
    start = time.perf_counter()
    with Bar(len(source), "examples", "picture", progress) as bar:
        found = dataset_examples.find(view, chosen, source, examples, whole, bar.advance, scanned)
    seconds = time.perf_counter() - start
    log(f"examples: {source.description} ranked for {', '.join(chosen)} in {seconds:.1f} s")
    return {layer: dataclasses.replace(examples_of_layer, seconds=seconds) for layer, examples_of_layer in found.items()}


def filter_pictures(model, layer: str, filters: Sequence[int] | None = None, *, input_range=None, preprocess=None,
                    progress: bool = True, frames: bool = False, chunk: int | None = None, examples: int = settings.EXAMPLES,
                    examples_from=None, examples_whole: bool = False, log: Callable[[str], None] | None = None,
                    **how) -> Pictures:
    """What each filter of `layer` looks for: the picture that maximises its mean activation, by gradient ascent from grey,
    and (`examples` > 0) the real inputs that excite it most and least (see dataset_examples_of; `examples_whole` shows
    whole inputs with the unit's field boxed). `filters`: indices (default: all, at most the first 64); `how`: the
    settings of settings.Pictures (size, param, steps, step_size, jitter, blur, seed)."""
    view = view_of(model, input_range, preprocess)
    chosen = settings.make(settings.Pictures, "filter_pictures", how)
    filters = checked_filters(view, layer, filters, settings.MAX_FILTERS)
    need = view.smallest_side([layer])
    if chosen.size < need:
        raise InputError(f"--size {chosen.size} is too small for {layer}: use at least {need}")
    param = parameterisation(view, chosen.param)
    steps = ascent_settings(chosen)
    kept = [] if frames else None
    with Bar(chosen.steps, layer, "step", progress) as bar:
        images, activations = render.filter_patterns(
            view, layer, filters, chosen.size, steps, lambda done, values, pictures: bar.to(done),
            chunk or render.batch_size(view, layer, len(filters), chosen.size), param, kept,
            every=max(1, chosen.steps // 30) if frames else ascent.STEPS_PER_CALL)
    found = Pictures(images, filters, activations, f"{layer}: input that maximises each filter's mean activation (#index  activation)",
                     [f"#{index}  {value:.2f}" for index, value in zip(filters, activations)], layer, kept)
    ranked = dataset_examples_of(view, {layer: filters}, examples, examples_from, examples_whole, progress=progress, log=log)
    return with_examples(view, found, ranked.get(layer))


def with_examples(view: View, found: Pictures, examples: dataset_examples.Examples | None) -> Pictures:
    """Filter pictures with their dataset examples, and each picture's strongest unit to hold beside the examples'."""
    if examples is None:
        return found
    strongest, score = dataset_examples.responses(view, found.layer, found.filters, found.images)
    return dataclasses.replace(found, examples=examples, optimised=strongest, optimised_score=score)


def class_pictures(model, classes: Sequence[int] | None = None, *, input_range=None, preprocess=None, head: str = "auto",
                   output=None, prior: bool = True, class_names: list[str] | None = None, progress: bool = True,
                   **how) -> Pictures:
    """What the model thinks each class looks like: the picture that maximises the class score (see heads.Head).

    prior=False ascends the raw pixels without jitter, blur or Fourier moves. `how`: as filter_pictures'.
    """
    view = view_of(model, input_range, preprocess, head, output)
    the_head = view.head
    chosen = settings.make(settings.Pictures, "class_pictures", how)
    if classes is None:
        if the_head.classes > settings.MAX_CLASSES:
            raise InputError(f"{view.label} has {the_head.classes} classes: choose some with classes= (--classes)")
        classes = range(the_head.classes)
    classes = [int(c) for c in np.atleast_1d(classes)]
    bad = [c for c in classes if not 0 <= c < the_head.classes]
    if bad:
        raise InputError(f"class {bad[0]} is out of range: {view.label} has classes 0..{the_head.classes - 1}")
    names = view.class_names(class_names)
    param = parameterisation(view, chosen.param) if prior else "pixels"
    steps = ascent_settings(chosen) if prior else dataclasses.replace(ascent_settings(chosen), jitter=0, blur=0.0)
    with Bar(chosen.steps, "classes", "step", progress) as bar:
        images, confidence = render.class_patterns(view, classes, chosen.size, steps, lambda done, values, pictures: bar.to(done),
                                                     param)
    return Pictures(images, classes, confidence, f"What the model thinks each class looks like (class: {the_head.measure})",
                    [f"{names[c]}: {the_head.format(p)}" for c, p in zip(classes, confidence)])


def dream_layers(view: View, layers: dict[str, float] | str | None) -> dict[str, float]:
    """Dream layers and weights: a {name: weight} dict, deep_dream.py's `conv1=1,conv2=2`, or None for the view's default."""
    if isinstance(layers, dict):
        return dream.parse_layers(",".join(f"{name}={weight}" for name, weight in layers.items()), view)
    return dream.parse_layers(layers, view)


def deep_dream(model, image, layers: dict[str, float] | str | None = None, *, input_range=None, preprocess=None,
               invert: bool = False, progress: bool = True, frames: bool = False, log: Callable[[str], None] | None = None,
               **how) -> Dream:
    """Amplify what the layers already see in `image` (H, W, C), at any size, or in a batch (N, H, W, C) of one size:
    ascend sum(weight x mean(a^2)) over octaves. `how`: the settings of settings.Dream; `log` as explain's."""
    log = lines(log, progress)
    view = view_of(model, input_range, preprocess)
    chosen = settings.make(settings.Dream, "deep_dream", how)
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
        raise InputError(f"--tile {chosen.tile} is too small for {', '.join(weights)}: use at least {2 * need}")
    tile = min(chosen.tile, max(pixels.shape[1:3]))
    ascent.fitting_batch(view.bytes_per_image(list(weights), tile, tile) * len(pixels), 1,
                         f"a {tile}x{tile} tile of {len(pixels)} image(s)", "use a smaller --tile")
    steps = ascent_settings(chosen)
    log(f"dreaming {len(pixels)} image(s) of {pixels.shape[1]}x{pixels.shape[2]} with {view.label} on "
        + ", ".join(f"{name}={weight:g}" for name, weight in weights.items()))
    kept = [] if frames else None
    with Bar(chosen.steps * chosen.octaves, "dream", "step", progress) as bar:
        dreamed = dream.dream(view, pixels, weights, chosen.octaves, chosen.octave_scale, steps, chosen.tile, chosen.max_loss,
                              log, kept, on_step=bar.advance)
    return Dream(dreamed[0] if one else dreamed, pixels[0] if one else pixels, weights, kept)


def feature_maps(model, image, layers: Sequence[str] | None = None, *, input_range=None, preprocess=None) -> dict[str, np.ndarray]:
    """Each named layer's output (default: the conv layers drawn by filter_pictures) for one picture: {layer: (h, w, channels)}."""
    view = view_of(model, input_range, preprocess)
    names = list(layers) if layers is not None else view.default_layers()
    view.check_layers(names)
    return render.feature_maps(view, pictures_of(image, view, "image", one=True)[0], names)


def build_dnn() -> keras.Model:
    """The note's DNN, 784-500-500-500-10 (ReLU, softmax): 898,510 parameters."""
    return models.build_dnn()


def build_cnn(layout: str = "intended", conv_activation: str | None = None) -> keras.Model:
    """The note's CNN: Conv(25,3x3) > pool 2 > Conv(50,3x3) > pool 2 > flatten > Dense(100) > Dense(10) (see models.build_cnn)."""
    if layout not in ("intended", "note"):
        raise InputError(f"layout={layout!r}: choose intended (the CNN the note describes) or note (the one its code builds)")
    return models.build_cnn(conv_activation, layout=layout)


def load_mnist(path: str | None = None) -> tuple[data.Split, data.Split]:
    """MNIST as Keras' load_data gives it, ((x_train, y_train), (x_test, y_test)), uint8: from `path`, else $MNIST_PATH, else Keras."""
    return data.load("mnist", data.data_path(path))


def seed(value: int = 0) -> None:
    """Seed Python, numpy and TensorFlow, with deterministic kernels, as the training scripts do before building a model."""
    training.seed_everything(value)


def train(model: keras.Model, mnist: tuple, *, progress: bool = True, **recipe) -> training.Run:
    """Train `model` (the note's DNN or CNN, or any model on 28x28 digits) on load_mnist()'s data by the note's recipe:
    the first 10,000 training images, 20 epochs, batch 100, Adam, categorical cross-entropy. `recipe`: settings.Recipe.

    Returns the run: .train_acc, .test_acc (the whole test set), .history, .model. For the scripts' numbers, call
    cn.seed(seed) before building the model, as they do.
    """
    chosen = settings.make(settings.Recipe, "train", recipe)
    check_digit_model(model)
    train_split, test_split = mnist
    config = training.Config(**dataclasses.asdict(chosen), verbose=keras_verbosity() if progress else 0)
    shape = model.input_shape[1:]
    split = data.first(data.Split(*train_split), chosen.train_samples)
    prepared = [(data.to_inputs(part.x, shape), data.one_hot(part.y)) for part in (split, data.Split(*test_split))]
    return training.fit(model, config, *prepared)


def check_digit_model(model) -> None:
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
    """Draw a result of this API as the scripts draw it, and return the Figure (it shows inline in Jupyter); with `ax`, a
    compact view on that matplotlib axis (see figures.on_axis), returned."""
    show_figures_inline()
    return figures.plot(result, ax, **options)
