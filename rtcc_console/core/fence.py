"""Footage-request areas: circle, polygon, corridor — parsed, validated, measured.

An area arrives as JSON from the console (``{"kind": "circle"|"polygon"|"corridor", ...}``)
and becomes an :class:`Area`: a shapely polygon in a local azimuthal-equidistant-like
metric plane (``core.geo.LocalProjection`` around the area's first point), so areas are in
square metres and "is this camera inside" is a planar test. At city scale the projection
errs well under 1 %.

Every refusal is a :class:`AreaError` whose message starts with the field (``area: ...``),
so the server can answer 422 with it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from rtcc_console.core.geo import LocalProjection
from rtcc_console.core.models import GeoPoint

SQ_M_PER_SQ_MI = 2_589_988.110336
MAX_POINTS = 2000
MIN_AREA_M2 = 1.0
MAX_RADIUS_M = 20_000.0
MAX_WIDTH_M = 5_000.0
_CIRCLE_SEGMENTS = 64  # per quarter circle: the polygon's area is within 0.01 % of pi r^2

KINDS = ("circle", "polygon", "corridor")


class AreaError(ValueError):
    """An area the server refuses; the message names the problem for the user."""


@dataclass(frozen=True)
class Area:
    """A validated area: its JSON form, its metric polygon and the projection used."""

    kind: str
    spec: dict[str, Any]
    shape: BaseGeometry
    projection: LocalProjection

    @property
    def area_m2(self) -> float:
        return float(self.shape.area)

    @property
    def area_sq_mi(self) -> float:
        return self.area_m2 / SQ_M_PER_SQ_MI

    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of the area, slightly padded."""
        minx, miny, maxx, maxy = self.shape.bounds
        pad = 1.0
        corners = [
            self.projection.to_point(x, y)
            for x, y in ((minx - pad, miny - pad), (maxx + pad, maxy + pad))
        ]
        return corners[0].lat, corners[0].lon, corners[1].lat, corners[1].lon

    def contains(self, lat: float, lon: float) -> bool:
        x, y = self.projection.to_xy(GeoPoint(lat, lon))
        return bool(self.shape.covers(Point(x, y)))

    def contains_arrays(
        self, lats: NDArray[np.float64], lons: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        """Vectorised point-in-area for many positions (edges count as inside)."""
        xs, ys = project_arrays(self.projection, lats, lons)
        shapely.prepare(self.shape)
        inside: NDArray[np.bool_] = shapely.contains_xy(self.shape, xs, ys) | shapely.intersects_xy(
            self.shape.boundary, xs, ys
        )
        return inside


def project_arrays(
    proj: LocalProjection, lats: NDArray[np.float64], lons: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:meth:`LocalProjection.to_xy` for arrays."""
    from rtcc_console.core.geo import EARTH_RADIUS_M

    dlon = (np.asarray(lons, dtype=np.float64) - proj.ref.lon + 540.0) % 360.0 - 180.0
    xs = np.radians(dlon) * EARTH_RADIUS_M * math.cos(math.radians(proj.ref.lat))
    ys = np.radians(np.asarray(lats, dtype=np.float64) - proj.ref.lat) * EARTH_RADIUS_M
    return xs, ys


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AreaError(f"area: {what} must be a finite number")
    return float(value)


def _point(value: Any, what: str) -> GeoPoint:
    if not isinstance(value, Mapping):
        raise AreaError(f"area: {what} must be an object with lat and lon")
    try:
        return GeoPoint(
            _number(value.get("lat"), f"{what}.lat"), _number(value.get("lon"), f"{what}.lon")
        )
    except AreaError:
        raise
    except ValueError as exc:
        raise AreaError(f"area: {what}: {exc}") from None


def _points(value: Any, minimum: int) -> list[GeoPoint]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise AreaError("area: points must be a list of {lat, lon}")
    if len(value) > MAX_POINTS + 1:
        raise AreaError(f"area: too many points ({len(value)}; at most {MAX_POINTS})")
    pts = [_point(p, f"points[{i}]") for i, p in enumerate(value)]
    if len(pts) < minimum:
        raise AreaError(f"area: needs at least {minimum} points, got {len(pts)}")
    return pts


def parse_area(spec: Any) -> Area:
    """Validate an area's JSON form; :class:`AreaError` names what is wrong."""
    if not isinstance(spec, Mapping):
        raise AreaError("area: must be an object with a kind")
    kind = spec.get("kind")
    if kind == "circle":
        center = _point(spec.get("center"), "center")
        radius = _number(spec.get("radius_m"), "radius_m")
        if not 0 < radius <= MAX_RADIUS_M:
            raise AreaError(f"area: radius_m must be > 0 and <= {MAX_RADIUS_M:.0f}")
        proj = LocalProjection(center)
        shape: BaseGeometry = Point(0.0, 0.0).buffer(radius, quad_segs=_CIRCLE_SEGMENTS)
        clean = {"kind": kind, "center": {"lat": center.lat, "lon": center.lon}, "radius_m": radius}
    elif kind == "polygon":
        pts = _points(spec.get("points"), 3)
        if len(pts) > 3 and pts[0] == pts[-1]:
            pts = pts[:-1]  # a closed ring: drop the repeated first point
        if len(pts) > MAX_POINTS:
            raise AreaError(f"area: too many points ({len(pts)}; at most {MAX_POINTS})")
        proj = LocalProjection(pts[0])
        poly = Polygon([proj.to_xy(p) for p in pts])
        if poly.convex_hull.area < MIN_AREA_M2:  # all points (nearly) on one line or one spot
            raise AreaError(
                f"area: the area is {poly.convex_hull.area:.2f} m²; it must be at least "
                f"{MIN_AREA_M2:.0f} m²"
            )
        if not poly.is_valid:
            raise AreaError(
                "area: polygon crosses itself (or repeats a point); draw it without crossing edges"
            )
        shape = poly
        clean = {"kind": kind, "points": [{"lat": p.lat, "lon": p.lon} for p in pts]}
    elif kind == "corridor":
        pts = _points(spec.get("points"), 2)
        if len(pts) > MAX_POINTS:
            raise AreaError(f"area: too many points ({len(pts)}; at most {MAX_POINTS})")
        width = _number(spec.get("width_m"), "width_m")
        if not 0 < width <= MAX_WIDTH_M:
            raise AreaError(f"area: width_m must be > 0 and <= {MAX_WIDTH_M:.0f}")
        proj = LocalProjection(pts[0])
        line = LineString([proj.to_xy(p) for p in pts])
        if line.length <= 0:
            raise AreaError("area: corridor path has zero length")
        shape = line.buffer(width / 2.0, quad_segs=8)
        clean = {
            "kind": kind,
            "points": [{"lat": p.lat, "lon": p.lon} for p in pts],
            "width_m": width,
        }
    else:
        raise AreaError(f"area: kind must be one of {', '.join(KINDS)}")
    if shape.is_empty or shape.area < MIN_AREA_M2:
        raise AreaError(
            f"area: the area is {shape.area:.2f} m²; it must be at least {MIN_AREA_M2:.0f} m²"
        )
    return Area(kind=kind, spec=clean, shape=shape, projection=proj)
