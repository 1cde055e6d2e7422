"""Vector basemaps the console draws itself (no tile server, no internet): the format and
its check. The demo's simulated city grid (``sim.basemap``) is one; an agency could write
its own the same way. Pure data, no I/O."""

from __future__ import annotations

from typing import Any

FORMAT = "rtcc-grid-basemap/1"


def validate(doc: Any) -> dict[str, Any]:
    """A vector basemap read from a file, checked, or ValueError naming the problem."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"not a vector basemap (format {FORMAT!r} expected)")
    outline = doc.get("outline")
    if not isinstance(outline, list) or len(outline) < 3 or len(outline) > 10_000:
        raise ValueError("outline: 3 to 10,000 [lat, lon] points expected")
    for point in outline:
        if not (
            isinstance(point, list)
            and len(point) == 2
            and all(isinstance(v, int | float) for v in point)
            and -90 <= point[0] <= 90
            and -180 <= point[1] <= 180
        ):
            raise ValueError(f"outline: bad point {point!r}")
    grid = doc.get("grid")
    if not isinstance(grid, dict) or not all(
        isinstance(grid.get(k), int | float) for k in ("ew_origin", "ns_origin", "band", "block")
    ):
        raise ValueError("grid: ew_origin, ns_origin, band and block numbers expected")
    if not 0 < grid["block"] <= grid["band"] < 1:
        raise ValueError("grid: 0 < block <= band < 1 degree expected")
    for key in ("ew_names", "ns_names"):
        names = doc.get(key)
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and len(n) <= 80 for n in names)
        ):
            raise ValueError(f"{key}: a list of street names expected")
    return doc
