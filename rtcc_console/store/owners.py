"""Owner repository: the residents, businesses, schools and agencies behind cameras."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc_console.core.models import CameraKind, Owner, utcnow
from rtcc_console.store.schema import OwnerRow


class OwnerPage(NamedTuple):
    items: list[Owner]
    total: int


def owner_to_domain(row: OwnerRow) -> Owner:
    return Owner(
        id=row.id,
        name=row.name,
        kind=CameraKind(row.kind),
        email=row.email,
        phone=row.phone,
        accepts_requests=bool(row.accepts_requests),
    )


def save_owner(session: Session, *, owner: Owner) -> tuple[Owner, bool]:
    """Create or replace an owner by id; returns (owner, created). Bad kind -> ValueError."""
    if not owner.id or not owner.name.strip():
        raise ValueError("an owner needs an id and a name")
    kind = CameraKind(owner.kind).value
    row = session.get(OwnerRow, owner.id)
    created = row is None
    if row is None:
        row = OwnerRow(id=owner.id, created_at=utcnow())
        session.add(row)
    row.name, row.kind, row.email, row.phone = owner.name.strip(), kind, owner.email, owner.phone
    row.accepts_requests = bool(owner.accepts_requests)
    session.flush()
    return owner_to_domain(row), created


def get_owner(session: Session, *, owner_id: str) -> Owner | None:
    row = session.get(OwnerRow, owner_id)
    return owner_to_domain(row) if row is not None else None


def list_owners(
    session: Session, *, kind: CameraKind | None = None, limit: int = 100, offset: int = 0
) -> OwnerPage:
    """Owners ordered by id, optionally of one kind, with the total count."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (limit={limit}, offset={offset})")
    where = [OwnerRow.kind == CameraKind(kind).value] if kind is not None else []
    total = session.execute(select(func.count()).select_from(OwnerRow).where(*where)).scalar_one()
    rows = session.execute(
        select(OwnerRow).where(*where).order_by(OwnerRow.id).limit(limit).offset(offset)
    ).scalars()
    return OwnerPage([owner_to_domain(r) for r in rows], int(total))
