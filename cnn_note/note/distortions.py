"""The note's reasons for CNNs as image changes: shift a digit, drop rows or columns and stretch back."""

from __future__ import annotations

import numpy as np

from cnn_note import settings

DIRECTIONS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]

# The rows and the columns each subsampling keeps, as slices (settings.SUBSAMPLINGS says them once, for the page too).
SUBSAMPLINGS = {name: (slice(row, None, rows), slice(column, None, columns))
                for name, (row, rows, column, columns) in settings.SUBSAMPLINGS.items()}


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images (N, H, W) moved dy pixels down and dx right; what moves in is 0 (background)."""
    out = np.zeros_like(images)
    height, width = images.shape[1:3]
    out[:, max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        images[:, max(-dy, 0):height - max(dy, 0), max(-dx, 0):width - max(dx, 0)]
    return out


def subsample(images: np.ndarray, name: str) -> np.ndarray:
    """Drop rows and/or columns as SUBSAMPLINGS names (0-based: odd rows are 1, 3, 5, ...), then stretch back.

    The kept rows (columns) are each repeated twice, nearest-neighbour, so a 14-row image is 28 rows
    again and the models see the same size they were trained on.
    """
    rows, columns = SUBSAMPLINGS[name]
    kept = images[:, rows, columns]
    height, width = images.shape[1:3]
    stretched = np.repeat(np.repeat(kept, height // kept.shape[1], axis=1), width // kept.shape[2], axis=2)
    return stretched[:, :height, :width]


def shift_agreement(maps: np.ndarray, shifted_maps: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Per image, the correlation between the map of the shifted picture and its map shifted the same way (1: the map
    moved with the digit; 0 where either is flat): how an attribution method's maps follow the note's second reason."""
    moved = shift(maps, dy, dx).reshape(len(maps), -1)
    shifted = shifted_maps.reshape(len(maps), -1)
    return np.array([np.corrcoef(a, b)[0, 1] if a.std() and b.std() else 0.0 for a, b in zip(moved, shifted)])
