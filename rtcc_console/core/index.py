"""CameraIndex: exact nearest / within-radius / within-fence camera queries.

Design
------
Cameras are points on a unit sphere (3-D). The chord between two unit vectors grows
monotonically with their great-circle distance, so a Euclidean k-d tree
(``scipy.spatial.cKDTree``) over unit vectors answers great-circle k-nearest queries
exactly, and a radius in metres is a radius in chord units.

Updates must not cost a full rebuild (a registry changes a few cameras a minute; a
1,000,000-point tree takes ~0.3-0.5 s to build). The index is therefore

* a static tree over the "base" rows present at the last build,
* a *delta* of rows appended since (new or moved cameras), searched by numpy brute force,
* tombstones: removed or moved cameras are flagged dead, never deleted from the tree.

When the delta grows past ``max_delta`` rows or tombstones pass a quarter of the base, the
next query rebuilds (compacting dead rows). The trade-off: a larger ``max_delta`` means
fewer rebuilds but a slower query (brute force over the delta, ~1 µs per 100 rows).
Core has no threads: callers that share an index between threads hold a lock around it.

Exactness
---------
Results are the same set as a brute-force haversine scan (ties at the k-th distance are
broken by camera id). Filtered k-nearest queries (tier, revoked, predicate) fetch
progressively more tree candidates until k passing ones are found *and* the farthest
fetched candidate is beyond the k-th result, so filters never shorten the answer when
enough cameras qualify. Distances are computed from the chord (equal to the haversine to
within nanometres at city scale).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from rtcc_console.core import geo
from rtcc_console.core.models import Camera, Geofence, GeoPoint, Tier

IntArray = npt.NDArray[np.intp]
CameraPredicate = Callable[[Camera], bool]

_TIER_CODE = {Tier.REGISTERED: 0, Tier.INTEGRATED: 1}
_CHORD_TOL = 1e-12  # ~6 µm on the earth; far above float64 round-off of unit vectors
_MIN_CAPACITY = 64
_FRESH_IDS_ABOVE = 50_000


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
    """Same as ``NearestHit(...)`` at half the cost: the frozen dataclass __init__ goes
    through object.__setattr__ per field; the slot descriptors set the fields directly.
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


def _unit_vector(lat: float, lon: float) -> geo.FloatArray:
    phi, lmb = math.radians(lat), math.radians(lon)
    c = math.cos(phi)
    return np.array((c * math.cos(lmb), c * math.sin(lmb), math.sin(phi)))


