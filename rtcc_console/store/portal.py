"""Owner portal repository: accounts, sessions, e-mailed links, receipts, site keys.

Tokens (session cookies, e-mailed links) are never stored: only their SHA-256, computed by
the caller. A link is consumed by one conditional UPDATE, so two clicks on the same link
cannot both succeed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.schema import (
    CameraRow,
    FootageRequestRow,
    LiveGrantRow,
    OwnerRow,
    PanicSeenRow,
    PortalAccountRow,
    PortalLinkRow,
    PortalSessionRow,
    RequestItemLinkRow,
    RequestItemRow,
    SiteKeyRow,
)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    owner_id: str
    email: str
    password_hash: str | None
    verified: bool
    failed_logins: int
    locked_until: datetime | None
    owner_name: str
    owner_kind: str


@dataclass(frozen=True, slots=True)
class LiveViewReceipt:
    camera_id: str
    camera_name: str
    started_at: datetime
    ended_at: datetime | None
    planned_end: datetime
    reason: str
    emergency_id: str | None


@dataclass(frozen=True, slots=True)
class RequestReceipt:
    item_id: str
    case_numbers: tuple[str, ...]
    window_start: datetime
    window_end: datetime
    state: str
    created_at: datetime
    camera_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SiteKey:
    id: str
    owner_id: str
    nonce: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _account(row: PortalAccountRow, owner: OwnerRow) -> Account:
    return Account(
        id=row.id,
        owner_id=row.owner_id,
        email=row.email,
        password_hash=row.password_hash,
        verified=row.verified_at is not None,
        failed_logins=row.failed_logins or 0,
        locked_until=row.locked_until,
        owner_name=owner.name,
        owner_kind=owner.kind,
    )


def _one(session: Session, *where: object) -> Account | None:
    found = session.execute(
        select(PortalAccountRow, OwnerRow)
        .join(OwnerRow, OwnerRow.id == PortalAccountRow.owner_id)
        .where(*where)  # type: ignore[arg-type]
    ).first()
    return _account(found[0], found[1]) if found is not None else None


def account_by_email(session: Session, *, email: str) -> Account | None:
    return _one(session, PortalAccountRow.email == normalize_email(email))


def get_account(session: Session, *, account_id: str) -> Account | None:
    return _one(session, PortalAccountRow.id == account_id)


def create_account(
    session: Session,
    *,
    name: str,
    kind: str,
    email: str,
    password_hash: str | None,
    now: datetime | None = None,
) -> Account | None:
    """A new owner and its account; None when the e-mail is taken (nothing is written)."""
    now = now or utcnow()
    email = normalize_email(email)
    if (
        session.scalar(select(PortalAccountRow.id).where(PortalAccountRow.email == email))
        is not None
    ):
        return None
    owner = OwnerRow(
        id="own-" + secrets.token_hex(6),
        name=name.strip(),
        kind=kind,
        email=email,
        phone=None,
        accepts_requests=True,
        created_at=now,
    )
    account = PortalAccountRow(
        id="pa-" + secrets.token_hex(8),
        owner_id=owner.id,
        email=email,
        password_hash=password_hash,
        failed_logins=0,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(owner)
            session.flush()
            session.add(account)
            session.flush()
    except IntegrityError:  # a concurrent sign-up with the same e-mail won
        return None
    return _account(account, owner)


def mark_verified(session: Session, *, account_id: str, now: datetime | None = None) -> None:
    session.execute(
        update(PortalAccountRow)
        .where(PortalAccountRow.id == account_id, PortalAccountRow.verified_at.is_(None))
        .values(verified_at=now or utcnow())
    )


def record_failure(
    session: Session,
    *,
    account_id: str,
    threshold: int,
    lockout_s: int,
    now: datetime | None = None,
) -> datetime | None:
    """Count a wrong password; returns the lock's end when this failure locked the account."""
    now = now or utcnow()
    row = session.get(PortalAccountRow, account_id, populate_existing=True)
    if row is None:
        return None
    row.failed_logins = (row.failed_logins or 0) + 1
    if row.failed_logins >= threshold:
        row.locked_until = now + timedelta(seconds=lockout_s)
        row.failed_logins = 0
    session.flush()
    return row.locked_until if row.failed_logins == 0 else None


