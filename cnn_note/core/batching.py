"""How many pictures go through a model at once, and the loop over them: the memory rule and the batches, written once.

Every pass of pictures through a model (attribution's gradients and probabilities, dataset
examples' scan, filter and class pictures, the atlas's pieces) asks `fitting` how many fit and
walks them with `batches` (or `map_batches`, which joins the results). The rule keeps the
README's promise: the process stays within half the memory free to it (memory_budget), and no
tensor holds more values than TensorFlow's CPU kernels index. What one picture needs is counted
from the tensors it makes on its way through the model (View.tensor_sizes), as `bytes_needed` says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from cnn_note.errors import InputError

MAX_VALUES = 2**31 - 1  # TensorFlow's CPU kernels index a tensor with 32 bits: a larger one crashes the process
FLOAT_BYTES = 4  # every tensor counted is float32
# Copies of every tensor a picture makes (View.tensor_sizes) that are alive at a pass's peak, as measured on the note's
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


def bytes_needed(sizes: Sequence[int], forward_only: bool = False) -> int:
    """Working memory for one picture whose tensors hold `sizes` values each (View.tensor_sizes), forward only or forward
    and back."""
    return int(FLOAT_BYTES * (FORWARD_COPIES if forward_only else BACKWARD_COPIES) * sum(sizes))


def fitting_batch(bytes_each: int, count: int, what: str, fix: str, values_each: int = 1) -> int:
    """How many of `count` images go through a model at once: within the memory budget, and no tensor of the batch
    (`values_each` values per image in the largest) past MAX_VALUES; one line and the fix when not even one fits."""
    budget = memory_budget()
    if bytes_each > budget:
        raise InputError(f"{what} needs about {bytes_each / 2**30:.1f} GiB of working memory, more than the "
                         f"{budget / 2**30:.1f} GiB this machine can spare: {fix}")
    if values_each > MAX_VALUES:
        raise InputError(f"{what} makes a tensor of {values_each:,} values, more than TensorFlow's kernels can index "
                         f"({MAX_VALUES:,}): {fix}")
    return max(1, min(count, budget // bytes_each, MAX_VALUES // values_each))


def fitting(sizes: Sequence[int], count: int, what: str, fix: str, forward_only: bool = False) -> int:
    """How many of `count` pictures, each making tensors of `sizes` values (View.tensor_sizes), go through at once
    (fitting_batch's rule on bytes_needed); forward only keeps nothing for a way back."""
    return fitting_batch(bytes_needed(sizes, forward_only), count, what, fix, max(sizes))


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
