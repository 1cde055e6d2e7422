"""The shares a signed-in officer sees on the field page's list (issue 16).

An officer who signs in with their account (``routes/field_auth.py``) sees their open
shares, newest first, each with its call. The server ends the ones that ran out or whose
call closed (``server.field_shares.share_problem``); this module only reads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import CallRow, EmergencyRow, FieldShareRow


def open_shares_with_calls(
    session: Session, *, officer: str, now: datetime, limit: int = 50
) -> list[tuple[FieldShareRow, CallRow | None, EmergencyRow | None]]:
    """The officer's shares not ended and not past ``expires_at``, newest first, each with
    its call or its emergency (a closed call's or ended emergency's shares are included:
    the caller ends them, audited)."""
    stmt = (
        select(FieldShareRow, CallRow, EmergencyRow)
        .outerjoin(CallRow, CallRow.id == FieldShareRow.call_id)
        .outerjoin(EmergencyRow, EmergencyRow.id == FieldShareRow.emergency_id)
        .where(
            FieldShareRow.officer == officer,
            FieldShareRow.ended_at.is_(None),
            FieldShareRow.expires_at > now,
        )
        .order_by(FieldShareRow.created_at.desc(), FieldShareRow.id.desc())
        .limit(limit)
    )
    return [(share, call, emergency) for share, call, emergency in session.execute(stmt)]