def record_success(
    session: Session, *, account_id: str, now: datetime | None = None, new_hash: str | None = None
) -> None:
    values: dict[str, object] = {
        "failed_logins": 0,
        "locked_until": None,
        "last_login_at": now or utcnow(),
    }
    if new_hash is not None:
        values["password_hash"] = new_hash
    session.execute(
        update(PortalAccountRow).where(PortalAccountRow.id == account_id).values(**values)
    )


def set_password(session: Session, *, account_id: str, password_hash: str) -> None:
    session.execute(
        update(PortalAccountRow)
        .where(PortalAccountRow.id == account_id)
        .values(password_hash=password_hash)
    )


# --- sessions and links -------------------------------------------------------------------


def create_session(
    session: Session, *, account_id: str, token_hash: str, ttl_s: int, now: datetime | None = None
) -> datetime:
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl_s)
    session.add(
        PortalSessionRow(
            token_hash=token_hash, account_id=account_id, created_at=now, expires_at=expires
        )
    )
    session.flush()
    return expires


def session_account(
    session: Session, *, token_hash: str, now: datetime | None = None
) -> Account | None:
    """The account of a live session (not ended, not expired), else None."""
    now = now or utcnow()
    account_id = session.scalar(
        select(PortalSessionRow.account_id).where(
            PortalSessionRow.token_hash == token_hash,
            PortalSessionRow.ended_at.is_(None),
            PortalSessionRow.expires_at > now,
        )
    )
    return get_account(session, account_id=account_id) if account_id else None


def end_session(session: Session, *, token_hash: str, now: datetime | None = None) -> None:
    session.execute(
        update(PortalSessionRow)
        .where(PortalSessionRow.token_hash == token_hash, PortalSessionRow.ended_at.is_(None))
        .values(ended_at=now or utcnow())
    )


