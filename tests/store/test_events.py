"""The event log the server's SSE stream replays from, on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from rtcc_console.store import events

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_events_append_since_prune(db_session: Session) -> None:
    assert events.last_event_id(db_session) == 0 and events.oldest_event_id(db_session) is None
    ids = [
        events.append_event(
            db_session, type="call.created", payload={"i": i}, at=T0 + timedelta(hours=i)
        )
        for i in range(5)
    ]
    db_session.commit()
    assert ids == sorted(ids) and len(set(ids)) == 5
    got = events.events_after(db_session, after=ids[1], limit=2)
    assert (
        [e.id for e in got] == ids[2:4]
        and got[0].payload == {"i": 2}
        and got[0].type == "call.created"
    )
    assert [e.id for e in events.events_after(db_session, after=ids[0], upto=ids[2])] == ids[1:3]
    assert events.last_event_id(db_session) == ids[-1]
    removed = events.prune_events(db_session, before=T0 + timedelta(hours=2))
    db_session.commit()
    assert removed == 2
    assert [e.id for e in events.events_after(db_session, after=0)] == ids[2:]
    assert events.oldest_event_id(db_session) == ids[2]
    with pytest.raises(ValueError):
        events.append_event(db_session, type="", payload={})
    with pytest.raises(ValueError):
        events.append_event(db_session, type="x", payload=[1])  # type: ignore[arg-type]


def test_prune_keeps_the_newest_event_so_ids_never_restart(db_session: Session) -> None:
    first = events.append_event(db_session, type="call.created", payload={}, at=T0)
    second = events.append_event(db_session, type="call.updated", payload={}, at=T0)
    db_session.commit()
    assert events.prune_events(db_session, before=T0 + timedelta(days=1)) == 1
    db_session.commit()
    assert events.oldest_event_id(db_session) == events.last_event_id(db_session) == second
    assert events.append_event(db_session, type="call.updated", payload={}) > second > first
