"""What each filter looks for, from the data: the real inputs that excite it most and least (Distill's "dataset examples").

One pass over the inputs serves every filter of every chosen layer: each batch's strongest and
weakest unit per filter is merged into a running top and bottom N, so memory is one batch, never
every activation. Each example is then shown as the input region its unit sees, the receptive
field, computed from the model's graph (kernel sizes, strides, dilation, padding, pooling).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from cnn_note.backend import keras
from cnn_note.core import autodiff, batching
from cnn_note.core.views import View
from cnn_note.dataset_examples.fields import receptive_field
from cnn_note.dataset_examples.sources import Source
from cnn_note.errors import Argument
from cnn_note.io import imaging
from cnn_note.io.progress import NO_CALLBACK, Callback
from cnn_note.optvis import objectives
from cnn_note.results import Examples

MAX_BATCH = 512  # inputs per call: both cores busy on MNIST, few traced shapes
SHARD = MAX_BATCH  # batches never cross a multiple of this index: shards of the inputs that do not either scan alike
WHOLE_SIDE = 128  # a whole input is kept for its figure at most this many pixels a side: a thousand photos stay small
class Running:
    """The N largest values seen so far in each of F rows, with what they came from; ties go to the earlier input."""

    def __init__(self, filters: int, count: int, largest: bool) -> None:
        self.sign = 1.0 if largest else -1.0
        self.values = np.full((filters, 0), -np.inf)
        self.indices = np.zeros((filters, 0), int)
        self.positions = np.zeros((filters, 0, 2), int)
        self.count = count

    def add(self, values: np.ndarray, indices: np.ndarray, positions: np.ndarray) -> None:
        """values (B, F) of inputs `indices` (B,) at positions (B, F, 2): keep each row's N best of old and new."""
        self._keep(self.sign * values.T, np.broadcast_to(indices, (len(self.values), len(indices))), positions.transpose(1, 0, 2))

    def merge(self, other: Running) -> None:
        """Keep each row's N best of this and another's (a shard of the inputs): the union's best N are the whole set's."""
        self._keep(other.values, other.indices, other.positions)

    def _keep(self, values: np.ndarray, indices: np.ndarray, positions: np.ndarray) -> None:
        """Signed values (F, K) of inputs indices (F, K) at positions (F, K, 2) joined to those kept; each row's N best stay."""
        merged = np.concatenate([self.values, values], axis=1)
        index = np.concatenate([self.indices, indices], axis=1)
        place = np.concatenate([self.positions, positions], axis=1)
        order = np.lexsort((index, -merged), axis=1)[:, :self.count]  # highest first, then the earlier input
        rows = np.arange(len(merged))[:, None]
        self.values, self.indices, self.positions = merged[rows, order], index[rows, order], place[rows, order]

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.indices, self.sign * self.values, self.positions


