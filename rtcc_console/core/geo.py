"""Spherical geometry for a city-scale camera registry: distances, bearings, fences.

Everything here is pure (no I/O) and uses one earth model, a sphere of mean radius
``EARTH_RADIUS_M``, so that the index, the ranking, the server and the benchmark all agree
on what "within 300 m" means. PostGIS must be asked for the same thing
(``ST_DWithin(..., use_spheroid => false)``); its spheroid default disagrees at the boundary.

Polygons are treated as planar in latitude/longitude (equivalently in a local
equirectangular projection, which is an affine map of it), which is the usual convention
for hand-drawn geofences a few kilometres across. Longitudes are unwrapped around the
polygon's first vertex, so a fence may straddle the antimeridian.

Scalar functions take :class:`GeoPoint`; the ``*_arrays`` variants take numpy arrays of
degrees and are what the spatial index and the benchmark use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rtcc_console.core.models import CircleFence, Geofence, GeoPoint

EARTH_RADIUS_M = 6371008.8  # IUGG mean earth radius
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_COMPASS_8 = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
_COMPASS_16 = (
    "N",
    "NNE",
    "NE",
    "ENE",
    "E",
    "ESE",
    "SE",
    "SSE",
    "S",
    "SSW",
    "SW",
    "WSW",
    "W",
    "WNW",
    "NW",
    "NNW",
)


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A latitude/longitude rectangle (degrees). ``min_lon <= max_lon`` always: a box that
    would cross the antimeridian spans every longitude instead (conservative, still correct
    for pre-filtering)."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def contains(self, point: GeoPoint) -> bool:
        return (
            self.min_lat <= point.lat <= self.max_lat and self.min_lon <= point.lon <= self.max_lon
        )


def check_distance_m(value: float, what: str = "radius_m") -> float:
    """Validate a distance argument: finite and not negative. Returns it as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number of metres, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite, non-negative number of metres, got {value}")
    return float(value)


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in metres between two points (haversine formula)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_m_arrays(lat: float, lon: float, lats: FloatArray, lons: FloatArray) -> FloatArray:
    """Great-circle distances in metres from one point (degrees) to arrays of points."""
    phi1 = math.radians(lat)
    phi2 = np.radians(lats)
    sdphi = np.sin((phi2 - phi1) * 0.5)
    sdlmb = np.sin(np.radians(lons - lon) * 0.5)
    h = sdphi * sdphi + math.cos(phi1) * np.cos(phi2) * sdlmb * sdlmb
    np.clip(h, 0.0, 1.0, out=h)
    out: FloatArray = (2 * EARTH_RADIUS_M) * np.arcsin(np.sqrt(h))
    return out


def initial_bearing_deg(origin: GeoPoint, target: GeoPoint) -> float:
    """Initial great-circle bearing from ``origin`` to ``target``: 0 = north, clockwise, [0, 360)."""
    phi1, phi2 = math.radians(origin.lat), math.radians(target.lat)
    dlmb = math.radians(target.lon - origin.lon)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    bearing = math.degrees(math.atan2(y, x)) % 360.0
    return 0.0 if bearing >= 360.0 else bearing  # -1e-300 % 360 rounds to 360.0


def initial_bearing_deg_arrays(
    lat: float, lon: float, lats: FloatArray, lons: FloatArray
) -> FloatArray:
    """Initial bearings in degrees [0, 360) from one point to arrays of points."""
    phi1 = math.radians(lat)
    phi2 = np.radians(lats)
    dlmb = np.radians(lons - lon)
    cos_phi2 = np.cos(phi2)
    y = np.sin(dlmb) * cos_phi2
    x = math.cos(phi1) * np.sin(phi2) - math.sin(phi1) * cos_phi2 * np.cos(dlmb)
    out: FloatArray = np.degrees(np.arctan2(y, x)) % 360.0
    out[out >= 360.0] = 0.0
    return out


