"""What a model's output is (its head), and so what "the score of class c" and its probability are, in the walked graph."""

from __future__ import annotations

import dataclasses

from cnn_note.backend import keras
from cnn_note.core.traversal import Graph, activation_of, without_activation
from cnn_note.errors import Argument, InputError
from cnn_note.settings import HEADS


@dataclasses.dataclass(frozen=True)
class Head:
    """What a model's output is, and so what "the score of class c" and its probability are.

    softmax (k >= 2): the score is the logit before the softmax, the probability the softmax.
    logits (k >= 2, no activation): the score is the logit, the probability its softmax.
    binary (one unit, sigmoid or none): classes 0 and 1; class 1 scores the logit z, class 0 -z; P(1) = sigmoid(z).
    sigmoid (k >= 2, multi-label): each class scores its own logit before the sigmoid; its probability is the sigmoid.
    regression (asked for): the score and the "probability" are the output value itself.
    """

    kind: str
    units: int
    layer: str
    activation: str

    @property
    def classes(self) -> int:
        return 2 if self.kind == "binary" else self.units

    @property
    def measure(self) -> str:
        """What the probabilities are called in titles and lines."""
        return {"softmax": "softmax confidence", "logits": "softmax of the logits", "binary": "sigmoid probability",
                "sigmoid": "sigmoid probability", "regression": "value"}[self.kind]

    def format(self, value: float) -> str:
        """A probability as a percentage; a regression's value as a number."""
        return f"{value:.4g}" if self.kind == "regression" else f"{value:.1%}"

    def describe(self, label: str) -> str | None:
        """One line saying what is explained, for every head but softmax (None)."""
        where = f"{label}'s output {self.layer} ({self.units} unit{'s' if self.units > 1 else ''}, activation {self.activation})"
        return {
            "softmax": None,
            "logits": f"head: logits: {where}; each class's score is its logit, its probability their softmax",
            "binary": f"head: binary: {where}; class 1's score is the logit z, class 0's -z, P(class 1) = sigmoid(z)"
                      + ("; --head regression explains the value itself" if self.activation == "linear" else ""),
            "sigmoid": f"head: sigmoid, multi-label: {where}; each class's score is its own logit before the sigmoid, "
                       "its probability the sigmoid",
            "regression": f"head: regression: {where}; the score is the output value itself",
        }[self.kind]


def check_asked(asked: str) -> None:
    """One line unless `asked` is one of HEADS."""
    if asked not in HEADS:
        raise InputError(f"unknown head {asked!r}: choose from {', '.join(HEADS)}")


def settle_head(asked: str, activation: str, units: int, where: str) -> str:
    """The kind of head (see Head) that `asked` (one of HEADS) means for a last layer with this activation and units."""
    check_asked(asked)
    if asked == "auto":
        if activation == "softmax" and units >= 2:
            return "softmax"
        if activation in ("sigmoid", "linear"):
            return "binary" if units == 1 else "sigmoid" if activation == "sigmoid" else "logits"
        raise InputError(f"cannot tell what {where} gives ({units} unit{'s' if units > 1 else ''}, activation {activation}): "
                         "say it with ",
                         Argument("head", python="head='logits', 'sigmoid' or 'regression'", flag="--head logits, sigmoid or regression"))
    fits = {"softmax": activation == "softmax" and units >= 2, "logits": activation == "linear" and units >= 2,
            "sigmoid": activation in ("sigmoid", "linear"), "regression": True}[asked]
    if not fits:
        raise InputError(Argument("head", asked), f" does not fit {where}, which has {units} unit{'s' if units > 1 else ''} and "
                         f"activation {activation}: use ", Argument("head", "auto"), ", or the head it is")
    return "binary" if asked == "sigmoid" and units == 1 else asked


def chosen_output(graph: Graph, output: str | int | None, label: str) -> tuple[str, object]:
    """The name of the layer that gives the output looked at (`output`: its name or index; None: the only one), and that
    output in the walked graph."""
    outputs = graph.outputs
    names = [next(name for name, out in graph.produced.items()
                  if out is tensor and not isinstance(graph.layers[name], keras.Model)) for tensor in outputs]
    listed = ", ".join(f"{index} {name} {tuple(tensor.shape)}" for index, (name, tensor) in enumerate(zip(names, outputs)))
    if output is None:
        if len(outputs) > 1:
            raise InputError(f"{label} has {len(outputs)} outputs ({listed}): choose one with ",
                             Argument("output", python="output=NAME", flag="--output NAME"), " or its index")
        return names[0], outputs[0]
    index = names.index(output) if output in names else int(output) if str(output).isdigit() else None
    if index is None or not 0 <= index < len(outputs):
        raise InputError(f"unknown output {output!r}: {label}'s outputs are {listed}")
    return names[index], outputs[index]


def read(graph: Graph, asked: str, output: str | int | None, label: str) -> tuple[Head, object, object]:
    """The head of the output looked at (as asked, one of HEADS), and its symbolic class scores and probabilities."""
    name, out = chosen_output(graph, output, label)
    if len(out.shape) != 2:
        raise InputError(f"{label}'s output {name} has shape {tuple(out.shape)[1:]}, not one vector of class scores per "
                         "image: give a classifier whose output is (batch, classes), or choose another with ",
                         Argument("output", python="output="))
    layer, units = graph.layers[name], out.shape[-1]
    activation = activation_of(layer)
    kind = settle_head(asked, activation, units, f"{label}'s last layer {name}")
    head = Head(kind, units, name, activation)
    if kind == "regression" or activation == "linear":
        z = out
    elif isinstance(layer, (keras.layers.Softmax, keras.layers.Activation)):
        z = graph.received[name]
    else:
        z = without_activation(layer, graph.received[name], "logits")
    ops = keras.ops
    if kind == "softmax":
        return head, z, out  # the model's own softmax, as it was trained
    if kind == "logits":
        return head, z, ops.softmax(z)
    if kind == "binary":
        return head, ops.concatenate([-z, z], axis=-1), ops.sigmoid(ops.concatenate([-z, z], axis=-1))
    if kind == "sigmoid":
        return head, z, ops.sigmoid(z)
    return head, out, out
