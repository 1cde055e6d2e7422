"""Emergency repository: declared / panic-button emergencies and which are active now.

An emergency opens ``live_in_emergency`` cameras for live view while it is active. The
server's ``emergencies`` module adds the audit entries, events and grant re-checks.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.core.models import Emergency, utcnow
from rtcc_console.store.schema import CameraRow, EmergencyRow, OwnerRow


@dataclass(frozen=True, slots=True)
class EmergencyRecord:
    """A stored emergency; ``ends_at`` is the planned end, ``ended_at`` the actual one;
    ``panic`` the structured details of a panic-button emergency (None: declared, or a row
    from before revision 0111)."""

    id: str
    owner_id: str | None
    camera_ids: tuple[str, ...]
    started_at: datetime
    ends_at: datetime | None
    ended_at: datetime | None
    reason: str
    created_by: str | None
    panic: Mapping[str, Any] | None = None

    def domain(self) -> Emergency:
        """The core record; an explicitly ended emergency ends at ``ended_at``."""
        ends = self.ends_at
        if self.ended_at is not None and (ends is None or self.ended_at < ends):
            ends = self.ended_at
        return Emergency(
            id=self.id,
            owner_id=self.owner_id,
            camera_ids=frozenset(self.camera_ids),
            started_at=self.started_at,
            ends_at=ends,
            reason=self.reason,
        )

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.domain().active(now)


def new_emergency_id() -> str:
    return "emg-" + secrets.token_hex(6)


def _record(row: EmergencyRow) -> EmergencyRecord:
    return EmergencyRecord(
        id=row.id,
        owner_id=row.owner_id,
        camera_ids=tuple(row.camera_ids or ()),
        started_at=row.started_at,
        ends_at=row.ends_at,
        ended_at=row.ended_at,
        reason=row.reason or "",
        created_by=row.created_by,
        panic=dict(row.panic) if isinstance(row.panic, dict) else None,
    )


def active_emergencies(session: Session, *, now: datetime | None = None) -> list[Emergency]:
    """Emergencies in force at ``now`` (started, not ended, not past their end)."""
    now = now or utcnow()
    rows = session.scalars(
        select(EmergencyRow).where(
            EmergencyRow.ended_at.is_(None),
            EmergencyRow.started_at <= now,
            (EmergencyRow.ends_at.is_(None)) | (EmergencyRow.ends_at > now),
        )
    ).all()
    return [_record(r).domain() for r in rows]


def list_emergencies(
    session: Session, *, active_only: bool, now: datetime | None = None
) -> list[EmergencyRecord]:
    """Newest first; ``active_only``: not ended and not past their end."""
    now = now or utcnow()
    stmt = select(EmergencyRow)
    if active_only:
        stmt = stmt.where(
            EmergencyRow.ended_at.is_(None),
            (EmergencyRow.ends_at.is_(None)) | (EmergencyRow.ends_at > now),
        )
    return [
        _record(r) for r in session.scalars(stmt.order_by(EmergencyRow.started_at.desc())).all()
    ]


def unknown_scope(
    session: Session, *, owner_id: str | None, camera_ids: Sequence[str]
) -> tuple[bool, list[str]]:
    """(owner unknown, camera ids that name no live camera) for a new emergency."""
    owner_unknown = bool(owner_id) and session.get(OwnerRow, owner_id) is None
    missing: list[str] = []
    if camera_ids:
        known = set(
            session.scalars(
                select(CameraRow.id).where(
                    CameraRow.id.in_(camera_ids), CameraRow.deleted.is_(False)
                )
            ).all()
        )
        missing = sorted(set(camera_ids) - known)
    return owner_unknown, missing


def insert_emergency(
    session: Session,
    *,
    owner_id: str | None,
    camera_ids: Sequence[str],
    reason: str,
    duration_s: int | None,
    created_by: str | None,
    panic: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> EmergencyRecord:
    now = now or utcnow()
    row = EmergencyRow(
        id=new_emergency_id(),
        owner_id=owner_id,
        camera_ids=sorted(set(camera_ids)),
        started_at=now,
        ends_at=now + timedelta(seconds=duration_s) if duration_s else None,
        reason=reason,
        created_by=created_by,
    )
    if panic is not None:  # else SQL NULL (not JSON "null"), as rows from before 0111
        row.panic = dict(panic)
    session.add(row)
    session.flush()
    return _record(row)


def get_emergency(session: Session, *, emergency_id: str) -> EmergencyRecord | None:
    """The current state (re-read from the database, not the session's cache)."""
    row = session.get(EmergencyRow, emergency_id, populate_existing=True)
    return _record(row) if row is not None else None


def mark_ended(
    session: Session, *, emergency_id: str, now: datetime | None = None
) -> EmergencyRecord:
    """End it at ``now`` (or at its planned end, if that came first); idempotent."""
    now = now or utcnow()
    row = session.get(EmergencyRow, emergency_id, populate_existing=True)
    if row is None:
        raise KeyError(emergency_id)
    if row.ended_at is None:
        row.ended_at = min(now, row.ends_at) if row.ends_at else now
    session.flush()
    return _record(row)


def due_emergencies(
    session: Session, *, now: datetime, limit: int | None = None
) -> list[EmergencyRecord]:
    """Emergencies past their planned end and not yet marked ended (housekeeping)."""
    stmt = select(EmergencyRow).where(
        EmergencyRow.ended_at.is_(None),
        EmergencyRow.ends_at.is_not(None),
        EmergencyRow.ends_at <= now,
    )
    return [_record(r) for r in session.scalars(stmt.limit(limit)).all()]
