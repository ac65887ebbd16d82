"""Every result type's repr fits a notebook cell: sizes and the few numbers that matter, never every pixel."""

import dataclasses
import inspect

import numpy as np
import pytest

from cnn_note import results
from cnn_note.core.heads import Head

RESULT_TYPES = sorted([name for name, kind in inspect.getmembers(results, inspect.isclass)
                       if dataclasses.is_dataclass(kind) and kind.__module__ == results.__name__] + ["Run"])  # cn.train's
METHODS = ("gradient", "smoothgrad", "integrated_gradients", "gradcam", "occlusion", "lime")


def rng(seed=0):
    return np.random.default_rng(seed)


def examples(filters=25, count=9):
    """conv1's dataset examples as visualize_filters.py ranks them: 9 inputs each way, each cut to its 3x3 field."""
    top = rng(1).integers(0, 10_000, (filters, count))
    crops = [[rng(2).random((3, 3, 1)).astype("float32") for _ in range(count)] for _ in range(filters)]
    return results.Examples("conv1", list(range(filters)), top, rng(3).random((filters, count)), np.zeros((filters, count, 2), int),
                            top[:, ::-1], -rng(4).random((filters, count)), np.zeros((filters, count, 2), int), (3, 3),
                            rng(5).random(filters), top[:, 0], 4.1, top_pictures=crops, bottom_pictures=crops,
                            boxes=[[None] * 2 * count for _ in range(filters)])


def filter_pictures(filters=25):
    """cn.filter_pictures(cnn, "conv1") with its default dataset examples and frames=True."""
    scores = rng(6).random(filters)
    images = rng(7).random((filters, 28, 28, 1)).astype("float32")
    return results.Pictures(images, list(range(filters)), scores, "conv1: input that maximises each filter's mean activation",
                            [f"#{k}  {value:.2f}" for k, value in enumerate(scores)], "conv1", [images] * 30, examples(filters),
                            scores + 0.1, scores)


def explanation(count=100):
    """cn.explain(cnn, 100 test digits) with the six methods, as where_they_look explains them."""
    predicted = rng(8).integers(0, 10, count)
    outputs = rng(9).random((count, 10)).astype("float32")
    return results.Explanation(rng(10).random((count, 28, 28, 1)).astype("float32"),
                               {method: rng(11).random((count, 28, 28)).astype("float32") for method in METHODS},
                               predicted, outputs.max(axis=1), predicted, outputs, "conv2", rng(12).random(count) / 100,
                               [str(k) for k in range(10)], Head("softmax", 10, "output", "softmax"))


def dream():
    """cn.deep_dream on a photo with frames=True: the frames grow an octave at a time."""
    photo = rng(13).random((224, 224, 3)).astype("float32")
    return results.Dream(photo, photo, {"mixed3": 1.0, "mixed5": 1.5},
                         [rng(14).random((1, side, side, 3)).astype("float32") for side in (112, 158, 224) for _ in range(10)])


def run(epochs=20):
    """cn.train's answer after the note's 20 epochs: the model and a history of six metrics an epoch."""
    from cnn_note.note import models, training

    metrics = ("accuracy", "loss", "epoch_test_accuracy", "epoch_test_loss", "test_accuracy", "test_loss")
    return training.Run(0, models.build_cnn(), {name: list(rng(15).random(epochs)) for name in metrics}, 0.0012, 1.0,
                        0.0731, 0.9798, 38.2, "the first 1,000 test images")


# A realistic instance of each result type, and what its repr must say: the sizes, the layer, the first numbers.
REALISTIC = {
    "Dream": (dream, ["Dream(", "float32[224,224,3]", "'mixed5': 1.5", "30 arrays"]),
    "Examples": (examples, ["Examples(", "'conv1'", "[25,9]", "(3, 3)", "25 lists of 9"]),
    "Explanation": (explanation, ["Explanation(", "float32[100,28,28,1]", "'conv2'", "float32[100,10]",
                                  "(100, 28, 28)", *METHODS]),
    "Pictures": (filter_pictures, ["Pictures(", "float32[25,28,28,1]", "'conv1'", "30 arrays", "Examples("]),
    "Run": (run, ["Run(", "test_acc=0.9798", "epoch_test_accuracy", "each 20 long"]),
}


def test_every_result_type_has_a_realistic_instance_here():
    # A new result type fails here until it is given one below, and so is held to the same short repr.
    assert RESULT_TYPES == sorted(REALISTIC)


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_a_results_repr_is_a_few_lines_that_name_its_sizes(name):
    make, said = REALISTIC[name]
    result = make()
    assert type(result).__name__ == name
    text = repr(result)
    # The pixels alone are tens of thousands of numbers: a repr that prints them is thousands of lines long.
    assert len(text) <= 600 and text.count("\n") < 10, f"{len(text)} characters, {text.count(chr(10)) + 1} lines:\n{text}"
    for part in said:
        assert part in text, (part, text)
    assert max(map(len, text.splitlines())) <= 120


def test_a_number_per_picture_shows_as_numpy_summarises_it():
    many, few = explanation(100), explanation(8)
    # numpy's own summary of a long array: its first three and last three values.
    first, last = " ".join(map(str, many.predicted[:3])), " ".join(map(str, many.predicted[-3:]))
    assert f"predicted=[{first} ... {last}]" in repr(many)
    assert f"predicted=[{' '.join(map(str, few.predicted))}]" in repr(few)  # eight are shown whole
    assert "frames" not in repr(results.Dream(np.zeros((4, 4, 1)), np.zeros((4, 4, 1)), {"conv1": 1.0}))  # unset: left out
