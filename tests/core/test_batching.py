"""Every pass of pictures through a model goes in batches that fit (batching.batch_size, core.batching's rule)."""

import numpy as np
import pytest

import cnn_note as cn
from cnn_note import dataset_examples
from cnn_note.backend import keras
from cnn_note.cli import visualize_filters
from cnn_note.core import batching
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError
from cnn_note.note import models


@pytest.fixture(scope="module")
def view():
    keras.utils.set_random_seed(0)
    return View.of(models.build_cnn(), "cnn")


@pytest.fixture
def calls(monkeypatch):
    """The batch sizes every keras.Model call and predict_on_batch is given, from here on."""
    seen = []
    predict, call = keras.Model.predict_on_batch, keras.Model.__call__

    def predict_on_batch(self, x):
        seen.append(len(x))
        return predict(self, x)

    def called(self, x, *args, **kwargs):
        if hasattr(x, "shape") and len(x.shape) == 4 and x.shape[0] is not None:
            seen.append(int(x.shape[0]))
        return call(self, x, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "predict_on_batch", predict_on_batch)
    monkeypatch.setattr(keras.Model, "__call__", called)
    return seen


def small_tensors(monkeypatch, view, layer, side, pictures):
    """Let no tensor hold more than `pictures` pictures' worth of `layer`'s largest tensor at side x side."""
    largest = max(batching.tensor_sizes(view, None if layer is None else [layer], side, side))
    monkeypatch.setattr(batching, "MAX_VALUES", pictures * largest)


