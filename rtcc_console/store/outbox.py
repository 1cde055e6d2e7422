"""The durable e-mail outbox (repository).

Rows are written in the transaction that creates the need (a request's new items, a due
reminder), so a committed request always has its e-mail queued, whatever happens next.
The sender *claims* rows (``sending`` with a lease), sends, and marks each one ``sent`` in
its own short transaction right after the SMTP server accepted it. A row whose lease ran
out while ``sending`` (the process died mid-send) is claimed again and re-sent with the
same Message-ID: at-least-once, with the duplicate window narrowed to the one message that
was on the wire when the process died.

On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so several server processes can
send from one outbox without sending a row twice.

Two kinds of rows share the table and the sender: footage-request mail (``item_id`` set,
``kind`` ``initial | reminder``) and portal mail (``account_id`` set, ``kind`` ``portal``,
with its subject and body; see :func:`enqueue_portal`). A portal row's body and link nonce
are blanked once the row is settled (sent, failed or cancelled).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.bulk import _db_value, _write
from rtcc_console.store.footage_requests import ItemView, item_view
from rtcc_console.store.schema import (
    CameraRow,
    FootageRequestRow,
    MailOutboxRow,
    OwnerRow,
    PortalAccountRow,
    PortalLinkRow,
    RequestItemLinkRow,
    RequestItemRow,
)

_OUTBOX = cast(Table, MailOutboxRow.__table__)
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
PORTAL = "portal"  # the kind of portal rows
_SETTLED = {"body": None, "link_nonce": None}  # what a settled row forgets
_FIELDS = (
    "idem_key",
    "message_id",
    "item_id",
    "kind",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    item_id: str
    kind: str  # initial | reminder
    idem_key: str
    message_id: str


@dataclass(frozen=True, slots=True)
class OutboxJob:
    id: int
    item_id: str | None  # a footage-request row
    kind: str
    idem_key: str
    message_id: str
    attempts: int
    account_id: str | None = None  # a portal row


def enqueue(
    session: Session,
    *,
    entries: Sequence[OutboxEntry],
    now: datetime | None = None,
    skip_existing: bool = True,
) -> int:
    """Queue messages; an ``idem_key`` already queued is skipped. Returns how many were added.

    ``skip_existing=False`` is for keys that cannot exist yet (fresh item ids): one bulk insert.
    """
    now = now or utcnow()
    todo = list({e.idem_key: e for e in entries}.values())
    if skip_existing and todo:
        existing: set[str] = set()
        keys = [e.idem_key for e in todo]
        for i in range(0, len(keys), 500):
            existing.update(
                session.scalars(
                    select(MailOutboxRow.idem_key).where(
                        MailOutboxRow.idem_key.in_(keys[i : i + 500])
                    )
                )
            )
        todo = [e for e in todo if e.idem_key not in existing]
    if todo:  # driver-level bulk insert (COPY on PostgreSQL): a 10,000-owner request in one go
        stamp = _db_value(session, _OUTBOX.c.created_at, now)
        _write(
            session,
            "mail_outbox",
            _FIELDS,
            [(e.idem_key, e.message_id, e.item_id, e.kind, PENDING, 0, stamp, stamp) for e in todo],
        )
    return len(todo)


def claim(
    session: Session, *, limit: int, lease: timedelta, now: datetime | None = None
) -> list[OutboxJob]:
    """Take up to ``limit`` due rows (``sending`` with a lapsed lease first, then pending)."""
    now = now or utcnow()
    postgres = session.get_bind().dialect.name == "postgresql"
    rows: list[MailOutboxRow] = []
    for where in (
        (MailOutboxRow.state == SENDING) & (MailOutboxRow.claimed_until <= now),
        (MailOutboxRow.state == PENDING) & (MailOutboxRow.next_attempt_at <= now),
    ):
        if len(rows) >= limit:
            break
        stmt = (
            select(MailOutboxRow)
            .where(where)
            .order_by(MailOutboxRow.state, MailOutboxRow.id)
            .limit(limit - len(rows))
            .execution_options(populate_existing=True)
        )
        if postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        rows += session.scalars(stmt).all()
    if not rows:
        return []
    jobs = [
        OutboxJob(
            int(r.id),
            r.item_id,
            r.kind,
            r.idem_key,
            r.message_id,
            int(r.attempts) + 1,
            r.account_id,
        )
        for r in rows
    ]
    session.execute(
        update(MailOutboxRow)
        .where(MailOutboxRow.id.in_([j.id for j in jobs]))
        .values(state=SENDING, claimed_until=now + lease, attempts=MailOutboxRow.attempts + 1),
        execution_options={"synchronize_session": False},
    )
    return jobs


def mark_sent(session: Session, *, outbox_id: int, now: datetime | None = None) -> None:
    session.execute(
        update(MailOutboxRow)
        .where(MailOutboxRow.id == outbox_id)
        .values(
            state=SENT, sent_at=now or utcnow(), claimed_until=None, last_error=None, **_SETTLED
        )
    )


def mark_sent_many(
    session: Session, *, outbox_ids: Sequence[int], now: datetime | None = None
) -> None:
    """Mark a group of accepted messages ``sent`` in one statement."""
    if outbox_ids:
        session.execute(
            update(MailOutboxRow)
            .where(MailOutboxRow.id.in_(list(outbox_ids)))
            .values(
                state=SENT, sent_at=now or utcnow(), claimed_until=None, last_error=None, **_SETTLED
            ),
            execution_options={"synchronize_session": False},
        )


def mark_failed(session: Session, *, outbox_id: int, error: str, retry_at: datetime | None) -> None:
    """A failed attempt: retry at ``retry_at``, or give up (``failed``) when None."""
    values: dict[str, Any] = {"last_error": error[:2000], "claimed_until": None}
    if retry_at is None:
        values.update(state=FAILED, **_SETTLED)
    else:
        values.update(state=PENDING, next_attempt_at=retry_at)
    session.execute(update(MailOutboxRow).where(MailOutboxRow.id == outbox_id).values(**values))


def cancel(session: Session, *, outbox_id: int, reason: str) -> None:
    session.execute(
        update(MailOutboxRow)
        .where(MailOutboxRow.id == outbox_id)
        .values(state=CANCELLED, claimed_until=None, last_error=reason[:2000], **_SETTLED)
    )


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(MailOutboxRow.state, func.count()).group_by(MailOutboxRow.state)
    ).all()
    return {str(state): int(n) for state, n in rows}


def next_due_at(session: Session) -> datetime | None:
    """When the next row becomes due (None: nothing waiting)."""
    pending = session.scalar(
        select(func.min(MailOutboxRow.next_attempt_at)).where(MailOutboxRow.state == PENDING)
    )
    leased = session.scalar(
        select(func.min(MailOutboxRow.claimed_until)).where(MailOutboxRow.state == SENDING)
    )
    values = [v for v in (pending, leased) if v is not None]
    return min(values) if values else None


# --- what a message needs ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MailContext:
    """Everything needed to write one owner's e-mail. Holds the address: server-only."""

    item_id: str
    state: str
    to_addr: str | None
    owner_name: str
    link_nonce: str
    window_start: datetime
    window_end: datetime
    due_at: datetime
    cameras: tuple[tuple[str, str], ...]  # (name, address) of this owner's cameras
    case_numbers: tuple[str, ...]
    messages: tuple[str, ...]
    item: ItemView  # the item as read with the claim (for events after sending)