def compass_name(bearing_deg: float, points: int = 8) -> str:
    """The compass point (8 or 16-wind rose) nearest to a bearing, e.g. 44 -> "NE"."""
    if points not in (8, 16):
        raise ValueError(f"points must be 8 or 16, got {points}")
    if not math.isfinite(bearing_deg):
        raise ValueError(f"bearing must be finite, got {bearing_deg}")
    names = _COMPASS_8 if points == 8 else _COMPASS_16
    sector = 360.0 / points
    return names[int(((bearing_deg % 360.0) + sector / 2) // sector) % points]


def angle_difference_deg(a: float, b: float) -> float:
    """Smallest absolute difference between two bearings, in [0, 180]."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


def destination_point(origin: GeoPoint, bearing_deg: float, distance_m: float) -> GeoPoint:
    """The point reached by travelling ``distance_m`` along a great circle from ``origin``."""
    check_distance_m(distance_m, "distance_m")
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lmb1 = math.radians(origin.lat), math.radians(origin.lon)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    lon = (math.degrees(lmb2) + 540.0) % 360.0 - 180.0
    return GeoPoint(max(-90.0, min(90.0, math.degrees(phi2))), lon)


def bounding_box(center: GeoPoint, radius_m: float) -> BoundingBox:
    """A lat/lon box that contains every point within ``radius_m`` of ``center``.

    Uses the exact spherical extent in longitude (the tangent latitude trick), widened to
    the full longitude range near the poles.
    """
    check_distance_m(radius_m)
    delta = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(delta)
    min_lat, max_lat = center.lat - dlat, center.lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0 or delta >= math.pi / 2:
        return BoundingBox(max(-90.0, min_lat), -180.0, min(90.0, max_lat), 180.0)
    ratio = math.sin(delta) / math.cos(math.radians(center.lat))
    dlon = 180.0 if ratio >= 1.0 else math.degrees(math.asin(ratio))
    return _lat_lon_box(min_lat, center.lon - dlon, max_lat, center.lon + dlon)


def _lat_lon_box(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> BoundingBox:
    if min_lon < -180.0 or max_lon > 180.0:  # crosses the antimeridian
        min_lon, max_lon = -180.0, 180.0
    return BoundingBox(min_lat, min_lon, max_lat, max_lon)


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular projection to metres east/north of a reference point.

    Accurate to well under 1 % within a few kilometres of the reference at mid latitudes:
    good for drawing, clustering and planar geometry at city scale, not for long distances.
    """

    ref: GeoPoint

    def to_xy(self, point: GeoPoint) -> tuple[float, float]:
        """(east_m, north_m) of ``point``."""
        dlon = (point.lon - self.ref.lon + 540.0) % 360.0 - 180.0
        x = math.radians(dlon) * EARTH_RADIUS_M * math.cos(math.radians(self.ref.lat))
        y = math.radians(point.lat - self.ref.lat) * EARTH_RADIUS_M
        return x, y

    def to_point(self, x_m: float, y_m: float) -> GeoPoint:
        """Inverse of :meth:`to_xy`."""
        lat = self.ref.lat + math.degrees(y_m / EARTH_RADIUS_M)
        dlon = math.degrees(x_m / (EARTH_RADIUS_M * math.cos(math.radians(self.ref.lat))))
        lon = (self.ref.lon + dlon + 540.0) % 360.0 - 180.0
        return GeoPoint(max(-90.0, min(90.0, lat)), lon)


def _unwrap(lons: FloatArray, ref_lon: float) -> FloatArray:
    """Shift longitudes by 360 where that brings them within 180 degrees of ``ref_lon``
    (exact for the usual case where nothing needs shifting)."""
    d = lons - ref_lon
    out: FloatArray = lons + 360.0 * (d < -180.0) - 360.0 * (d > 180.0)
    return out


def _polygon_arrays(vertices: tuple[GeoPoint, ...]) -> tuple[FloatArray, FloatArray]:
    ys = np.array([v.lat for v in vertices], dtype=np.float64)
    xs = _unwrap(np.array([v.lon for v in vertices], dtype=np.float64), vertices[0].lon)
    return xs, ys


def points_in_polygon_arrays(
    lats: FloatArray, lons: FloatArray, vertices: tuple[GeoPoint, ...]
) -> BoolArray:
    """Even-odd (ray casting) containment of many points in a lat/lon polygon.

    Works for concave polygons; self-intersecting ones follow the even-odd rule. Points
    exactly on an edge may fall either way.
    """
    if len(vertices) < 3:
        raise ValueError("a polygon needs at least 3 vertices")
    vx, vy = _polygon_arrays(vertices)
    px = _unwrap(np.asarray(lons, dtype=np.float64), vertices[0].lon)
    py = np.asarray(lats, dtype=np.float64)
    inside = np.zeros(px.shape, dtype=np.bool_)
    n = len(vertices)
    for i in range(n):
        x1, y1 = vx[i], vy[i]
        x2, y2 = vx[(i + 1) % n], vy[(i + 1) % n]
        if y1 == y2:
            continue  # horizontal edges never cross a horizontal ray
        crosses = (y1 > py) != (y2 > py)
        x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < x_at)
    return inside


def point_in_polygon(point: GeoPoint, vertices: tuple[GeoPoint, ...]) -> bool:
    """Whether ``point`` lies inside the polygon (even-odd rule, lat/lon plane)."""
    lats = np.array([point.lat], dtype=np.float64)
    lons = np.array([point.lon], dtype=np.float64)
    return bool(points_in_polygon_arrays(lats, lons, vertices)[0])


def fence_contains(fence: Geofence, point: GeoPoint) -> bool:
    """Whether a geofence contains ``point`` (circle: great-circle distance <= radius)."""
    if isinstance(fence, CircleFence):
        return haversine_m(fence.center, point) <= fence.radius_m
    return point_in_polygon(point, fence.vertices)


def fence_contains_arrays(fence: Geofence, lats: FloatArray, lons: FloatArray) -> BoolArray:
    """Vectorised :func:`fence_contains` over arrays of degrees."""
    if isinstance(fence, CircleFence):
        d = haversine_m_arrays(fence.center.lat, fence.center.lon, lats, lons)
        out: BoolArray = d <= fence.radius_m
        return out
    return points_in_polygon_arrays(lats, lons, fence.vertices)


def fence_bbox(fence: Geofence) -> BoundingBox:
    """A lat/lon box containing the whole fence (every longitude if it crosses 180°)."""
    if isinstance(fence, CircleFence):
        return bounding_box(fence.center, fence.radius_m)
    xs, ys = _polygon_arrays(fence.vertices)
    return _lat_lon_box(float(ys.min()), float(xs.min()), float(ys.max()), float(xs.max()))


def fence_enclosing_circle(fence: Geofence) -> tuple[GeoPoint, float]:
    """A (center, radius_m) circle that contains the whole fence, for index pre-filtering.

    For a polygon: the circle around the middle of its lat/lon box through the farthest
    vertex, widened by 1 % + 1 m to absorb the planar-vs-spherical difference.
    """
    if isinstance(fence, CircleFence):
        return fence.center, fence.radius_m
    xs, ys = _polygon_arrays(fence.vertices)
    c_lat = float((ys.min() + ys.max()) / 2)
    c_lon = float((xs.min() + xs.max()) / 2)
    c_lon = (c_lon + 540.0) % 360.0 - 180.0
    corner_lats = np.array([ys.min(), ys.min(), ys.max(), ys.max()], dtype=np.float64)
    corner_lons = np.array([xs.min(), xs.max(), xs.min(), xs.max()], dtype=np.float64)
    far = float(
        max(
            haversine_m_arrays(c_lat, c_lon, ys, xs).max(),
            haversine_m_arrays(c_lat, c_lon, corner_lats, corner_lons).max(),
        )
    )
    return GeoPoint(c_lat, c_lon), far * 1.01 + 1.0


def unit_vectors(lats: FloatArray, lons: FloatArray) -> FloatArray:
    """(N, 3) unit-sphere coordinates of points in degrees; chord length between two of
    them grows monotonically with great-circle distance, which makes a 3-D k-d tree exact."""
    phi = np.radians(lats)
    lmb = np.radians(lons)
    cos_phi = np.cos(phi)
    out: FloatArray = np.column_stack((cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)))
    return out


