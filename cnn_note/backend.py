"""TensorFlow and Keras, imported without their native start-up chatter on stderr.

TensorFlow 2.21 writes absl log lines (oneDNN, CUDA probes) straight to file descriptor 2 while
it loads, ignoring TF_CPP_MIN_LOG_LEVEL (tensorflow/tensorflow#100442). They would bury our
one-line error messages, so stderr is pointed at /dev/null for the import and the first device
query, and restored before anything of ours can print or fail.

Keras runs on the backend KERAS_BACKEND names (TensorFlow by default; JAX and PyTorch are extras: pip install
".[jax]" or ".[torch]"); one that is not installed is one line naming the extra, not Keras' traceback.
May import: errors.
"""

import contextlib
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# TensorFlow turns oneDNN on by itself only on processors with AVX-512 VNNI, BF16 or AMX. Without it
# (an AVX2-only AMD EPYC, say) a channels_first Conv2D, as in the note's own code (train_cnn.py --layout note),
# fails on the CPU: "The Conv2D op currently only supports the NHWC tensor format". On the processors
# that turn it on anyway this changes nothing.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


@contextlib.contextmanager
def _native_stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


EXTRAS = {"jax": "jax", "torch": "torch"}  # a backend's module, and the extra of ours that installs it


def _check_backend() -> None:
    import importlib

    from cnn_note.errors import InputError

    asked = os.environ.get("KERAS_BACKEND", "tensorflow")
    if asked in EXTRAS:
        try:
            importlib.import_module(EXTRAS[asked])
        except ImportError:
            raise InputError(f"KERAS_BACKEND={asked} but {asked} is not installed: pip install \"cnn-note[{asked}]\" (from a clone: "
                             f"pip install \".[{asked}]\"), or leave KERAS_BACKEND unset for TensorFlow") from None


_check_backend()
with _native_stderr_silenced():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()


def _not_about_retracing(record: logging.LogRecord) -> bool:
    return "triggered tf.function retracing" not in record.getMessage()


# Each layer, chunk and picture size gets a compiled step of its own on purpose (traced once per shape);
# TensorFlow then warns, in a wall of text, that tracing is expensive. Only that warning is dropped.
tf.get_logger().addFilter(_not_about_retracing)

__all__ = ["keras", "tf"]
