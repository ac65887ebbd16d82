"""What the API returns: small results that hold numpy arrays (figures.py draws them; nothing here needs TensorFlow),
and the .npz files they are saved as: each file's keys are written (arrays) and read (from_npz) here alone.

May import: nothing (core's Head is named for annotations alone).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:  # for the annotations only: it imports TensorFlow
    from cnn_note.core.heads import Head

_WIDTH = 110  # the characters of a line in a result's repr: a notebook cell's width


class Compact:
    """A repr that fits a notebook cell, as numpy and pandas shorten theirs: a dataclass's default repr prints every
    pixel of every array (an Explanation of 8 digits ran to 27,000 characters, 800 lines).

    Pictures and maps show as their dtype and shape (float32[8,28,28,1]), a number per picture or filter as numpy
    summarises a long array ([7 2 1 ... 4 9 5]), lists and dicts by their size and first items; fields left unset
    (None, empty) are left out. A result class takes it with @dataclasses.dataclass(repr=False), which keeps this repr.
    """

    def __repr__(self) -> str:
        fields = [f"{field.name}={_brief(getattr(self, field.name))}" for field in dataclasses.fields(self)
                  if not _unset(getattr(self, field.name))]
        # Wrapped between fields, never inside one: an array's summary stays on its line.
        lines = [f"{type(self).__name__}("]
        for index, text in enumerate(fields):
            text += "" if index == len(fields) - 1 else ", "
            if len(lines[-1]) + len(text) > _WIDTH and lines[-1].strip() and not lines[-1].endswith("("):
                lines.append("    ")
            lines[-1] += text
        return "\n".join(line.rstrip() for line in lines) + ")"


def _unset(value) -> bool:
    return value is None or (isinstance(value, (list, dict)) and not value)


def _brief(value) -> str:
    """A field's value in a few characters (see Compact)."""
    if isinstance(value, Compact):  # a result inside a result: its own repr is a few lines of its own
        return f"{type(value).__name__}(...)"
    if isinstance(value, np.ndarray) and value.ndim != 1:
        return f"{value.dtype}[{','.join(map(str, value.shape))}]"
    if isinstance(value, np.ndarray) or (isinstance(value, list) and all(isinstance(item, (int, np.integer)) for item in value)):
        return np.array2string(np.asarray(value), threshold=8, edgeitems=3, precision=3, separator=" ")
    if isinstance(value, list):
        return _brief_list(value)
    if isinstance(value, dict) and value and all(isinstance(item, (list, np.ndarray)) for item in value.values()):
        return _brief_dict(value)
    if isinstance(value, dict) and value and all(isinstance(item, dict) for item in value.values()):  # {method: {input: values}}
        return "{" + ", ".join(f"{key}: {_brief(item)}" for key, item in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def _brief_list(value: list) -> str:
    first = value[0]
    if isinstance(first, np.ndarray):  # frames: each octave's may have a size of its own
        return f"{len(value)} arrays, the first {_brief(first)}"
    if isinstance(first, list):
        return f"{len(value)} lists of {len(first)}"
    return "[" + ", ".join(map(repr, value[:3])) + (f", ... {len(value)} in all]" if len(value) > 3 else "]")


def _brief_dict(value: dict) -> str:
    """Maps a method each, or a training history's numbers a metric each: the names, then the size once where it is one."""
    sizes = {item.shape if isinstance(item, np.ndarray) else f"{len(item)} long" for item in value.values()}
    if len(sizes) == 1:
        return "{" + ", ".join(value) + f"}} each {sizes.pop()}"
    return "{" + ", ".join(f"{key}: {_brief(item)}" for key, item in value.items()) + "}"


def layers_of(keys: list[str], *markers: str) -> list[str]:
    """The layers an .npz holds, in its order: a key f"{layer}_{marker}" names one (a layer's name may hold "_")."""
    return list(dict.fromkeys(key[:-len(marker) - 1] for key in keys for marker in markers if key.endswith(f"_{marker}")))


# examples.npz's entries for a layer, f"{layer}_{name}", in this order: these fields of its Examples, then these of
# SavedExamples (those that hold the layer).
_SAVED = ("filters", "top", "bottom", "best_mean", "best_mean_input", "top_activations", "bottom_activations", "top_positions",
          "bottom_positions", "field")
_EACH = ("optimised", "optimised_score", "histogram", "histogram_edges")


@dataclasses.dataclass(repr=False)
class Examples(Compact):
    """One layer's dataset examples: for each filter, the N inputs whose strongest unit is highest (top) and the N whose
    weakest unit is lowest (bottom), with those units' activations and places."""

    layer: str
    filters: list[int]
    top: np.ndarray  # (F, N) input indices
    top_activations: np.ndarray  # (F, N)
    top_positions: np.ndarray  # (F, N, 2) the unit's row and column in the layer's map
    bottom: np.ndarray
    bottom_activations: np.ndarray
    bottom_positions: np.ndarray
    field: tuple[int, int] | None  # the receptive field's (height, width) in input pixels, None where it cannot be told
    best_mean: np.ndarray | None = None  # (F,) the highest score any input gets from the ascent's objective (mean_score)
    best_mean_input: np.ndarray | None = None  # (F,) which input
    seconds: float = 0.0  # the pass over the inputs, shared by every layer scanned with this one
    whole: bool = False  # the pictures are whole inputs, their units' fields in `boxes`, not crops
    top_pictures: list = dataclasses.field(default_factory=list)  # [F][N] the crops (or whole inputs) shown
    bottom_pictures: list = dataclasses.field(default_factory=list)
    boxes: list = dataclasses.field(default_factory=list)  # [F][2N] (top, left, bottom, right) of each unit in the picture shown

    def arrays(self) -> dict[str, np.ndarray]:
        """examples.npz's entries for this layer: f"{layer}_{field}" of each saved field, a field not known as (-1, -1)."""
        found = {name: getattr(self, name) for name in _SAVED} | {"field": self.field or (-1, -1)}
        return {f"{self.layer}_{name}": np.asarray(value) for name, value in found.items()}

    @classmethod
    def from_arrays(cls, saved, layer: str, seconds: float = 0.0) -> Examples:
        """A layer's Examples from examples.npz's entries (`saved`: an open np.load, or arrays itself; see arrays), with
        the scan's `seconds`; the pictures shown are not saved."""
        found = {name: saved[f"{layer}_{name}"] for name in _SAVED}
        field = tuple(found["field"].tolist())
        return cls(layer, **found | {"filters": found["filters"].tolist(), "field": None if field == (-1, -1) else field}, seconds=seconds)


class SavedExamples(NamedTuple):
    """What examples.npz holds, visualize_filters.py's and the atlas's: each layer's examples, its optimised pictures'
    responses and the atlas's histograms, and what was scanned where (the scan's seconds are each Examples')."""

    examples: dict[str, Examples]
    optimised: dict[str, np.ndarray]  # {layer: (F,)} each optimised picture's strongest unit (Pictures.optimised)
    optimised_score: dict[str, np.ndarray]  # {layer: (F,)} what the ascent scores it (Pictures.optimised_score)
    inputs: list[str]  # the inputs' names, or their source's description alone
    processor: str  # the processor the scan ran on
    histogram: dict[str, np.ndarray] | None = None  # the atlas's {layer: (F, bins)} counts of each unit's strongest response
    histogram_edges: dict[str, np.ndarray] | None = None  # {layer: (F, bins + 1)} the bins they are counted in

    def arrays(self) -> dict[str, np.ndarray]:
        """examples.npz's entries: each layer's Examples.arrays and the fields of _EACH, then the scan's."""
        arrays, each = {}, {name: getattr(self, name) or {} for name in _EACH}
        for layer, examples in self.examples.items():
            arrays |= examples.arrays() | {f"{layer}_{name}": found[layer] for name, found in each.items() if layer in found}
        seconds = next(iter(self.examples.values())).seconds
        return {**arrays, "inputs": np.array(self.inputs), "scan_seconds": np.array(seconds), "processor": np.array(self.processor)}

    @classmethod
    def from_npz(cls, path: str) -> SavedExamples:
        """Read an examples.npz (see arrays)."""
        with np.load(path) as saved:
            layers, seconds = layers_of(saved.files, "filters"), float(saved["scan_seconds"])
            each = {name: {layer: saved[f"{layer}_{name}"] for layer in layers if f"{layer}_{name}" in saved.files} for name in _EACH}
            return cls({layer: Examples.from_arrays(saved, layer, seconds) for layer in layers}, inputs=saved["inputs"].tolist(),
                       processor=str(saved["processor"]), **each)


@dataclasses.dataclass(repr=False)
class Explanation(Compact):
    """cn.explain's answer: one (N, H, W) map per method, and what was explained; cn.plot draws it.

    Attributes:
        images: (N, H, W, C) pixels 0..1, the pictures as explained (resized to the model's size when it takes one).
        maps: {method: (N, H, W)} a map per picture for each method run: signed (for the class above 0, against it
            below) or magnitudes, 0 and up, as the method says (attribution.METHODS[method].signed).
        classes: (N,) the class explained for each picture.
        probabilities: (N,) the probability of that class (a regression's value).
        predicted: (N,) the most probable class.
        outputs: (N, classes) every class's probability.
        layer: Grad-CAM's layer, or None when Grad-CAM did not run.
        completeness: (N,) Integrated Gradients' completeness error, |sum of the map - (score(x) - score(baseline))|
            over |score(x) - score(baseline)|, when it ran; else None.
        class_names: a name per class, as the titles show them.
        head: what the model's output is (softmax, logits, sigmoid or regression) and how its scores are read.
        others: for a model of several inputs explained at each picture's own other inputs, {method: {input name:
            attributions}} of the methods that attribute to them (gradient, smoothgrad, integrated_gradients): an
            (N, H, W) map for a picture input, (N, *shape) a value per feature for a vector; empty otherwise.
    """

    images: np.ndarray  # (N, H, W, C), pixels 0..1, as explained
    maps: dict[str, np.ndarray]  # {method: (N, H, W)}
    classes: np.ndarray  # (N,) the class explained for each picture
    probabilities: np.ndarray  # (N,) the probability (a regression's value) of that class
    predicted: np.ndarray  # (N,) the most probable class
    outputs: np.ndarray  # (N, classes) every class's probability
    layer: str | None  # Grad-CAM's layer
    completeness: np.ndarray | None  # (N,) Integrated Gradients' completeness error, when it ran
    class_names: list[str]
    head: Head
    others: dict[str, dict[str, np.ndarray]] = dataclasses.field(default_factory=dict)  # {method: {input: attributions}}

    def title(self, index: int, key: str = "", label: int | None = None) -> str:
        """What the script prints and writes over picture `index`: the prediction, and the class explained when another."""
        head, names, row = self.head, self.class_names, index
        title = f"{key}{'' if label is None else f' (label {label})'}: " + (
            f"value {head.format(self.probabilities[row])}" if head.kind == "regression" else
            f"predicted {names[self.predicted[row]]} at {head.format(self.outputs[row, self.predicted[row]])}")
        if self.classes[row] != self.predicted[row]:
            title += f"; explaining {names[self.classes[row]]} ({head.format(self.probabilities[row])})"
        return title

    def arrays(self) -> dict[str, np.ndarray]:
        """What explain.py saves as attributions.npz (see Attributions)."""
        return Attributions(self.images, self.classes, self.probabilities, self.predicted, self.layer, self.maps, self.others).arrays()


class Attributions(NamedTuple):
    """What attributions.npz holds: an Explanation's pictures, classes and maps (Explanation.arrays writes it)."""

    images: np.ndarray  # (N, H, W, C), pixels 0..1, as explained
    classes: np.ndarray  # (N,) the class explained for each picture
    probabilities: np.ndarray  # (N,) the probability (a regression's value) of that class
    predicted: np.ndarray  # (N,) the most probable class
    layer: str | None  # Grad-CAM's layer
    maps: dict[str, np.ndarray]  # {method: (N, H, W)}
    others: dict[str, dict[str, np.ndarray]] = {}  # {method: {input name: attributions}}, a model of several inputs'

    def arrays(self) -> dict[str, np.ndarray]:
        """attributions.npz's entries: the pictures, classes, predictions, Grad-CAM's layer ("": none), a float32 map per method,
        and for a model of several inputs the attributions to each other input as `method@input`."""
        return {"images": self.images, "classes": self.classes, "probabilities": self.probabilities, "predicted": self.predicted,
                "gradcam_layer": np.array(self.layer or ""), **{method: values.astype("float32") for method, values in self.maps.items()},
                **{f"{method}@{name}": values.astype("float32") for method, found in self.others.items() for name, values in found.items()}}

    @classmethod
    def from_npz(cls, path: str) -> Attributions:
        """Read an attributions.npz (see arrays): the entries not named there are the maps, `method@input` the others'."""
        with np.load(path) as saved:
            arrays = dict(saved)
        layer = str(arrays.pop("gradcam_layer")) or None
        others: dict[str, dict[str, np.ndarray]] = {}
        for key in [key for key in arrays if "@" in key]:
            method, name = key.split("@", 1)
            others.setdefault(method, {})[name] = arrays.pop(key)
        return cls(arrays.pop("images"), arrays.pop("classes"), arrays.pop("probabilities"), arrays.pop("predicted"), layer, arrays, others)


@dataclasses.dataclass(repr=False)
class Pictures(Compact):
    """Pictures found by gradient ascent: cn.filter_pictures' (one per filter) or cn.class_pictures' (one per class).

    Read .filters and .activations for filter pictures, .classes and .probabilities for class pictures: each pair is
    .indices and .scores under the name that fits. cn.plot draws them.

    Attributes:
        images: (F, H, W, C) pixels 0..1, a picture per filter or class.
        indices: the filters or classes, in order.
        scores: (F,) each filter's mean activation for its picture, or each class's probability (a regression's value).
        title: the figure's title.
        labels: what each picture is called in a figure.
        layer: the filters' layer; None for class pictures.
        frames: with frames=True, the pictures every few steps, (F, H, W, C) each; else None.
        examples: filter pictures with examples: the inputs that excite each filter most and least (for each filter,
            the inputs' indices, activations and the strongest unit's place, the receptive field, the crops shown).
        optimised: (F,) each picture's strongest unit, the response its examples are ranked by.
        optimised_score: (F,) what the ascent scores each picture (beside examples.best_mean), before any ReLU.
    """

    images: np.ndarray  # (F, H, W, C), pixels 0..1
    indices: list[int]  # the filters or classes, in order
    scores: np.ndarray  # (F,) each filter's mean activation, or each class's probability (see measure)
    title: str
    labels: list[str]  # what each picture is called in a figure
    layer: str | None = None
    frames: list | None = None  # with frames=True: the pictures every few steps, (F, H, W, C) each
    examples: Examples | None = None  # filter pictures: the inputs that excite each filter most and least
    optimised: np.ndarray | None = None  # (F,) each picture's strongest unit, the response its examples are ranked by
    optimised_score: np.ndarray | None = None  # (F,) what the ascent scores it (beside examples.best_mean), before any ReLU

    @property
    def filters(self) -> list[int]:
        """The filters drawn, in order (filter pictures)."""
        return self.indices

    @property
    def classes(self) -> list[int]:
        """The classes drawn, in order (class pictures)."""
        return self.indices

    @property
    def activations(self) -> np.ndarray:
        """(F,) each filter's mean activation for its picture (filter pictures)."""
        return self.scores

    @property
    def probabilities(self) -> np.ndarray:
        """(K,) the model's probability of each class for its picture, a regression's value (class pictures)."""
        return self.scores


@dataclasses.dataclass(repr=False)
class Dream(Compact):
    """cn.deep_dream's answer: the dreamed picture(s) beside the original(s); np.asarray(result) is the dreamed picture.

    Attributes:
        image: the dreamed picture, (H, W, C) for one picture, (N, H, W, C) for several; pixels 0..1.
        original: the picture(s) dreamed on, the same shape (shrunk or inverted first when asked).
        layers: {layer: weight}, the layers the dream amplified and their weights.
        frames: with frames=True, (N, h, w, C) arrays through each octave's steps, about 30 in all; else None.
    """

    image: np.ndarray  # (H, W, C) for one picture, (N, H, W, C) for several; pixels 0..1
    original: np.ndarray  # the same shape
    layers: dict[str, float]
    frames: list | None = None  # with frames=True: (N, h, w, C) arrays, about 30 in all

    def __array__(self, dtype=None, copy=None):
        return self.image if dtype is None else self.image.astype(dtype)
