"""Ray for the atlas: joining a runtime or a cluster, and tasks on workers that load the model once each.

The model itself is never pickled: workers get its file's bytes (a model in memory is saved to a
.keras file first) or a network's name, and keep the view they load for their later tasks.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import socket
import tempfile
from collections.abc import Callable

from cnn_note.core import inputs
from cnn_note.core.views import View
from cnn_note.errors import Argument, InputError

_WORKER_VIEWS: dict = {}  # a Ray worker's models, loaded once each and kept for its later tasks


def worker_view(model: bytes | str, suffix: str, convention: tuple) -> View:
    """On a Ray worker: the view of a model (file bytes or a network name), loaded the first time only."""
    # The convention holds arrays (the values other inputs are held at): keyed by its pickle's digest.
    key = (hashlib.sha256(model).hexdigest() if isinstance(model, bytes) else model, suffix,
           hashlib.sha256(pickle.dumps(convention)).hexdigest())
    if key not in _WORKER_VIEWS:
        if isinstance(model, bytes):
            with tempfile.TemporaryDirectory() as folder:  # read whole by Keras, so the file can go at once
                path = os.path.join(folder, f"model{suffix}")
                with open(path, "wb") as file:
                    file.write(model)
                _WORKER_VIEWS[key] = worker_load(path, convention)
        else:
            _WORKER_VIEWS[key] = worker_load(model, convention)
    return _WORKER_VIEWS[key]


def worker_load(model: str, convention: tuple) -> View:
    """The view of a model file or a network name with the atlas's (input_range, preprocess, grid, picture, held)."""
    input_range, preprocess, grid, picture, held = convention
    return inputs.view_of(model, input_range, preprocess, grid=grid, picture=picture, held=held)


def model_spec(model, view: View, folder: str) -> tuple[bytes | str, str]:
    """What Ray workers load the model from: a model file's bytes, a network's name, or (a model in memory) the bytes of a
    .keras file it is saved to first; the model itself is never pickled."""
    if isinstance(model, (str, os.PathLike)) and os.path.exists(model):
        with open(model, "rb") as handle:
            return handle.read(), os.path.splitext(os.fspath(model))[1]
    if isinstance(model, str):
        return model, ""
    path = os.path.join(folder, "model.keras")
    # A model of several inputs is saved as the user's own (the workers hold its other inputs again), not the View's
    # wrapper of it, whose Held layer no file can hold.
    (model if view.held is not None else view.model).save(path)
    with open(path, "rb") as handle:
        return handle.read(), ".keras"


def check_reachable(address: str, seconds: float = 5.0) -> None:
    """Refuse a Ray address (host:port or ray://host:port) nothing answers at: Ray itself would wait for minutes."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InputError(Argument("ray", address), ": give auto, host:port (a head's GCS, such as 10.0.0.5:6379) or ray://host:10001")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        raise InputError(f"cannot reach a Ray cluster at {address} ({error.strerror or error}): start one there with "
                         "`ray start --head`, or give ", Argument("ray", python="ray=True"),
                         " without an address to run Ray on this machine alone") from None


@contextlib.contextmanager
def ray_session(address: str):
    """Ray, started on this machine's cores ("local") or joined at a cluster's address (auto, host:6379,
    ray://host:10001), and shut down after; one line when Ray is missing or the cluster cannot be reached."""
    try:
        import ray
    except ImportError:
        raise InputError(Argument("ray"), " needs Ray, which is not installed: pip install -r requirements-ray.txt "
                         "(or pip install ray)") from None
    if address not in ("local", "auto"):
        check_reachable(address)
    # The workers import this package as the driver has it, shipped by Ray: a cluster's machines need no copy of it.
    runtime = {"py_modules": [os.path.dirname(os.path.abspath(__file__))]}
    try:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, runtime_env=runtime,
                     object_store_memory=200 * 2**20, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, runtime_env=runtime, configure_logging=False)
    except Exception as error:  # Ray raises ConnectionError, RuntimeError or ValueError by address kind
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise InputError(f"cannot reach a Ray cluster at {address} ({first[:160]}): start one there with `ray start --head`, "
                         "or give ", Argument("ray", python="ray=True"), " without an address to run Ray on this machine alone") from None
    try:
        yield ray
    finally:
        ray.shutdown()


class RayWork:
    """Tasks on Ray workers that each load the model once (see worker_view): the model is never pickled, only its file's
    bytes (a model in memory is saved to a .keras file first) or a network's name. A task whose worker dies is run again
    on another (Ray's retries): each depends on nothing else."""

    def __init__(self, ray, model, view: View, convention: tuple, folder: str) -> None:
        spec, self.suffix = model_spec(model, view, folder)
        self.ray, self.model, self.convention = ray, ray.put(spec), convention

    def run(self, function: Callable, calls: list[tuple], receive: Callable) -> None:
        """function(model, suffix, convention, *call) for every call, as tasks; each result handed to `receive` as it arrives."""
        task = self.ray.remote(max_retries=5)(function)
        pending = [task.remote(self.model, self.suffix, self.convention, *call) for call in calls]
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            try:
                found = self.ray.get(done[0])
            except self.ray.exceptions.RayTaskError as error:  # what a worker raised, as the one line the driver gives
                cause = error.cause if isinstance(error.cause, Exception) else error
                first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
                if isinstance(cause, InputError):
                    raise InputError(*cause.parts) from None
                raise InputError(f"a Ray task failed on a worker ({type(cause).__name__}: {first[:200]}): check that every "
                                 "machine has the same packages and the ", Argument("examples_from"),
                                 " pictures at the same path") from None
            receive(found)
