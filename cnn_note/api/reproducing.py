"""The note's comparison: cn.build_dnn, cn.build_cnn, cn.load_mnist, cn.seed and cn.train."""

from __future__ import annotations

import dataclasses
import math

from cnn_note import settings
from cnn_note.backend import keras
from cnn_note.core import checks
from cnn_note.errors import InputError
from cnn_note.io.progress import keras_verbosity
from cnn_note.note import data, models, training


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
