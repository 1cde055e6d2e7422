"""Dominant colour of a vehicle box, as one of a few names an investigator uses.

Explainable by design: every pixel of the box's centre (the middle 60 % each way, where the
body is and the background is not) gets a colour name from simple hue/saturation/value
bands; the answer is the most common chromatic name when it covers at least a fifth of
those pixels (paint beats windows and shadows), else the most common of white / silver /
grey / black.
"""

from __future__ import annotations

import numpy as np

from rtcc_console.vision.labels import COLOUR_NAMES

CHROMATIC_SHARE = 0.2
_ACHROMATIC = ("white", "silver", "grey", "black")


def pixel_names(rgb: np.ndarray) -> np.ndarray:
    """Index into ``COLOUR_NAMES`` for every pixel of an (..., 3) uint8 RGB array."""
    px = rgb.reshape(-1, 3).astype(np.float32) / 255.0
    mx = px.max(axis=1)
    mn = px.min(axis=1)
    delta = mx - mn
    sat = np.where(mx > 0, delta / np.maximum(mx, 1e-6), 0.0)
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    safe = np.maximum(delta, 1e-6)
    hue = (
        np.where(
            mx == r,
            ((g - b) / safe) % 6.0,
            np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0),
        )
        * 60.0
    )
    names = np.empty(px.shape[0], dtype=np.int64)
    idx = {name: i for i, name in enumerate(COLOUR_NAMES)}
    achromatic = (sat < 0.2) | (mx < 0.2)
    names[:] = idx["grey"]
    names[achromatic & (mx >= 0.78)] = idx["white"]
    names[achromatic & (mx >= 0.55) & (mx < 0.78)] = idx["silver"]
    names[achromatic & (mx < 0.2)] = idx["black"]
    chroma = ~achromatic
    names[chroma & ((hue < 15) | (hue >= 300))] = idx["red"]
    orange = chroma & (hue >= 15) & (hue < 45)
    names[orange & (mx < 0.75)] = idx["brown"]
    names[orange & (mx >= 0.75)] = idx["yellow"]
    names[chroma & (hue >= 45) & (hue < 70)] = idx["yellow"]
    names[chroma & (hue >= 70) & (hue < 170)] = idx["green"]
    names[chroma & (hue >= 170) & (hue < 300)] = idx["blue"]
    return names


def dominant_colour(rgb: np.ndarray, box: tuple[float, float, float, float]) -> str:
    """Colour name of the box (fractions x1, y1, x2, y2) in an (H, W, 3) RGB frame."""
    height, width = rgb.shape[:2]
    x1, y1, x2, y2 = box
    bw, bh = (x2 - x1), (y2 - y1)
    cx1, cx2 = int((x1 + 0.2 * bw) * width), int(np.ceil((x2 - 0.2 * bw) * width))
    cy1, cy2 = int((y1 + 0.2 * bh) * height), int(np.ceil((y2 - 0.2 * bh) * height))
    patch = rgb[max(0, cy1) : max(cy1 + 1, cy2), max(0, cx1) : max(cx1 + 1, cx2)]
    if patch.size == 0:
        return "grey"
    # at most ~10,000 pixels: a strided sample keeps big boxes cheap
    step = max(1, int(np.sqrt(patch.shape[0] * patch.shape[1] / 10_000)))
    names = pixel_names(patch[::step, ::step])
    counts = np.bincount(names, minlength=len(COLOUR_NAMES))
    chromatic = [i for i, n in enumerate(COLOUR_NAMES) if n not in _ACHROMATIC]
    best_chroma = max(chromatic, key=lambda i: counts[i])
    if counts[best_chroma] >= CHROMATIC_SHARE * names.size:
        return COLOUR_NAMES[best_chroma]
    achro = [COLOUR_NAMES.index(n) for n in _ACHROMATIC]
    return COLOUR_NAMES[max(achro, key=lambda i: counts[i])]