class CameraIndex:
    """Spatial index of cameras with exact great-circle queries and cheap updates.

    Holds camera ids, positions, tier and revoked flag (enough to filter) and, when built
    from :class:`Camera` records, the records themselves (:meth:`get`). Records are
    snapshotted: after changing a camera, call :meth:`upsert` again.
    """

    def __init__(self, *, max_delta: int = 1024) -> None:
        if max_delta < 0:
            raise ValueError(f"max_delta must be >= 0, got {max_delta}")
        self.max_delta = max_delta
        self._lat = np.empty(0)
        self._lon = np.empty(0)
        self._xyz = np.empty((0, 3))
        self._tier = np.empty(0, dtype=np.int8)
        self._revoked = np.empty(0, dtype=np.bool_)
        self._alive = np.empty(0, dtype=np.bool_)
        self._ids: list[str] = []
        self._row_of: dict[str, int] = {}
        self._cameras: dict[str, Camera] = {}
        self._n_rows = 0
        self._n_base = 0
        self._n_dead_base = 0
        self._n_revoked = 0  # alive and revoked
        self._tier_counts = [0, 0]  # alive cameras per tier code
        self._tree: cKDTree | None = None
        self.rebuilds = 0

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
        index._cameras = by_id
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
        lat = np.ascontiguousarray(lats, dtype=np.float64)
        lon = np.ascontiguousarray(lons, dtype=np.float64)
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
        index = cls(max_delta=max_delta)
        index._lat, index._lon = lat.copy(), lon.copy()
        index._xyz = geo.unit_vectors(lat, lon)
        tier_codes = [0] * n if tiers is None else [_TIER_CODE[Tier(t)] for t in tiers]
        index._tier = np.array(tier_codes, dtype=np.int8).reshape(n)
        rev = (
            np.zeros(n, dtype=np.bool_) if revoked is None else np.asarray(revoked, dtype=np.bool_)
        )
        if rev.shape != (n,):
            raise ValueError("revoked must have one flag per camera")
        index._revoked = rev.copy()
        index._alive = np.ones(n, dtype=np.bool_)
        index._ids = list(ids)
        index._n_rows = n
        index._n_revoked = int(rev.sum())
        n_integrated = int(index._tier.sum())
        index._tier_counts = [n - n_integrated, n_integrated]
        index._build(np.arange(n, dtype=np.intp))
        return index

    def _build(self, keep: IntArray) -> None:
        """Keep only rows ``keep`` and build the tree over them, laid out in the tree's
        leaf order: cameras near in space become near in memory, so the gathers after a
        query touch few cache lines (worth ~2x on 1,000,000 cameras). At that size the id
        strings are re-created in the same order for the same reason."""
        if len(keep):
            keep = keep[cKDTree(self._xyz[keep]).indices]
        self._lat, self._lon = self._lat[keep], self._lon[keep]
        self._xyz = np.ascontiguousarray(self._xyz[keep])
        self._tier, self._revoked = self._tier[keep], self._revoked[keep]
        self._alive = np.ones(len(keep), dtype=np.bool_)
        ids = [self._ids[i] for i in keep.tolist()]
        if len(ids) >= _FRESH_IDS_ABOVE:
            ids = [cid.encode().decode() for cid in ids]
        self._ids = ids
        self._row_of = {cid: i for i, cid in enumerate(ids)}
        self._n_rows = self._n_base = len(keep)
        self._n_dead_base = 0
        self._tree = cKDTree(self._xyz) if len(keep) else None

    def _rebuild(self) -> None:
        self._build(np.flatnonzero(self._alive[: self._n_rows]))
        self.rebuilds += 1

    def _maybe_rebuild(self) -> None:
        delta = self._n_rows - self._n_base
        if delta > self.max_delta or self._n_dead_base > max(64, self._n_base // 4):
            self._rebuild()

    # ----------------------------------------------------------------- updates
    def _append_row(
        self, camera_id: str, lat: float, lon: float, tier: Tier, revoked: bool
    ) -> None:
        if self._n_rows == len(self._lat):
            cap = max(_MIN_CAPACITY, 2 * len(self._lat))
            extra = cap - len(self._lat)
            self._lat = np.concatenate((self._lat, np.zeros(extra)))
            self._lon = np.concatenate((self._lon, np.zeros(extra)))
            self._xyz = np.concatenate((self._xyz, np.zeros((extra, 3))))
            self._tier = np.concatenate((self._tier, np.zeros(extra, dtype=np.int8)))
            self._revoked = np.concatenate((self._revoked, np.zeros(extra, dtype=np.bool_)))
            self._alive = np.concatenate((self._alive, np.zeros(extra, dtype=np.bool_)))
        r = self._n_rows
        self._lat[r], self._lon[r] = lat, lon
        self._xyz[r] = _unit_vector(lat, lon)
        self._tier[r] = _TIER_CODE[tier]
        self._revoked[r] = revoked
        self._alive[r] = True
        self._ids.append(camera_id)
        self._row_of[camera_id] = r
        self._n_rows += 1
        self._tier_counts[_TIER_CODE[tier]] += 1
        self._n_revoked += int(revoked)

    def _kill_row(self, r: int) -> None:
        self._alive[r] = False
        self._tier_counts[int(self._tier[r])] -= 1
        self._n_revoked -= int(self._revoked[r])
        if r < self._n_base:
            self._n_dead_base += 1

    def upsert(self, camera: Camera) -> None:
        """Add a camera or replace its record (a position change is a move)."""
        self._put(camera.id, camera.location, camera.tier, camera.revoked)
        self._cameras[camera.id] = camera

    def add(self, camera: Camera) -> None:
        """Add a new camera; a known id is an error (use :meth:`upsert` to replace)."""
        if camera.id in self._row_of:
            raise ValueError(f"camera {camera.id!r} is already in the index")
        self.upsert(camera)

    def _put(self, camera_id: str, location: GeoPoint, tier: Tier, revoked: bool) -> None:
        r = self._row_of.get(camera_id)
        if r is not None and self._lat[r] == location.lat and self._lon[r] == location.lon:
            old_code, new_code = int(self._tier[r]), _TIER_CODE[tier]
            self._tier_counts[old_code] -= 1
            self._tier_counts[new_code] += 1
            self._n_revoked += int(revoked) - int(self._revoked[r])
            self._tier[r], self._revoked[r] = new_code, revoked
            return
        if r is not None:
            self._kill_row(r)
        self._append_row(camera_id, location.lat, location.lon, tier, revoked)

    def move(self, camera_id: str, location: GeoPoint) -> None:
        """Move a known camera (KeyError if unknown)."""
        r = self._row_of[camera_id]
        tier = Tier.INTEGRATED if self._tier[r] else Tier.REGISTERED
        self._put(camera_id, location, tier, bool(self._revoked[r]))
        if camera_id in self._cameras:
            self._cameras[camera_id] = replace(self._cameras[camera_id], location=location)

    def set_revoked(self, camera_id: str, revoked: bool = True) -> None:
        """Flag a known camera as revoked (or restored); KeyError if unknown."""
        r = self._row_of[camera_id]
        self._n_revoked += int(revoked) - int(self._revoked[r])
        self._revoked[r] = revoked
        if camera_id in self._cameras:
            self._cameras[camera_id] = replace(self._cameras[camera_id], revoked=revoked)

    def remove(self, camera_id: str) -> bool:
        """Remove a camera; returns False if it was not in the index."""
        r = self._row_of.pop(camera_id, None)
        if r is None:
            return False
        self._kill_row(r)
        self._cameras.pop(camera_id, None)
        return True

    # ----------------------------------------------------------------- lookups
    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._row_of

    def get(self, camera_id: str) -> Camera | None:
        """The Camera record last upserted under this id (None if unknown or array-only)."""
        return self._cameras.get(camera_id)

    def location_of(self, camera_id: str) -> GeoPoint | None:
        r = self._row_of.get(camera_id)
        return None if r is None else GeoPoint(float(self._lat[r]), float(self._lon[r]))

    def camera_ids(self) -> list[str]:
        return list(self._row_of)

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
        rows, dist = self._knn(lat, lon, k, radius_m, tier, include_revoked, where)
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
        rows, dist = self._ring(lat, lon, radius_m, tier, include_revoked, where)
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
        rows, dist = self._ring(lat, lon, radius, tier, include_revoked, where)
        if len(rows):
            inside = geo.fence_contains_arrays(fence, self._lat[rows], self._lon[rows])
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
        rows, dist = self._knn(lat, lon, k, radius_m, tier, include_revoked, where)
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
        """Ids and haversine distances of every camera within ``radius_m``, nearest first."""
        rows, dist = self._ring(lat, lon, radius_m, tier, include_revoked, where)
        return self._ids_of(rows), dist

    def _ids_of(self, rows: IntArray) -> list[str]:
        picked = rows.tolist()
        if len(picked) > 1:
            return list(itemgetter(*picked)(self._ids))  # ~2x a list comprehension
        return [self._ids[r] for r in picked]

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
        en = self._xyz[rows] @ basis
        bearings = np.degrees(np.arctan2(en[:, 0], en[:, 1])) % 360.0
        bearings[bearings >= 360.0] = 0.0
        return list(map(_new_hit, self._ids_of(rows), dist.tolist(), bearings.tolist()))

    def _knn(
        self,
        lat: float,
        lon: float,
        k: int,
        radius_m: float | None,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        _check_point(lat, lon)
        k = _check_k(k)
        if radius_m is not None:
            geo.check_distance_m(radius_m)
        self._maybe_rebuild()
        return self._nearest_rows(lat, lon, k, radius_m, tier, include_revoked, where)

    def _ring(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        _check_point(lat, lon)
        radius_m = geo.check_distance_m(radius_m)
        self._maybe_rebuild()
        return self._radius_rows(lat, lon, radius_m, tier, include_revoked, where)

    # ----------------------------------------------------------------- query internals
    def _needs_mask(self, tier: Tier | None, include_revoked: bool, where: object) -> bool:
        return (
            tier is not None
            or where is not None
            or (not include_revoked and self._n_revoked > 0)
            or self._n_dead_base > 0
        )

    def _eligible(
        self,
        rows: IntArray,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> geo.BoolArray:
        """Which of ``rows`` are alive and pass the filters."""
        ok = self._alive[rows]
        if tier is not None:
            ok &= self._tier[rows] == _TIER_CODE[tier]
        if not include_revoked and self._n_revoked:
            ok &= ~self._revoked[rows]
        if where is not None:
            for pos in np.flatnonzero(ok).tolist():
                camera_id = self._ids[int(rows[pos])]
                camera = self._cameras.get(camera_id)
                if camera is None:
                    raise ValueError(
                        f"camera {camera_id!r} has no Camera record: predicate filters need "
                        "an index built from Camera records"
                    )
                ok[pos] = bool(where(camera))
        return ok

    def _pass_fraction(self, tier: Tier | None, include_revoked: bool) -> float:
        """A rough share of base rows that pass the filters, to size the first fetch."""
        n = max(1, self._n_rows)
        alive = sum(self._tier_counts)
        passing = float(alive if tier is None else self._tier_counts[_TIER_CODE[tier]])
        if not include_revoked and alive:
            passing *= (alive - self._n_revoked) / alive
        return max(passing / n, 1e-6)

    def _delta_rows(
        self,
        q: geo.FloatArray,
        ub: float,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        """Brute-force search of rows added since the last build: (rows, chords <= ub)."""
        rows = np.arange(self._n_base, self._n_rows, dtype=np.intp)
        rows = rows[self._eligible(rows, tier, include_revoked, where)]
        diff = self._xyz[rows] - q
        chords = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        keep = chords <= ub
        return rows[keep], chords[keep]

    def _base_knn(
        self,
        q: geo.FloatArray,
        k: int,
        ub: float,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        """k nearest eligible base rows, plus any tied with the k-th: (rows, chords)."""
        tree, n_base = self._tree, self._n_base
        if tree is None or n_base == 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        masked = self._needs_mask(tier, include_revoked, where)
        m = k + 1
        if masked:
            if tier is not None and self._tier_counts[_TIER_CODE[tier]] == 0:
                return np.empty(0, dtype=np.intp), np.empty(0)
            m = int(math.ceil((k + 1) / self._pass_fraction(tier, include_revoked) * 1.25)) + 4
        while True:
            m = min(m, n_base)
            chords, rows = tree.query(q, k=m if m > 1 else [1], distance_upper_bound=ub)
            chords, rows = np.atleast_1d(chords), np.atleast_1d(rows)
            exhausted = m >= n_base
            if ub != math.inf and rows[-1] >= n_base:  # fewer than m inside the radius
                found = rows < n_base
                chords, rows = chords[found], rows[found]
                exhausted = True
            if masked and len(rows):
                ok = self._eligible(rows, tier, include_revoked, where)
                sel_rows, sel_chords = rows[ok], chords[ok]
            else:
                sel_rows, sel_chords = rows, chords
            if exhausted or (len(sel_rows) >= k and chords[-1] > sel_chords[k - 1] + _CHORD_TOL):
                return sel_rows, sel_chords
            m *= 2

    def _nearest_rows(
        self,
        lat: float,
        lon: float,
        k: int,
        radius_m: float | None,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        q = _unit_vector(lat, lon)
        ub = math.inf if radius_m is None else geo.chord_for_distance(radius_m) + _CHORD_TOL
        rows, chords = self._base_knn(q, k, ub, tier, include_revoked, where)
        if self._n_rows > self._n_base:
            d_rows, d_chords = self._delta_rows(q, ub, tier, include_revoked, where)
            if len(d_rows):
                rows = np.concatenate((rows, d_rows))
                chords = np.concatenate((chords, d_chords))
                order = np.argsort(chords, kind="stable")
                rows, chords = rows[order], chords[order]
        n = len(rows)
        if n > k and chords[k] - chords[k - 1] > _CHORD_TOL:
            rows, chords = rows[:k], chords[:k]
            n = k
        if n > 1 and (n > k or bool((np.diff(chords) <= _CHORD_TOL).any())):
            return self._exact_top(lat, lon, rows, chords, k, radius_m)
        dist = geo.distances_for_chords(chords)
        if radius_m is not None and n and dist[-1] > radius_m - 1e-6:
            return self._exact_top(lat, lon, rows, chords, k, radius_m)
        return rows, dist

    def _exact_top(
        self,
        lat: float,
        lon: float,
        rows: IntArray,
        chords: geo.FloatArray,
        k: int,
        radius_m: float | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        """Slow path for near-ties and the radius boundary: rank candidates up to the k-th
        chord (plus tolerance) by (haversine, camera id), keep those within the radius."""
        limit = chords[min(k, len(chords)) - 1] + _CHORD_TOL
        cand = rows[chords <= limit]
        dist = geo.haversine_m_arrays(lat, lon, self._lat[cand], self._lon[cand])
        ids = self._ids
        order = sorted(range(len(cand)), key=lambda i: (float(dist[i]), ids[int(cand[i])]))
        if radius_m is not None:
            order = [i for i in order if dist[i] <= radius_m]
        pick = np.array(order[:k], dtype=np.intp)
        return cand[pick], dist[pick]

    def _radius_rows(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        tier: Tier | None,
        include_revoked: bool,
        where: CameraPredicate | None,
    ) -> tuple[IntArray, geo.FloatArray]:
        """Rows within ``radius_m``, nearest first, with their distances. Chords decide;
        only rows within the tolerance of the boundary are settled by the haversine."""
        q = _unit_vector(lat, lon)
        c_r = geo.chord_for_distance(radius_m)
        ub = c_r + _CHORD_TOL
        if self._tree is not None and self._n_base:
            found = self._tree.query_ball_point(q, ub)
            rows = np.fromiter(found, dtype=np.intp, count=len(found))
            if self._needs_mask(tier, include_revoked, where) and len(rows):
                rows = rows[self._eligible(rows, tier, include_revoked, where)]
            diff = self._xyz[rows]
            diff -= q
            chords = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        else:
            rows, chords = np.empty(0, dtype=np.intp), np.empty(0)
        if self._n_rows > self._n_base:
            d_rows, d_chords = self._delta_rows(q, ub, tier, include_revoked, where)
            rows = np.concatenate((rows, d_rows))
            chords = np.concatenate((chords, d_chords))
        order = np.argsort(chords, kind="stable")
        rows, chords = rows[order], chords[order]
        dist = geo.distances_for_chords(chords)
        if len(rows) and chords[-1] > c_r - _CHORD_TOL:  # someone sits on the boundary
            edge = chords > c_r - _CHORD_TOL
            exact = geo.haversine_m_arrays(lat, lon, self._lat[rows[edge]], self._lon[rows[edge]])
            keep = ~edge
            keep[edge] = exact <= radius_m
            rows, dist = rows[keep], dist[keep]
        return rows, dist
