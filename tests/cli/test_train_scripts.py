"""The training scripts as a user runs them, on the real MNIST with a small budget."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT, assert_one_line_error, run_script


def spawned_workers(pid: int) -> list[int]:
    """The ids of pid's child processes started by multiprocessing's spawn (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                # the command name in parentheses may hold spaces; the parent id is the second field after it
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline.read():
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie, finished but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
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


@pytest.mark.slow
def test_missing_data_file_fails_cleanly():
    done = run_script("train_cnn.py", "--data", "/nonexistent/mnist.npz")
    assert done.returncode == 2
    assert_one_line_error(done.stderr, "not found", "--data")


@pytest.mark.slow
def test_ctrl_c_mid_training_keeps_earlier_results(mnist_path, tmp_path):
    results = tmp_path / "results"
    first = run_script("train_dnn.py", "--data", mnist_path, "--train-samples", "200", "--epochs", "1", "--quiet",
                       "--results-dir", str(results))
    assert first.returncode == 0, first.stderr
    before = {name: (results / "dnn" / name).read_bytes() for name in os.listdir(results / "dnn")}
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train_dnn.py"), "--data", mnist_path, "--epochs", "200", "--seeds", "3", "--jobs", "3",
         "--results-dir", str(results)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A background job inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    watchdog = threading.Timer(300, process.kill)  # a script that never starts training fails the test, not the suite
    watchdog.start()
    for line in process.stdout:  # wait until training is under way
        if line.startswith("Epoch 1/"):
            break
    watchdog.cancel()
    # Seeds 1 and 2 train in processes of their own: wait for both, polling up to a deadline, as a loaded machine
    # can take longer than any fixed pause to start them.
    deadline = time.monotonic() + 120
    workers = spawned_workers(process.pid)
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
        workers = spawned_workers(process.pid)
    assert len(workers) == 2, workers
    process.send_signal(signal.SIGINT)  # to the script alone, not its workers, as `kill -INT` would
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 2
    assert_one_line_error(stderr, "interrupted")
    assert [pid for pid in workers if alive(pid)] == []  # no worker trains on unseen
    assert {name: (results / "dnn" / name).read_bytes() for name in os.listdir(results / "dnn")} == before
