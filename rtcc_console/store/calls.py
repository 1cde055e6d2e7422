"""Dispatch call repository: idempotent CAD intake with full history.

CAD systems resend. Every message is identified by (incident id, update time): the same
pair again is a duplicate and changes nothing; a newer update time changes the call
(version + 1); an *older* one (messages overtaking each other) is kept in the history but
does not overwrite the newer state. Analyst edits (``patch_call``) bump the version but do
not move the CAD update time, so the next CAD message is still judged against CAD time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rtcc_console.core.models import CallStatus, DispatchCall, GeoPoint, utcnow
from rtcc_console.store.cameras import NotFoundError
from rtcc_console.store.db import begin_write
from rtcc_console.store.schema import CallRow, CallUpdateRow

Outcome = Literal["created", "updated", "duplicate", "stale"]


class CallUpsert(NamedTuple):
    """Result of :func:`upsert_call`: ``call, created, outcome = upsert_call(...)``."""

    call: DispatchCall
    created: bool
    outcome: Outcome  # "stale": an older update, recorded in history only


class CallPage(NamedTuple):
    items: list[DispatchCall]
    total: int


class CallUpdate(NamedTuple):
    updated_at: datetime
    received_at: datetime
    source: str
    raw: dict[str, Any] | None


def new_call_id() -> str:
    return f"call-{uuid.uuid4().hex[:16]}"


def call_to_domain(row: CallRow) -> DispatchCall:
    location = GeoPoint(row.lat, row.lon) if row.lat is not None and row.lon is not None else None
    return DispatchCall(
        id=row.id, incident_id=row.incident_id, type_code=row.type_code, type_text=row.type_text,
        priority=row.priority, status=CallStatus(row.status), reported_at=row.reported_at,
        updated_at=row.updated_at, location=location, address=row.address, category=row.category,
        source=row.source,
    )


def _check_call(call: DispatchCall) -> None:
    if not call.incident_id or not call.incident_id.strip():
        raise ValueError("incident_id must not be empty")
    for name in ("reported_at", "updated_at"):
        value = getattr(call, name)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime, got {value!r}")
    CallStatus(call.status)
    if isinstance(call.priority, bool) or not isinstance(call.priority, int):
        raise ValueError(f"priority must be an integer, got {call.priority!r}")


def _apply(row: CallRow, call: DispatchCall, raw: dict[str, Any] | None, uncertainty_m: float | None) -> None:
    row.type_code, row.type_text, row.category = call.type_code, call.type_text, call.category
    row.priority, row.status = call.priority, CallStatus(call.status).value
    row.lat = call.location.lat if call.location else None
    row.lon = call.location.lon if call.location else None
    row.address, row.uncertainty_m = call.address, uncertainty_m
    row.reported_at, row.updated_at = call.reported_at, call.updated_at
    row.source, row.raw = call.source, raw


def _find(session: Session, incident_id: str) -> CallRow | None:
    stmt = select(CallRow).where(CallRow.incident_id == incident_id).with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def _record(session: Session, row: CallRow, call: DispatchCall, raw: dict[str, Any] | None,
            received_at: datetime) -> bool:
    """Add the history entry; False when (incident, update time) is already there."""
    exists = session.execute(select(CallUpdateRow.id).where(
        CallUpdateRow.incident_id == call.incident_id, CallUpdateRow.updated_at == call.updated_at,
    )).first()
    if exists:
        return False
    try:
        with session.begin_nested():
            session.add(CallUpdateRow(call_id=row.id, incident_id=call.incident_id, updated_at=call.updated_at,
                                      received_at=received_at, source=call.source, raw=raw))
    except IntegrityError:  # the same message committed concurrently
        return False
    return True


def upsert_call(
    session: Session,
    *,
    call: DispatchCall,
    raw: dict[str, Any] | None = None,
    uncertainty_m: float | None = None,
    received_at: datetime | None = None,
) -> CallUpsert:
    """Store one CAD message for ``call.incident_id`` (see the module docstring).

    ``call.id`` is used for a new incident (empty: one is generated); an existing
    incident keeps its id. Bad input raises ValueError before anything is written.
    """
    _check_call(call)
    begin_write(session)  # SQLite: read-then-write must hold the write lock from the start
    received_at = received_at or utcnow()
    row = _find(session, call.incident_id)
    if row is None:
        row = CallRow(id=call.id or new_call_id(), incident_id=call.incident_id, version=1, created_at=received_at)
        _apply(row, call, raw, uncertainty_m)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # another writer created the incident meanwhile
            row = _find(session, call.incident_id)
            if row is None:
                raise
        else:
            _record(session, row, call, raw, received_at)
            return CallUpsert(call_to_domain(row), True, "created")
    if not _record(session, row, call, raw, received_at):
        return CallUpsert(call_to_domain(row), False, "duplicate")
    if call.updated_at <= row.updated_at:
        session.flush()
        return CallUpsert(call_to_domain(row), False, "stale")
    _apply(row, call, raw, uncertainty_m)
    row.version += 1
    session.flush()
    return CallUpsert(call_to_domain(row), False, "updated")


def get_call(session: Session, *, call_id: str) -> DispatchCall | None:
    row = session.get(CallRow, call_id)
    return call_to_domain(row) if row is not None else None


def get_call_by_incident(session: Session, *, incident_id: str) -> DispatchCall | None:
    row = session.execute(select(CallRow).where(CallRow.incident_id == incident_id)).scalar_one_or_none()
    return call_to_domain(row) if row is not None else None


def call_version(session: Session, *, call_id: str) -> int | None:
    return session.execute(select(CallRow.version).where(CallRow.id == call_id)).scalar_one_or_none()


def call_history(session: Session, *, call_id: str) -> list[CallUpdate]:
    """Every CAD message stored for the call, in CAD update-time order."""
    rows = session.execute(select(CallUpdateRow).where(CallUpdateRow.call_id == call_id)
                           .order_by(CallUpdateRow.updated_at, CallUpdateRow.id)).scalars()
    return [CallUpdate(r.updated_at, r.received_at, r.source, r.raw) for r in rows]


def list_calls(
    session: Session,
    *,
    status: str | CallStatus | None = "all",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> CallPage:
    """Calls newest first (by report time). ``status``: "open", "closed", "all" or a
    CallStatus; ``since``/``until`` bound the CAD update time (since inclusive, until
    exclusive), so a client can fetch what changed."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")
    where: list[Any] = []
    if status in (None, "all"):
        pass
    elif status == "open":
        where.append(CallRow.status != CallStatus.CLOSED.value)
    else:
        try:
            where.append(CallRow.status == CallStatus(status).value)
        except ValueError:
            raise ValueError(f"status must be open, closed, all or one of {[s.value for s in CallStatus]}, got {status!r}") from None
    if since is not None:
        where.append(CallRow.updated_at >= since)
    if until is not None:
        where.append(CallRow.updated_at < until)
    total = session.execute(select(func.count()).select_from(CallRow).where(*where)).scalar_one()
    rows = session.execute(select(CallRow).where(*where).order_by(CallRow.reported_at.desc(), CallRow.id)
                           .limit(limit).offset(offset)).scalars()
    return CallPage([call_to_domain(r) for r in rows], int(total))


