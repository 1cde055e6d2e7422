"""Dispatch call repository: idempotent CAD intake with full history, listing, corrections.

Rules (one CAD message = one ``ParsedCall``):

* same incident + same ``updated_at`` as a stored message: a duplicate, stored once;
* a new incident: a new call (outcome ``"created"``);
* a newer ``updated_at`` than the call's: the call changes, version + 1 (``"updated"``);
* an older one (messages overtaking each other): kept in the history only, the call stays
  as it is (``"stale"``; the API reports it as neither created, updated nor duplicate).

Every message lands in ``call_updates`` (the history). Intake runs in the caller's
transaction under the journal lock, so two processes receiving the same message cannot
both create the call. Analyst corrections (:func:`patch_call`) bump the version and are
recorded in the history as ``source="manual"``, but do not move the CAD update time, so
the next CAD message is still judged against CAD time.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from rtcc_console.core.cad import ParsedCall
from rtcc_console.core.models import CallStatus, GeoPoint, utcnow
from rtcc_console.store.cameras import NotFoundError
from rtcc_console.store.db import begin_write, journal_lock
from rtcc_console.store.schema import CallRow, CallUpdateRow

Outcome = Literal["created", "updated", "duplicate", "stale"]
StatusFilter = Literal["open", "closed", "all"]

#: Statuses of a call that is still being worked.
OPEN_STATUSES = (CallStatus.PENDING.value, CallStatus.DISPATCHED.value, CallStatus.ON_SCENE.value)

_CALLS = cast(Table, CallRow.__table__)
_UPDATES = cast(Table, CallUpdateRow.__table__)
_PATCHABLE = frozenset({"lat", "lon", "address", "status"})


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A stored call, as the API shows it (``lat``/``lon`` None when only an address is known)."""

    id: str
    incident_id: str
    type_code: str
    type_text: str
    category: str
    priority: int
    status: CallStatus
    lat: float | None
    lon: float | None
    address: str | None
    uncertainty_m: float | None
    reported_at: datetime
    updated_at: datetime
    source: str
    version: int

    @property
    def location(self) -> GeoPoint | None:
        return (
            GeoPoint(self.lat, self.lon) if self.lat is not None and self.lon is not None else None
        )


class CallIngest(NamedTuple):
    """What one CAD message did: ``call`` is the call after it."""

    call: CallRecord
    outcome: Outcome

    @property
    def created(self) -> bool:
        return self.outcome == "created"

    @property
    def updated(self) -> bool:
        return self.outcome == "updated"

    @property
    def duplicate(self) -> bool:
        return self.outcome == "duplicate"


class CallPage(NamedTuple):
    items: list[CallRecord]
    total: int


class CallHistoryEntry(NamedTuple):
    """One stored message: ``call`` is the parsed CAD message (None for a manual edit),
    ``applied`` whether it changed the call, ``body`` what was received."""

    updated_at: datetime
    received_at: datetime
    source: str
    applied: bool
    call: dict[str, Any] | None
    body: Any
    warnings: tuple[str, ...] = ()  # what the parser had to guess (unknown status word...)


def new_call_id() -> str:
    return "call-" + secrets.token_hex(8)


def _record(row: Any) -> CallRecord:
    return CallRecord(
        id=row.id,
        incident_id=row.incident_id,
        type_code=row.type_code,
        type_text=row.type_text,
        category=row.category,
        priority=row.priority,
        status=CallStatus(row.status),
        lat=row.lat,
        lon=row.lon,
        address=row.address,
        uncertainty_m=row.uncertainty_m,
        reported_at=row.reported_at,
        updated_at=row.updated_at,
        source=row.source,
        version=row.version or 1,
    )


def _check(parsed: ParsedCall) -> None:
    if not parsed.incident_id or not parsed.incident_id.strip():
        raise ValueError("incident_id must not be empty")
    for name in ("reported_at", "updated_at"):
        value = getattr(parsed, name)
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{name} must be an aware datetime, got {value!r}")


def _fields(parsed: ParsedCall, source: str) -> dict[str, Any]:
    return {
        "type_code": parsed.type_code,
        "type_text": parsed.type_text,
        "category": parsed.category,
        "priority": parsed.priority,
        "status": CallStatus(parsed.status).value,
        "lat": parsed.location.lat if parsed.location else None,
        "lon": parsed.location.lon if parsed.location else None,
        "address": parsed.address,
        "uncertainty_m": parsed.uncertainty_m,
        "reported_at": parsed.reported_at,
        "updated_at": parsed.updated_at,
        "source": source,
    }