def mail_contexts(session: Session, *, item_ids: Sequence[str]) -> dict[str, MailContext]:
    """Contexts of many items in a few queries."""
    out: dict[str, MailContext] = {}
    ids = list(dict.fromkeys(item_ids))
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        items = session.execute(
            select(RequestItemRow, OwnerRow.email, OwnerRow.name)
            .outerjoin(OwnerRow, OwnerRow.id == RequestItemRow.owner_id)
            .where(RequestItemRow.id.in_(chunk))
        ).all()
        reqs: dict[str, list[tuple[str, str, str]]] = {}
        for item_id, case_number, message, request_id in session.execute(
            select(
                RequestItemLinkRow.item_id,
                FootageRequestRow.case_number,
                FootageRequestRow.message,
                FootageRequestRow.id,
            )
            .join(FootageRequestRow, FootageRequestRow.id == RequestItemLinkRow.request_id)
            .where(RequestItemLinkRow.item_id.in_(chunk))
            .order_by(FootageRequestRow.created_at)
        ):
            reqs.setdefault(item_id, []).append((case_number, message, request_id))
        cam_ids = sorted({c for row in items for c in (row[0].camera_ids or [])})
        cams: dict[str, tuple[str, str]] = {}
        for j in range(0, len(cam_ids), 500):
            for cid, name, address in session.execute(
                select(CameraRow.id, CameraRow.name, CameraRow.address).where(
                    CameraRow.id.in_(cam_ids[j : j + 500])
                )
            ):
                cams[cid] = (name, address or "")
        for item, email, name in items:
            rq = reqs.get(item.id, [])
            out[item.id] = MailContext(
                item_id=item.id,
                state=item.state,
                to_addr=email,
                owner_name=name or "",
                link_nonce=item.link_nonce,
                window_start=item.window_start,
                window_end=item.window_end,
                due_at=item.due_at,
                cameras=tuple(cams[c] for c in (item.camera_ids or []) if c in cams),
                case_numbers=tuple(dict.fromkeys(r[0] for r in rq)),
                messages=tuple(dict.fromkeys(r[1] for r in rq if r[1])),
                item=item_view(item, sorted(r[2] for r in rq)),
            )
    return out


