"""Each .npz the tools write has one writer and one reader, where its keys are stated: attributions.npz
(results.Attributions), examples.npz (results.SavedExamples), an atlas's unit files (network_atlas.units.save_unit and
UnitPictures), its patterns.npz (units.patterns_arrays, read_patterns) and its connections.npz (make.connections_arrays,
read_connections). What a writer writes its reader reads back, and the committed files, read and written again, give
the same keys in the same order, with the same dtypes and values."""

from __future__ import annotations

import glob
import os
import types

import numpy as np
import pytest
from conftest import ROOT

from cnn_note.io import writing
from cnn_note.network_atlas.make import Connections, connections_arrays, read_connections
from cnn_note.network_atlas.units import UnitPictures, patterns_arrays, read_patterns, read_units, save_unit, unit_file
from cnn_note.results import Attributions, Examples, SavedExamples

RESULTS = os.path.join(ROOT, "results")
ATLAS = os.path.join(RESULTS, "atlas", "cnn")


def assert_same(found: dict, path: str) -> None:
    """`found` holds the file's keys in its order, each array with the file's dtype, shape and values."""
    with np.load(path) as saved:
        assert list(found) == saved.files
        for key in saved.files:
            array = np.asarray(found[key])
            assert array.dtype == saved[key].dtype and np.array_equal(array, saved[key]), key


def written(path, arrays: dict) -> str:
    writing.save_npz(str(path), arrays)
    return str(path)


def rng(seed: int = 0):
    return np.random.default_rng(seed)


def examples(layer: str, field: tuple[int, int] | None) -> Examples:
    """A layer's examples of 3 units, 2 inputs each way, as the scan finds them (its pictures shown are not saved)."""
    top = rng(1).integers(0, 50, (3, 2))
    return Examples(layer, [0, 1, 2], top, rng(2).random((3, 2)), rng(3).integers(0, 9, (3, 2, 2)), top[:, ::-1], -rng(4).random((3, 2)),
                    rng(5).integers(0, 9, (3, 2, 2)), field, rng(6).random(3), top[:, 0], 1.5)


def test_attributions_read_back_as_written(tmp_path):
    maps = {"gradient": rng(1).random((2, 5, 5)), "lime": rng(2).random((2, 5, 5)).astype("float32")}  # a float64 map: saved as float32
    for layer in ("conv_2", None):
        saved = Attributions(rng(3).random((2, 5, 5, 1)).astype("float32"), np.array([3, 1]), np.array([0.5, 0.25], "float32"),
                             np.array([3, 4]), layer, maps)
        path = written(tmp_path / "attributions.npz", saved.arrays())
        read = Attributions.from_npz(path)
        assert read.layer == layer and list(read.maps) == ["gradient", "lime"] and read.maps["gradient"].dtype == np.float32
        assert_same(read.arrays(), path)


def test_examples_read_back_as_written(tmp_path):
    # Layers whose names hold the keys' own words: only the file's own suffixes are parsed off.
    found = {"conv_top": examples("conv_top", (3, 3)), "b_filters": examples("b_filters", None)}
    saved = SavedExamples(found, {layer: rng(7).random(3).astype("float32") for layer in found},
                          {layer: rng(8).random(3).astype("float32") for layer in found}, ["a.png", "bb.png"], "CPU",
                          {"b_filters": rng(9).integers(0, 5, (3, 4))}, {"b_filters": rng(10).random((3, 5))})
    path = written(tmp_path / "examples.npz", saved.arrays())
    read = SavedExamples.from_npz(path)
    assert list(read.examples) == ["conv_top", "b_filters"] and list(read.histogram) == ["b_filters"]
    assert read.inputs == ["a.png", "bb.png"] and read.processor == "CPU"
    for layer, expected in found.items():
        got = read.examples[layer]
        assert (got.layer, got.filters, got.field, got.seconds) == (layer, [0, 1, 2], expected.field, 1.5)
        for name in ("top", "top_activations", "top_positions", "bottom", "bottom_activations", "bottom_positions", "best_mean",
                     "best_mean_input"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), name
    assert_same(read.arrays(), path)


def test_unit_files_read_back_as_written(tmp_path):
    plan = types.SimpleNamespace(out=str(tmp_path), keys={"c_1": "0-c_1"})  # all a unit's file needs of a Plan
    os.makedirs(tmp_path / "0-c_1")
    units = [UnitPictures(rng(unit).random((6, 6, 1)).astype("float32"), np.float32(unit), rng(unit + 5).random((6, 6, 1)),
                          np.float32(-unit)) for unit in range(3)]
    for unit, found in enumerate(units):
        save_unit(plan, "c_1", unit, found)
        assert_same(UnitPictures.from_npz(unit_file(plan, "c_1", unit))._asdict(), unit_file(plan, "c_1", unit))
    stacked = read_units(plan, "c_1", [0, 1, 2])
    for name in UnitPictures._fields:
        assert np.array_equal(getattr(stacked, name), np.stack([getattr(unit, name) for unit in units])), name
    assert stacked.unit(1)._asdict().keys() == units[1]._asdict().keys()
    only = read_units(plan, "c_1", [2, 0], "activation")
    assert only.image is None and np.array_equal(only.activation, [2, 0])


