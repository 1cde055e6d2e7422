"""Vehicle index repository: per-item index jobs and the sightings they found (issue 17).

An evidence item with no ``vehicle_index_jobs`` row is pending. The indexing worker claims
items with a lease (``running``, ``lease_until``); a worker that dies leaves an expired lease
that :func:`release_stale` turns back into ``pending`` - or into ``failed`` once an item has
crashed a worker twice, so one bad clip never stops the queue. Sightings carry one of five
vehicle labels and nothing else (checked here and by a CHECK constraint).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.schema import EvidenceItemRow, VehicleIndexJobRow, VehicleSightingRow

LABELS = ("bicycle", "car", "motorcycle", "bus", "truck")
COLOURS = ("white", "black", "grey", "silver", "red", "blue", "green", "yellow", "brown")
MAX_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class NewSighting:
    label: str
    colour: str
    start_s: float
    end_s: float
    best_score: float
    best_time_s: float
    box: tuple[float, float, float, float]
    thumbnail: bytes | None = None


@dataclass(frozen=True, slots=True)
class ClipStats:
    model: str
    duration_s: float
    sampled: int
    model_runs: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    sighting: VehicleSightingRow
    item: EvidenceItemRow


# --- the queue -------------------------------------------------------------------------------


def unindexed_ids(session: Session, *, limit: int = 50) -> list[str]:
    """Evidence items no worker has looked at yet, oldest first."""
    stmt = (
        select(EvidenceItemRow.id)
        .outerjoin(VehicleIndexJobRow, VehicleIndexJobRow.evidence_id == EvidenceItemRow.id)
        .where(VehicleIndexJobRow.evidence_id.is_(None))
        .order_by(EvidenceItemRow.received_at, EvidenceItemRow.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _no_row_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(EvidenceItemRow)
            .outerjoin(VehicleIndexJobRow, VehicleIndexJobRow.evidence_id == EvidenceItemRow.id)
            .where(VehicleIndexJobRow.evidence_id.is_(None))
        )
        or 0
    )


def pending_count(session: Session) -> int:
    """Items waiting for the worker (no row yet, or a pending row)."""
    no_row = _no_row_count(session)
    pending = session.scalar(
        select(func.count())
        .select_from(VehicleIndexJobRow)
        .where(VehicleIndexJobRow.status == "pending")
    )
    return no_row + int(pending or 0)


def claim_next(
    session: Session, *, worker: str, lease_s: float, now: datetime | None = None
) -> EvidenceItemRow | None:
    """Claim one item for ``worker`` (``running`` with a lease); ``None`` when idle.

    Call inside a write transaction (``store.db.begin_write``); a concurrent claimer that
    inserted the same job first makes this one move on to the next item."""
    now = now or utcnow()
    lease = now + timedelta(seconds=lease_s)
    pending = session.scalars(
        select(VehicleIndexJobRow)
        .where(VehicleIndexJobRow.status == "pending")
        .order_by(VehicleIndexJobRow.queued_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if pending is not None:
        pending.status, pending.worker, pending.lease_until = "running", worker, lease
        pending.attempts += 1
        pending.started_at, pending.progress = now, 0.0
        session.flush()
        return session.get(EvidenceItemRow, pending.evidence_id)
    for evidence_id in unindexed_ids(session, limit=5):
        try:
            with session.begin_nested():
                session.add(
                    VehicleIndexJobRow(
                        evidence_id=evidence_id,
                        status="running",
                        progress=0.0,
                        attempts=1,
                        worker=worker,
                        lease_until=lease,
                        model="",
                        duration_s=0.0,
                        sampled=0,
                        model_runs=0,
                        queued_at=now,
                        started_at=now,
                    )
                )
        except IntegrityError:
            continue
        return session.get(EvidenceItemRow, evidence_id)
    return None


def renew(
    session: Session,
    *,
    evidence_id: str,
    worker: str,
    progress: float,
    lease_s: float,
    now: datetime | None = None,
) -> bool:
    """Record progress and extend the lease; ``False`` when the job is no longer ours."""
    job = session.get(VehicleIndexJobRow, evidence_id)
    if job is None or job.status != "running" or job.worker != worker:
        return False
    job.progress = max(0.0, min(1.0, progress))
    job.lease_until = (now or utcnow()) + timedelta(seconds=lease_s)
    session.flush()
    return True


def finish(
    session: Session,
    *,
    evidence_id: str,
    sightings: Sequence[NewSighting],
    stats: ClipStats,
    now: datetime | None = None,
) -> None:
    """Store the clip's sightings (replacing any earlier ones) and mark the job done."""
    for s in sightings:
        validate_sighting(s)
    job = _job(session, evidence_id, now)
    session.execute(delete(VehicleSightingRow).where(VehicleSightingRow.evidence_id == evidence_id))
    for s in sightings:
        x1, y1, x2, y2 = s.box
        session.add(
            VehicleSightingRow(
                evidence_id=evidence_id,
                label=s.label,
                colour=s.colour,
                start_s=s.start_s,
                end_s=s.end_s,
                best_score=s.best_score,
                best_time_s=s.best_time_s,
                x1=x1,
                y1=y1,
                x2=x2,
                y2=y2,
                thumbnail=s.thumbnail,
            )
        )
    job.status, job.progress, job.error = "done", 1.0, None
    job.model, job.duration_s, job.sampled, job.model_runs = (
        stats.model,
        stats.duration_s,
        stats.sampled,
        stats.model_runs,
    )
    job.finished_at, job.lease_until, job.worker = now or utcnow(), None, None
    session.flush()