# --- portal mail ------------------------------------------------------------------------


def enqueue_portal(
    session: Session,
    *,
    account_id: str,
    idem_key: str,
    message_id: str,
    subject: str,
    body: str,
    link_nonce: str | None = None,
    link_path: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one portal message to an account; False when ``idem_key`` is already queued."""
    now = now or utcnow()
    if session.scalar(select(MailOutboxRow.id).where(MailOutboxRow.idem_key == idem_key)):
        return False
    row = MailOutboxRow(
        idem_key=idem_key,
        message_id=message_id,
        item_id=None,
        account_id=account_id,
        kind=PORTAL,
        subject=subject,
        body=body,
        link_nonce=link_nonce,
        link_path=link_path,
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:  # another process may queue the same key at the same moment: one of them wins
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class PortalMailContext:
    """One portal message as claimed. Holds the address: server-only."""

    outbox_id: int
    account_id: str
    to_addr: str
    subject: str
    body: str
    link_nonce: str | None
    link_path: str | None


def portal_contexts(session: Session, *, outbox_ids: Sequence[int]) -> dict[int, PortalMailContext]:
    """Portal messages by outbox id, with the account's address read now (rows of deleted
    accounts are gone with them: ON DELETE CASCADE)."""
    out: dict[int, PortalMailContext] = {}
    ids = list(dict.fromkeys(outbox_ids))
    for i in range(0, len(ids), 500):
        for row, email in session.execute(
            select(MailOutboxRow, PortalAccountRow.email)
            .join(PortalAccountRow, PortalAccountRow.id == MailOutboxRow.account_id)
            .where(MailOutboxRow.id.in_(ids[i : i + 500]))
        ):
            out[int(row.id)] = PortalMailContext(
                outbox_id=int(row.id),
                account_id=str(row.account_id),
                to_addr=email,
                subject=row.subject or "",
                body=row.body or "",
                link_nonce=row.link_nonce,
                link_path=row.link_path,
            )
    return out


def usable_links(
    session: Session, *, token_hashes: Sequence[str], now: datetime | None = None
) -> set[str]:
    """Which of these portal links still work (exist, unused, unexpired)."""
    now = now or utcnow()
    if not token_hashes:
        return set()
    return set(
        session.scalars(
            select(PortalLinkRow.token_hash).where(
                PortalLinkRow.token_hash.in_(list(token_hashes)),
                PortalLinkRow.used_at.is_(None),
                PortalLinkRow.expires_at > now,
            )
        )
    )


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once this session's transaction commits (not on rollback)."""
    event.listen(session, "after_commit", lambda _s: callback(), once=True)