def scan(view: View, chosen: dict[str, Sequence[int]], inputs: Iterable[tuple[int, np.ndarray]], count: int,
         callback: Callback = NO_CALLBACK) -> tuple[dict[str, tuple[Running, Running, Running]], dict]:
    """One pass over (index, picture (H, W, C) 0..1) for every chosen {layer: filters}: each filter's `count` inputs whose
    strongest unit is highest and whose weakest is lowest, and the input the ascent's objective scores highest. Pictures
    of one size go through the model in batches that fit the memory free; `callback` hears of each batch. Returns
    {layer: (top, bottom, best by objective)} and, for each layer and input size seen, the layer's map size:
    {(layer, (H, W)): (h, w)}."""
    names = list(chosen)
    model = view.responses(names)
    picks = [np.array(list(chosen[name])) for name in names]
    kept = {name: (Running(len(chosen[name]), count, True), Running(len(chosen[name]), count, False),
                   Running(len(chosen[name]), 1, True)) for name in names}
    map_sizes: dict = {}

    def run(pictures: list[np.ndarray], indices: list[int]) -> None:
        outputs = model.predict_on_batch(np.stack(pictures).astype("float32"))
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for name, pick, maps in zip(names, picks, outputs):
            maps = np.asarray(maps)[..., pick]
            map_sizes[name, pictures[0].shape[:2]] = maps.shape[1:3]
            flat = maps.reshape(len(maps), -1, len(pick))  # (B, h*w, F)
            width = maps.shape[2]
            for running, where in zip(kept[name][:2], (flat.argmax(axis=1), flat.argmin(axis=1))):
                values = np.take_along_axis(flat, where[:, None, :], axis=1)[:, 0]
                running.add(values, np.array(indices), np.stack([where // width, where % width], axis=-1))
            # The ascent's own score of each input, for each filter: one map per (input, filter).
            scores = np.asarray(objectives.mean_score(maps.transpose(0, 3, 1, 2).reshape(-1, *maps.shape[1:3])))
            kept[name][2].add(scores.reshape(len(maps), len(pick)), np.array(indices), np.zeros((len(maps), len(pick), 2), int))
        callback.on_progress(len(pictures))

    for indices, pictures in batched(inputs, view, names, MAX_BATCH):
        run(pictures, indices)
    return kept, map_sizes


def batched(inputs: Iterable[tuple[int, np.ndarray]], view: View, names: Sequence[str] | None, most: int,
            forward_only: bool = True, limit: int | None = None) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    """(indices, pictures) of inputs of one shape at a time, from (index, picture) pairs of consecutive indices, the first
    `limit` only: at most `most`, and as many as fit through the named layers (None: the whole model) at once (batching.batch_size).

    A batch ends where batching.batches ends one, which never crosses a multiple of SHARD: shards of the inputs
    are then batched as one pass is, and give the same values to the last bit (a batch's size can change a float's
    rounding).
    """
    indices: list[int] = []
    pictures: list[np.ndarray] = []
    sizes: dict[tuple, int] = {}
    end = 0
    for index, picture in inputs:
        if limit is not None and index >= limit:
            break
        if picture.shape not in sizes:
            sizes[picture.shape] = batching.batch_size(view, names, *picture.shape[:2], most, f"a {picture.shape[0]}x{picture.shape[1]} "
                                                       "example picture", "give smaller pictures", forward_only)
        if pictures and (pictures[0].shape != picture.shape or index >= end):
            yield indices, pictures
            indices, pictures = [], []
        if not pictures:  # a batch opens here: it holds the inputs of the slice that batching.batches starts here
            end = next(batching.batches(sizes[picture.shape], sizes[picture.shape], SHARD, index)).stop
        indices.append(index)
        pictures.append(picture)
    if pictures:
        yield indices, pictures


def merged(scans: Iterable[tuple[dict, dict]]) -> tuple[dict, dict]:
    """Scans of shards of the inputs (scan's results) as the one scan of them all."""
    scans = iter(scans)
    kept, map_sizes = next(scans)
    for other, sizes in scans:
        for name, runnings in other.items():
            for running, more in zip(kept[name], runnings):
                running.merge(more)
        map_sizes.update(sizes)
    return kept, map_sizes


def crop(picture: np.ndarray, region: tuple[int, int, int, int], keep: tuple[int, int, int, int] | None = None,
         fill: float = 0.5) -> np.ndarray:
    """The region (top, left, bottom, right) of a picture (H, W, C), grey (`fill`) outside the picture and outside `keep`
    (the pixels that matter) when given."""
    top, left, bottom, right = region
    out = np.full((bottom - top, right - left, picture.shape[-1]), fill, picture.dtype)
    keep = keep or region
    y0, x0 = max(top, keep[0], 0), max(left, keep[1], 0)
    y1, x1 = min(bottom, keep[2], picture.shape[0]), min(right, keep[3], picture.shape[1])
    if y0 < y1 and x0 < x1:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = picture[y0:y1, x0:x1]
    return out


def find(view: View, chosen: dict[str, Sequence[int]], source: Source, count: int, whole: bool = False,
         callback: Callback = NO_CALLBACK, scanned: tuple[dict, dict] | None = None) -> dict[str, Examples]:
    """Each chosen layer's examples from `source`, with the pictures to show: receptive-field crops, or whole inputs (when
    `whole`, or where the field cannot be told) with their units' boxes. Each input shown is read once more. `scanned`:
    the scan already made (merged from shards), else it is made here."""
    kept, map_sizes = scanned or scan(view, chosen, source.pictures(), count, callback)
    found, wanted = {}, {}
    for name, (top, bottom, best) in kept.items():
        (top_index, top_values, top_places), (low_index, low_values, low_places) = top.result(), bottom.result()
        best_index, best_values, _ = best.result()
        found[name] = Examples(name, list(chosen[name]), top_index, top_values, top_places, low_index, low_values, low_places,
                               None, best_values[:, 0], best_index[:, 0])
        for row in range(len(chosen[name])):
            places = [*top_places[row], *low_places[row]]
            for slot, index in enumerate([*top_index[row], *low_index[row]]):
                wanted.setdefault(int(index), []).append((name, row, slot, *map(int, places[slot])))
    shown = {name: [[None] * (2 * count) for _ in examples.filters] for name, examples in found.items()}
    boxes = {name: [[None] * (2 * count) for _ in examples.filters] for name, examples in found.items()}
    fields: dict = {}
    for index, uses in wanted.items():
        picture = source.picture(index)
        size = picture.shape[:2]
        factor = min(1.0, WHOLE_SIDE / max(size))  # whole inputs, and their boxes, at most WHOLE_SIDE a side
        small = whole_input(picture)
        for name, row, slot, y, x in uses:
            if (name, size) not in fields:
                fields[name, size] = receptive_field(view, name, *size)
            field = fields[name, size]
            box = field.box(y, x) if field else spot(size, map_sizes[name, size], y, x)
            if whole or field is None:
                boxes[name][row][slot] = tuple(round(edge * factor) for edge in box)
                shown[name][row][slot] = small
            else:
                boxes[name][row][slot] = box
                shown[name][row][slot] = crop(picture, field.nominal(y, x), box)
    for name, examples in found.items():
        examples.top_pictures = [row[:count] for row in shown[name]]
        examples.bottom_pictures = [row[count:] for row in shown[name]]
        examples.boxes = boxes[name]
        # Whether a layer's field can be told depends on its layers, not on the input's size.
        seen = [field for (layer, _), field in fields.items() if layer == name]
        sizes = {(field.height, field.width) for field in seen if field}
        examples.whole = whole or None in seen
        examples.field = sizes.pop() if len(sizes) == 1 and None not in seen else None
    return found


def whole_input(picture: np.ndarray) -> np.ndarray:
    """A whole input (H, W, C) as it is shown: shrunk to at most WHOLE_SIDE a side when larger."""
    size = picture.shape[:2]
    return picture if max(size) <= WHOLE_SIDE else imaging.resize_area(picture, imaging.within(size, WHOLE_SIDE))


def spot(size: tuple[int, int], map_size: tuple[int, int], row: int, col: int) -> tuple[int, int, int, int]:
    """Where unit (row, col) of a map of `map_size` sits in an input of `size` when its field cannot be told: its share."""
    (height, width), (rows, cols) = size, map_size
    top, left = row * height // rows, col * width // cols
    return top, left, max(top + 1, (row + 1) * height // rows), max(left + 1, (col + 1) * width // cols)


def responses(view: View, layer: str, filters: Sequence[int], pictures: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Picture k's response in filter filters[k]: its strongest unit (what examples are ranked by) and what the ascent
    scores (objectives.mean_score), both before any ReLU; (F,) each. The pictures go in batches that fit (batching.batch_size),
    and only each picture's own filter leaves TensorFlow: the layer's whole output is F times larger."""
    own = view.memo("own_responses", layer, build=lambda: compiled_own_responses(view, layer))
    batch = batching.batch_size(view, [layer], *pictures.shape[1:3], len(pictures), f"a {pictures.shape[1]}x{pictures.shape[2]} "
                                f"picture of {layer}", ("use a smaller ", Argument("size")), forward_only=True)
    return batching.map_batches(lambda part, picked: own(part.astype("float32"), picked.astype("int32")), batch, pictures,
                                np.asarray(filters))


def compiled_own_responses(view: View, layer: str) -> Callable:
    """(images, filters) -> each image's strongest unit and mean score in its own filter of `layer`, compiled."""
    model = view.responses([layer])

    def own(images, picked):
        maps = keras.ops.take_along_axis(model(images), picked[:, None, None, None], axis=3)[..., 0]  # (B, h, w)
        return keras.ops.max(maps, axis=(1, 2)), objectives.mean_score(maps)

    return autodiff.compiled(own)
