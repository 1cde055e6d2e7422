"""store.footage_requests and store.outbox on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
from rtcc_console.core.request_items import OwnerPick, TransitionError, link_token
from rtcc_console.store import footage_requests as fr
from rtcc_console.store import outbox
from rtcc_console.store.bulk import bulk_insert_cameras, bulk_insert_owners

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
SECRET = b"s" * 32


def _seed(session: Session, n: int = 3) -> list[OwnerPick]:
    bulk_insert_owners(
        session,
        owners=[
            Owner(
                id=f"own-{i}",
                name=f"Owner {i}",
                kind=CameraKind.BUSINESS,
                email=f"o{i}@example.org" if i else None,
            )
            for i in range(n)
        ],
    )
    bulk_insert_cameras(
        session,
        cameras=[
            Camera(
                id=f"cam-{i}",
                name=f"Cam {i}",
                tier=Tier.REGISTERED,
                location=GeoPoint(32.78 + i * 1e-4, -96.8),
                kind=CameraKind.BUSINESS,
                sharing_mode=SharingMode.REQUEST_ONLY,
                owner_id=f"own-{i}",
            )
            for i in range(n)
        ],
    )
    return [OwnerPick(f"own-{i}", "business", (f"cam-{i}",)) for i in range(n)]


def _new(
    rid: str, case: str, start: datetime, hours: float = 1.0, by: str = "ana"
) -> fr.NewRequest:
    return fr.NewRequest(
        id=rid,
        case_number=case,
        offence_category="",
        call_id=None,
        area={"kind": "circle", "center": {"lat": 32.78, "lon": -96.8}, "radius_m": 100},
        area_m2=31400.0,
        window_start=start,
        window_end=start + timedelta(hours=hours),
        message="m",
        created_by=by,
        client_key=f"k-{rid}",
        override_reason=None,
        excluded={"opted_out": 0},
    )


def test_create_dedup_tokens_and_uploads(db_session: Session) -> None:
    picks = _seed(db_session)
    made = fr.create_request(
        db_session,
        request=_new("freq-1", "C1", T0),
        owners=picks,
        secret=SECRET,
        link_ttl=timedelta(days=10),
        dedup_within=timedelta(hours=24),
        now=T0,
    )
    assert len(made.new_item_ids) == 3 and made.merged_item_ids == []
    # a later overlapping request for two of the owners shares their items; a disjoint one does not
    shared = fr.create_request(
        db_session,
        request=_new("freq-2", "C2", T0 + timedelta(minutes=30), by="ann"),
        owners=picks[:2],
        secret=SECRET,
        link_ttl=timedelta(days=10),
        dedup_within=timedelta(hours=24),
        now=T0 + timedelta(hours=1),
    )
    assert shared.new_item_ids == [] and sorted(shared.merged_item_ids) == sorted(
        made.new_item_ids[:2]
    )
    apart = fr.create_request(
        db_session,
        request=_new("freq-3", "C3", T0 + timedelta(hours=5)),
        owners=picks[:1],
        secret=SECRET,
        link_ttl=timedelta(days=10),
        dedup_within=timedelta(hours=24),
        now=T0 + timedelta(hours=1),
    )
    assert len(apart.new_item_ids) == 1
    late = fr.create_request(
        db_session,
        request=_new("freq-4", "C4", T0),
        owners=picks[2:],
        secret=SECRET,
        link_ttl=timedelta(days=10),
        dedup_within=timedelta(hours=24),
        now=T0 + timedelta(hours=30),
    )
    assert len(late.new_item_ids) == 1  # the first item is older than the de-duplication time
    db_session.commit()

    view = fr.get_request(db_session, request_id="freq-1")
    assert view is not None and len(view.items) == 3 and view.counts()["queued"] == 3
    shared_items = [i for i in view.items if len(i.request_ids) == 2]
    assert len(shared_items) == 2 and all(
        i.window_end == T0 + timedelta(hours=1, minutes=30) for i in shared_items
    )
    views, total = fr.list_requests(db_session, created_by="ana")
    assert total == 3 and [v.id for v in views][-1] == "freq-1"
    assert fr.list_requests(db_session, case_number="C2")[1] == 1
    assert fr.count_requests_for_case(db_session, case_number="C1") == 1
    assert fr.find_by_client_key(db_session, created_by="ann", client_key="k-freq-2") == "freq-2"

    item = shared_items[0]
    with db_session.no_autoflush:
        nonce = db_session.get(fr.RequestItemRow, item.id).link_nonce  # type: ignore[union-attr]
    token = link_token(SECRET, item.id, nonce)
    linked = fr.resolve_link_token(db_session, token=token, now=T0 + timedelta(hours=2))
    assert linked is not None and linked.item_id == item.id and linked.can_upload
    assert set(linked.case_numbers) == {"C1", "C2"} and set(linked.request_ids) == {
        "freq-1",
        "freq-2",
    }
    assert (
        fr.resolve_link_token(db_session, token=token[:-1] + ("A" if token[-1] != "A" else "B"))
        is None
    )
    assert fr.resolve_link_token(db_session, token="short") is None
    assert (
        fr.resolve_link_token(db_session, token=token, now=T0 + timedelta(days=11)).refusal
        == "expired"
    )  # type: ignore[union-attr]

    up = fr.record_upload(db_session, item_id=item.id, evidence_id="ev-1")
    up = fr.record_upload(db_session, item_id=item.id, evidence_id="ev-2")
    assert up.state == "uploaded" and up.files == 2 and up.answered_at is not None
    with pytest.raises(TransitionError):
        fr.set_item_state(db_session, item_id=item.id, state="declined")
    other = next(i for i in view.items if i.id != item.id)
    fr.set_item_state(db_session, item_id=other.id, state="sent", now=T0)
    fr.set_item_state(db_session, item_id=other.id, state="declined")
    with pytest.raises(TransitionError):
        fr.record_upload(db_session, item_id=other.id, evidence_id="ev-3")
    db_session.commit()


def test_outbox_claim_lease_mark_and_reminders(db_session: Session) -> None:
    picks = _seed(db_session)
    made = fr.create_request(
        db_session,
        request=_new("freq-1", "C1", T0),
        owners=picks,
        secret=SECRET,
        link_ttl=timedelta(days=10),
        dedup_within=timedelta(0),
        now=T0,
    )
    entries = [
        outbox.OutboxEntry(i, "initial", f"item:{i}:initial", f"<{i}@x>") for i in made.new_item_ids
    ]
    assert outbox.enqueue(db_session, entries=entries, now=T0, skip_existing=False) == 3
    assert outbox.enqueue(db_session, entries=entries, now=T0) == 0  # idempotent by key
    db_session.commit()
    jobs = outbox.claim(db_session, limit=2, lease=timedelta(minutes=5), now=T0)
    db_session.commit()
    assert len(jobs) == 2 and all(j.attempts == 1 for j in jobs)
    rest = outbox.claim(db_session, limit=10, lease=timedelta(minutes=5), now=T0)
    assert len(rest) == 1
    outbox.mark_sent(db_session, outbox_id=jobs[0].id, now=T0)
    outbox.mark_failed(
        db_session, outbox_id=rest[0].id, error="421 busy", retry_at=T0 + timedelta(minutes=1)
    )
    db_session.commit()
    # jobs[1] was claimed but never marked (the sender died): it comes back when its lease ends
    assert outbox.claim(
        db_session, limit=10, lease=timedelta(minutes=5), now=T0 + timedelta(minutes=2)
    ) == [
        outbox.OutboxJob(
            rest[0].id, rest[0].item_id, "initial", rest[0].idem_key, rest[0].message_id, 2
        )
    ]
    again = outbox.claim(
        db_session, limit=10, lease=timedelta(minutes=5), now=T0 + timedelta(minutes=6)
    )
    assert [j.id for j in again] == [jobs[1].id] and again[0].message_id == jobs[1].message_id
    db_session.commit()
    assert outbox.counts(db_session) == {"sent": 1, "sending": 2}
    ctx = outbox.mail_contexts(db_session, item_ids=made.new_item_ids)
    assert {c.to_addr for c in ctx.values()} == {None, "o1@example.org", "o2@example.org"}
    assert all(c.case_numbers == ("C1",) and len(c.cameras) == 1 for c in ctx.values())

    for i in made.new_item_ids:
        fr.set_item_state(db_session, item_id=i, state="sent", now=T0)
    fr.set_reminders_opt_out(db_session, item_id=made.new_item_ids[0], opt_out=True)
    offsets = [timedelta(hours=24), timedelta(hours=72)]
    assert fr.items_due_reminder(db_session, now=T0 + timedelta(hours=23), offsets=offsets) == []
    due = fr.items_due_reminder(db_session, now=T0 + timedelta(hours=25), offsets=offsets)
    assert sorted(due) == sorted((i, 1) for i in made.new_item_ids[1:])
    for i, n in due:
        fr.note_reminder_enqueued(db_session, item_id=i, number=n)
    assert fr.items_due_reminder(db_session, now=T0 + timedelta(hours=30), offsets=offsets) == []
    assert (
        len(fr.items_due_reminder(db_session, now=T0 + timedelta(hours=73), offsets=offsets)) == 2
    )
    expired = fr.expire_due_items(db_session, now=T0 + timedelta(days=10, seconds=1))
    assert sorted(expired) == sorted(made.new_item_ids)
    db_session.commit()
