"""Call intake (the repository the server's POST /calls runs): idempotent on (incident,
update time), history kept, older updates ignored; listing and analyst corrections."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc_console.core.cad import ParsedCall
from rtcc_console.core.models import CallStatus, GeoPoint
from rtcc_console.store import calls as repo
from rtcc_console.store.cameras import NotFoundError
from rtcc_console.store.schema import CallRow, CallUpdateRow

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def _call(incident: str = "urn:nena:incident:1", *, minutes: int = 0, **over: object) -> ParsedCall:
    fields: dict[str, object] = dict(
        incident_id=incident,
        type_code="BURG",
        type_text="Burglary in progress",
        priority=1,
        status=CallStatus.PENDING,
        reported_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        location=GeoPoint(32.78, -96.80),
        address="1200 Elm St",
        category="burglary",
        source="eido",
    )
    fields.update(over)
    return ParsedCall(**fields)  # type: ignore[arg-type]


def upsert(session: Session, *, call: ParsedCall, raw: object = None) -> repo.CallIngest:
    return repo.ingest_call(session, parsed=call, source=call.source, raw=raw)


def _count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_create_then_duplicate_is_idempotent(db_session: Session) -> None:
    first = upsert(db_session, call=_call(), raw={"n": 1})
    db_session.commit()
    assert (
        first.created
        and first.outcome == "created"
        and re.fullmatch(r"call-[0-9a-f]{16}", first.call.id)
    )
    again = upsert(db_session, call=_call(type_text="changed"), raw={"n": 2})
    db_session.commit()
    assert not again.created and again.outcome == "duplicate"
    assert again.call.id == first.call.id and again.call.type_text == "Burglary in progress"
    assert _count(db_session, CallRow) == 1 and _count(db_session, CallUpdateRow) == 1
    assert first.call.version == again.call.version == 1


def test_later_update_changes_the_call_and_keeps_history(db_session: Session) -> None:
    created = upsert(db_session, call=_call(), raw={"n": 1}).call
    upd = upsert(
        db_session,
        call=_call(minutes=5, status=CallStatus.DISPATCHED, location=None, address=None),
        raw={"n": 2},
    )
    db_session.commit()
    assert upd.outcome == "updated" and upd.call.id == created.id
    got = repo.get_call(db_session, call_id=created.id)
    assert got is not None and got.status is CallStatus.DISPATCHED and got.location is None
    assert got.version == 2
    history = repo.call_history(db_session, call_id=created.id)
    assert [h.body for h in history] == [{"n": 1}, {"n": 2}] and [h.applied for h in history] == [
        True,
        True,
    ]
    assert history[1].call is not None and history[1].call["status"] == "dispatched"


def test_older_update_is_kept_in_history_but_does_not_overwrite(db_session: Session) -> None:
    cid = upsert(
        db_session, call=_call(minutes=10, status=CallStatus.ON_SCENE), raw={"n": 10}
    ).call.id
    stale = upsert(db_session, call=_call(minutes=3, status=CallStatus.DISPATCHED), raw={"n": 3})
    db_session.commit()
    assert stale.outcome == "stale" and not stale.created
    got = repo.get_call(db_session, call_id=cid)
    assert got is not None and got.status is CallStatus.ON_SCENE
    assert got.updated_at == T0 + timedelta(minutes=10)
    history = repo.call_history(db_session, call_id=cid)
    assert [h.body for h in history] == [{"n": 3}, {"n": 10}] and [h.applied for h in history] == [
        False,
        True,
    ]
    assert got.version == 1
    # and the stale message itself is idempotent too
    assert upsert(db_session, call=_call(minutes=3), raw={"n": 3}).outcome == "duplicate"


def test_bad_call_is_refused_and_nothing_is_written(db_session: Session) -> None:
    with pytest.raises(ValueError, match="updated_at"):
        upsert(db_session, call=_call(updated_at=datetime(2026, 1, 1)))
    with pytest.raises(ValueError, match="incident_id"):
        upsert(db_session, call=_call(incident=" "))
    db_session.rollback()
    assert _count(db_session, CallRow) == 0 and _count(db_session, CallUpdateRow) == 0


def test_list_calls_status_time_filters_and_paging(db_session: Session) -> None:
    for i in range(6):
        status = CallStatus.CLOSED if i % 3 == 0 else CallStatus.PENDING
        upsert(
            db_session,
            call=_call(f"inc-{i}", minutes=i, status=status, reported_at=T0 + timedelta(minutes=i)),
        )
    db_session.commit()
    everything = repo.list_calls(db_session, status="all")
    assert everything.total == 6 and [c.incident_id for c in everything.items] == [
        f"inc-{i}" for i in range(5, -1, -1)
    ]
    open_calls = repo.list_calls(db_session, status="open")
    assert {c.incident_id for c in open_calls.items} == {"inc-1", "inc-2", "inc-4", "inc-5"}
    closed = repo.list_calls(db_session, status="closed")
    assert {c.incident_id for c in closed.items} == {"inc-0", "inc-3"}
    window = repo.list_calls(
        db_session, since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)
    )
    assert {c.incident_id for c in window.items} == {"inc-2", "inc-3"}
    page = repo.list_calls(db_session, limit=2, offset=2)
    assert page.total == 6 and [c.incident_id for c in page.items] == ["inc-3", "inc-2"]
    with pytest.raises(ValueError, match="status"):
        repo.list_calls(db_session, status="bogus")  # type: ignore[arg-type]


def test_patch_position_and_status(db_session: Session) -> None:
    cid = upsert(db_session, call=_call(location=None, address="Main & Akard")).call.id
    moved = repo.patch_call(
        db_session,
        call_id=cid,
        changes={"lat": 32.781, "lon": -96.797, "address": "1500 Main St"},
        by="ana",
    )
    db_session.commit()
    assert moved.location == GeoPoint(32.781, -96.797) and moved.address == "1500 Main St"
    for bad in ({"lat": 91.0, "lon": 0.0}, {"lat": 32.0}, {"status": "gone"}, {"priority": 2}):
        with pytest.raises(ValueError):
            repo.patch_call(db_session, call_id=cid, changes=bad, by="ana")
    db_session.rollback()
    got = repo.get_call(db_session, call_id=cid)
    assert got is not None and got.location == GeoPoint(32.781, -96.797)
    assert got.version == 2
    closed = repo.patch_call(db_session, call_id=cid, changes={"status": "closed"}, by="ana")
    assert closed.status is CallStatus.CLOSED and closed.version == 3
    manual = [h for h in repo.call_history(db_session, call_id=cid) if h.source == "manual"]
    assert [h.body for h in manual] == [
        {"lat": 32.781, "lon": -96.797, "address": "1500 Main St"},
        {"status": "closed"},
    ] and all(h.call is None for h in manual)
    with pytest.raises(NotFoundError):
        repo.patch_call(db_session, call_id="call-missing", changes={"status": "closed"}, by="ana")
    # an analyst's edit does not move CAD time: the next CAD update still applies
    assert upsert(db_session, call=_call(minutes=1)).outcome == "updated"


def test_get_by_incident(db_session: Session) -> None:
    cid = upsert(db_session, call=_call("urn:x")).call.id
    db_session.commit()
    got = repo.get_call_by_incident(db_session, incident_id="urn:x")
    assert got is not None and got.id == cid
    assert repo.get_call_by_incident(db_session, incident_id="urn:y") is None


def test_concurrent_messages_for_one_incident(db_url: str) -> None:
    """Four CAD feeds deliver overlapping updates of one incident at once: no error, one
    call, every distinct message in history, and the newest state wins."""
    import threading

    from rtcc_console.store.db import make_engine, make_session_factory

    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    errors: list[Exception] = []
    minutes = [[0, 4, 8, 2], [1, 4, 7, 3], [0, 5, 6, 9], [2, 8, 1, 5]]

    def feed(ms: list[int]) -> None:
        for m in ms:
            try:
                with factory() as s:
                    upsert(s, call=_call(minutes=m, priority=m + 1), raw={"m": m})
                    s.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=feed, args=(ms,)) for ms in minutes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        with factory() as s:
            assert _count(s, CallRow) == 1
            call = repo.get_call_by_incident(s, incident_id="urn:nena:incident:1")
            assert (
                call is not None
                and call.updated_at == T0 + timedelta(minutes=9)
                and call.priority == 10
            )
            history = repo.call_history(s, call_id=call.id)
            assert sorted(h.body["m"] for h in history if h.body) == sorted(
                {m for ms in minutes for m in ms}
            )
    finally:
        engine.dispose()
