from __future__ import annotations

import numpy as np
import pytest

from rtcc_console.vision.colour import dominant_colour

FULL = (0.0, 0.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((245, 245, 240), "white"),
        ((10, 10, 12), "black"),
        ((90, 92, 95), "grey"),
        ((170, 172, 175), "silver"),
        ((200, 20, 30), "red"),
        ((20, 50, 190), "blue"),
        ((30, 140, 40), "green"),
        ((235, 210, 30), "yellow"),
        ((120, 70, 30), "brown"),
    ],
)
def test_plain_patches(rgb: tuple[int, int, int], name: str) -> None:
    patch = np.zeros((40, 60, 3), np.uint8)
    patch[:] = rgb
    assert dominant_colour(patch, FULL) == name


def test_paint_beats_dark_windows_and_the_background_outside_the_centre() -> None:
    img = np.full((100, 200, 3), (250, 250, 250), np.uint8)  # white wall around the box
    img[20:80, 40:160] = (20, 40, 180)  # blue body
    img[30:45, 60:140] = (15, 15, 15)  # dark windows: a third of the centre
    assert dominant_colour(img, (0.2, 0.2, 0.8, 0.8)) == "blue"


def test_degenerate_box_does_not_crash() -> None:
    img = np.zeros((10, 10, 3), np.uint8)
    assert dominant_colour(img, (0.5, 0.5, 0.5, 0.5)) == "black"
