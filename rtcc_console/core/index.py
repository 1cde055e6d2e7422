"""CameraIndex: exact nearest / within-radius / within-fence camera queries.

The server ranks a call's cameras from it, the console computes the same list from its
cached registry, and footage requests find the cameras inside a geofence with it.

Design (details in ``core.camera_rows``): a ``scipy.spatial.cKDTree`` over unit-sphere
vectors, where chord length is monotonic in great-circle distance, so answers are exact.

Updates must not cost a full rebuild (a registry changes a few cameras a minute; a
1,000,000-point tree takes about a second to build). The index is therefore

* a static tree over the "base" rows present at the last build,
* a *delta* of rows appended since (new or moved cameras), searched by numpy brute force,
* tombstones: removed or moved cameras are flagged dead, never deleted from the tree.

When the delta grows past ``max_delta`` rows or tombstones pass a quarter of the base, the
next query rebuilds (compacting dead rows). The trade-off: a larger ``max_delta`` means
fewer rebuilds but slower queries (brute force over the delta, ~1 µs per 100 rows); a
rebuild stalls that one query (~50 ms at 30,000 cameras, ~2 s at 1,000,000).
Core has no threads: callers that share an index between threads hold a lock around it.

Exactness: results are the same set as a brute-force haversine scan (ties at the k-th
distance broken by camera id). Filtered k-nearest queries (tier, revoked, predicate) keep
fetching tree candidates until k pass, so filters never shorten the answer when enough
cameras qualify. Distances come from the chord (equal to the haversine within nanometres).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from rtcc_console.core import geo
from rtcc_console.core.camera_rows import (
    TIER_CODE,
    CameraPredicate,
    CameraRows,
    IntArray,
    RowFilter,
)
from rtcc_console.core.models import Camera, Geofence, GeoPoint, Tier

__all__ = ["CameraIndex", "CameraPredicate", "NearestHit"]


@dataclass(frozen=True, slots=True)
class NearestHit:
    """One camera found by a query: its id, distance from the query point, and the
    initial bearing from the query point to the camera (0 = north, clockwise)."""

    camera_id: str
    distance_m: float
    bearing_deg: float


_HIT_SLOTS = vars(NearestHit)
_set_hit_id = _HIT_SLOTS["camera_id"].__set__
_set_hit_distance = _HIT_SLOTS["distance_m"].__set__
_set_hit_bearing = _HIT_SLOTS["bearing_deg"].__set__


def _new_hit(camera_id: str, distance_m: float, bearing_deg: float) -> NearestHit:
    """Same as ``NearestHit(...)`` at ~60 % of the cost: the frozen dataclass __init__
    goes through object.__setattr__ per field; the slot descriptors set them directly.
    A radius query can return hundreds of hits, so this is on the hot path."""
    hit = object.__new__(NearestHit)
    _set_hit_id(hit, camera_id)
    _set_hit_distance(hit, distance_m)
    _set_hit_bearing(hit, bearing_deg)
    return hit


def _check_point(lat: float, lon: float) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"query point must have finite coordinates, got lat={lat} lon={lon}")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"query point out of range: lat={lat} lon={lon}")


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


class CameraIndex:
    """Spatial index of cameras with exact great-circle queries and cheap updates.

    Holds camera ids, positions, tier and revoked flag (enough to filter) and, when built
    from :class:`Camera` records, the records themselves (:meth:`get`). Records are
    snapshotted: after changing a camera, call :meth:`upsert` again.
    """

    def __init__(self, *, max_delta: int = 1024) -> None:
        if max_delta < 0:
            raise ValueError(f"max_delta must be >= 0, got {max_delta}")
        self._rows = CameraRows(max_delta)

    @property
    def max_delta(self) -> int:
        return self._rows.max_delta

    @property
    def rebuilds(self) -> int:
        """How many times the tree was rebuilt after updates (for tests and metrics)."""
        return self._rows.rebuilds

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_cameras(cls, cameras: Iterable[Camera], *, max_delta: int = 1024) -> CameraIndex:
        """Build an index from Camera records (duplicate ids: the last one wins)."""
        by_id = {c.id: c for c in cameras}
        index = cls.from_arrays(
            list(by_id),
            np.array([c.location.lat for c in by_id.values()], dtype=np.float64),
            np.array([c.location.lon for c in by_id.values()], dtype=np.float64),
            tiers=[c.tier for c in by_id.values()],
            revoked=np.array([c.revoked for c in by_id.values()], dtype=np.bool_),
            max_delta=max_delta,
        )
        index._rows.cameras = by_id
        return index

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[str],
        lats: npt.ArrayLike,
        lons: npt.ArrayLike,
        *,
        tiers: Sequence[Tier] | None = None,
        revoked: npt.ArrayLike | None = None,
        max_delta: int = 1024,
    ) -> CameraIndex:
        """Fast path for large point sets (benchmarks, bulk loads): no Camera records,
        so :meth:`get` returns None for these ids. Tier defaults to registered."""
        lat = np.array(lats, dtype=np.float64)
        lon = np.array(lons, dtype=np.float64)
        n = len(ids)
        if lat.shape != (n,) or lon.shape != (n,):
            raise ValueError(
                f"ids, lats and lons must have the same length ({n}, {lat.shape}, {lon.shape})"
            )
        bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"camera {ids[i]!r} has invalid coordinates lat={lat[i]} lon={lon[i]}")
        if len(set(ids)) != n:
            raise ValueError("camera ids must be unique")
        codes = [0] * n if tiers is None else [TIER_CODE[Tier(t)] for t in tiers]
        tier = np.array(codes, dtype=np.int8).reshape(n)
        rev = np.zeros(n, dtype=np.bool_) if revoked is None else np.array(revoked, dtype=np.bool_)
        if rev.shape != (n,):
            raise ValueError("revoked must have one flag per camera")
        index = cls(max_delta=max_delta)
        index._rows.load(list(ids), lat, lon, tier, rev)
        return index

    # ----------------------------------------------------------------- updates
    def upsert(self, camera: Camera) -> None:
        """Add a camera or replace its record (a position change is a move)."""
        loc = camera.location
        self._rows.put(camera.id, loc.lat, loc.lon, camera.tier, camera.revoked)
        self._rows.cameras[camera.id] = camera

    def add(self, camera: Camera) -> None:
        """Add a new camera; a known id is an error (use :meth:`upsert` to replace)."""
        if camera.id in self._rows.row_of:
            raise ValueError(f"camera {camera.id!r} is already in the index")
        self.upsert(camera)

    def move(self, camera_id: str, location: GeoPoint) -> None:
        """Move a known camera (KeyError if unknown)."""
        rows = self._rows
        r = rows.row_of[camera_id]
        tier = Tier.INTEGRATED if rows.tier[r] else Tier.REGISTERED
        rows.put(camera_id, location.lat, location.lon, tier, bool(rows.revoked[r]))
        if camera_id in rows.cameras:
            rows.cameras[camera_id] = replace(rows.cameras[camera_id], location=location)

    def set_revoked(self, camera_id: str, revoked: bool = True) -> None:
        """Flag a known camera as revoked (or restored); KeyError if unknown."""
        rows = self._rows
        rows.set_revoked(rows.row_of[camera_id], revoked)
        if camera_id in rows.cameras:
            rows.cameras[camera_id] = replace(rows.cameras[camera_id], revoked=revoked)

    def remove(self, camera_id: str) -> bool:
        """Remove a camera; returns False if it was not in the index."""
        r = self._rows.row_of.pop(camera_id, None)
        if r is None:
            return False
        self._rows.kill(r)
        self._rows.cameras.pop(camera_id, None)
        return True

    # ----------------------------------------------------------------- lookups
    def __len__(self) -> int:
        return len(self._rows.row_of)

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._rows.row_of

    def get(self, camera_id: str) -> Camera | None:
        """The Camera record last upserted under this id (None if unknown or array-only)."""
        return self._rows.cameras.get(camera_id)

    def location_of(self, camera_id: str) -> GeoPoint | None:
        r = self._rows.row_of.get(camera_id)
        return None if r is None else GeoPoint(float(self._rows.lat[r]), float(self._rows.lon[r]))

    def camera_ids(self) -> list[str]:
        return list(self._rows.row_of)

    # ----------------------------------------------------------------- queries
    # The public methods return NearestHit objects (with bearings), as the server needs.
    # The *_ids methods are the lean path for bulk callers and the benchmark: the same
    # search, without per-hit objects or bearings.
    def nearest(
        self,
        point: GeoPoint,
        k: int,
        *,
        radius_m: float | None = None,
        tier: Tier | None = None,
        include_revoked: bool = False,
        where: CameraPredicate | None = None,
    ) -> list[NearestHit]:
        """The k nearest cameras to ``point`` (nearest first), optionally only within
        ``radius_m``, of one ``tier``, and passing ``where`` (a Camera predicate)."""
        lat, lon = point.lat, point.lon
        rows, dist = self._knn(lat, lon, k, radius_m, RowFilter(tier, include_revoked, where))
        return self._hits(lat, lon, rows, dist)

    def within_radius(
        self,
        point: GeoPoint,
        radius_m: float,
        *,
        tier: Tier | None = None,
        include_revoked: bool = False,
        where: CameraPredicate | None = None,
    ) -> list[NearestHit]:
        """Every camera within ``radius_m`` of ``point``, nearest first."""
        lat, lon = point.lat, point.lon
        rows, dist = self._within(lat, lon, radius_m, RowFilter(tier, include_revoked, where))
        return self._hits(lat, lon, rows, dist)

    def within_fence(
        self,
        fence: Geofence,
        *,
        tier: Tier | None = None,
        include_revoked: bool = False,
        where: CameraPredicate | None = None,
    ) -> list[NearestHit]:
        """Every camera inside a circle or polygon geofence, nearest to its centre first
        (distance and bearing are measured from the fence's enclosing-circle centre)."""
        center, radius = geo.fence_enclosing_circle(fence)
        lat, lon = center.lat, center.lon
        rows, dist = self._within(lat, lon, radius, RowFilter(tier, include_revoked, where))
        if len(rows):
            inside = geo.fence_contains_arrays(fence, self._rows.lat[rows], self._rows.lon[rows])
            rows, dist = rows[inside], dist[inside]
        return self._hits(lat, lon, rows, dist)

    def nearest_ids(
        self,
        lat: float,
        lon: float,
        k: int,
        *,
        radius_m: float | None = None,
        tier: Tier | None = None,
        include_revoked: bool = False,
        where: CameraPredicate | None = None,
    ) -> tuple[list[str], geo.FloatArray]:
        """Ids and distances (metres) of the k nearest cameras, nearest first."""
        rows, dist = self._knn(lat, lon, k, radius_m, RowFilter(tier, include_revoked, where))
        return self._ids_of(rows), dist

    def within_radius_ids(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        tier: Tier | None = None,
        include_revoked: bool = False,
        where: CameraPredicate | None = None,
    ) -> tuple[list[str], geo.FloatArray]:
        """Ids and distances (metres) of every camera within ``radius_m``, nearest first."""
        rows, dist = self._within(lat, lon, radius_m, RowFilter(tier, include_revoked, where))
        return self._ids_of(rows), dist

    def _knn(
        self, lat: float, lon: float, k: int, radius_m: float | None, f: RowFilter
    ) -> tuple[IntArray, geo.FloatArray]:
        _check_point(lat, lon)
        k = _check_k(k)
        if radius_m is not None:
            radius_m = geo.check_distance_m(radius_m)
        self._rows.maybe_rebuild()
        return self._rows.knn(lat, lon, k, radius_m, f)

    def _within(
        self, lat: float, lon: float, radius_m: float, f: RowFilter
    ) -> tuple[IntArray, geo.FloatArray]:
        _check_point(lat, lon)
        radius_m = geo.check_distance_m(radius_m)
        self._rows.maybe_rebuild()
        return self._rows.within(lat, lon, radius_m, f)

    def _ids_of(self, rows: IntArray) -> list[str]:
        picked = rows.tolist()
        if len(picked) > 1:
            return list(itemgetter(*picked)(self._rows.ids))  # ~2x a list comprehension
        return [self._rows.ids[r] for r in picked]

    def _hits(
        self, lat: float, lon: float, rows: IntArray, dist: geo.FloatArray
    ) -> list[NearestHit]:
        """NearestHits with bearings from (lat, lon), computed from the unit vectors: the
        initial great-circle bearing is the direction of the target's projection on the
        tangent plane (east, north) at the query point."""
        if not len(rows):
            return []
        phi, lmb = math.radians(lat), math.radians(lon)
        sin_phi, sin_lmb, cos_lmb = math.sin(phi), math.sin(lmb), math.cos(lmb)
        basis = np.array(
            ((-sin_lmb, -sin_phi * cos_lmb), (cos_lmb, -sin_phi * sin_lmb), (0.0, math.cos(phi)))
        )
        en = self._rows.xyz[rows] @ basis
        bearings = np.degrees(np.arctan2(en[:, 0], en[:, 1])) % 360.0
        bearings[bearings >= 360.0] = 0.0
        return list(map(_new_hit, self._ids_of(rows), dist.tolist(), bearings.tolist()))
