"""The note's training recipe, seeded and repeatable, with Keras' own speed levers."""

from __future__ import annotations

import dataclasses
import importlib
import multiprocessing
import platform
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from cnn_note.backend import keras, tf
from cnn_note.note import data, models
from cnn_note.results import Compact
from cnn_note.settings import JOBS, Recipe

NOTE = {"dnn": {"train_acc": 1.0, "test_acc": 0.9661}, "cnn": {"train_acc": 1.0, "test_acc": 0.98}}


@dataclasses.dataclass
class Config:
    """Everything that defines a training run; the defaults are the note's recipe."""

    model: str = "cnn"
    epochs: int = Recipe.epochs
    batch_size: int = Recipe.batch_size
    train_samples: int = Recipe.train_samples
    seed: int = Recipe.seed
    seeds: int = 1
    jobs: int = JOBS
    conv_activation: str | None = None
    layout: str = "intended"
    mixed_precision: bool = False
    steps_per_execution: int = Recipe.steps_per_execution
    epoch_test_samples: int = Recipe.epoch_test_samples
    dataset: str = "mnist"
    data: str | None = None
    results_dir: str = "results"
    verbose: str | int = "auto"

    @property
    def name(self) -> str:
        """Where results go and how reports call it: dnn, cnn, or cnn_note_layout for the note's code as written."""
        return "cnn_note_layout" if self.model == "cnn" and self.layout == "note" else self.model


@dataclasses.dataclass(repr=False)
class Run(Compact):
    """One seed's trained model, per-epoch history and final scores (cn.train's answer; its repr a few lines)."""

    seed: int
    model: keras.Model | None  # None for a seed trained in a worker process: only the first seed's model is kept
    history: dict[str, list[float]]
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    seconds: float
    epoch_test: str = "none"


def build(config: Config) -> keras.Model:
    """The model the config names, in float32 or mixed bfloat16."""
    dtype = "mixed_bfloat16" if config.mixed_precision else "float32"
    if config.model == "dnn":
        return models.build_dnn(dtype=dtype)
    return models.build_cnn(config.conv_activation, dtype=dtype, layout=config.layout)


def compile_model(model: keras.Model, steps_per_execution: int = 1) -> None:
    """Adam and categorical cross-entropy as in the note. On TensorFlow XLA is off (slower on these CPUs); JAX compiles
    with XLA, as it does everything; Keras runs PyTorch eagerly, one step a call (it refuses steps_per_execution > 1)."""
    backend = keras.backend.backend()
    model.compile(
        optimizer="adam",
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=1 if backend == "torch" else steps_per_execution,
        jit_compile=backend == "jax",
    )


def seed_everything(seed: int) -> None:
    """Same seed, same numbers: seed Python, numpy and the backend (keras.utils.set_random_seed), and on TensorFlow pick
    deterministic kernels."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        tf.config.experimental.enable_op_determinism()


def prepare(config: Config) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the data the config names and shape it for its model."""
    train, test = data.load(config.dataset, data.data_path(config.data, config.dataset))
    train = data.first(train, config.train_samples)
    shape = models.input_shape(config.model, config.layout)
    return (
        (data.to_inputs(train.x, shape), data.one_hot(train.y)),
        (data.to_inputs(test.x, shape), data.one_hot(test.y)),
    )


def balanced_sample(one_hot_labels: np.ndarray, count: int) -> np.ndarray:
    """Indices of the first count/10 images of each class, in data-set order: the same fixed sample every run."""
    labels = one_hot_labels.argmax(axis=1)
    per_class = count // one_hot_labels.shape[1]
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(one_hot_labels.shape[1])]))


def epoch_test_set(config: Config, test) -> tuple[tuple[np.ndarray, np.ndarray] | None, str]:
    """What EpochTest scores after every epoch for the test curve (a class-balanced sample, the whole set, or None), and its name."""
    if not config.epoch_test_samples:
        return None, "none"
    if config.epoch_test_samples >= len(test[0]):
        return test, f"all {len(test[0]):,} test images"
    picked = balanced_sample(test[1], config.epoch_test_samples)
    return (test[0][picked], test[1][picked]), f"a fixed class-balanced {len(picked):,} of the {len(test[0]):,} test images"


class EpochTest(keras.callbacks.Callback):
    """Scores a fixed test set after every epoch into fit's logs (so History and the progress bar show it).

    One predict_on_batch call: fit's validation_data costs about three times as much for a
    1,000-image sample, most of it building a new data pipeline every epoch.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray):
        super().__init__()
        self.x, self.y = x, y

    def on_epoch_end(self, epoch, logs=None):
        predictions = self.model.predict_on_batch(self.x)
        numbers = keras.ops.convert_to_numpy
        logs["epoch_test_accuracy"] = float(np.mean(numbers(keras.metrics.categorical_accuracy(self.y, predictions))))
        logs["epoch_test_loss"] = float(np.mean(numbers(keras.losses.categorical_crossentropy(self.y, predictions))))


def train_once(config: Config, seed: int, train, test, summary: bool = False) -> Run:
    """Train one seed with the note's recipe and score it on the whole train and test sets."""
    seed_everything(seed)
    model = build(config)
    if summary:
        model.summary()
    return dataclasses.replace(fit(model, config, train, test), seed=seed)


