"""The training scripts as a user runs them, on the real MNIST with a small budget."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT, assert_one_line_error, run_script


def test_both_scripts_train_on_real_mnist_and_print_the_notes_lines(mnist_path, tmp_path):
    for model in ("dnn", "cnn"):
        done = run_script(f"train_{model}.py", "--data", mnist_path, "--train-samples", "1000", "--epochs", "2",
                          "--results-dir", str(tmp_path))
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        assert lines[-2].startswith("Train Acc: ") and lines[-1].startswith("Test Acc: ")
        assert "Total params" in done.stdout
        test_acc = float(lines[-1].split()[-1])
        record = json.load(open(tmp_path / model / "metrics.json"))
        assert abs(record["test_acc"]["mean"] - test_acc) <= 5e-5  # printed to 4 decimals
        # 1,000 real digits for two epochs put either model far above chance (0.1); shuffled labels would not.
        assert test_acc > 0.7
        assert record["config"]["train_samples"] == 1000


def test_missing_data_file_fails_cleanly():
    done = run_script("train_cnn.py", "--data", "/nonexistent/mnist.npz")
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "not found", "--data")


def test_ctrl_c_mid_training_keeps_earlier_results(mnist_path, tmp_path):
    results = tmp_path / "results"
    first = run_script("train_dnn.py", "--data", mnist_path, "--train-samples", "200", "--epochs", "1", "--quiet",
                       "--results-dir", str(results))
    assert first.returncode == 0, first.stderr
    before = {name: (results / "dnn" / name).read_bytes() for name in os.listdir(results / "dnn")}
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train_dnn.py"), "--data", mnist_path, "--epochs", "200", "--results-dir", str(results)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A background job inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in process.stdout:  # wait until training is under way
        if line.startswith("Epoch 1/"):
            break
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 2
    assert_one_line_error(stderr, "interrupted")
    assert {name: (results / "dnn" / name).read_bytes() for name in os.listdir(results / "dnn")} == before
