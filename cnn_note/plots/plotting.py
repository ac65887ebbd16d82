"""cn.plot: any result of the API drawn as the scripts draw it, or compactly on a matplotlib axis (figures.py draws)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from cnn_note import attribution
from cnn_note.errors import InputError
from cnn_note.plots.figures import (
    dream_figure,
    examples_sheet,
    explanation_rows,
    feature_maps,
    grid_columns,
    image_grid,
    mosaic,
    picture_figure,
    shown,
)
from cnn_note.results import Dream, Explanation, Pictures


def plot(result, ax=None, index: int = 0, method: str | None = None, image: np.ndarray | None = None, rows: int = 8,
         examples: bool = False):
    """cn.plot: a result of the API drawn as the scripts draw it, as a Figure; with `ax`, a compact view on that axis.

    Explanation: a row per picture (the first `rows`), the picture then each method's map; on `ax`, picture `index`'s map
    of `method` (default the first) over it. Pictures (filters or classes): the titled grid, <layer>.png; for filters
    with dataset examples and examples=True, <layer>_examples.png instead, a row per filter with its examples (the two
    files visualize_filters.py writes); on `ax`, one mosaic. Dream:
    original, dreamed and their difference (picture `index` of a batch); on `ax`, the dreamed picture. Feature maps (the
    dict cn.feature_maps returns): every map, after `image` when given; on `ax`, a mosaic of the first layer's maps.
    """
    options = {"index": index, "method": method, "image": image, "rows": rows, "examples": examples}
    for kind, (whole, compact) in _DRAWERS.items():
        if isinstance(result, kind) and (kind is not dict or _feature_maps_dict(result)):
            return whole(result, **options) if ax is None else _on_axis(ax, *compact(result, **options))
    raise InputError(f"cn.plot draws what cn.explain, cn.filter_pictures, cn.class_pictures, cn.deep_dream and cn.feature_maps "
                     f"return, not a {type(result).__name__}")


def _on_axis(ax, title: str, *layers: tuple[np.ndarray, dict]):
    """Pictures drawn one over another on `ax` (each with its imshow options), titled, without axes."""
    for picture, style in layers:
        ax.imshow(picture, **style)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return ax


def _feature_maps_dict(result: dict) -> bool:
    return bool(result) and all(np.ndim(maps) == 3 for maps in result.values())


def _explanation(result: Explanation, rows: int, **_) -> Figure:
    shown_rows = [(result.title(i, f"#{i}"), result.images[i], {m: v[i] for m, v in result.maps.items()})
                  for i in range(min(rows, len(result.images)))]
    return explanation_rows(shown_rows, attribution.SIGNED, f"explained with {', '.join(result.maps)}")


def _explanation_map(result: Explanation, index: int, method: str | None, **_) -> tuple:
    chosen = method or next(iter(result.maps))
    values = result.maps[chosen][index]
    limit = max(float(np.abs(values).max()), 1e-12)
    signed = chosen in attribution.SIGNED
    style = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit} if signed else {"cmap": "inferno", "vmin": 0, "vmax": limit}
    return (f"{chosen.replace('_', ' ')}: {result.class_names[result.classes[index]]}",
            (result.images[index].mean(axis=-1), {"cmap": "gray", "vmin": 0, "vmax": 1}), (values, {"alpha": 0.7, **style}))


def _columns(result: Pictures) -> int:
    return grid_columns(len(result.images)) if result.layer else min(10, len(result.images))


def _pictures(result: Pictures, examples: bool, **_) -> Figure:
    if examples and result.examples is not None:
        return picture_figure(examples_sheet(result.layer, result.filters, result.images, result.optimised, result.examples))
    return image_grid(result.images, result.labels, result.title, _columns(result))


def _pictures_mosaic(result: Pictures, **_) -> tuple:
    return result.title, (shown(mosaic(result.images, _columns(result)).astype("float32") / 255), {"cmap": "gray"})


def _dreamed(result: Dream, index: int) -> tuple[np.ndarray, np.ndarray]:
    return (result.original, result.image) if result.image.ndim == 3 else (result.original[index], result.image[index])


def _dream(result: Dream, index: int, **_) -> Figure:
    original, dreamed = _dreamed(result, index)
    return dream_figure(original, dreamed, ", ".join(f"{name}={weight:g}" for name, weight in result.layers.items()))


def _dream_picture(result: Dream, index: int, **_) -> tuple:
    return "dreamed", (shown(_dreamed(result, index)[1]), {"cmap": "gray", "vmin": 0, "vmax": 1})


def _maps(result: dict, image: np.ndarray | None, **_) -> Figure:
    picture = image if image is not None else np.zeros((*next(iter(result.values())).shape[:2], 1))
    return feature_maps(picture, result, "feature maps")


def _maps_mosaic(result: dict, **_) -> tuple:
    name, maps = next(iter(result.items()))
    tiles = np.moveaxis(maps, -1, 0)[..., None]
    tiles = (tiles - tiles.min()) / max(float(tiles.max() - tiles.min()), 1e-12)
    return f"{name}'s maps", (mosaic(tiles, 10)[..., 0], {"cmap": "viridis"})


# What cn.plot draws for each result: (the scripts' figure, the compact view on an axis).
_DRAWERS = {Explanation: (_explanation, _explanation_map), Pictures: (_pictures, _pictures_mosaic), Dream: (_dream, _dream_picture),
            dict: (_maps, _maps_mosaic)}
