"""why_cnn.py's image changes on tiny arrays with known answers."""

import numpy as np
import pytest

from cnn_note.note import distortions

IMAGE = np.arange(1, 17).reshape(1, 4, 4)  # rows 1-4, 5-8, 9-12, 13-16


def test_shift_moves_the_digit_and_fills_with_background():
    np.testing.assert_array_equal(distortions.shift(IMAGE, 1, 0)[0], [[0, 0, 0, 0], [1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    np.testing.assert_array_equal(distortions.shift(IMAGE, 0, -2)[0], [[3, 4, 0, 0], [7, 8, 0, 0], [11, 12, 0, 0], [15, 16, 0, 0]])
    np.testing.assert_array_equal(distortions.shift(IMAGE, -1, 1)[0], [[0, 5, 6, 7], [0, 9, 10, 11], [0, 13, 14, 15], [0, 0, 0, 0]])
    np.testing.assert_array_equal(distortions.shift(IMAGE, 0, 0), IMAGE)
    assert not distortions.shift(IMAGE, 4, 0).any()


def test_eight_directions():
    assert len(distortions.DIRECTIONS) == 8 and (0, 0) not in distortions.DIRECTIONS


@pytest.mark.parametrize(
    "name, expected",
    [
        ("odd rows dropped", [[1, 2, 3, 4], [1, 2, 3, 4], [9, 10, 11, 12], [9, 10, 11, 12]]),
        ("even rows dropped", [[5, 6, 7, 8], [5, 6, 7, 8], [13, 14, 15, 16], [13, 14, 15, 16]]),
        ("alternate rows+cols dropped", [[1, 1, 3, 3], [1, 1, 3, 3], [9, 9, 11, 11], [9, 9, 11, 11]]),
        ("original", IMAGE[0]),
    ],
)
def test_subsample_keeps_every_other_row_and_stretches_back(name, expected):
    out = distortions.subsample(IMAGE, name)
    assert out.shape == IMAGE.shape
    np.testing.assert_array_equal(out[0], expected)


def test_shift_agreement_is_the_correlation_of_the_shifted_digits_map_with_the_map_moved_by_hand():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 6, 6))
    moved = np.zeros_like(maps)
    moved[:, 1:, 2:] = maps[:, :-1, :-2]  # one pixel down, two right, by hand
    shifted_maps = moved.copy()
    shifted_maps[1] += 0.5 * rng.random((6, 6))  # a map that moved, with noise
    shifted_maps[2] = 1.0  # a flat map: no correlation to speak of
    found = distortions.shift_agreement(maps, shifted_maps, 1, 2)
    assert found[0] == pytest.approx(1.0)
    assert found[1] == pytest.approx(np.corrcoef(moved[1].ravel(), shifted_maps[1].ravel())[0, 1]) and found[1] < 1
    assert found[2] == 0.0
    assert distortions.shift_agreement(maps, shifted_maps, 2, 1)[0] < 0.9  # the other way round: it did not move so