def chord_for_distance(distance_m: float) -> float:
    """Unit-sphere chord length for a great-circle distance (capped at the diameter)."""
    return 2.0 * math.sin(min(math.pi, distance_m / EARTH_RADIUS_M) / 2.0)


def distances_for_chords(chords: FloatArray) -> FloatArray:
    """Great-circle distances in metres for unit-sphere chord lengths."""
    out: FloatArray = (2 * EARTH_RADIUS_M) * np.arcsin(np.minimum(chords * 0.5, 1.0))
    return out


def fence_kind(fence: Geofence) -> str:
    """The fence's kind, "circle" or "polygon" (for logs and audit targets)."""
    return "circle" if isinstance(fence, CircleFence) else "polygon"


__all__ = [
    "EARTH_RADIUS_M",
    "BoundingBox",
    "LocalProjection",
    "angle_difference_deg",
    "bounding_box",
    "check_distance_m",
    "chord_for_distance",
    "compass_name",
    "destination_point",
    "distances_for_chords",
    "fence_bbox",
    "fence_contains",
    "fence_contains_arrays",
    "fence_enclosing_circle",
    "fence_kind",
    "haversine_m",
    "haversine_m_arrays",
    "initial_bearing_deg",
    "initial_bearing_deg_arrays",
    "point_in_polygon",
    "points_in_polygon_arrays",
    "unit_vectors",
]
