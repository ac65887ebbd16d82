"""TensorFlow and Keras, imported without their native start-up chatter on stderr.

TensorFlow 2.21 writes absl log lines (oneDNN, CUDA probes) straight to file descriptor 2 while
it loads, ignoring TF_CPP_MIN_LOG_LEVEL (tensorflow/tensorflow#100442). They would bury our
one-line error messages, so stderr is pointed at /dev/null for the import and the first device
query, and restored before anything of ours can print or fail.
"""

import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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


with _native_stderr_silenced():
    import tensorflow as tf
    import keras

    tf.config.list_physical_devices()

__all__ = ["keras", "tf"]