def fit(model: keras.Model, config: Config, train, test) -> Run:
    """Compile `model` as the note does, fit it on (x, one-hot y) `train` by the config's recipe, and score it on the whole
    train and test sets; the random state is what it is (seed_everything first for a repeatable run)."""
    compile_model(model, config.steps_per_execution)
    start = time.perf_counter()
    # The test curve costs a forward pass over what is scored each epoch; a fixed 1,000-image sample
    # costs a tenth of the whole set, and scoring never touches the weights or the shuffling.
    sample, scored = epoch_test_set(config, test)
    callbacks = [EpochTest(*sample)] if sample is not None else []
    fit = model.fit(*train, batch_size=config.batch_size, epochs=config.epochs, verbose=config.verbose, callbacks=callbacks)
    # Scoring is forward-only, so large batches are cheaper and give the same numbers.
    train_loss, train_acc = model.evaluate(*train, batch_size=1000, verbose=0)
    test_loss, test_acc = model.evaluate(*test, batch_size=1000, verbose=0)
    seconds = time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    return Run(config.seed, model, history, float(train_loss), float(train_acc), float(test_loss), float(test_acc), seconds,
               scored)


def train_seeds(config: Config, train, test, summary: bool = False) -> Iterator[Run]:
    """Every seed of the config in order, up to config.jobs at the same time, each trained exactly as train_once trains it alone.

    This process trains every config.jobs-th seed from the first, so it keeps the first seed's model;
    worker processes train the others and send back their scores and history. One training keeps
    only about 1.4 of 2 cores busy, so on 2 cores the CNN's three seeds finish together in 90-101 s
    against 122 s one after another; each process keeps TensorFlow's default thread pools, which
    is what keeps every seed's weights the same bit for bit.
    """
    seeds = list(range(config.seed, config.seed + config.seeds))
    jobs = min(config.jobs, len(seeds))
    here = set(seeds[::jobs])
    pool = ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("spawn")) if jobs > 1 else None
    try:
        elsewhere = {seed: pool.submit(train_elsewhere, dataclasses.replace(config, verbose=0), seed)
                     for seed in seeds if seed not in here}
        for seed in seeds:
            yield (train_once(config, seed, train, test, summary=summary and seed == seeds[0]) if seed in here
                   else elsewhere[seed].result())
    except BaseException:
        if pool:  # a worker would otherwise train on after Ctrl-C or a failure, and the exit would wait for it
            # (the pool has no public way to stop its processes before Python 3.14; ours are this process's only children)
            pool.shutdown(wait=False, cancel_futures=True)
            for process in multiprocessing.active_children():
                process.terminate()
        raise
    if pool:
        pool.shutdown()


def train_elsewhere(config: Config, seed: int) -> Run:
    """train_once in a worker process, on data it loads itself; the model stays behind."""
    train, test = prepare(config)
    return dataclasses.replace(train_once(config, seed, train, test), model=None)


def float32_copy(model: keras.Model, config: Config) -> keras.Model:
    """The same trained weights in a float32 model, so later scripts see full-precision activations."""
    if not config.mixed_precision:
        return model
    copy = build(dataclasses.replace(config, mixed_precision=False))
    copy.set_weights(model.get_weights())
    return copy


def stats(values: list[float]) -> dict[str, float]:
    """Mean, std (population), min and max of a list of scores."""
    array = np.asarray(values, dtype="float64")
    return {"mean": float(array.mean()), "std": float(array.std()), "min": float(array.min()), "max": float(array.max())}


def versions() -> dict[str, str]:
    """Library and interpreter versions, for the record."""
    import matplotlib

    backend = keras.backend.backend()
    other = {"backend": f"{backend} {importlib.import_module(backend).__version__}"} if backend != "tensorflow" else {}
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        **other,  # said where it is not TensorFlow, so that TensorFlow's records read as they always have
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
    }


def metrics(config: Config, runs: list[Run]) -> dict:
    """The metrics.json record of a set of runs."""
    return {
        "model": config.model,
        "layout": config.layout if config.model == "cnn" else None,
        "parameters": runs[0].model.count_params(),
        "config": dataclasses.asdict(config),
        "seeds": [run.seed for run in runs],
        "epoch_test": runs[0].epoch_test,
        "runs": [
            {
                "seed": run.seed,
                "train_acc": run.train_acc,
                "train_loss": run.train_loss,
                "test_acc": run.test_acc,
                "test_loss": run.test_loss,
                "seconds": run.seconds,
            }
            for run in runs
        ],
        "train_acc": stats([run.train_acc for run in runs]),
        "test_acc": stats([run.test_acc for run in runs]),
        "train_loss": stats([run.train_loss for run in runs]),
        "test_loss": stats([run.test_loss for run in runs]),
        "seconds": stats([run.seconds for run in runs]),
        "note": NOTE.get(config.model),
        "versions": versions(),
    }
