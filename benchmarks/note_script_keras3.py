# The note's script with only what Keras 3 requires changed (imports, to_categorical, an Input layer, channels_last
# as the note intended), reading a Keras-layout npz: the reference the default scripts are timed against.
# python benchmarks/note_script_keras3.py MNIST.npz {dnn|cnn|both}
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from keras.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
from keras.models import Sequential
from keras.utils import to_categorical


def load_mnist_data(number, path):
    d = np.load(path)
    x_train, y_train, x_test, y_test = d["x_train"][:number], d["y_train"][:number], d["x_test"], d["y_test"]
    x_train = x_train.reshape(number, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255
    return (x_train, to_categorical(y_train, 10)), (x_test, to_categorical(y_test, 10))
which = sys.argv[2] if len(sys.argv) > 2 else "both"
(x_train, y_train), (x_test, y_test) = load_mnist_data(10000, sys.argv[1])
if which in ("dnn", "both"):
    t = time.time()
    m = Sequential([Input((784,)), Dense(500, activation="relu"), Dense(500, activation="relu"), Dense(500, activation="relu"),
                    Dense(10, activation="softmax")])
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    m.fit(x_train, y_train, batch_size=100, epochs=20)
    print("DNN train", m.evaluate(x_train, y_train)[1], "test", m.evaluate(x_test, y_test)[1], "params", m.count_params(),
          "secs", round(time.time() - t, 1), flush=True)
if which in ("cnn", "both"):
    t = time.time()
    xt = x_train.reshape(-1, 28, 28, 1)
    xs = x_test.reshape(-1, 28, 28, 1)
    m = Sequential([Input((28, 28, 1)), Conv2D(25, (3, 3)), MaxPooling2D((2, 2)), Conv2D(50, (3, 3)), MaxPooling2D((2, 2)), Flatten(),
                    Dense(100, activation="relu"), Dense(10, activation="softmax")])
    m.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    m.fit(xt, y_train, batch_size=100, epochs=20)
    print("CNN train", m.evaluate(xt, y_train)[1], "test", m.evaluate(xs, y_test)[1], "params", m.count_params(),
          "secs", round(time.time() - t, 1), flush=True)