def create_link(
    session: Session,
    *,
    account_id: str,
    purpose: str,
    token_hash: str,
    ttl_s: int,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    session.add(
        PortalLinkRow(
            token_hash=token_hash,
            account_id=account_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )
    session.flush()


def consume_link(
    session: Session, *, token_hash: str, purpose: str, now: datetime | None = None
) -> str | None:
    """Use a link once: the account id, or None when unknown, used, expired or of another purpose."""
    now = now or utcnow()
    account_id = session.scalar(
        select(PortalLinkRow.account_id).where(
            PortalLinkRow.token_hash == token_hash, PortalLinkRow.purpose == purpose
        )
    )
    if account_id is None:
        return None
    done = session.execute(
        update(PortalLinkRow)
        .where(
            PortalLinkRow.token_hash == token_hash,
            PortalLinkRow.used_at.is_(None),
            PortalLinkRow.expires_at > now,
        )
        .values(used_at=now)
    )
    return account_id if done.rowcount == 1 else None  # type: ignore[attr-defined]


def prune(session: Session, *, now: datetime | None = None, seen_older_than_s: int = 3600) -> None:
    """Drop expired sessions and links and old panic signatures (housekeeping)."""
    now = now or utcnow()
    session.execute(
        delete(PortalSessionRow).where(PortalSessionRow.expires_at < now - timedelta(days=1))
    )
    session.execute(delete(PortalLinkRow).where(PortalLinkRow.expires_at < now - timedelta(days=1)))
    session.execute(
        delete(PanicSeenRow).where(
            PanicSeenRow.seen_at < now - timedelta(seconds=seen_older_than_s)
        )
    )


# --- the owner's cameras and receipts --------------------------------------------------------


def owner_camera_ids(session: Session, *, owner_id: str) -> list[str]:
    return list(
        session.scalars(
            select(CameraRow.id)
            .where(CameraRow.owner_id == owner_id, CameraRow.deleted.is_(False))
            .order_by(CameraRow.id)
        )
    )


def owner_cameras(session: Session, *, owner_id: str) -> list[CameraRow]:
    return list(
        session.scalars(
            select(CameraRow)
            .where(CameraRow.owner_id == owner_id, CameraRow.deleted.is_(False))
            .order_by(CameraRow.created_at)
        )
    )


def live_view_receipts(
    session: Session, *, owner_id: str, limit: int, offset: int
) -> tuple[list[LiveViewReceipt], int]:
    """Every live view of the owner's cameras, newest first (no staff names)."""
    where = (CameraRow.owner_id == owner_id,)
    total = (
        session.scalar(
            select(func.count())
            .select_from(LiveGrantRow)
            .join(CameraRow, CameraRow.id == LiveGrantRow.camera_id)
            .where(*where)
        )
        or 0
    )
    rows = session.execute(
        select(LiveGrantRow, CameraRow.name)
        .join(CameraRow, CameraRow.id == LiveGrantRow.camera_id)
        .where(*where)
        .order_by(LiveGrantRow.issued_at.desc(), LiveGrantRow.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [
        LiveViewReceipt(
            camera_id=g.camera_id,
            camera_name=name,
            started_at=g.issued_at,
            ended_at=g.ended_at,
            planned_end=g.expires_at,
            reason=g.reason,
            emergency_id=g.emergency_id,
        )
        for g, name in rows
    ], int(total)


def request_receipts(
    session: Session, *, owner_id: str, limit: int, offset: int
) -> tuple[list[RequestReceipt], int]:
    """Every footage request item sent to the owner, newest first, with its case numbers."""
    total = (
        session.scalar(
            select(func.count())
            .select_from(RequestItemRow)
            .where(RequestItemRow.owner_id == owner_id)
        )
        or 0
    )
    items = list(
        session.scalars(
            select(RequestItemRow)
            .where(RequestItemRow.owner_id == owner_id)
            .order_by(RequestItemRow.created_at.desc(), RequestItemRow.id)
            .limit(limit)
            .offset(offset)
        )
    )
    cases: dict[str, list[str]] = {}
    if items:
        for item_id, case in session.execute(
            select(RequestItemLinkRow.item_id, FootageRequestRow.case_number)
            .join(FootageRequestRow, FootageRequestRow.id == RequestItemLinkRow.request_id)
            .where(RequestItemLinkRow.item_id.in_([i.id for i in items]))
        ):
            if case:
                cases.setdefault(item_id, []).append(case)
    return [
        RequestReceipt(
            item_id=i.id,
            case_numbers=tuple(sorted(set(cases.get(i.id, [])))),
            window_start=i.window_start,
            window_end=i.window_end,
            state=i.state,
            created_at=i.created_at,
            camera_ids=tuple(i.camera_ids or ()),
        )
        for i in items
    ], int(total)


# --- alarm panel keys and replay protection ---------------------------------------------------


def _site_key(row: SiteKeyRow) -> SiteKey:
    return SiteKey(
        id=row.id,
        owner_id=row.owner_id,
        nonce=row.nonce,
        label=row.label or "",
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def create_site_key(
    session: Session, *, owner_id: str, label: str, now: datetime | None = None
) -> SiteKey:
    row = SiteKeyRow(
        id="sk-" + secrets.token_hex(8),
        owner_id=owner_id,
        nonce=secrets.token_hex(16),
        label=label.strip()[:100],
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return _site_key(row)


def get_site_key(session: Session, *, key_id: str) -> SiteKey | None:
    row = session.get(SiteKeyRow, key_id)
    return _site_key(row) if row is not None else None


def list_site_keys(session: Session, *, owner_id: str) -> list[SiteKey]:
    return [
        _site_key(r)
        for r in session.scalars(
            select(SiteKeyRow)
            .where(SiteKeyRow.owner_id == owner_id)
            .order_by(SiteKeyRow.created_at.desc())
        )
    ]


def live_site_keys(session: Session) -> list[SiteKey]:
    """Every key not revoked (the SIA DC-09 receiver's accounts)."""
    return [
        _site_key(r)
        for r in session.scalars(select(SiteKeyRow).where(SiteKeyRow.revoked_at.is_(None)))
    ]


def revoke_site_key(
    session: Session, *, owner_id: str, key_id: str, now: datetime | None = None
) -> bool:
    done = session.execute(
        update(SiteKeyRow)
        .where(
            SiteKeyRow.id == key_id,
            SiteKeyRow.owner_id == owner_id,
            SiteKeyRow.revoked_at.is_(None),
        )
        .values(revoked_at=now or utcnow())
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def remember_signature(
    session: Session, *, signature: str, key_id: str, now: datetime | None = None
) -> bool:
    """Record an accepted signature; False when it was seen before (a replay)."""
    try:
        with session.begin_nested():
            session.add(PanicSeenRow(signature=signature, key_id=key_id, seen_at=now or utcnow()))
            session.flush()
    except IntegrityError:
        return False
    return True
