"""Vehicle index repository: queue with leases, sightings (five labels only), search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from rtcc_console.store import vehicles
from rtcc_console.store.schema import EvidenceItemRow

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _item(session: Any, i: int, *, call_id: str | None = "call-1") -> str:
    row = EvidenceItemRow(
        id=f"ev-{i:04d}",
        sha256=f"{i:064x}",
        size_bytes=1000,
        media_type="video/mp4",
        filename=f"c{i}.mp4",
        stored_path=f"objects/{i}",
        received_at=T0 + timedelta(minutes=i),
        call_id=call_id,
    )
    session.add(row)
    session.flush()
    return row.id


def _sighting(
    label: str = "truck", score: float = 0.6, colour: str = "white"
) -> vehicles.NewSighting:
    return vehicles.NewSighting(
        label, colour, 1.0, 4.0, score, 2.0, (0.1, 0.2, 0.5, 0.6), b"\xff\xd8jpeg"
    )


STATS = vehicles.ClipStats(model="yolov3-tiny:dccea06f", duration_s=10.0, sampled=20, model_runs=5)


def test_queue_claim_progress_finish(db_session: Any) -> None:
    a, b = _item(db_session, 1), _item(db_session, 2)
    assert vehicles.unindexed_ids(db_session) == [a, b]
    assert vehicles.pending_count(db_session) == 2
    first = vehicles.claim_next(db_session, worker="w1", lease_s=60, now=T0)
    second = vehicles.claim_next(db_session, worker="w1", lease_s=60, now=T0)
    assert first is not None and second is not None and (first.id, second.id) == (a, b)
    assert vehicles.claim_next(db_session, worker="w1", lease_s=60, now=T0) is None
    assert vehicles.renew(db_session, evidence_id=a, worker="w1", progress=0.5, lease_s=60)
    assert not vehicles.renew(db_session, evidence_id=a, worker="other", progress=0.9, lease_s=60)
    assert vehicles.get_job(db_session, evidence_id=a).progress == 0.5  # type: ignore[union-attr]
    vehicles.finish(
        db_session,
        evidence_id=a,
        sightings=[_sighting(), _sighting("car", 0.8, "red")],
        stats=STATS,
    )
    vehicles.fail(db_session, evidence_id=b, error="not a decodable video")
    db_session.commit()
    job = vehicles.get_job(db_session, evidence_id=a)
    assert job is not None and (job.status, job.progress, job.model_runs) == ("done", 1.0, 5)
    assert [s.label for s in vehicles.sightings_of(db_session, evidence_id=a)] == ["truck", "car"]
    assert vehicles.get_job(db_session, evidence_id=b).status == "failed"  # type: ignore[union-attr]
    assert vehicles.status_counts(db_session, evidence_ids=[a, b, "ev-none"]) == {
        "pending": 1,
        "running": 0,
        "done": 1,
        "failed": 1,
        "skipped": 0,
    }
    # a second run replaces, never duplicates
    vehicles.finish(db_session, evidence_id=a, sightings=[_sighting("bus", 0.4)], stats=STATS)
    assert [s.label for s in vehicles.sightings_of(db_session, evidence_id=a)] == ["bus"]


def test_a_dead_worker_is_retried_once_then_the_clip_is_failed(db_session: Any) -> None:
    a = _item(db_session, 1)
    assert vehicles.claim_next(db_session, worker="w1", lease_s=30, now=T0) is not None
    assert (
        vehicles.release_stale(db_session, now=T0 + timedelta(seconds=10)) == []
    )  # lease still good
    assert vehicles.release_stale(db_session, now=T0 + timedelta(seconds=31)) == []
    assert vehicles.get_job(db_session, evidence_id=a).status == "pending"  # type: ignore[union-attr]
    again = vehicles.claim_next(db_session, worker="w2", lease_s=30, now=T0 + timedelta(seconds=40))
    assert again is not None and again.id == a
    assert vehicles.release_stale(db_session, now=T0 + timedelta(seconds=80)) == [a]
    job = vehicles.get_job(db_session, evidence_id=a)
    assert job is not None and job.status == "failed" and "2 times" in (job.error or "")
    assert (
        vehicles.claim_next(db_session, worker="w3", lease_s=30, now=T0 + timedelta(seconds=90))
        is None
    )


@pytest.mark.parametrize("label", ["person", "face", "dog", ""])
def test_only_vehicle_labels_can_be_stored(db_session: Any, label: str) -> None:
    a = _item(db_session, 1)
    with pytest.raises(ValueError, match="only vehicle labels"):
        vehicles.finish(db_session, evidence_id=a, sightings=[_sighting(label)], stats=STATS)


def test_the_database_refuses_other_labels_too(db_session: Any) -> None:
    a = _item(db_session, 1)
    db_session.commit()
    with pytest.raises(IntegrityError):
        db_session.execute(
            text(
                "INSERT INTO vehicle_sightings (evidence_id, label, colour, start_s, end_s, best_score, "
                "best_time_s, x1, y1, x2, y2) VALUES (:e, 'person', 'white', 0, 1, 0.9, 0.5, 0, 0, 1, 1)"
            ),
            {"e": a},
        )
        db_session.flush()
    db_session.rollback()


def test_bad_sightings_are_refused(db_session: Any) -> None:
    a = _item(db_session, 1)
    bad = [
        vehicles.NewSighting("car", "mauve", 0, 1, 0.5, 0.5, (0, 0, 1, 1)),
        vehicles.NewSighting("car", "red", 2, 1, 0.5, 1.5, (0, 0, 1, 1)),
        vehicles.NewSighting("car", "red", 0, 1, 0.5, 0.5, (0.5, 0, 0.2, 1)),
    ]
    for s in bad:
        with pytest.raises(ValueError):
            vehicles.finish(db_session, evidence_id=a, sightings=[s], stats=STATS)


def test_search_filters_and_orders_by_best_score(db_session: Any) -> None:
    a, b, c = _item(db_session, 1), _item(db_session, 2), _item(db_session, 3, call_id="call-2")
    vehicles.finish(
        db_session,
        evidence_id=a,
        sightings=[_sighting("truck", 0.5), _sighting("car", 0.9)],
        stats=STATS,
    )
    vehicles.finish(
        db_session, evidence_id=b, sightings=[_sighting("truck", 0.7, "black")], stats=STATS
    )
    vehicles.finish(db_session, evidence_id=c, sightings=[_sighting("truck", 0.99)], stats=STATS)
    db_session.commit()
    hits = vehicles.search(db_session, evidence_ids=[a, b], label="truck")
    assert [(h.item.id, h.sighting.best_score) for h in hits] == [(b, 0.7), (a, 0.5)]
    white = vehicles.search(db_session, evidence_ids=[a, b], label="truck", colour="white")
    assert [h.item.id for h in white] == [a]
    assert vehicles.search(db_session, evidence_ids=[], label="truck") == []
    assert len(vehicles.search(db_session, evidence_ids=[a, b, c], min_score=0.8)) == 2


def test_a_stopping_worker_hands_its_item_back(db_session: Any) -> None:
    a = _item(db_session, 1)
    assert vehicles.claim_next(db_session, worker="w1", lease_s=30, now=T0) is not None
    vehicles.release(db_session, evidence_id=a, worker="other")  # not its job: no effect
    assert vehicles.get_job(db_session, evidence_id=a).status == "running"  # type: ignore[union-attr]
    vehicles.release(db_session, evidence_id=a, worker="w1")
    job = vehicles.get_job(db_session, evidence_id=a)
    assert job is not None and (job.status, job.attempts, job.worker) == ("pending", 0, None)


def test_queue_state_counts_items_without_a_row_as_pending(db_session: Any) -> None:
    a, _b, c = _item(db_session, 1), _item(db_session, 2), _item(db_session, 3)
    vehicles.claim_next(db_session, worker="w1", lease_s=30, now=T0)  # a running
    vehicles.fail(db_session, evidence_id=c, error="x", status="skipped")
    counts, running = vehicles.queue_state(db_session)
    assert counts == {"pending": 1, "running": 1, "done": 0, "failed": 0, "skipped": 1}
    assert [j.evidence_id for j in running] == [a]
    assert vehicles.pending_count(db_session) == 1
