"""Camera registry repository: save, update, revoke, soft-delete, list, the change feed.

Every write bumps the camera's ``version`` and stamps it with the next global change
number (``store.changeseq``), so ``changes_since`` returns changes, revocations and
deletions in commit order. Stream credentials never reach the ``cameras`` row: the public
columns hold ``redact_stream_url(url)``, the full URL goes to ``camera_secrets``.

Functions take a Session and keyword-only arguments, and leave committing to the caller
(one request = one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session

from rtcc_console.core.geo import BoundingBox
from rtcc_console.core.models import Camera, CameraKind, GeoPoint, SharingMode, Tier, utcnow
from rtcc_console.store.changeseq import next_change_seq
from rtcc_console.store.db import begin_write
from rtcc_console.store.schema import CameraRow, CameraSecretRow, OwnerRow


class NotFoundError(LookupError):
    """The requested row does not exist (or is soft-deleted)."""


#: Fields ``update_camera`` accepts (column names of the public record + stream URLs).
UPDATABLE_FIELDS = frozenset(
    {
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
        "revoked",
        "revoked_reason",
        "stream_url",
        "substream_url",
    }
)


class StreamSecret(NamedTuple):
    """Full stream URLs of one camera (may carry credentials: never log or show them)."""

    stream_url: str | None
    substream_url: str | None


class CameraPage(NamedTuple):
    items: list[Camera]
    total: int


class ChangeBatch(NamedTuple):
    """One page of the sync feed. Revoked cameras are in ``changed`` with revoked=True."""

    changed: list[Camera]
    deleted_ids: list[str]
    next_cursor: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class CameraFilter:
    tier: Tier | None = None
    kind: CameraKind | None = None
    sharing_mode: SharingMode | None = None
    bbox: BoundingBox | None = None
    include_revoked: bool = True


def _redact(url: str | None) -> str | None:
    if not url:
        return None
    from rtcc_console.core.redact import redact_stream_url

    return redact_stream_url(url)


def to_domain(row: CameraRow) -> Camera:
    """The domain view of a row (redacted stream references only)."""
    return Camera(
        id=row.id,
        name=row.name,
        tier=Tier(row.tier),
        location=GeoPoint(row.lat, row.lon),
        kind=CameraKind(row.kind),
        sharing_mode=SharingMode(row.sharing_mode),
        address=row.address or "",
        owner_id=row.owner_id,
        heading_deg=row.heading_deg,
        fov_deg=row.fov_deg,
        range_m=row.range_m,
        revoked=bool(row.revoked),
        stream_ref=row.stream_url,
        substream_ref=row.substream_url,
        updated_at=row.updated_at,
        confirmed_at=row.confirmed_at,
        stale=row.stale_since is not None,
    )


def _check_heading_fov_range(
    heading: float | None, fov: float | None, range_m: float | None
) -> None:
    if heading is not None and not 0.0 <= heading < 360.0:
        raise ValueError(f"heading_deg must be in [0, 360), got {heading}")
    if fov is not None and not 0.0 < fov <= 360.0:
        raise ValueError(f"fov_deg must be in (0, 360], got {fov}")
    if range_m is not None and not range_m > 0:
        raise ValueError(f"range_m must be positive, got {range_m}")


def _set_streams(
    session: Session, row: CameraRow, *, stream: str | None, substream: str | None
) -> None:
    row.stream_url = _redact(stream)
    row.substream_url = _redact(substream)
    row.has_stream = bool(stream)
    secret = session.get(CameraSecretRow, row.id)
    if stream or substream:
        if secret is None:
            secret = CameraSecretRow(camera_id=row.id)
            session.add(secret)
        secret.stream_url_full = stream
        secret.substream_url_full = substream
    elif secret is not None:
        session.delete(secret)


def save_camera(
    session: Session,
    *,
    camera: Camera,
    stream_url: str | None = None,
    substream_url: str | None = None,
    now: datetime | None = None,
) -> tuple[Camera, bool]:
    """Create or replace a camera (upsert by id); returns (camera, created).

    ``stream_url``/``substream_url`` are the full URLs (credentials allowed); when omitted
    the camera's ``stream_ref``/``substream_ref`` are used. Either way only the redacted
    form is stored in the public record. A soft-deleted camera with the same id is brought
    back. Raises ValueError for out-of-range heading/fov/range.
    """
    _check_heading_fov_range(camera.heading_deg, camera.fov_deg, camera.range_m)
    begin_write(session)
    seq = next_change_seq(session)  # first statement: takes the camera write lock
    now = now or utcnow()
    row = session.get(CameraRow, camera.id)
    created = row is None
    if row is None:
        row = CameraRow(id=camera.id, version=1, created_at=now, confirmed_at=now)
        session.add(row)
    else:
        row.version += 1
    row.name = camera.name
    row.tier = Tier(camera.tier).value
    row.kind = CameraKind(camera.kind).value
    row.sharing_mode = SharingMode(camera.sharing_mode).value
    row.lat, row.lon = camera.location.lat, camera.location.lon
    row.address = camera.address
    row.owner_id = camera.owner_id
    row.heading_deg, row.fov_deg, row.range_m = camera.heading_deg, camera.fov_deg, camera.range_m
    row.revoked = camera.revoked
    if not camera.revoked:
        row.revoked_reason = None
    row.deleted = False
    row.updated_at = now
    row.change_seq = seq
    _set_streams(
        session,
        row,
        stream=stream_url or camera.stream_ref,
        substream=substream_url or camera.substream_ref,
    )
    session.flush()
    return to_domain(row), created


def _live_row(session: Session, camera_id: str) -> CameraRow:
    row = session.get(CameraRow, camera_id)
    if row is None or row.deleted:
        raise NotFoundError(f"camera {camera_id!r} not found")
    return row


def update_camera(
    session: Session, *, camera_id: str, changes: Mapping[str, Any], now: datetime | None = None
) -> Camera:
    """Apply a partial update (keys from ``UPDATABLE_FIELDS``); version + change number bump.

    Bad input (unknown field, bad enum value, coordinates out of range) raises ValueError
    before anything is written.
    """
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown camera field(s): {', '.join(sorted(unknown))}")
    values = dict(changes)
    for key, enum in (("tier", Tier), ("kind", CameraKind), ("sharing_mode", SharingMode)):
        if key in values:
            values[key] = enum(values[key]).value
    begin_write(session)
    seq = next_change_seq(session)
    row = _live_row(session, camera_id)
    GeoPoint(values.get("lat", row.lat), values.get("lon", row.lon))  # validates
    _check_heading_fov_range(
        values.get("heading_deg", row.heading_deg),
        values.get("fov_deg", row.fov_deg),
        values.get("range_m", row.range_m),
    )
    if "stream_url" in values or "substream_url" in values:
        current = stream_secret(session, camera_id=camera_id) or StreamSecret(None, None)
        _set_streams(
            session,
            row,
            stream=values.pop("stream_url", current.stream_url),
            substream=values.pop("substream_url", current.substream_url),
        )
    for key, value in values.items():
        setattr(row, key, value)
    if values.get("revoked") is False:
        row.revoked_reason = None
    row.version += 1
    row.updated_at = now or utcnow()
    row.change_seq = seq
    session.flush()
    return to_domain(row)


def revoke_camera(
    session: Session, *, camera_id: str, reason: str, now: datetime | None = None
) -> Camera:
    """Mark a camera revoked by its owner; it stays in the registry, visible as revoked."""
    if not reason or not reason.strip():
        raise ValueError("a revocation needs a reason")
    return update_camera(
        session,
        camera_id=camera_id,
        now=now,
        changes={"revoked": True, "revoked_reason": reason.strip()},
    )


def delete_camera(session: Session, *, camera_id: str, now: datetime | None = None) -> None:
    """Soft-delete: the row stays (for the sync feed) but is gone from every listing.

    The stored credentials are removed at once: a deleted camera must not be viewable.
    """
    begin_write(session)
    seq = next_change_seq(session)
    row = _live_row(session, camera_id)
    row.deleted = True
    row.version += 1
    row.updated_at = now or utcnow()
    row.change_seq = seq
    _set_streams(session, row, stream=None, substream=None)
    session.flush()


def get_camera(session: Session, *, camera_id: str, include_deleted: bool = False) -> Camera | None:
    row = session.get(CameraRow, camera_id)
    if row is None or (row.deleted and not include_deleted):
        return None
    return to_domain(row)


def camera_version(session: Session, *, camera_id: str) -> int | None:
    """The row's version (for optimistic concurrency / ETags), None when absent."""
    return session.execute(
        select(CameraRow.version).where(CameraRow.id == camera_id)
    ).scalar_one_or_none()