def responses_by_hand(model, pictures: np.ndarray, filters: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Picture k's strongest unit in filter filters[k] of conv1 (linear, so before and after a ReLU alike), and its score as
    the ascent scores it (the mean inside a border of 2, negative values a tenth), from a plain Keras sub-model, in numpy."""
    inputs = keras.Input((None, None, 1))  # conv1 alone takes pictures of any size
    maps = np.asarray(keras.Model(inputs, model.get_layer("conv1")(inputs))(pictures))
    own = maps[np.arange(len(filters)), :, :, filters]  # (F, h, w)
    inner = own[:, 2:-2, 2:-2]
    return own.max(axis=(1, 2)), np.where(inner > 0, inner, 0.1 * inner).mean(axis=(1, 2))


def test_the_responses_to_many_large_pictures_go_in_batches_and_match_one_pass(view, monkeypatch, calls):
    # The 5000-pixel regression at a small scale: 25 optimised pictures went through conv1 in one call.
    pictures = np.random.default_rng(0).random((25, 60, 60, 1)).astype("float32")
    filters = list(range(25))[::-1]  # picture k in filter 24 - k: a filter per picture, not the picture's own index
    by_hand = responses_by_hand(view.model, pictures, filters)
    calls.clear()
    whole = dataset_examples.responses(view, "conv1", filters, pictures)
    assert max(calls) == 25
    calls.clear()
    small_tensors(monkeypatch, view, "conv1", 60, 3)
    parts = dataset_examples.responses(view, "conv1", filters, pictures)
    assert calls and max(calls) <= 3
    for found in (whole, parts):
        for got, want in zip(found, by_hand):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_probabilities_and_class_pictures_go_in_batches(view, monkeypatch, calls):
    pictures = np.random.default_rng(1).random((10, 28, 28, 1)).astype("float32")
    whole = view.probabilities(pictures)
    small_tensors(monkeypatch, view, None, 28, 4)
    calls.clear()
    np.testing.assert_allclose(view.probabilities(pictures), whole, rtol=1e-6, atol=1e-7)
    assert calls and max(calls) <= 4
    calls.clear()
    found = cn.class_pictures(view, classes=list(range(10)), steps=2, progress=False)
    assert found.images.shape == (10, 28, 28, 1) and np.isfinite(found.images).all()
    assert max(calls) <= 4


def test_one_picture_past_what_a_kernel_indexes_is_refused_in_one_line(view, monkeypatch):
    small_tensors(monkeypatch, view, "conv1", 60, 1)
    with pytest.raises(InputError, match="values, more than TensorFlow's kernels can index"):
        batching.batch_size(view, ["conv1"], 61, 61, 5, "a 61x61 picture", "give smaller pictures")
    assert batching.batch_size(view, ["conv1"], 60, 60, 5, "a 60x60 picture", "give smaller pictures") == 1


def test_a_memory_refusal_names_the_size_as_python_and_the_script_each_give_it(view, random_cnn_file, tiny_npz, tmp_path,
                                                                                monkeypatch, capsys):
    monkeypatch.setattr(batching, "memory_budget", lambda: 1 << 30)
    # conv1 of a 20000-pixel picture: the picture's 20000^2 values and conv1's 19998^2 x 25, float32, 3 copies.
    need = f"{4 * 3 * (20000**2 + 19998**2 * 25) / 2**30:.1f}"
    said = (" a 20000x20000 picture of conv1 needs about " + need + " GiB of working memory, more than the 1.0 GiB this machine can "
            "spare: use a smaller ")
    with pytest.raises(InputError) as refused:
        cn.filter_pictures(view, "conv1", size=20000, progress=False)
    assert str(refused.value) == "size=20000:" + said + "size"
    with pytest.raises(SystemExit):
        visualize_filters.main(["--model", random_cnn_file, "--data", tiny_npz, "--out-dir", str(tmp_path), "--layer", "conv1",
                                "--size", "20000"])
    assert capsys.readouterr().err == "visualize_filters.py: error: --size 20000:" + said + "--size\n"


def test_a_refusals_parts_are_text_arguments_or_tuples_of_them(monkeypatch):
    monkeypatch.setattr(batching, "memory_budget", lambda: 0)
    with pytest.raises(InputError) as refused:
        batching.fitting([1], 1, (Argument("tile", 9), ": a tile"), ("use a smaller ", Argument("tile")))
    assert refused.value.said(on_command_line=False).split(": ") == ["tile=9", "a tile needs about 0.0 GiB of working memory, "
                                                                     "more than the 0.0 GiB this machine can spare", "use a smaller tile"]
    assert refused.value.on_command_line().endswith("spare: use a smaller --tile")
    with pytest.raises(InputError, match="^a picture needs .*: fix$"):
        batching.fitting([1], 1, "a picture", "fix")


def cuts(slices) -> list[tuple[int, int]]:
    return [(part.start, part.stop) for part in slices]


def test_batches_cut_a_count_in_order_and_never_cross_a_shard():
    assert cuts(batching.batches(10, 4)) == [(0, 4), (4, 8), (8, 10)]
    assert cuts(batching.batches(0, 4)) == []
    whole = cuts(batching.batches(1100, 300, shard=512))
    assert whole == [(0, 300), (300, 512), (512, 812), (812, 1024), (1024, 1100)]
    # A shard that starts at a multiple of it is cut as the whole pass cuts it (Ray's shards of the inputs).
    assert cuts(batching.batches(1100 - 512, 300, shard=512, start=512)) == whole[2:]
    # The atlas's pieces: 8 units from each multiple of 8, the last one shorter.
    assert cuts(batching.batches(25, 8)) == [(0, 8), (8, 16), (16, 24), (24, 25)]


def test_map_batches_gives_each_batch_to_the_function_and_joins_what_it_gives():
    seen = []

    def both(a, b):
        seen.append(len(a))
        return a + b, a * b

    a, b = np.arange(7.0), np.arange(7.0) + 1
    total, product = batching.map_batches(both, 3, a, b)
    assert seen == [3, 3, 1]
    np.testing.assert_array_equal(total, a + b)
    np.testing.assert_array_equal(product, a * b)
    np.testing.assert_array_equal(batching.map_batches(lambda x: 2 * x, 5, a), 2 * a)


def test_the_fitting_rule_on_sizes_computed_by_hand(monkeypatch):
    monkeypatch.setattr(batching, "memory_budget", lambda: 10_000)
    sizes = [100, 300, 200]  # values of each tensor one picture makes: 600 in all
    assert batching.bytes_needed(sizes, forward_only=True) == 3000  # 4 bytes x 1.25 copies x 600
    assert batching.bytes_needed(sizes) == 7200  # 4 bytes x 3 copies x 600
    assert batching.fitting(sizes, 50, "a picture", "fix", forward_only=True) == 3  # 10,000 // 3000
    assert batching.fitting(sizes, 50, "a picture", "fix") == 1  # 10,000 // 7200
    assert batching.fitting(sizes, 2, "a picture", "fix", forward_only=True) == 2  # never more than asked
    monkeypatch.setattr(batching, "MAX_VALUES", 650)  # the largest tensor, 300 values a picture: 2 pictures' worth
    assert batching.fitting(sizes, 50, "a picture", "fix", forward_only=True) == 2
    with pytest.raises(InputError, match="^a picture makes a tensor of 700 values, more than TensorFlow's kernels can index "
                                         r"\(650\): fix$"):
        batching.fitting([100, 700], 5, "a picture", "fix", forward_only=True)
    with pytest.raises(InputError, match=r"^a picture needs about 0.0 GiB of working memory, more than the 0.0 GiB this "
                                         "machine can spare: fix$"):
        batching.fitting([1000], 5, "a picture", "fix")  # 12,000 bytes


def test_the_budget_keeps_the_process_within_half_the_memory_free_to_it(monkeypatch):
    readings = {"MemAvailable:": 10 << 30, "VmRSS:": 2 << 30}
    monkeypatch.setattr(batching, "_kib", lambda path, key: readings[key])
    assert batching.memory_budget() == 4 << 30  # half of 10 + 2 GiB, less the 2 held
    readings["VmRSS:"] = 12 << 30  # holding more than half already: nothing more
    assert batching.memory_budget() == 0
    readings["MemAvailable:"] = readings["VmRSS:"] = None  # no /proc: 8 GiB taken as free
    assert batching.memory_budget() == 4 << 30


def test_the_scan_ends_a_batch_at_a_shape_change_and_at_every_shard(monkeypatch):
    def sized(view, names, height, width, most, what, fix, forward_only):
        """Pictures of 10 pixels a side go 300 at a time, of 20 pixels 100."""
        return min(most, {10: 300, 20: 100}[height])

    monkeypatch.setattr(batching, "batch_size", sized)
    pictures = [(index, np.zeros((10, 10, 1) if index < 700 else (20, 20, 1), "float32")) for index in range(1100)]

    def scanned(start: int = 0, limit: int | None = None) -> list[tuple[int, int]]:
        return [(indices[0], indices[-1] + 1) for indices, _ in
                dataset_examples.batched(iter(pictures[start:]), None, None, 512, limit=limit)]

    whole = scanned()
    assert whole == [(0, 300), (300, 512), (512, 700), (700, 800), (800, 900), (900, 1000), (1000, 1024), (1024, 1100)]
    assert scanned(512) == whole[2:]  # a shard from a multiple of SHARD batches as the whole pass does
    assert scanned(limit=650) == [(0, 300), (300, 512), (512, 650)]
