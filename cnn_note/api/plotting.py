"""cn.plot: any result drawn as the scripts draw it, inline in Jupyter."""

from __future__ import annotations

from cnn_note.io.progress import show_figures_inline
from cnn_note.plots import plotting


def plot(result, ax=None, **options):
    """Draw a result of this API as the scripts draw it: the figure they save, shown inline in Jupyter.

    Args:
        result: what explain, filter_pictures, class_pictures, deep_dream or feature_maps returned.
        ax: a matplotlib axis to draw a compact view on instead: an explanation's map over its picture, a mosaic of
            the pictures, the dreamed picture, or the first layer's maps.
        **options: index (0: which picture of an explanation or a dreamed batch), method (the map drawn on `ax`,
            default the first), image (the picture shown before feature maps), rows (8: an explanation's pictures
            drawn), examples (False: filter pictures as their grid, <layer>.png; True: beside their dataset examples,
            <layer>_examples.png, when they have them).

    Returns:
        matplotlib.figure.Figure: the figure; with `ax`, the axis, drawn on.

    Raises:
        InputError: a result that none of those calls returns.
    """
    show_figures_inline()
    return plotting.plot(result, ax, **options)