def stream_secret(session: Session, *, camera_id: str) -> StreamSecret | None:
    """The full stream URLs of a camera, or None when it has none (or is deleted)."""
    row = session.get(CameraSecretRow, camera_id)
    if row is None:
        return None
    return StreamSecret(row.stream_url_full, row.substream_url_full)


def _filtered(stmt: Select[Any], flt: CameraFilter) -> Select[Any]:
    stmt = stmt.where(CameraRow.deleted.is_(False))
    if flt.tier is not None:
        stmt = stmt.where(CameraRow.tier == Tier(flt.tier).value)
    if flt.kind is not None:
        stmt = stmt.where(CameraRow.kind == CameraKind(flt.kind).value)
    if flt.sharing_mode is not None:
        stmt = stmt.where(CameraRow.sharing_mode == SharingMode(flt.sharing_mode).value)
    if not flt.include_revoked:
        stmt = stmt.where(CameraRow.revoked.is_(False))
    if flt.bbox is not None:
        b = flt.bbox
        stmt = stmt.where(
            CameraRow.lat.between(b.min_lat, b.max_lat), CameraRow.lon.between(b.min_lon, b.max_lon)
        )
    return stmt


def list_camera_rows(
    session: Session, *, flt: CameraFilter | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[CameraRow], int]:
    """A page of live (not deleted) camera rows ordered by id, with the total matching
    count (the server formats rows for the API: version, has_stream, ...)."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")
    flt = flt or CameraFilter()
    total = session.execute(
        _filtered(select(func.count()).select_from(CameraRow), flt)
    ).scalar_one()
    rows = session.execute(
        _filtered(select(CameraRow), flt).order_by(CameraRow.id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), int(total)


def list_cameras(
    session: Session, *, flt: CameraFilter | None = None, limit: int = 100, offset: int = 0
) -> CameraPage:
    """A page of live (not deleted) cameras ordered by id, with the total matching count."""
    rows, total = list_camera_rows(session, flt=flt, limit=limit, offset=offset)
    return CameraPage([to_domain(r) for r in rows], total)


def change_rows_since(
    session: Session, *, cursor: int, limit: int = 1000
) -> tuple[list[CameraRow], int, bool]:
    """Rows (deleted ones too) changed after ``cursor``, oldest first: (rows, next cursor,
    has more). See :func:`changes_since`."""
    if cursor < 0:
        raise ValueError(f"cursor must not be negative, got {cursor}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    rows = (
        session.execute(
            select(CameraRow)
            .where(CameraRow.change_seq > cursor)
            .order_by(CameraRow.change_seq)
            .limit(limit + 1)
        )
        .scalars()
        .all()
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = rows[-1].change_seq if rows else cursor
    return list(rows), int(next_cursor), has_more


def changes_since(session: Session, *, cursor: int, limit: int = 1000) -> ChangeBatch:
    """Cameras changed after ``cursor`` (a change number; 0 = from scratch), oldest first.

    ``next_cursor`` is the change number of the last row returned (``cursor`` itself when
    nothing changed); pass it back to continue. Gaps cannot occur: numbers are handed out
    in commit order (see ``store.changeseq``).
    """
    rows, next_cursor, has_more = change_rows_since(session, cursor=cursor, limit=limit)
    changed = [to_domain(r) for r in rows if not r.deleted]
    deleted = [r.id for r in rows if r.deleted]
    return ChangeBatch(changed, deleted, next_cursor, has_more)


def newest_change(session: Session) -> int:
    """The newest change number in the registry (0 when empty)."""
    return int(session.scalar(select(func.max(CameraRow.change_seq))) or 0)


def change_rows_between(session: Session, *, after: int, upto: int) -> list[Any]:
    """Rows with ``after < change_seq <= upto`` in change order, as Core rows (attribute
    access like ORM rows at a fraction of the cost: the first load of a large registry is
    a full scan)."""
    table = cast(Table, CameraRow.__table__)
    return list(
        session.execute(
            select(table)
            .where(table.c.change_seq > after, table.c.change_seq <= upto)
            .order_by(table.c.change_seq)
        ).all()
    )


def get_camera_row(
    session: Session, *, camera_id: str, include_deleted: bool = False
) -> CameraRow | None:
    """The camera's row (None when missing, or deleted unless ``include_deleted``)."""
    row = session.get(CameraRow, camera_id)
    if row is None or (row.deleted and not include_deleted):
        return None
    return row


def alive_rows(session: Session) -> list[CameraRow]:
    """Every camera not deleted, by id (registry export)."""
    return list(
        session.scalars(
            select(CameraRow).where(CameraRow.deleted.is_(False)).order_by(CameraRow.id)
        ).all()
    )


def existing_ids(session: Session, *, camera_ids: Sequence[str], owners: bool = False) -> set[str]:
    """Which of ``camera_ids`` (or owner ids, with ``owners``) exist already (any state)."""
    column: Any = OwnerRow.id if owners else CameraRow.id
    found: set[str] = set()
    for start in range(0, len(camera_ids), 500):
        found.update(
            session.scalars(select(column).where(column.in_(camera_ids[start : start + 500]))).all()
        )
    return found