def fail(
    session: Session,
    *,
    evidence_id: str,
    error: str,
    status: str = "failed",
    now: datetime | None = None,
) -> None:
    """Mark the item ``failed`` (or ``skipped``: not a video) with a short reason."""
    if status not in ("failed", "skipped"):
        raise ValueError(f"status must be failed or skipped, not {status!r}")
    job = _job(session, evidence_id, now)
    job.status, job.error = status, error[:2000]
    job.finished_at, job.lease_until, job.worker = now or utcnow(), None, None
    session.flush()


def release(session: Session, *, evidence_id: str, worker: str) -> None:
    """``worker`` gives its unfinished item back (pending again, the attempt not counted)."""
    job = session.get(VehicleIndexJobRow, evidence_id)
    if job is not None and job.status == "running" and job.worker == worker:
        job.status, job.worker, job.lease_until, job.progress = "pending", None, None, 0.0
        job.attempts = max(0, job.attempts - 1)
        session.flush()


def release_stale(
    session: Session, *, now: datetime | None = None, max_attempts: int = MAX_ATTEMPTS
) -> list[str]:
    """Running jobs whose lease ran out (their worker died): retry, or fail after
    ``max_attempts`` crashes. Returns the ids that were failed."""
    now = now or utcnow()
    failed: list[str] = []
    stale = session.scalars(
        select(VehicleIndexJobRow).where(
            VehicleIndexJobRow.status == "running", VehicleIndexJobRow.lease_until < now
        )
    ).all()
    for job in stale:
        job.worker, job.lease_until = None, None
        if job.attempts >= max_attempts:
            job.status, job.finished_at = "failed", now
            job.error = f"the indexing worker stopped on this clip {job.attempts} times"
            failed.append(job.evidence_id)
        else:
            job.status = "pending"
    session.flush()
    return failed


def stale_running(session: Session, *, now: datetime | None = None) -> list[str]:
    """Running jobs whose lease ran out (their worker is gone)."""
    return list(
        session.scalars(
            select(VehicleIndexJobRow.evidence_id).where(
                VehicleIndexJobRow.status == "running",
                VehicleIndexJobRow.lease_until < (now or utcnow()),
            )
        )
    )


def requeue(session: Session, *, evidence_id: str) -> None:
    """Index the item again (e.g. after a model change)."""
    session.execute(delete(VehicleSightingRow).where(VehicleSightingRow.evidence_id == evidence_id))
    session.execute(delete(VehicleIndexJobRow).where(VehicleIndexJobRow.evidence_id == evidence_id))


def _job(session: Session, evidence_id: str, now: datetime | None) -> VehicleIndexJobRow:
    job = session.get(VehicleIndexJobRow, evidence_id)
    if job is None:
        job = VehicleIndexJobRow(
            evidence_id=evidence_id,
            status="running",
            progress=0.0,
            attempts=1,
            model="",
            duration_s=0.0,
            sampled=0,
            model_runs=0,
            queued_at=now or utcnow(),
        )
        session.add(job)
    return job


