"""Camera rows as the API shows them, on top of the store's camera repository.

Writes go through ``store.cameras`` (which stamps the global change number, keeps the
credentials in ``camera_secrets`` and only the redacted URL in the public row). The API
needs row-level fields the domain record does not carry (``version``, ``has_stream``,
``deleted``), so responses and the change feed are formatted from the store's rows here;
every query is the store's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.geo import BoundingBox
from rtcc_console.core.models import Camera, CameraKind, GeoPoint, SharingMode, Tier
from rtcc_console.core.redact import redact_stream_url
from rtcc_console.store import cameras as store_cameras
from rtcc_console.store.schema import CameraRow

PUBLIC_FIELDS = (
    "name",
    "tier",
    "kind",
    "sharing_mode",
    "lat",
    "lon",
    "address",
    "owner_id",
    "heading_deg",
    "fov_deg",
    "range_m",
)


def new_camera_id() -> str:
    return "cam-" + secrets.token_hex(6)


def camera_public(row: CameraRow) -> dict[str, Any]:
    """The API shape of a camera: never credentials (stream URLs are redacted)."""
    return {
        "id": row.id,
        "name": row.name,
        "tier": row.tier,
        "kind": row.kind,
        "sharing_mode": row.sharing_mode,
        "lat": row.lat,
        "lon": row.lon,
        "address": row.address or "",
        "owner_id": row.owner_id,
        "heading_deg": row.heading_deg,
        "fov_deg": row.fov_deg,
        "range_m": row.range_m,
        "revoked": bool(row.revoked),
        "has_stream": bool(row.has_stream),
        "stream_url": redact_stream_url(row.stream_url) if row.stream_url else None,
        "substream_url": redact_stream_url(row.substream_url) if row.substream_url else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "version": row.version,
        "deleted": bool(row.deleted),
        "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
        "stale": row.stale_since is not None,
        "stale_since": row.stale_since.isoformat() if row.stale_since else None,
    }


def camera_domain(row: CameraRow) -> Camera:
    """The core domain record (what policy and ranking work on): the store's conversion."""
    return store_cameras.to_domain(row)


def get_camera(
    session: Session, *, camera_id: str, include_deleted: bool = False
) -> CameraRow | None:
    return store_cameras.get_camera_row(
        session, camera_id=camera_id, include_deleted=include_deleted
    )


def owner_exists(session: Session, *, owner_id: str) -> bool:
    return bool(store_cameras.existing_ids(session, camera_ids=[owner_id], owners=True))


def create_camera(
    session: Session, *, fields: dict[str, Any], now: datetime | None = None
) -> CameraRow:
    """Insert a camera from validated ``fields`` (the caller checked the id is free)."""
    camera = Camera(
        id=fields.get("id") or new_camera_id(),
        name=fields["name"],
        tier=Tier(fields["tier"]),
        location=GeoPoint(fields["lat"], fields["lon"]),
        kind=CameraKind(fields["kind"]),
        sharing_mode=SharingMode(fields["sharing_mode"]),
        address=fields.get("address") or "",
        owner_id=fields.get("owner_id"),
        heading_deg=fields.get("heading_deg"),
        fov_deg=fields.get("fov_deg"),
        range_m=fields.get("range_m"),
    )
    store_cameras.save_camera(
        session,
        camera=camera,
        stream_url=fields.get("stream_url"),
        substream_url=fields.get("substream_url"),
        now=now,
    )
    return _row(session, camera.id)


def _row(session: Session, camera_id: str) -> CameraRow:
    row = store_cameras.get_camera_row(session, camera_id=camera_id, include_deleted=True)
    assert row is not None
    return row


def update_camera(
    session: Session, *, row: CameraRow, changes: dict[str, Any], now: datetime | None = None
) -> CameraRow:
    """Apply validated ``changes`` (only the keys present); bumps version and change_seq."""
    values = dict(changes)
    if "address" in values and values["address"] is None:
        values["address"] = ""
    store_cameras.update_camera(session, camera_id=row.id, changes=values, now=now)
    return _row(session, row.id)


def revoke_camera(
    session: Session, *, row: CameraRow, reason: str, now: datetime | None = None
) -> CameraRow:
    store_cameras.revoke_camera(session, camera_id=row.id, reason=reason, now=now)
    return _row(session, row.id)


def delete_camera(session: Session, *, row: CameraRow, now: datetime | None = None) -> CameraRow:
    """Soft delete (the sync feed must tell clients); the credentials are erased at once."""
    store_cameras.delete_camera(session, camera_id=row.id, now=now)
    return _row(session, row.id)


def stream_secret(session: Session, *, camera_id: str) -> tuple[str | None, str | None]:
    """The full (credentialed) stream URLs; only the live-grant path calls this."""
    secret = store_cameras.stream_secret(session, camera_id=camera_id)
    if secret is None:
        return None, None
    return secret.stream_url, secret.substream_url


@dataclass(frozen=True, slots=True)
class CameraFilter:
    tier: str | None = None
    kind: str | None = None
    sharing_mode: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # minlon, minlat, maxlon, maxlat


def list_cameras(
    session: Session, *, flt: CameraFilter, limit: int, offset: int
) -> tuple[list[CameraRow], int]:
    bbox = None
    if flt.bbox:
        minlon, minlat, maxlon, maxlat = flt.bbox
        bbox = BoundingBox(min_lat=minlat, min_lon=minlon, max_lat=maxlat, max_lon=maxlon)
    store_filter = store_cameras.CameraFilter(
        tier=Tier(flt.tier) if flt.tier else None,
        kind=CameraKind(flt.kind) if flt.kind else None,
        sharing_mode=SharingMode(flt.sharing_mode) if flt.sharing_mode else None,
        bbox=bbox,
    )
    return store_cameras.list_camera_rows(session, flt=store_filter, limit=limit, offset=offset)


def changes_since(
    session: Session, *, cursor: int, limit: int
) -> tuple[list[CameraRow], int, bool]:
    """Cameras with ``change_seq > cursor`` in change order: (rows, new cursor, has_more)."""
    return store_cameras.change_rows_since(session, cursor=cursor, limit=limit)
