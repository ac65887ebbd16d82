"""How many pictures go through a model at once, and the loop over them: the memory rule and the batches, written once.

Every pass of pictures through a model (attribution's gradients and probabilities, dataset
examples' scan, filter and class pictures, the atlas's pieces) asks `batch_size` how many fit and
walks them with `batches` (or `map_batches`, which joins the results). The rule keeps the
README's promise: the process stays within half the memory free to it (memory_budget), and no
tensor holds more values than TensorFlow's CPU kernels index. What one picture needs is counted
from the tensors it makes on its way through the model (tensor_sizes), as `bytes_needed` says.

A refusal names what the user gave in their own words: `what` and `fix` are message parts (text,
errors.Argument, or a tuple of them), so one raise says `size=5000` in Python and `--size 5000` on
the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from cnn_note.backend import keras
from cnn_note.errors import Argument, InputError

if TYPE_CHECKING:
    from cnn_note.core.views import View

Parts = str | Argument | tuple  # one part of a refusal (see errors.InputError), or a tuple of them

MAX_VALUES = 2**31 - 1  # TensorFlow's CPU kernels index a tensor with 32 bits: a larger one crashes the process
FLOAT_BYTES = 4  # every tensor counted is float32
# Copies of every tensor a picture makes (tensor_sizes) that are alive at a pass's peak, as measured on the note's
# CNN at 500 to 2000 pixels a side (peak resident memory over the sum of the tensors, ru_maxrss): forward only, up to 1.09
# (the picture's own tensor, taken from numpy, and what the pass makes of the layer's output: a gather, a score), so a
# quarter more; with a way back (an ascent step, a gradient), 1.9 to 2.7 (the activations kept for it, their
# gradients, the step's jitter, blur and clip), so 3.
FORWARD_COPIES = 1.25
BACKWARD_COPIES = 3


def _kib(path: str, key: str) -> int | None:
    """A `key:` line of a /proc file in bytes, or None where it cannot be read."""
    try:
        with open(path, encoding="ascii") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(key))
    except (OSError, StopIteration, ValueError):
        return None


def memory_budget() -> int:
    """Bytes of memory a pass may add: as much as keeps this process within half the memory free to it, which is what
    the system has free now (MemAvailable; 8 GiB where that cannot be read) and what the process already holds (its
    resident memory: the pictures made so far, TensorFlow, the model)."""
    free = _kib("/proc/meminfo", "MemAvailable:")
    held = _kib("/proc/self/status", "VmRSS:") or 0
    return max(0, ((8 << 30) if free is None else free + held) // 2 - held)


def tensor_sizes(view: View, names: Sequence[str] | None, height: int, width: int) -> list[int]:
    """The values in each tensor that one height x width picture makes on its way to the named layers (None: the whole
    model), the picture itself first; counted once per view, layers and size (View.memo)."""

    def build() -> list[int]:
        sizes, open_sizes = [height * width * view.channels], []

        def count(layer, out):
            for tensor in keras.tree.flatten(out):
                if None in tensor.shape[1:]:  # a size the graph leaves open (a token count, a custom layer's): measured below
                    open_sizes.append((len(sizes), layer.name))
                sizes.append(int(np.prod([side or 1 for side in tensor.shape[1:]])))
            return out

        graph = view.recorded
        outputs = graph.outputs if names is None else [graph.produced[name] for name in names]
        view.graph(outputs, (height, width, view.channels), count)
        known = list(dict.fromkeys(name for _, name in open_sizes if name in graph.produced and hasattr(graph.produced[name], "shape")))
        if known:  # one forward pass of one such picture measures them
            found = view.graph([graph.produced[name] for name in known], (height, width, view.channels), float32=False)
            values = keras.tree.flatten(found(np.zeros((1, height, width, view.channels), "float32")))
            measured = {name: int(np.prod(value.shape[1:])) for name, value in zip(known, values)}
            for index, name in open_sizes:
                sizes[index] = measured.get(name, height * width * view.channels)
        return sizes

    return list(view.memo("tensor_sizes", names, height, width, build=build))


def bytes_needed(sizes: Sequence[int], forward_only: bool = False) -> int:
    """Working memory for one picture whose tensors hold `sizes` values each (tensor_sizes), forward only or forward
    and back."""
    return int(FLOAT_BYTES * (FORWARD_COPIES if forward_only else BACKWARD_COPIES) * sum(sizes))


def bytes_per_image(view: View, names: Sequence[str] | None, height: int, width: int) -> int:
    """Working memory to ascend one image of height x width through the named layers (None: the whole model), forward and back."""
    return bytes_needed(tensor_sizes(view, names, height, width))


def fitting_batch(bytes_each: int, count: int, what: Parts, fix: Parts, values_each: int = 1) -> int:
    """How many of `count` images go through a model at once: within the memory budget, and no tensor of the batch
    (`values_each` values per image in the largest) past MAX_VALUES; one line, `what` and `fix`, when not even one fits."""
    budget = memory_budget()
    if bytes_each > budget:
        raise InputError(*_parts(what), f" needs about {bytes_each / 2**30:.1f} GiB of working memory, more than the "
                         f"{budget / 2**30:.1f} GiB this machine can spare: ", *_parts(fix))
    if values_each > MAX_VALUES:
        raise InputError(*_parts(what), f" makes a tensor of {values_each:,} values, more than TensorFlow's kernels can index "
                         f"({MAX_VALUES:,}): ", *_parts(fix))
    return max(1, min(count, budget // bytes_each, MAX_VALUES // values_each))


def _parts(said: Parts) -> tuple:
    """A refusal's part, or tuple of parts, as a tuple to spread into InputError."""
    return said if isinstance(said, tuple) else (said,)


def fitting(sizes: Sequence[int], count: int, what: Parts, fix: Parts, forward_only: bool = False) -> int:
    """How many of `count` pictures, each making tensors of `sizes` values (tensor_sizes), go through at once
    (fitting_batch's rule on bytes_needed); forward only keeps nothing for a way back."""
    return fitting_batch(bytes_needed(sizes, forward_only), count, what, fix, max(sizes))


def batch_size(view: View, names: Sequence[str] | None, height: int, width: int, count: int, what: Parts, fix: Parts,
               forward_only: bool = False) -> int:
    """How many of `count` height x width pictures go through the named layers (None: the whole model) at once, by
    fitting's rule on their tensor_sizes; forward only keeps no activations for a way back."""
    return fitting(tensor_sizes(view, names, height, width), count, what, fix, forward_only)


def batches(count: int, size: int, shard: int | None = None, start: int = 0) -> Iterator[slice]:
    """The slices of start .. start + count - 1 in batches of at most `size`, in order.

    With `shard`, no batch crosses a multiple of it: a shard of the inputs that starts at one is then
    batched exactly as the whole pass batches it, and gives the same values to the last bit (a batch's
    size can change a float's rounding).
    """
    stop = start + count
    while start < stop:
        end = min(stop, start + size)
        if shard:
            end = min(end, (start // shard + 1) * shard)
        yield slice(start, end)
        start = end


def map_batches(function: Callable, size: int, *arrays: np.ndarray):
    """`function` on batches of at most `size` of the arrays (cut alike along their first axis), the results joined
    along it: one array, or a tuple of arrays when `function` gives a tuple."""
    parts = [function(*(array[part] for array in arrays)) for part in batches(len(arrays[0]), size)]
    if isinstance(parts[0], tuple):
        return tuple(np.concatenate(column) for column in zip(*parts))
    return np.concatenate(parts)
