"""Nearest cameras straight from the database (scale-out path and benchmark baseline).

The server and console normally rank from the in-memory ``core`` index. This module is the
database path: on PostgreSQL with the PostGIS ``cameras.geog`` column, a GiST KNN query;
elsewhere a bounding-box prefilter on the (lat, lon) index, exact haversine in numpy, and
a wider box until ``k`` cameras are certainly found.

Both paths use the same earth model as ``core.geo`` (a sphere of mean radius, PostGIS
``use_spheroid => false``), so they agree with the in-memory index to the millimetre.
The KNN operator ``<->`` alone orders by an approximate distance; the query therefore
takes the ``k`` KNN candidates only to learn a radius that certainly holds the true ``k``
nearest, then ranks everything inside that radius exactly.
"""

from __future__ import annotations

import math
import weakref
from typing import NamedTuple, cast

import numpy as np
from sqlalchemy import Engine, Float, column, select, text
from sqlalchemy.orm import Session

from rtcc_console.core.geo import EARTH_RADIUS_M, bounding_box, check_distance_m, haversine_m_arrays
from rtcc_console.core.models import Camera, GeoPoint, Tier
from rtcc_console.store.cameras import to_domain
from rtcc_console.store.schema import CameraRow

_POINT = "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography"


_COLUMNS = ", ".join(f"c.{col.name}" for col in CameraRow.__table__.columns)
_GEOGRAPHY_CACHE: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _knn_sql(*, tier: bool, radius: bool, include_revoked: bool) -> str:
    """Two-stage exact KNN. Filters are spelled out (no ``:p IS NULL OR ...`` tricks) so
    the planner can drive both stages from the GiST index; the radius of the second stage
    is an InitPlan evaluated once."""
    where = ["NOT c.deleted"]
    if not include_revoked:
        where.append("NOT c.revoked")
    if tier:
        where.append("c.tier = :tier")
    if radius:
        where.append(f"ST_DWithin(c.geog, {_POINT}, CAST(:radius AS float8), false)")
    cond = " AND ".join(where)
    return f"""
WITH cand AS MATERIALIZED (
    SELECT ST_Distance(c.geog, {_POINT}, false) AS d
    FROM cameras c WHERE {cond}
    ORDER BY c.geog <-> {_POINT}
    LIMIT :k
)
SELECT {_COLUMNS}, ST_Distance(c.geog, {_POINT}, false) AS d
FROM cameras c
WHERE ST_DWithin(c.geog, {_POINT}, (SELECT max(d) * 1.000001 + 0.001 FROM cand), false) AND {cond}
ORDER BY d, c.id
LIMIT :k
"""


class NearCamera(NamedTuple):
    camera: Camera
    distance_m: float


def has_geography(session: Session) -> bool:
    """Whether this database has the PostGIS ``cameras.geog`` column (migration 0002).

    Remembered per engine after the first positive answer (the column is never dropped
    while the application runs); a negative answer is re-checked each time.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    engine = bind if isinstance(bind, Engine) else bind.engine
    if _GEOGRAPHY_CACHE.get(engine):
        return True
    row = session.execute(text(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'cameras' "
        "AND column_name = 'geog' AND table_schema = current_schema()"
    )).first()
    if row is not None:
        _GEOGRAPHY_CACHE[engine] = True
    return row is not None


def _check(lat: float, lon: float, k: int, radius_m: float | None) -> None:
    GeoPoint(lat, lon)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if radius_m is not None:
        check_distance_m(radius_m)


def nearest_cameras_sql(
    session: Session,
    *,
    lat: float,
    lon: float,
    k: int,
    radius_m: float | None = None,
    tier: Tier | None = None,
    include_revoked: bool = False,
) -> list[NearCamera]:
    """The ``k`` nearest live cameras to (lat, lon), nearest first, ties by id."""
    _check(lat, lon, k, radius_m)
    tier_value = Tier(tier).value if tier is not None else None
    if has_geography(session):
        sql = _knn_sql(tier=tier_value is not None, radius=radius_m is not None, include_revoked=include_revoked)
        params: dict[str, object] = {"lat": lat, "lon": lon, "k": k}
        if tier_value is not None:
            params["tier"] = tier_value
        if radius_m is not None:
            params["radius"] = radius_m
        typed = text(sql).columns(*CameraRow.__table__.columns, column("d", Float))
        rows = session.execute(typed, params).all()
        # Rows carry every camera column by name (with the UTC type applied).
        return [NearCamera(to_domain(cast(CameraRow, row)), float(row.d)) for row in rows]
    return _nearest_bbox(session, lat=lat, lon=lon, k=k, radius_m=radius_m, tier=tier_value,
                         include_revoked=include_revoked)


def _nearest_bbox(session: Session, *, lat: float, lon: float, k: int, radius_m: float | None,
                  tier: str | None, include_revoked: bool) -> list[NearCamera]:
    center = GeoPoint(lat, lon)
    limit = radius_m if radius_m is not None else math.pi * EARTH_RADIUS_M
    search = min(limit, 250.0)
    while True:
        box = bounding_box(center, search)
        stmt = select(CameraRow.id, CameraRow.lat, CameraRow.lon).where(
            CameraRow.lat.between(box.min_lat, box.max_lat),
            CameraRow.lon.between(box.min_lon, box.max_lon),
            CameraRow.deleted.is_(False),
        )
        if tier is not None:
            stmt = stmt.where(CameraRow.tier == tier)
        if not include_revoked:
            stmt = stmt.where(CameraRow.revoked.is_(False))
        found = session.execute(stmt).all()
        ids = [r.id for r in found]
        dist = haversine_m_arrays(lat, lon, np.array([r.lat for r in found], dtype=np.float64),
                                  np.array([r.lon for r in found], dtype=np.float64))
        inside = dist <= search  # only these are certain: the box holds the whole circle
        if int(inside.sum()) >= k or search >= limit:
            order = sorted((float(d), i) for d, i, ok in zip(dist, ids, inside, strict=True) if ok)[:k]
            break
        search = min(limit, search * 4)
    rows = {r.id: r for r in session.execute(
        select(CameraRow).where(CameraRow.id.in_([i for _, i in order]))
    ).scalars()}
    return [NearCamera(to_domain(rows[i]), d) for d, i in order]
