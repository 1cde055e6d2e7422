"""The yearly "still there?" question to camera owners, and stale cameras (issue 12).

A camera's cycle, in three columns of ``cameras``:

* ``confirmed_at``: the owner last said the camera is still there (set when the camera is
  registered, by :func:`confirm`, backfilled by migration 0108). NULL: not tracked.
* ``confirm_asked_at``: this cycle's question went out (set once by :func:`claim_due`, so a
  sweep never asks twice); cleared by :func:`confirm`.
* ``stale_since``: the owner did not answer within the grace time (:func:`mark_stale_due`);
  cleared by :func:`confirm`. Stale cameras stay in the registry and on the map, marked.

Becoming stale and being confirmed are registry changes: the row's ``version`` and change
number move (``store.changeseq``), so the sync feed and every server's in-memory registry
see them. Several server processes may sweep at once: :func:`claim_due` claims rows under
the SQLite write lock or ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; :func:`mark_stale_due`
reads its rows again under the camera writers' lock. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.changeseq import next_change_seq
from rtcc_console.store.db import begin_write
from rtcc_console.store.schema import CameraRow, PortalAccountRow, PortalLinkRow

#: ``portal_links.purpose`` of the e-mailed confirmation link.
LINK_PURPOSE = "confirm"


@dataclass(frozen=True, slots=True)
class DueCamera:
    """A camera whose owner is asked this sweep; ``account_id`` is the owner's portal
    account (None: the owner has none, so cannot be e-mailed a portal link)."""

    camera_id: str
    name: str
    address: str
    owner_id: str
    account_id: str | None
    confirmed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Confirmed:
    """What :func:`confirm` did: the new ``confirmed_at`` and whether the camera was stale."""

    camera_id: str
    confirmed_at: datetime
    was_stale: bool


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _open_cycle(now: datetime, interval: timedelta) -> tuple[ColumnElement[bool], ...]:
    return (
        CameraRow.deleted.is_(False),
        CameraRow.revoked.is_(False),
        CameraRow.owner_id.is_not(None),
        CameraRow.confirm_asked_at.is_(None),
        CameraRow.confirmed_at <= now - interval,
    )


def any_due(session: Session, *, now: datetime, interval: timedelta, grace: timedelta) -> bool:
    """Whether a sweep has anything to do (a cheap read before taking the write lock)."""
    asked = session.scalar(select(CameraRow.id).where(*_open_cycle(now, interval)).limit(1))
    return asked is not None or bool(stale_candidates(session, now=now, grace=grace, limit=1))


def claim_due(
    session: Session, *, interval: timedelta, limit: int, now: datetime | None = None
) -> list[DueCamera]:
    """Claim up to ``limit`` cameras not confirmed for ``interval`` and not asked yet this
    cycle: ``confirm_asked_at`` is set to ``now`` in this transaction, so no other sweep
    (another process included) claims them again. Oldest confirmation first."""
    now = now or utcnow()
    begin_write(session)
    stmt = (
        select(CameraRow.id)
        .where(*_open_cycle(now, interval))
        .order_by(CameraRow.confirmed_at, CameraRow.id)
        .limit(limit)
    )
    if _postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(session.scalars(stmt))
    if not ids:
        return []
    # The rows are ours: the SQLite write lock, or FOR UPDATE SKIP LOCKED (a row another
    # sweep holds is skipped; one it committed no longer matches). The UPDATE goes by
    # primary key only: with "confirm_asked_at IS NULL" in it SQLite chose the sweep's index
    # and walked every unasked camera (151 ms at 100,000 cameras instead of 2 ms).
    session.execute(
        update(CameraRow).where(CameraRow.id.in_(ids)).values(confirm_asked_at=now),
        execution_options={"synchronize_session": False},
    )
    rows = session.execute(
        select(CameraRow, PortalAccountRow.id)
        .outerjoin(PortalAccountRow, PortalAccountRow.owner_id == CameraRow.owner_id)
        .where(CameraRow.id.in_(ids))
        .order_by(CameraRow.confirmed_at, CameraRow.id)
    ).all()
    return [
        DueCamera(
            camera_id=row.id,
            name=row.name,
            address=row.address or "",
            owner_id=str(row.owner_id),
            account_id=account_id,
            confirmed_at=row.confirmed_at,
        )
        for row, account_id in rows
    ]


def stale_candidates(
    session: Session, *, grace: timedelta, limit: int, now: datetime | None = None
) -> list[str]:
    """Cameras asked at least ``grace`` ago and still unconfirmed, not yet marked stale."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(CameraRow.id)
            .where(
                CameraRow.deleted.is_(False),
                CameraRow.revoked.is_(False),
                CameraRow.stale_since.is_(None),
                CameraRow.confirm_asked_at <= now - grace,
            )
            .order_by(CameraRow.confirm_asked_at, CameraRow.id)
            .limit(limit)
        )
    )