def ingest_call(
    session: Session,
    *,
    parsed: ParsedCall,
    source: str,
    raw: Any = None,
    now: datetime | None = None,
) -> CallIngest:
    """Store one CAD message idempotently (see the module docstring).

    Written with SQLAlchemy Core statements (no unit of work): this is the hot path of
    call intake, and Core costs a fraction of the ORM's CPU per row. Bad input raises
    ValueError before anything is written.
    """
    _check(parsed)
    journal_lock(session)
    now = now or utcnow()
    existing = session.execute(
        select(_CALLS).where(_CALLS.c.incident_id == parsed.incident_id)
    ).first()
    if existing is not None:
        dup = session.execute(
            select(_UPDATES.c.id)
            .where(
                _UPDATES.c.incident_id == parsed.incident_id,
                _UPDATES.c.updated_at == parsed.updated_at,
            )
            .limit(1)
        ).first()
        if dup is not None:
            return CallIngest(_record(existing), "duplicate")
    outcome: Outcome
    if existing is None:
        values = {
            "id": new_call_id(),
            "incident_id": parsed.incident_id,
            "version": 1,
            "created_at": now,
            "raw": None,
            **_fields(parsed, source),
        }
        session.execute(_CALLS.insert().values(**values))
        call, outcome = _record(_Values(values)), "created"
    elif parsed.updated_at > existing.updated_at:
        values = {**_fields(parsed, source), "version": (existing.version or 1) + 1}
        if parsed.status_assumed:  # the message said no known status: keep the call's
            values["status"] = existing.status
        session.execute(_CALLS.update().where(_CALLS.c.id == existing.id).values(**values))
        call, outcome = _record(_Values({**existing._asdict(), **values})), "updated"
    else:
        call, outcome = _record(existing), "stale"
    session.execute(
        _UPDATES.insert().values(
            call_id=call.id,
            incident_id=parsed.incident_id,
            updated_at=parsed.updated_at,
            received_at=now,
            source=source,
            raw={
                "parsed": parsed.to_simple_dict(),
                "applied": outcome != "stale",
                "body": raw,
                **({"warnings": list(parsed.warnings)} if parsed.warnings else {}),
            },
        )
    )
    return CallIngest(call, outcome)


class _Values:
    """Attribute access over a column -> value mapping (the row just written)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def get_call(session: Session, *, call_id: str) -> CallRecord | None:
    row = session.get(CallRow, call_id)
    return _record(row) if row is not None else None


def get_call_by_incident(session: Session, *, incident_id: str) -> CallRecord | None:
    row = session.scalars(select(CallRow).where(CallRow.incident_id == incident_id)).one_or_none()
    return _record(row) if row is not None else None


def call_history(session: Session, *, call_id: str) -> list[CallHistoryEntry]:
    """Every message stored for the call (CAD and manual), in update-time order."""
    rows = session.scalars(
        select(CallUpdateRow)
        .where(CallUpdateRow.call_id == call_id)
        .order_by(CallUpdateRow.updated_at, CallUpdateRow.id)
    ).all()
    out = []
    for r in rows:
        raw = r.raw or {}
        out.append(
            CallHistoryEntry(
                r.updated_at,
                r.received_at,
                r.source,
                bool(raw.get("applied", True)),
                raw.get("parsed"),
                raw.get("body"),
                tuple(raw.get("warnings") or ()),
            )
        )
    return out


def list_calls(
    session: Session,
    *,
    status: StatusFilter = "all",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> CallPage:
    """Calls, newest CAD update first; ``since`` (inclusive) and ``until`` (exclusive)
    bound the update time, so a client can fetch what changed."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")
    stmt = select(CallRow)
    if status == "open":
        stmt = stmt.where(CallRow.status.in_(OPEN_STATUSES))
    elif status == "closed":
        stmt = stmt.where(CallRow.status == CallStatus.CLOSED.value)
    elif status != "all":
        raise ValueError(f"status must be open, closed or all, got {status!r}")
    if since is not None:
        stmt = stmt.where(CallRow.updated_at >= since)
    if until is not None:
        stmt = stmt.where(CallRow.updated_at < until)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(
        stmt.order_by(CallRow.updated_at.desc(), CallRow.id).limit(limit).offset(offset)
    ).all()
    return CallPage([_record(r) for r in rows], total)


def patch_call(
    session: Session,
    *,
    call_id: str,
    changes: Mapping[str, Any],
    by: str,
    now: datetime | None = None,
) -> CallRecord:
    """An analyst's correction (position, address, status): version + 1, kept in history.

    ``lat`` and ``lon`` go together (both None clears the position). Bad input raises
    ValueError and an unknown call NotFoundError; neither writes anything.
    """
    unknown = set(changes) - _PATCHABLE
    if unknown:
        raise ValueError(f"unknown call field(s): {', '.join(sorted(unknown))}")
    if ("lat" in changes) != ("lon" in changes):
        raise ValueError("lat and lon must be given together")
    lat, lon = changes.get("lat"), changes.get("lon")
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must both be numbers or both be null")
    if lat is not None and lon is not None:
        GeoPoint(lat, lon)  # validates
    values = {k: (CallStatus(v).value if k == "status" else v) for k, v in changes.items()}
    begin_write(session)
    row = session.get(CallRow, call_id, with_for_update=True)
    if row is None:
        raise NotFoundError(f"call {call_id!r} not found")
    for key, value in values.items():
        setattr(row, key, value)
    row.version = (row.version or 1) + 1
    now = now or utcnow()
    session.add(
        CallUpdateRow(
            call_id=row.id,
            incident_id=row.incident_id,
            updated_at=now,
            received_at=now,
            source="manual",
            raw={"parsed": None, "applied": True, "body": values, "by": by},
        )
    )
    session.flush()
    return _record(row)
