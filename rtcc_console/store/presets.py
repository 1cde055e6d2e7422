"""Per-user video wall presets (named layouts): each user's own, opaque to the server."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.store.schema import UserPresetRow


class Preset(NamedTuple):
    name: str
    layout: dict[str, Any]
    updated_at: datetime


def _preset(row: UserPresetRow) -> Preset:
    return Preset(row.name, dict(row.layout or {}), row.updated_at)


def list_presets(session: Session, *, username: str) -> list[Preset]:
    """The user's presets by name."""
    rows = session.scalars(
        select(UserPresetRow).where(UserPresetRow.username == username).order_by(UserPresetRow.name)
    ).all()
    return [_preset(r) for r in rows]


def get_preset(session: Session, *, username: str, name: str) -> Preset | None:
    row = session.get(UserPresetRow, (username, name))
    return _preset(row) if row is not None else None


def save_preset(
    session: Session,
    *,
    username: str,
    name: str,
    layout: dict[str, Any],
    now: datetime | None = None,
) -> Preset:
    """Create or replace the user's preset ``name``."""
    row = session.get(UserPresetRow, (username, name))
    if row is None:
        row = UserPresetRow(username=username, name=name)
        session.add(row)
    row.layout = layout
    row.updated_at = now or utcnow()
    session.flush()
    return _preset(row)


def delete_preset(session: Session, *, username: str, name: str) -> bool:
    """Delete it; False when the user has no such preset."""
    row = session.get(UserPresetRow, (username, name))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