def mark_stale_due(
    session: Session, *, grace: timedelta, limit: int, now: datetime | None = None
) -> list[CameraRow]:
    """Mark stale the cameras :func:`stale_candidates` finds (up to ``limit``); returns the
    rows marked by this call. The candidates are read again under the camera writers' lock
    (``next_change_seq``), so a camera another process marked or its owner confirmed
    meanwhile is not marked; one UPDATE by primary key writes them all."""
    now = now or utcnow()
    begin_write(session)
    found = len(stale_candidates(session, grace=grace, limit=limit, now=now))
    if not found:
        return []  # the common case: nothing to do, no change number drawn
    first = next_change_seq(session, count=found)  # the camera writers' lock
    ids = stale_candidates(session, grace=grace, limit=found, now=now)
    if ids:
        session.execute(
            update(CameraRow)
            .where(CameraRow.id.in_(ids))
            .values(
                stale_since=now,
                version=CameraRow.version + 1,
                updated_at=now,
                change_seq=case(
                    {camera_id: first + offset for offset, camera_id in enumerate(ids)},
                    value=CameraRow.id,
                ),
            ),
            execution_options={"synchronize_session": False},
        )
    return _rows(session, ids)


def _rows(session: Session, ids: list[str]) -> list[CameraRow]:
    if not ids:
        return []
    return list(
        session.scalars(
            select(CameraRow)
            .where(CameraRow.id.in_(ids))
            .order_by(CameraRow.id)
            .execution_options(populate_existing=True)
        )
    )


def confirm(
    session: Session, *, camera_id: str, owner_id: str | None = None, now: datetime | None = None
) -> Confirmed | None:
    """The owner says the camera is still there: ``confirmed_at = now``, the cycle's question
    and any stale mark cleared. With ``owner_id``, only that owner's camera; None when the
    camera is unknown, deleted or someone else's (nothing is written)."""
    now = now or utcnow()
    begin_write(session)
    seq = next_change_seq(session)
    row = session.get(CameraRow, camera_id, populate_existing=True)
    if row is None or row.deleted or (owner_id is not None and row.owner_id != owner_id):
        return None
    was_stale = row.stale_since is not None
    row.confirmed_at = now
    row.confirm_asked_at = None
    row.stale_since = None
    row.version += 1
    row.updated_at = now
    row.change_seq = seq
    session.flush()
    return Confirmed(camera_id=camera_id, confirmed_at=now, was_stale=was_stale)


def owner_account_id(session: Session, *, owner_id: str) -> str | None:
    """The portal account of an owner (None: the owner has no portal account)."""
    return session.scalar(select(PortalAccountRow.id).where(PortalAccountRow.owner_id == owner_id))


@dataclass(frozen=True, slots=True)
class ConfirmLink:
    """A usable confirmation link: its account, and the sweep time that claimed its cameras
    (the link's ``created_at``, equal to their ``confirm_asked_at``)."""

    account_id: str
    asked_at: datetime


def link_account(
    session: Session, *, token_hash: str, now: datetime | None = None
) -> ConfirmLink | None:
    """The confirmation link that can still be used (unused, unexpired), without using it
    (the page shows a button; the POST consumes the link with ``store.portal.consume_link``)."""
    now = now or utcnow()
    row = session.execute(
        select(PortalLinkRow.account_id, PortalLinkRow.created_at).where(
            PortalLinkRow.token_hash == token_hash,
            PortalLinkRow.purpose == LINK_PURPOSE,
            PortalLinkRow.used_at.is_(None),
            PortalLinkRow.expires_at > now,
        )
    ).first()
    return None if row is None else ConfirmLink(account_id=row[0], asked_at=row[1])


def link_cameras(session: Session, *, owner_id: str, asked_at: datetime) -> list[CameraRow]:
    """The cameras one e-mailed link confirms: the owner's cameras the sweep at ``asked_at``
    asked about and still unanswered (a camera confirmed meanwhile, on My cameras or by an
    edit, or deleted, drops out). A link never confirms a camera it did not list."""
    return list(
        session.scalars(
            select(CameraRow)
            .where(
                CameraRow.owner_id == owner_id,
                CameraRow.deleted.is_(False),
                CameraRow.confirm_asked_at == asked_at,
            )
            .order_by(CameraRow.name, CameraRow.id)
        )
    )


def set_cycle(
    session: Session,
    *,
    camera_id: str,
    confirmed_at: datetime | None,
    confirm_asked_at: datetime | None = None,
) -> None:
    """Set a camera's confirmation columns as they are (tests and the demo's seeded history;
    not a registry change)."""
    session.execute(
        update(CameraRow)
        .where(CameraRow.id == camera_id)
        .values(confirmed_at=confirmed_at, confirm_asked_at=confirm_asked_at)
    )


def seed_stale(
    session: Session,
    *,
    camera_ids: list[str],
    now: datetime | None = None,
    confirmed_age: timedelta = timedelta(days=400),
    asked_age: timedelta = timedelta(days=35),
    stale_age: timedelta = timedelta(days=5),
) -> int:
    """The demo's seeded history: these cameras were last confirmed ``confirmed_age`` ago,
    asked ``asked_age`` ago and went stale ``stale_age`` ago (a fresh load, not a registry
    change: no version or change number moves). Returns the rows written."""
    now = now or utcnow()
    done = 0
    for start in range(0, len(camera_ids), 500):
        result = session.execute(
            update(CameraRow)
            .where(CameraRow.id.in_(camera_ids[start : start + 500]))
            .values(
                confirmed_at=now - confirmed_age,
                confirm_asked_at=now - asked_age,
                stale_since=now - stale_age,
            ),
            execution_options={"synchronize_session": False},
        )
        done += int(result.rowcount)  # type: ignore[attr-defined]
    return done
