"""Dispatch call intake: store a parsed CAD message (``store.calls``) and announce it.

The rules (idempotent by incident + update time, history of every message, older
messages kept but not applied) live in :func:`rtcc_console.store.calls.ingest_call`. This
module gives the result its API shape and records ``call.created`` / ``call.updated`` in
the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.core.cad import ParsedCall
from rtcc_console.server.eventlog import record_event
from rtcc_console.store.calls import CallHistoryEntry, CallRecord, ingest_call


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What happened to one message: ``created`` a call, ``updated`` it, or neither.

    ``call`` is the call as the API shows it (after this message).
    """

    call: dict[str, Any]
    created: bool
    updated: bool
    duplicate: bool


def call_public(call: CallRecord) -> dict[str, Any]:
    """The API shape of a call (``lat``/``lon`` null when only an address is known)."""
    return {
        "id": call.id,
        "incident_id": call.incident_id,
        "type_code": call.type_code,
        "type_text": call.type_text,
        "category": call.category,
        "priority": call.priority,
        "status": call.status.value,
        "lat": call.lat,
        "lon": call.lon,
        "address": call.address,
        "uncertainty_m": call.uncertainty_m,
        "reported_at": call.reported_at.isoformat(),
        "updated_at": call.updated_at.isoformat(),
        "source": call.source,
        "version": call.version,
    }


def history_public(entry: CallHistoryEntry) -> dict[str, Any]:
    """The API shape of one history entry."""
    return {
        "updated_at": entry.updated_at.isoformat(),
        "received_at": entry.received_at.isoformat(),
        "source": entry.source,
        "applied": entry.applied,
        "call": entry.call,
        "warnings": list(entry.warnings),
    }


def ingest(
    session: Session,
    *,
    parsed: ParsedCall,
    source: str,
    raw: Any = None,
    now: datetime | None = None,
) -> IntakeResult:
    """Store one CAD message idempotently and record the matching event."""
    got = ingest_call(session, parsed=parsed, source=source, raw=raw, now=now)
    public = call_public(got.call)
    if got.created:
        record_event(session, type="call.created", payload={"call": public})
    elif got.updated:
        record_event(session, type="call.updated", payload={"call": public})
    return IntakeResult(public, created=got.created, updated=got.updated, duplicate=got.duplicate)
