"""Columnar camera storage and the exact search behind :class:`core.index.CameraIndex`.

Cameras are points on a unit sphere (3-D). The chord between two unit vectors grows
monotonically with their great-circle distance, so a Euclidean k-d tree
(``scipy.spatial.cKDTree``) over unit vectors answers great-circle k-nearest queries
exactly, and a radius in metres is a radius in chord units.

Rows are numpy columns (lat, lon, unit vector, tier code, revoked, alive) addressed by a
row number. Rows ``[0, n_base)`` are covered by the tree; rows appended since (new or
moved cameras) form the *delta*, searched by brute force; removed or moved cameras leave a
dead row (a tombstone) that filters skip. :meth:`CameraRows.maybe_rebuild` compacts and
rebuilds once the delta or the tombstones grow too large (see ``index`` for the trade-off).

Exactness: chords decide the order; wherever two candidates, or a candidate and the
radius, are closer than ``CHORD_TOL`` (~6 µm) the haversine and the camera id decide, so
answers equal a brute-force haversine scan with ties broken by id.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from rtcc_console.core import geo
from rtcc_console.core.models import Camera, Tier

IntArray = npt.NDArray[np.intp]
CameraPredicate = Callable[[Camera], bool]

TIER_CODE = {Tier.REGISTERED: 0, Tier.INTEGRATED: 1}
CHORD_TOL = 1e-12  # ~6 µm on the earth; far above float64 round-off of unit vectors
_MIN_CAPACITY = 64
_NO_ROWS: IntArray = np.empty(0, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class RowFilter:
    """Which cameras a query may return (alive ones only, always)."""

    tier: Tier | None = None
    include_revoked: bool = False
    where: CameraPredicate | None = None


def unit_vector(lat: float, lon: float) -> geo.FloatArray:
    """Unit-sphere vector of one point (degrees), as :func:`geo.unit_vectors`."""
    phi, lmb = math.radians(lat), math.radians(lon)
    c = math.cos(phi)
    return np.array((c * math.cos(lmb), c * math.sin(lmb), math.sin(phi)))


class CameraRows:
    """The index's storage: columns, id <-> row maps, Camera records, tree and counters."""

    def __init__(self, max_delta: int) -> None:
        self.max_delta = max_delta
        self.lat = np.empty(0)
        self.lon = np.empty(0)
        self.xyz = np.empty((0, 3))
        self.tier = np.empty(0, dtype=np.int8)
        self.revoked = np.empty(0, dtype=np.bool_)
        self.alive = np.empty(0, dtype=np.bool_)
        self.ids: list[str] = []  # by row, dead rows included
        self.row_of: dict[str, int] = {}  # live cameras only
        self.cameras: dict[str, Camera] = {}
        self.n_rows = 0
        self.n_base = 0
        self.n_dead_base = 0
        self.n_revoked = 0  # alive and revoked
        self.tier_counts = [0, 0]  # alive cameras per tier code
        self.tree: cKDTree | None = None
        self.rebuilds = 0

    # ----------------------------------------------------------------- building
    def load(
        self,
        ids: list[str],
        lat: geo.FloatArray,
        lon: geo.FloatArray,
        tier: npt.NDArray[np.int8],
        revoked: geo.BoolArray,
    ) -> None:
        """Replace everything with validated columns and build the tree."""
        n = len(ids)
        self.lat, self.lon, self.tier, self.revoked = lat, lon, tier, revoked
        self.xyz = geo.unit_vectors(lat, lon)
        self.alive = np.ones(n, dtype=np.bool_)
        self.ids = ids
        self.n_rows = n
        self.n_revoked = int(revoked.sum())
        n_integrated = int(tier.sum())
        self.tier_counts = [n - n_integrated, n_integrated]
        self.build(np.arange(n, dtype=np.intp))

    def build(self, keep: IntArray) -> None:
        """Keep only rows ``keep`` and build the tree over them, laid out in the tree's
        leaf order: cameras near in space become near in memory, so the gathers after a
        query touch few cache lines (worth ~1.5x on radius queries at 1,000,000 cameras)."""
        if len(keep):
            keep = keep[cKDTree(self.xyz[keep]).indices]
        self.lat, self.lon = self.lat[keep], self.lon[keep]
        self.xyz = np.ascontiguousarray(self.xyz[keep])
        self.tier, self.revoked = self.tier[keep], self.revoked[keep]
        self.alive = np.ones(len(keep), dtype=np.bool_)
        self.ids = [self.ids[i] for i in keep.tolist()]
        self.row_of = {cid: i for i, cid in enumerate(self.ids)}
        self.n_rows = self.n_base = len(keep)
        self.n_dead_base = 0
        self.tree = cKDTree(self.xyz) if len(keep) else None

    def maybe_rebuild(self) -> None:
        """Compact and rebuild when the delta or the tombstones have grown too large."""
        delta = self.n_rows - self.n_base
        if delta > self.max_delta or self.n_dead_base > max(64, self.n_base // 4):
            self.build(np.flatnonzero(self.alive[: self.n_rows]))
            self.rebuilds += 1

    # ----------------------------------------------------------------- updates
    def append(self, camera_id: str, lat: float, lon: float, tier: Tier, revoked: bool) -> None:
        if self.n_rows == len(self.lat):
            extra = max(_MIN_CAPACITY, len(self.lat))
            self.lat = np.concatenate((self.lat, np.zeros(extra)))
            self.lon = np.concatenate((self.lon, np.zeros(extra)))
            self.xyz = np.concatenate((self.xyz, np.zeros((extra, 3))))
            self.tier = np.concatenate((self.tier, np.zeros(extra, dtype=np.int8)))
            self.revoked = np.concatenate((self.revoked, np.zeros(extra, dtype=np.bool_)))
            self.alive = np.concatenate((self.alive, np.zeros(extra, dtype=np.bool_)))
        r = self.n_rows
        self.lat[r], self.lon[r] = lat, lon
        self.xyz[r] = unit_vector(lat, lon)
        self.tier[r] = TIER_CODE[tier]
        self.revoked[r] = revoked
        self.alive[r] = True
        self.ids.append(camera_id)
        self.row_of[camera_id] = r
        self.n_rows += 1
        self.tier_counts[TIER_CODE[tier]] += 1
        self.n_revoked += int(revoked)

    def kill(self, r: int) -> None:
        """Tombstone row ``r`` (the caller drops the id from ``row_of`` or re-points it)."""
        self.alive[r] = False
        self.tier_counts[int(self.tier[r])] -= 1
        self.n_revoked -= int(self.revoked[r])
        if r < self.n_base:
            self.n_dead_base += 1

    def put(self, camera_id: str, lat: float, lon: float, tier: Tier, revoked: bool) -> None:
        """Insert, update in place (same position) or move (new row, old one dead)."""
        r = self.row_of.get(camera_id)
        if r is not None and self.lat[r] == lat and self.lon[r] == lon:
            self.tier_counts[int(self.tier[r])] -= 1
            self.tier_counts[TIER_CODE[tier]] += 1
            self.set_revoked(r, revoked)
            self.tier[r] = TIER_CODE[tier]
            return
        if r is not None:
            self.kill(r)
        self.append(camera_id, lat, lon, tier, revoked)

    def set_revoked(self, r: int, revoked: bool) -> None:
        self.n_revoked += int(revoked) - int(self.revoked[r])
        self.revoked[r] = revoked

    # ----------------------------------------------------------------- filtering
    def needs_mask(self, f: RowFilter) -> bool:
        return (
            f.tier is not None
            or f.where is not None
            or (not f.include_revoked and self.n_revoked > 0)
            or self.n_dead_base > 0
        )

    def eligible(self, rows: IntArray, f: RowFilter) -> geo.BoolArray:
        """Which of ``rows`` are alive and pass the filter."""
        ok = self.alive[rows]
        if f.tier is not None:
            ok &= self.tier[rows] == TIER_CODE[f.tier]
        if not f.include_revoked and self.n_revoked:
            ok &= ~self.revoked[rows]
        if f.where is not None:
            for pos in np.flatnonzero(ok).tolist():
                camera_id = self.ids[int(rows[pos])]
                camera = self.cameras.get(camera_id)
                if camera is None:
                    raise ValueError(
                        f"camera {camera_id!r} has no Camera record: predicate filters need "
                        "an index built from Camera records"
                    )
                ok[pos] = bool(f.where(camera))
        return ok

    def _pass_fraction(self, f: RowFilter) -> float:
        """A rough share of rows that pass the filter, to size the first tree fetch."""
        alive = sum(self.tier_counts)
        passing = float(alive if f.tier is None else self.tier_counts[TIER_CODE[f.tier]])
        if not f.include_revoked and alive:
            passing *= (alive - self.n_revoked) / alive
        return max(passing / max(1, self.n_rows), 1e-6)

    # ----------------------------------------------------------------- search
    def _delta(self, q: geo.FloatArray, ub: float, f: RowFilter) -> tuple[IntArray, geo.FloatArray]:
        """Brute-force search of rows appended since the last build: (rows, chords <= ub)."""
        rows = np.arange(self.n_base, self.n_rows, dtype=np.intp)
        rows = rows[self.eligible(rows, f)]
        diff = self.xyz[rows] - q
        chords = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        keep = chords <= ub
        return rows[keep], chords[keep]

    def _base_knn(
        self, q: geo.FloatArray, k: int, ub: float, f: RowFilter
    ) -> tuple[IntArray, geo.FloatArray]:
        """Eligible tree rows by chord: the k nearest, plus every row that could tie with
        the k-th. Fetches more candidates until k pass the filter and the farthest fetched
        one lies beyond the k-th, so a filter never shortens the answer."""
        tree, n_base = self.tree, self.n_base
        if tree is None or n_base == 0:
            return _NO_ROWS, np.empty(0)
        masked = self.needs_mask(f)
        m = k + 1
        if masked:
            if f.tier is not None and self.tier_counts[TIER_CODE[f.tier]] == 0:
                return _NO_ROWS, np.empty(0)
            m = int(math.ceil((k + 1) / self._pass_fraction(f) * 1.25)) + 4
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
                ok = self.eligible(rows, f)
                sel_rows, sel_chords = rows[ok], chords[ok]
            else:
                sel_rows, sel_chords = rows, chords
            if exhausted or (len(sel_rows) >= k and chords[-1] > sel_chords[k - 1] + CHORD_TOL):
                return sel_rows, sel_chords
            m *= 2

    def knn(
        self, lat: float, lon: float, k: int, radius_m: float | None, f: RowFilter
    ) -> tuple[IntArray, geo.FloatArray]:
        """Rows and distances (m) of the k nearest eligible cameras, nearest first."""
        q = unit_vector(lat, lon)
        ub = math.inf if radius_m is None else geo.chord_for_distance(radius_m) + CHORD_TOL
        rows, chords = self._base_knn(q, k, ub, f)
        if self.n_rows > self.n_base:
            d_rows, d_chords = self._delta(q, ub, f)
            if len(d_rows):
                rows = np.concatenate((rows, d_rows))
                chords = np.concatenate((chords, d_chords))
                order = np.argsort(chords, kind="stable")
                rows, chords = rows[order], chords[order]
        n = len(rows)
        if n > k and chords[k] - chords[k - 1] > CHORD_TOL:
            rows, chords = rows[:k], chords[:k]
            n = k
        if n > 1 and (n > k or bool((np.diff(chords) <= CHORD_TOL).any())):
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
        limit = chords[min(k, len(chords)) - 1] + CHORD_TOL
        cand = rows[chords <= limit]
        dist = geo.haversine_m_arrays(lat, lon, self.lat[cand], self.lon[cand])
        ids = self.ids
        order = sorted(range(len(cand)), key=lambda i: (float(dist[i]), ids[int(cand[i])]))
        if radius_m is not None:
            order = [i for i in order if dist[i] <= radius_m]
        pick = np.array(order[:k], dtype=np.intp)
        return cand[pick], dist[pick]

    def within(
        self, lat: float, lon: float, radius_m: float, f: RowFilter
    ) -> tuple[IntArray, geo.FloatArray]:
        """Rows within ``radius_m`` (nearest first) and their distances. Chords decide;
        rows within the tolerance of the boundary are settled by the haversine."""
        q = unit_vector(lat, lon)
        c_r = geo.chord_for_distance(radius_m)
        ub = c_r + CHORD_TOL
        if self.tree is not None and self.n_base:
            found = self.tree.query_ball_point(q, ub)
            rows = np.fromiter(found, dtype=np.intp, count=len(found))
            if self.needs_mask(f) and len(rows):
                rows = rows[self.eligible(rows, f)]
            diff = self.xyz[rows]
            diff -= q
            chords = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        else:
            rows, chords = _NO_ROWS, np.empty(0)
        if self.n_rows > self.n_base:
            d_rows, d_chords = self._delta(q, ub, f)
            rows = np.concatenate((rows, d_rows))
            chords = np.concatenate((chords, d_chords))
        order = np.argsort(chords, kind="stable")
        rows, chords = rows[order], chords[order]
        dist = geo.distances_for_chords(chords)
        if len(rows) and chords[-1] > c_r - CHORD_TOL:  # someone sits on the boundary
            edge = chords > c_r - CHORD_TOL
            exact = geo.haversine_m_arrays(lat, lon, self.lat[rows[edge]], self.lon[rows[edge]])
            keep = ~edge
            keep[edge] = exact <= radius_m
            rows, dist = rows[keep], dist[keep]
        return rows, dist