def test_patterns_read_back_as_written(tmp_path):
    layers = {"conv_filters": ([0, 1], UnitPictures(rng(1).random((2, 4, 4, 1)), rng(2).random(2), rng(3).random((2, 4, 4, 1)),
                                                     rng(4).random(2))),
              "rgb": ([0, 1, 2], UnitPictures(rng(5).random((3, 4, 4, 3)), rng(6).random(3), rng(7).random((3, 4, 4, 3)),
                                              rng(8).random(3))),
              "plain": ([4], UnitPictures(rng(9).random((1, 4, 4, 1)), rng(10).random(1)))}  # visualize_filters.py's: no negatives
    path = written(tmp_path / "patterns.npz", {key: value for layer, (units, found) in layers.items()
                                               for key, value in patterns_arrays(layer, units, found).items()})
    read = read_patterns(path)
    assert list(read) == ["conv_filters", "rgb", "plain"] and read["rgb"][0] == [0, 1, 2] and read["plain"][1].negative_image is None
    assert read["conv_filters"][1].image.shape == (2, 4, 4) and read["rgb"][1].image.shape == (3, 4, 4, 3)  # grey ones squeezed
    assert_same({key: value for layer, (units, found) in read.items() for key, value in patterns_arrays(layer, units, found).items()},
                path)


def test_connections_read_back_as_written(tmp_path):
    found = {"pixels": Connections(class_contributions=rng(1).random((3, 10))), "none": Connections(),
             "b_in": Connections(rng(2).integers(0, 3, (4, 2)), rng(3).random((4, 2)), np.array("pixels"), rng(4).random((4, 2)),
                                 rng(5).random((4, 10)))}
    path = written(tmp_path / "connections.npz", connections_arrays(found))
    read = read_connections(path)
    assert list(read) == ["pixels", "b_in"]  # a layer with neither has no entries
    assert read["pixels"].in_units is None and str(read["b_in"].in_layer) == "pixels"
    assert_same(connections_arrays(read), path)


COMMITTED = {
    "attributions": (sorted(glob.glob(os.path.join(RESULTS, "explain", "*", "attributions.npz"))),
                     lambda path: Attributions.from_npz(path).arrays()),
    "examples": ([os.path.join(RESULTS, "filters", "examples.npz"), os.path.join(ATLAS, "examples.npz")],
                 lambda path: SavedExamples.from_npz(path).arrays()),
    "patterns": ([os.path.join(ATLAS, "patterns.npz")],
                 lambda path: {key: value for layer, (units, found) in read_patterns(path).items()
                               for key, value in patterns_arrays(layer, units, found).items()}),
    "connections": ([os.path.join(ATLAS, "connections.npz")], lambda path: connections_arrays(read_connections(path))),
    "units": (sorted(glob.glob(os.path.join(ATLAS, "*-*", "*.npz"))), lambda path: UnitPictures.from_npz(path)._asdict()),
}


@pytest.mark.parametrize("kind", COMMITTED)
def test_the_committed_files_read_and_written_again_are_the_same(kind):
    paths, again = COMMITTED[kind]
    assert paths, f"no committed {kind} file"
    for path in paths:
        assert_same(again(path), path)


def test_the_committed_filter_pictures_read_as_patterns_and_written_again_are_the_same():
    """visualize_filters.py's patterns.npz: each layer's entries as the atlas's, without the negative pictures (the class
    pictures' entries beside them are no layer's)."""
    path = os.path.join(RESULTS, "filters", "patterns.npz")
    read = read_patterns(path)
    assert list(read) == ["conv1", "conv2"] and all(found.negative_image is None for _, found in read.values())
    found = {key: value for layer, (units, pictures) in read.items() for key, value in patterns_arrays(layer, units, pictures).items()}
    with np.load(path) as saved:
        classes = {key: saved[key] for key in saved.files if key.startswith("classes")}
    assert_same(found | classes, path)


def test_the_committed_examples_read_as_what_they_are():
    """The readers' fields, not only their keys: the note's CNN's layers, fields and 9 examples each way."""
    for path in (os.path.join(RESULTS, "filters", "examples.npz"), os.path.join(ATLAS, "examples.npz")):
        saved = SavedExamples.from_npz(path)
        assert list(saved.examples) == ["conv1", "conv2"] and saved.inputs == ["the 10,000 MNIST test digits"]
        assert [(examples.field, examples.top.shape) for examples in saved.examples.values()] == [((3, 3), (25, 9)), ((8, 8), (50, 9))]
        assert (saved.histogram is not None and list(saved.histogram)) == (["conv1", "conv2"] if ATLAS in path else [])
    patterns = read_patterns(os.path.join(ATLAS, "patterns.npz"))
    assert [(units[-1], found.image.shape) for units, found in patterns.values()] == [(24, (25, 28, 28)), (49, (50, 28, 28))]
    connections = read_connections(os.path.join(ATLAS, "connections.npz"))
    assert str(connections["conv2"].in_layer) == "conv1" and connections["conv1"].in_units is None
