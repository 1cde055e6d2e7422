"""Events of the server: written through ``store.events``, broadcast after commit.

``record_event`` appends the event in the caller's transaction (``store.events``) and
queues its :class:`EventRecord` on the session, which :meth:`Database.write` hands to the
in-process broker once the commit succeeded.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.server.broker import EventRecord
from rtcc_console.store import events as store_events

EVENT_TYPES = frozenset(
    {
        "call.created",
        "call.updated",
        "camera.changed",
        "camera.stale",  # a camera not confirmed by its owner in time (issue 12)
        "camera.confirmed",
        "grant.revoked",
        "emergency.started",
        "emergency.ended",
        "request.created",  # footage requests (docs/api/footage-requests.md)
        "request.updated",
        "field_share.created",  # shares to officers (docs/api/field-shares.md)
        "field_share.ended",
    }
)


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), default=str)


def _redacted(type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``camera.changed`` payloads with their stream URLs redacted again: events written
    before a credential form was known to the redaction must not replay it."""
    camera = payload.get("camera") if type == "camera.changed" else None
    if not isinstance(camera, dict):
        return payload
    from rtcc_console.core.redact import redact_stream_url

    clean = {
        k: redact_stream_url(v)
        if k in ("stream_url", "substream_url") and isinstance(v, str)
        else v
        for k, v in camera.items()
    }
    return {**payload, "camera": clean}


def record_event(session: Session, *, type: str, payload: dict[str, Any]) -> EventRecord:
    """Persist an event in the current transaction; it is broadcast after commit."""
    new_id = store_events.append_event(session, type=type, payload=payload)
    record = EventRecord(id=new_id, type=type, data=_dumps(payload))
    session.info.setdefault("events", []).append(record)
    return record


def load_events(
    session: Session, *, after: int, upto: int | None = None, limit: int = 1000
) -> list[EventRecord]:
    """Events with ``after < id <= upto`` in id order (at most ``limit``), as the SSE sends them."""
    return [
        EventRecord(id=e.id, type=e.type, data=_dumps(_redacted(e.type, e.payload)))
        for e in store_events.events_after(session, after=after, upto=upto, limit=limit)
    ]
