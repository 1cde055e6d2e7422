"""Officer accounts as an analyst picks them (issue 16): display names and unit ids.

A unit id is a CAD call sign (``1A23``) an officer account answers to; one unit may map to
two officers (a two-person car) and one officer may carry several units. The rules (what
a unit id looks like, who may set them) live in ``server.field_shares``; this module stores.
Nothing here reads e-mails, hashes or second-factor secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import OfficerUnitRow, UserRow

OFFICER_ROLE = "officer"


@dataclass(frozen=True, slots=True)
class OfficerRecord:
    username: str
    display_name: str | None
    unit_ids: tuple[str, ...]
    disabled: bool


def set_units(session: Session, *, username: str, unit_ids: Sequence[str]) -> tuple[str, ...]:
    """Replace the account's unit ids (already normalised); returns them sorted."""
    wanted = sorted(set(unit_ids))
    session.execute(delete(OfficerUnitRow).where(OfficerUnitRow.username == username))
    session.add_all(OfficerUnitRow(username=username, unit_id=u) for u in wanted)
    session.flush()
    return tuple(wanted)


def set_display_name(session: Session, *, username: str, display_name: str | None) -> bool:
    """False when there is no such account."""
    row = session.get(UserRow, username)
    if row is None:
        return False
    row.display_name = display_name
    session.flush()
    return True


def units_of(session: Session, *, usernames: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``username -> unit ids`` (sorted) for those of ``usernames`` that carry any."""
    if not usernames:
        return {}
    rows = session.execute(
        select(OfficerUnitRow.username, OfficerUnitRow.unit_id)
        .where(OfficerUnitRow.username.in_(list(usernames)))
        .order_by(OfficerUnitRow.username, OfficerUnitRow.unit_id)
    )
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r.username, []).append(r.unit_id)
    return {k: tuple(v) for k, v in out.items()}


def list_officers(session: Session, *, include_disabled: bool = False) -> list[OfficerRecord]:
    """Every officer account with its display name and unit ids, by username."""
    stmt = select(UserRow.username, UserRow.display_name, UserRow.disabled).where(
        UserRow.role == OFFICER_ROLE
    )
    if not include_disabled:
        stmt = stmt.where(UserRow.disabled.is_(False))
    rows = list(session.execute(stmt.order_by(UserRow.username)))
    units = units_of(session, usernames=[r.username for r in rows])
    return [
        OfficerRecord(r.username, r.display_name, units.get(r.username, ()), bool(r.disabled))
        for r in rows
    ]


def officers_of_units(session: Session, *, unit_ids: Sequence[str]) -> dict[str, list[str]]:
    """``unit id -> active officer usernames`` answering to it (units with none are absent)."""
    if not unit_ids:
        return {}
    rows = session.execute(
        select(OfficerUnitRow.unit_id, OfficerUnitRow.username)
        .join(UserRow, UserRow.username == OfficerUnitRow.username)
        .where(
            OfficerUnitRow.unit_id.in_(list(unit_ids)),
            UserRow.role == OFFICER_ROLE,
            UserRow.disabled.is_(False),
        )
        .order_by(OfficerUnitRow.unit_id, OfficerUnitRow.username)
    )
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r.unit_id, []).append(r.username)
    return out