def validate_sighting(s: NewSighting) -> None:
    if s.label not in LABELS:
        raise ValueError(f"only vehicle labels are stored, not {s.label!r}")
    if s.colour not in COLOURS:
        raise ValueError(f"unknown colour name {s.colour!r}")
    if not (0.0 <= s.start_s <= s.best_time_s <= s.end_s):
        raise ValueError("sighting times out of order")
    x1, y1, x2, y2 = s.box
    if not (0.0 <= x1 <= x2 <= 1.0 and 0.0 <= y1 <= y2 <= 1.0):
        raise ValueError("box must be fractions of the frame")


# --- reading ----------------------------------------------------------------------------------


def get_job(session: Session, *, evidence_id: str) -> VehicleIndexJobRow | None:
    return session.get(VehicleIndexJobRow, evidence_id)


def jobs_for(session: Session, *, evidence_ids: Iterable[str]) -> dict[str, VehicleIndexJobRow]:
    ids = list(evidence_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(VehicleIndexJobRow).where(VehicleIndexJobRow.evidence_id.in_(ids))
    )
    return {r.evidence_id: r for r in rows}


def sightings_of(session: Session, *, evidence_id: str) -> list[VehicleSightingRow]:
    return list(
        session.scalars(
            select(VehicleSightingRow)
            .where(VehicleSightingRow.evidence_id == evidence_id)
            .order_by(VehicleSightingRow.start_s, VehicleSightingRow.id)
        )
    )


def get_sighting(
    session: Session, *, evidence_id: str, sighting_id: int
) -> VehicleSightingRow | None:
    row = session.get(VehicleSightingRow, sighting_id)
    return row if row is not None and row.evidence_id == evidence_id else None


def search(
    session: Session,
    *,
    evidence_ids: Iterable[str],
    label: str | None = None,
    colour: str | None = None,
    min_score: float = 0.0,
) -> list[SearchHit]:
    """Sightings among ``evidence_ids`` matching the filters, best score first."""
    ids = list(evidence_ids)
    if not ids:
        return []
    stmt = (
        select(VehicleSightingRow, EvidenceItemRow)
        .join(EvidenceItemRow, EvidenceItemRow.id == VehicleSightingRow.evidence_id)
        .where(VehicleSightingRow.evidence_id.in_(ids), VehicleSightingRow.best_score >= min_score)
        .order_by(VehicleSightingRow.best_score.desc(), VehicleSightingRow.id)
    )
    if label is not None:
        stmt = stmt.where(VehicleSightingRow.label == label)
    if colour is not None:
        stmt = stmt.where(VehicleSightingRow.colour == colour)
    return [SearchHit(sighting=s, item=i) for s, i in session.execute(stmt).all()]


def queue_state(session: Session) -> tuple[dict[str, int], list[VehicleIndexJobRow]]:
    """Counts by status over every item (no row = pending) and the running jobs."""
    counts = {"pending": 0, "running": 0, "done": 0, "failed": 0, "skipped": 0}
    for status, n in session.execute(
        select(VehicleIndexJobRow.status, func.count()).group_by(VehicleIndexJobRow.status)
    ).all():
        counts[str(status)] = counts.get(str(status), 0) + int(n)
    counts["pending"] += _no_row_count(session)
    running = list(
        session.scalars(select(VehicleIndexJobRow).where(VehicleIndexJobRow.status == "running"))
    )
    return counts, running


def status_counts(session: Session, *, evidence_ids: Iterable[str]) -> dict[str, int]:
    """How many of ``evidence_ids`` are pending / running / done / failed / skipped."""
    ids = list(evidence_ids)
    counts = {"pending": 0, "running": 0, "done": 0, "failed": 0, "skipped": 0}
    if not ids:
        return counts
    rows = session.execute(
        select(VehicleIndexJobRow.status, func.count())
        .where(VehicleIndexJobRow.evidence_id.in_(ids))
        .group_by(VehicleIndexJobRow.status)
    ).all()
    seen = 0
    for status, n in rows:
        counts[str(status)] = counts.get(str(status), 0) + int(n)
        seen += int(n)
    counts["pending"] += len(ids) - seen
    return counts
