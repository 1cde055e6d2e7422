"""Monthly figures of the camera program for the transparency report and page (issue 14).

Counts only: no query here selects a name, e-mail, address, reason or case number, so
nothing personal can reach the report. Rows are bucketed into months of the agency's time
zone in Python (portable between SQLite and PostgreSQL; a year is a few hundred thousand
timestamps at most).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rtcc_console.store.schema import (
    AuditEventRow,
    CameraRow,
    CaseExportRow,
    EmergencyRow,
    FootageRequestRow,
    LiveGrantRow,
    MisuseFlagRow,
    RequestItemRow,
)

EXPORT_ACTIONS = ("audit.export", "registry.export")


@dataclass(slots=True)
class MonthFigures:
    month: str  # "2026-11"
    cameras_registered: int = 0  # at the end of the month (request-only tier)
    cameras_integrated: int = 0
    cameras_new: int = 0
    cameras_revoked: int = 0
    footage_requests: int = 0  # requests made by the agency
    owners_asked: int = 0  # request items sent to owners
    answered_footage: int = 0
    answered_no_footage: int = 0
    declined: int = 0
    expired: int = 0
    live_views: int = 0
    live_view_hours: float = 0.0
    emergencies: int = 0
    panic_presses: int = 0
    exports: int = 0
    flags_raised: int = 0
    flags_acknowledged: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def month_starts(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """The first instant of every month overlapping [start, end), in ``zone``."""
    local = start.astimezone(zone)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = []
    while first < end:
        out.append(first)
        first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


class _Buckets:
    def __init__(self, starts: list[datetime], end: datetime) -> None:
        self.starts = starts
        self.end = end

    def index(self, when: datetime | None) -> int | None:
        if when is None or when < self.starts[0] or when >= self.end:
            return None
        i = len(self.starts) - 1
        while self.starts[i] > when:
            i -= 1
        return i

    def month_end(self, i: int) -> datetime:
        return self.starts[i + 1] if i + 1 < len(self.starts) else self.end


def monthly_figures(
    session: Session, *, start: datetime, end: datetime, time_zone: str, now: datetime
) -> list[MonthFigures]:
    """Figures per month of [start, end) in the agency's time zone."""
    zone = ZoneInfo(time_zone)
    starts = month_starts(start, end, zone)
    if not starts:
        return []
    b = _Buckets(starts, end)
    months = [MonthFigures(month=s.strftime("%Y-%m")) for s in starts]

    def count(whens: Iterable[datetime | None], attr: str) -> None:
        for when in whens:
            i = b.index(when)
            if i is not None:
                setattr(months[i], attr, getattr(months[i], attr) + 1)

    cams = session.execute(
        select(
            CameraRow.tier,
            CameraRow.created_at,
            CameraRow.updated_at,
            CameraRow.revoked,
            CameraRow.deleted,
        ).where(CameraRow.created_at < end)
    ).all()
    for tier, created, updated, revoked, deleted in cams:
        gone_at = updated if (revoked or deleted) else None
        i = b.index(created)
        if i is not None:
            months[i].cameras_new += 1
        j = b.index(gone_at)
        if j is not None:
            months[j].cameras_revoked += 1
        for k, m in enumerate(months):
            m_end = b.month_end(k)
            if created < m_end and (gone_at is None or gone_at >= m_end):
                if tier == "integrated":
                    m.cameras_integrated += 1
                else:
                    m.cameras_registered += 1

    count(
        session.scalars(
            select(FootageRequestRow.created_at).where(
                FootageRequestRow.created_at >= start, FootageRequestRow.created_at < end
            )
        ),
        "footage_requests",
    )
    count(
        session.scalars(
            select(RequestItemRow.sent_at).where(
                RequestItemRow.sent_at >= start, RequestItemRow.sent_at < end
            )
        ),
        "owners_asked",
    )
    answered = session.execute(
        select(RequestItemRow.state, RequestItemRow.answered_at, RequestItemRow.due_at).where(
            RequestItemRow.state.in_(("uploaded", "no_footage", "declined", "expired")),
            or_(RequestItemRow.answered_at >= start, RequestItemRow.due_at >= start),
        )
    ).all()
    attr_of = {
        "uploaded": "answered_footage",
        "no_footage": "answered_no_footage",
        "declined": "declined",
        "expired": "expired",
    }
    for state, answered_at, due_at in answered:
        count([answered_at or due_at], attr_of[state])

    grants = session.execute(
        select(LiveGrantRow.issued_at, LiveGrantRow.expires_at, LiveGrantRow.ended_at).where(
            LiveGrantRow.issued_at >= start, LiveGrantRow.issued_at < end
        )
    ).all()
    for issued, expires, ended in grants:
        i = b.index(issued)
        if i is not None:
            months[i].live_views += 1
            stop = ended or min(expires, now)
            months[i].live_view_hours += max(0.0, (stop - issued).total_seconds()) / 3600

    emergencies = session.execute(
        select(EmergencyRow.started_at, EmergencyRow.reason).where(
            EmergencyRow.started_at >= start, EmergencyRow.started_at < end
        )
    ).all()
    for started, reason in emergencies:
        count([started], "emergencies")
        if (reason or "").startswith("Panic ("):  # server.portal.panic names its emergencies so
            count([started], "panic_presses")

    count(
        session.scalars(
            select(CaseExportRow.created_at).where(
                CaseExportRow.created_at >= start, CaseExportRow.created_at < end
            )
        ),
        "exports",
    )
    count(
        session.scalars(
            select(AuditEventRow.at).where(
                AuditEventRow.action.in_(EXPORT_ACTIONS),
                AuditEventRow.at >= start,
                AuditEventRow.at < end,
            )
        ),
        "exports",
    )
    flags = session.execute(
        select(MisuseFlagRow.first_at, MisuseFlagRow.ack_at).where(
            MisuseFlagRow.first_at >= start, MisuseFlagRow.first_at < end
        )
    ).all()
    for first_at, ack_at in flags:
        count([first_at], "flags_raised")
        if ack_at is not None:
            count([first_at], "flags_acknowledged")
    for m in months:
        m.live_view_hours = round(m.live_view_hours, 1)
    return months


def registry_now(session: Session) -> dict[str, int]:
    """Cameras in the registry today by tier (not revoked, not deleted)."""
    rows = session.execute(
        select(CameraRow.tier, func.count())
        .where(CameraRow.revoked.is_(False), CameraRow.deleted.is_(False))
        .group_by(CameraRow.tier)
    ).all()
    return {str(tier): int(n) for tier, n in rows}