_PATCHABLE = frozenset({"lat", "lon", "address", "status"})


def patch_call(session: Session, *, call_id: str, changes: Mapping[str, Any]) -> DispatchCall:
    """An analyst's correction (position, address, status); version + 1.

    ``lat`` and ``lon`` go together (both None clears the position). Bad input raises
    ValueError and writes nothing.
    """
    unknown = set(changes) - _PATCHABLE
    if unknown:
        raise ValueError(f"unknown call field(s): {', '.join(sorted(unknown))}")
    if ("lat" in changes) != ("lon" in changes):
        raise ValueError("lat and lon must be given together")
    status = CallStatus(changes["status"]).value if "status" in changes else None
    lat, lon = changes.get("lat"), changes.get("lon")
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must both be numbers or both be null")
    if lat is not None and lon is not None:
        GeoPoint(lat, lon)  # validates
    begin_write(session)
    row = session.execute(select(CallRow).where(CallRow.id == call_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"call {call_id!r} not found")
    if "lat" in changes:
        row.lat, row.lon = lat, lon
    if status is not None:
        row.status = status
    if "address" in changes:
        row.address = changes["address"]
    row.version += 1
    session.flush()
    return call_to_domain(row)


def set_call_position(session: Session, *, call_id: str, lat: float | None, lon: float | None,
                      address: str | None = None) -> DispatchCall:
    """Set (or clear, with None/None) the call's position; optionally its address."""
    changes: dict[str, Any] = {"lat": lat, "lon": lon}
    if address is not None:
        changes["address"] = address
    return patch_call(session, call_id=call_id, changes=changes)
