"""The keras.applications networks the tools open by name, and the pixel conventions models are trained on."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from cnn_note.backend import keras
from cnn_note.errors import Argument, InputError

# name: (constructor in keras.applications, module whose preprocess_input it takes)
NETWORKS = {
    "vgg16": ("VGG16", "vgg16"),
    "vgg19": ("VGG19", "vgg19"),
    "resnet50": ("ResNet50", "resnet"),
    "resnet50_v2": ("ResNet50V2", "resnet_v2"),
    "inception_v3": ("InceptionV3", "inception_v3"),
    "xception": ("Xception", "xception"),
    "mobilenet": ("MobileNet", "mobilenet"),
    "mobilenet_v2": ("MobileNetV2", "mobilenet_v2"),
    "densenet121": ("DenseNet121", "densenet"),
    "efficientnet_b0": ("EfficientNetB0", "efficientnet"),
    "convnext_tiny": ("ConvNeXtTiny", "convnext"),
}
WEIGHTS = "imagenet"  # what networks named by --model load; tests set None to build them without a download


def pixel_convention(input_range: tuple[float, float] | None, preprocess: str | None) -> Callable | None:
    """--input-range LOW,HIGH or --preprocess FAMILY as a function of pixels 0..1; None keeps 0..1."""
    if preprocess:
        module = importlib.import_module(f"keras.applications.{family(preprocess)}")
        return lambda pixels: module.preprocess_input(pixels * 255.0)
    if input_range:
        low, high = input_range
        return lambda pixels: low + (high - low) * pixels
    return None


def family(name: str) -> str:
    """The keras.applications module of a network name such as vgg16 or resnet50."""
    if name in NETWORKS:
        return NETWORKS[name][1]
    families = sorted({module for _, module in NETWORKS.values()})
    if name in families:
        return name
    raise InputError(f"unknown network {name}: known ones are {', '.join(NETWORKS)}")


def build(name: str):
    """The keras.applications network `name` with WEIGHTS (Keras downloads and caches ImageNet's once)."""
    constructor = NETWORKS[name][0] if name in NETWORKS else family(name)  # family() raises, listing the known names
    try:
        return getattr(keras.applications, constructor)(weights=WEIGHTS)
    except Exception as error:  # no network, a broken cache: the fix is the same
        raise InputError(f"could not get {name}'s ImageNet weights ({type(error).__name__}): run once with a network so "
                         "Keras can download and cache them, or pass a model file with ",
                         Argument("model", python="the model argument")) from None

