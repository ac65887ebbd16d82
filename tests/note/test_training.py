"""The training recipe: repeatable seeds, results on disk, the note's printed lines."""

import json
import os

import numpy as np
import pytest
from conftest import assert_one_line_error, make_npz

from cnn_note.backend import keras, tf
from cnn_note.cli import train_cnn, train_dnn
from cnn_note.note import models, reporting, training


def tiny_config(npz, tmp_path, **changes) -> training.Config:
    return training.Config(data=npz, train_samples=60, epochs=2, batch_size=20, results_dir=str(tmp_path / "results"),
                           steps_per_execution=2, verbose=0, **changes)


@pytest.mark.parametrize("model", ["dnn", "cnn"])
@pytest.mark.slow
def test_same_seed_same_numbers_other_seed_other_numbers(tiny_npz, tmp_path, model):
    config = tiny_config(tiny_npz, tmp_path, model=model)
    train, test = training.prepare(config)
    first, again, other = (training.train_once(config, seed, train, test) for seed in (3, 3, 4))
    for a, b in zip(first.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert (first.train_loss, first.test_loss, first.history) == (again.train_loss, again.test_loss, again.history)
    assert first.train_loss != other.train_loss


@pytest.mark.slow
def test_seeds_trained_at_once_are_those_trained_one_at_a_time(tiny_npz, tmp_path):
    config = tiny_config(tiny_npz, tmp_path, model="cnn", seed=2, seeds=3)
    train, test = training.prepare(config)
    alone = list(training.train_seeds(training.dataclasses.replace(config, jobs=1), train, test))
    at_once = list(training.train_seeds(training.dataclasses.replace(config, jobs=2), train, test))
    assert [run.seed for run in at_once] == [2, 3, 4]
    # jobs=2: this process trains seeds 2 and 4 and keeps their models, a worker process trains seed 3
    assert [run.model is None for run in at_once] == [False, True, False]
    for one, other in zip(alone, at_once):
        assert (one.train_loss, one.test_loss, one.test_acc, one.history) == \
            (other.train_loss, other.test_loss, other.test_acc, other.history)
    for a, b in zip(alone[0].model.get_weights(), at_once[0].model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert alone[0].test_loss != alone[1].test_loss


def test_steps_per_execution_does_not_change_the_result(tmp_path):
    # 60 copies of one digit: every batch of 20 is the same whatever order fit shuffles them in, so the training can be
    # written out here: 2 epochs of 3 steps (1 + 2 with steps_per_execution 2), Adam on the cross-entropy.
    digit = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    npz = make_npz(tmp_path / "one.npz", x_train=np.repeat(digit[None], 60, axis=0), y_train=np.full(60, 3, np.uint8))
    config = tiny_config(npz, tmp_path)
    train, test = training.prepare(config)
    one = training.train_once(training.dataclasses.replace(config, steps_per_execution=1), 0, train, test)
    many = training.train_once(config, 0, train, test)
    keras.utils.set_random_seed(0)
    model = models.build_cnn()  # the same first weights: the same seed
    x, y = tf.constant(digit[None, ..., None] / np.float32(255)), np.eye(10, dtype="float32")[[3]]
    weights = [variable.numpy() for variable in model.trainable_variables]
    first, second = [np.zeros_like(w) for w in weights], [np.zeros_like(w) for w in weights]
    for step in range(1, 7):  # Keras' Adam: rate 0.001, betas 0.9 and 0.999, epsilon 1e-7
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(y * tf.math.log(model(x)))
        grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
        rate = 0.001 * np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
        for w, m, v, g in zip(weights, first, second, grads):
            m += 0.1 * (g - m)
            v += 0.001 * (g * g - v)
            w -= rate * m / (np.sqrt(v) + 1e-7)
        for variable, w in zip(model.trainable_variables, weights):
            variable.assign(w)
    for run in (one, many):
        for got, want in zip(run.model.get_weights(), weights):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_epoch_test_sample_is_fixed_class_balanced_and_leaves_training_alone(tiny_npz, tmp_path):
    labels = np.eye(10, dtype="float32")[np.random.default_rng(0).integers(0, 10, 500)]
    picked = training.balanced_sample(labels, 30)
    assert len(picked) == 30 and np.all(np.diff(picked) > 0)
    assert np.bincount(labels[picked].argmax(1), minlength=10).tolist() == [3] * 10
    np.testing.assert_array_equal(picked, training.balanced_sample(labels, 30))
    config = tiny_config(tiny_npz, tmp_path, model="dnn")
    train, test = training.prepare(config)
    runs = {n: training.train_once(training.dataclasses.replace(config, epoch_test_samples=n), 0, train, test) for n in (0, 10, 20)}
    one_per_class = len(training.balanced_sample(test[1], 10))  # the tiny test set lacks a class or two
    assert [runs[n].epoch_test for n in (0, 10, 20)] == [
        "none", f"a fixed class-balanced {one_per_class} of the 20 test images", "all 20 test images"]
    assert "epoch_test_loss" not in runs[0].history and len(runs[10].history["epoch_test_accuracy"]) == config.epochs
    for n in (10, 20):  # scoring after each epoch changes nothing in training or in the final whole-set scores
        for a, b in zip(runs[0].model.get_weights(), runs[n].model.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert (runs[n].test_acc, runs[n].test_loss) == (runs[0].test_acc, runs[0].test_loss)


def test_mixed_precision_model_is_saved_in_float32(tiny_npz, tmp_path):
    config = tiny_config(tiny_npz, tmp_path, mixed_precision=True)
    train, test = training.prepare(config)
    run = training.train_once(config, 0, train, test)
    assert run.model.get_layer("conv1").compute_dtype == "bfloat16"
    saved = training.float32_copy(run.model, config)
    assert saved.get_layer("conv1").compute_dtype == "float32"
    for a, b in zip(run.model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_seeds_are_summarised_and_written(tiny_npz, tmp_path, capsys):
    record = train_cnn.main(["--data", tiny_npz, "--train-samples", "60", "--epochs", "1", "--seeds", "2", "--seed", "5",
                             "--quiet", "--results-dir", str(tmp_path)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].startswith("Train Acc: ") and lines[-1].startswith("Test Acc: ")
    assert "over 2 seeds" in lines[-1]
    assert record["seeds"] == [5, 6] and len(record["runs"]) == 2
    assert record["test_acc"]["mean"] == pytest.approx(np.mean([run["test_acc"] for run in record["runs"]]))
    assert record["parameters"] == 137_660 and record["layout"] == "intended"
    assert record["epoch_test"] == "all 20 test images"
    on_disk = json.load(open(tmp_path / "cnn" / "metrics.json"))
    assert on_disk["config"]["seeds"] == 2 and on_disk["versions"]["keras"].startswith("3.")
    history = open(tmp_path / "cnn" / "history.csv").read().splitlines()
    assert history[0] == "seed,epoch,accuracy,loss,epoch_test_accuracy,epoch_test_loss" and len(history) == 3
    for name in ("curves.png", "model.keras"):
        assert os.path.getsize(tmp_path / "cnn" / name) > 1000
    assert "| 137,660 |" in open(tmp_path / "comparison.md").read()


def test_note_layout_trains_into_its_own_folder_with_its_pooling_picture(tiny_npz, tmp_path, capsys):
    record = train_cnn.main(["--data", tiny_npz, "--train-samples", "40", "--epochs", "1", "--quiet", "--layout", "note",
                             "--results-dir", str(tmp_path)])
    assert record["parameters"] == 138_110 and record["layout"] == "note"
    assert "cnn_note_layout/" in capsys.readouterr().out and not (tmp_path / "cnn").exists()
    for name in ("pooling.png", "curves.png", "model.keras", "metrics.json"):
        assert os.path.getsize(tmp_path / "cnn_note_layout" / name) > 1000
    assert "| CNN as the note's code builds it (conv1 channels_first) | 138,110 |" in open(tmp_path / "comparison.md").read()


@pytest.mark.slow
def test_comparison_table_has_a_row_per_trained_model(tiny_npz, tmp_path):
    records = [main(["--data", tiny_npz, "--train-samples", "40", "--epochs", "1", "--quiet", "--no-epoch-test",
                     "--results-dir", str(tmp_path)]) for main in (train_dnn.main, train_cnn.main)]
    rows = reporting.comparison(str(tmp_path)).splitlines()[2:]
    assert len(rows) == 2
    # Each row carries its own run's measured figures, beside the note's.
    for row, record, parameters, note in zip(rows, records, ("898,510", "137,660"), ("1.0 / 0.9661", "1.0 / 0.98")):
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[1] == parameters and cells[5] == note
        assert cells[2] == f"{record['train_acc']['mean']:.4f} ± {record['train_acc']['std']:.4f}"
        assert cells[3] == f"{record['test_acc']['mean']:.4f} ± {record['test_acc']['std']:.4f}"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--epochs", "0"], ["--epochs", "at least 1"]),
        (["--epochs", "-3"], ["--epochs"]),
        (["--train-samples", "61"], ["only 60"]),
        (["--data", "/nonexistent/mnist.npz"], ["not found"]),
    ],
)
def test_bad_flags_fail_in_one_line(tiny_npz, tmp_path, capsys, args, words):
    with pytest.raises(SystemExit) as exit_:
        train_dnn.main(["--data", tiny_npz, "--quiet", "--results-dir", str(tmp_path), *args])
    assert exit_.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *words)


def test_unwritable_results_dir_fails_before_training(tiny_npz, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_:
        train_cnn.main(["--data", tiny_npz, "--results-dir", str(blocker)])
    assert exit_.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "cannot write", "--results-dir")


def test_interrupted_training_keeps_earlier_results(tiny_npz, tmp_path, capsys, monkeypatch):
    args = ["--data", tiny_npz, "--train-samples", "40", "--epochs", "1", "--quiet", "--results-dir", str(tmp_path)]
    train_cnn.main(args)
    before = {name: open(tmp_path / "cnn" / name, "rb").read() for name in os.listdir(tmp_path / "cnn")}

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train_once", interrupted)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        train_cnn.main(args)
    assert exit_.value.code == 2
    assert_one_line_error(capsys.readouterr().err, "interrupted")
    assert {name: open(tmp_path / "cnn" / name, "rb").read() for name in os.listdir(tmp_path / "cnn")} == before
