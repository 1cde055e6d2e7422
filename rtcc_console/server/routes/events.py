"""The event stream: Server-Sent Events with replay by ``Last-Event-ID``.

Each event is ``id: <int>``, ``event: <type>``, ``data: <JSON>``. A client that
reconnects with ``Last-Event-ID`` (header, or ``?last_event_id=``) first receives every
persisted event after that id, then live ones, without gaps or duplicates. Without it
the stream starts at "now". If the requested id is older than the retention window the
stream starts with ``event: replay.truncated`` (``{"oldest_id": N}``) so the client knows
to resynchronise; likewise for an id newer than any this server issued (a replaced
database), after which the stream continues from the newest event. A client too slow to
drain its buffer is disconnected; it resumes by id. The session is re-checked about every
heartbeat interval: after logout, expiry or an account change the stream ends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sse_starlette import EventSourceResponse

from rtcc_console.server.broker import EventRecord
from rtcc_console.server.deps import StateDep, StreamUser, bearer_token
from rtcc_console.server.eventlog import load_events
from rtcc_console.server.security import resolve_token
from rtcc_console.store.events import last_event_id, oldest_event_id

router = APIRouter(tags=["events"])
REPLAY_PAGE = 500


def _parse_id(text: str | None, name: str) -> int | None:
    if text is None or text == "":
        return None
    text = text.strip()
    if not text.isdigit() or len(text) > 18:
        raise HTTPException(422, f"{name}: expected a non-negative integer event id")
    return int(text)


def _sse(record: EventRecord) -> dict[str, Any]:
    return {"id": str(record.id), "event": record.type, "data": record.data}


@router.get("/events", response_class=EventSourceResponse)
async def events(
    request: Request,
    user: StreamUser,
    state: StateDep,
    last_event_id: Annotated[
        str | None, Query(description="resume after this id (or Last-Event-ID header)")
    ] = None,
) -> EventSourceResponse:
    """Live events for signed-in staff (Bearer header or ``?access_token=``)."""
    start = _parse_id(request.headers.get("last-event-id"), "Last-Event-ID")
    if start is None:
        start = _parse_id(last_event_id, "last_event_id")
    broker, db = state.broker, state.db
    token = bearer_token(request, allow_query=True) or ""
    recheck_s = max(state.settings.sse_ping_s, 1.0)
    sub = broker.subscribe()
    live_from = broker.last_id

    async def stream() -> AsyncIterator[dict[str, Any]]:
        try:
            last = live_from
            if start is not None:
                last = start
                oldest, newest = await asyncio.to_thread(_bounds, db)
                if start > max(newest, live_from):
                    # An id this server never issued (e.g. the database was replaced):
                    # replaying "after" it would silently skip everything up to it.
                    yield {
                        "event": "replay.truncated",
                        "data": json.dumps(
                            {"oldest_id": oldest, "requested": start, "newest_id": newest}
                        ),
                    }
                    last = min(newest, live_from) if live_from else newest
                elif oldest is not None and start < oldest - 1:
                    yield {
                        "event": "replay.truncated",
                        "data": json.dumps({"oldest_id": oldest, "requested": start}),
                    }
                while True:
                    page = await asyncio.to_thread(_page, db, last)
                    for record in page:
                        yield _sse(record)
                        last = record.id
                    if len(page) < REPLAY_PAGE:
                        break
            checked = time.monotonic()
            while True:
                try:
                    batch = await asyncio.wait_for(sub.next_batch(), timeout=recheck_s)
                except TimeoutError:
                    batch = []
                if batch is None:
                    return
                if time.monotonic() - checked >= recheck_s:
                    # A long-lived stream must end when its session does (logout,
                    # disabled account, expiry), not only at reconnect.
                    if not await asyncio.to_thread(_still_valid, db, token):
                        return
                    checked = time.monotonic()
                for record in batch:
                    if record.id > last:
                        last = record.id
                        yield _sse(record)
        finally:
            broker.unsubscribe(sub)

    return EventSourceResponse(
        stream(), ping=state.settings.sse_ping_s, headers={"Cache-Control": "no-store"}
    )


def _still_valid(db: Any, token: str) -> bool:
    with db.engine.connect() as conn:
        return resolve_token(conn, token=token) is not None


def _bounds(db: Any) -> tuple[int | None, int]:
    with db.read() as session:
        return oldest_event_id(session), last_event_id(session)


def _page(db: Any, after: int) -> list[EventRecord]:
    with db.read() as session:
        return load_events(session, after=after, limit=REPLAY_PAGE)
