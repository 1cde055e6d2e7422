"""Bulk loading of owners and cameras (the seeder, imports, benchmarks).

The ORM costs tens of microseconds per object; a million-camera benchmark registry would
take minutes. These functions go one level down: driver-level ``executemany`` of plain
tuples on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL, inside the caller's transaction,
with change numbers reserved per batch. Values are converted exactly as the ORM would
(same timestamp format), and stream URLs are redacted here as everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from rtcc_console.core.models import Camera, Owner, utcnow
from rtcc_console.store.changeseq import next_change_seq
from rtcc_console.store.schema import Base, CameraRow, OwnerRow

#: Order of the tuples accepted by :func:`bulk_insert_camera_rows`.
CAMERA_ROW_FIELDS = (
    "id",
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
    "stream_url",
    "substream_url",
)
_CAMERA_EXTRA = (
    "has_stream",
    "revoked",
    "version",
    "created_at",
    "updated_at",
    "deleted",
    "change_seq",
    "confirmed_at",  # 0108: a newly registered camera counts as confirmed
)
_OWNER_FIELDS = ("id", "name", "kind", "email", "phone", "accepts_requests", "created_at")
_SECRET_FIELDS = ("camera_id", "stream_url_full", "substream_url_full")

DEFAULT_BATCH = 20_000


@contextmanager
def deferred_indexes(session: Session, *, tables: tuple[str, ...] = ("cameras",)) -> Iterator[None]:
    """Drop the non-unique indexes of ``tables`` for a big load, rebuild them afterwards.

    Building an index once by sorting is several times faster than a million random
    B-tree (or GiST) inserts. Both happen inside the caller's transaction (SQLite and
    PostgreSQL have transactional DDL), so a failed load leaves the indexes as they were.
    On PostgreSQL the live definitions are used, which includes the PostGIS index.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        defs = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() "
                "AND tablename = ANY(:tables) AND indexdef NOT LIKE 'CREATE UNIQUE%' "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ),
            {"tables": list(tables)},
        ).all()
        for name, _ in defs:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _, definition in defs:
            conn.exec_driver_sql(definition)
        return
    dropped = [ix for t in tables for ix in Base.metadata.tables[t].indexes if not ix.unique]
    for ix in dropped:
        ix.drop(conn)
    yield
    for ix in dropped:
        ix.create(conn)


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _db_value(session: Session, column: Any, value: Any) -> Any:
    """``value`` as the driver must receive it for ``column`` (runs the type's processors)."""
    dialect = session.get_bind().dialect
    # dialect_impl: the SQLite DATETIME text format, exactly what the ORM writes.
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


def _write(
    session: Session, table: str, fields: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None  # a checked-out connection always has its driver connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(fields)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in fields)
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks})", rows)


def bulk_insert_owners(
    session: Session,
    *,
    owners: Iterable[Owner],
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Insert new owners (ids must not exist yet); returns how many were written."""
    created = _db_value(session, OwnerRow.__table__.c.created_at, now or utcnow())
    count = 0
    for batch in _batches(owners, batch_size):
        rows = [
            (o.id, o.name, str(o.kind), o.email, o.phone, bool(o.accepts_requests), created)
            for o in batch
        ]
        _write(session, "owners", _OWNER_FIELDS, rows)
        count += len(rows)
    return count


def bulk_insert_camera_rows(
    session: Session,
    *,
    rows: Iterable[tuple[Any, ...]],
    secrets: Mapping[str, tuple[str | None, str | None]] | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Insert new cameras given as tuples in ``CAMERA_ROW_FIELDS`` order.

    ``stream_url``/``substream_url`` in the tuples are redacted before storage;
    ``secrets`` maps camera id -> (full stream URL, full substream URL) for
    ``camera_secrets``. Every row gets version 1 and its own change number.
    """
    from rtcc_console.core.redact import redact_stream_url

    stamp = _db_value(session, CameraRow.__table__.c.created_at, now or utcnow())
    secrets = secrets or {}
    count = 0
    fields = CAMERA_ROW_FIELDS + _CAMERA_EXTRA
    for batch in _batches(rows, batch_size):
        first_seq = next_change_seq(session, count=len(batch))
        out = []
        for offset, row in enumerate(batch):
            if len(row) != len(CAMERA_ROW_FIELDS):
                raise ValueError(
                    f"camera row {row[:1]} has {len(row)} values, expected {len(CAMERA_ROW_FIELDS)}"
                )
            stream, substream = row[12], row[13]
            full, subfull = secrets.get(row[0], (None, None))
            stream, substream = stream or full, substream or subfull
            if stream:
                stream = redact_stream_url(stream)
            if substream:
                substream = redact_stream_url(substream)
            has_stream = bool(stream)
            out.append(
                (
                    *row[:12],
                    stream,
                    substream,
                    has_stream,
                    False,
                    1,
                    stamp,
                    stamp,
                    False,
                    first_seq + offset,
                    stamp,
                )
            )
        _write(session, "cameras", fields, out)
        secret_rows = [(row[0], *secrets[row[0]]) for row in batch if row[0] in secrets]
        if secret_rows:
            _write(session, "camera_secrets", _SECRET_FIELDS, secret_rows)
        count += len(out)
    return count


def camera_row(camera: Camera) -> tuple[Any, ...]:
    """A domain camera as a ``CAMERA_ROW_FIELDS`` tuple."""
    return (
        camera.id,
        camera.name,
        str(camera.tier),
        str(camera.kind),
        str(camera.sharing_mode),
        camera.location.lat,
        camera.location.lon,
        camera.address,
        camera.owner_id,
        camera.heading_deg,
        camera.fov_deg,
        camera.range_m,
        camera.stream_ref,
        camera.substream_ref,
    )


def bulk_insert_cameras(
    session: Session,
    *,
    cameras: Iterable[Camera],
    secrets: Mapping[str, str] | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Insert new domain cameras; ``secrets`` maps camera id -> full stream URL."""
    full = {cid: (url, None) for cid, url in (secrets or {}).items()}
    return bulk_insert_camera_rows(
        session, rows=(camera_row(c) for c in cameras), secrets=full, now=now, batch_size=batch_size
    )
