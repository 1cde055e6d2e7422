"""Reading the audit trail for people: filtered keyset pages, counts, streamed batches,
chain verification jobs, and the raised misuse flags (issue 14).

Pages are keyset-paged on ``id`` (newest first): ``before_id`` walks to older entries,
``after_id`` back towards newer ones; no OFFSET, so the millionth entry costs what the first
does. The camera / call / case filters read a JSON key through :func:`target_expr`, whose
SQL matches the expression indexes of migration 0106 character for character (SQLite and
PostgreSQL only use an expression index for the identical expression).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    cast,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from rtcc_console.store.schema import (
    AuditEventRow,
    AuditVerifyJobRow,
    CallRow,
    CameraRow,
    MisuseFlagRow,
)

TARGET_KEYS = ("camera", "call", "case")


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of the audit viewer (all combined with AND; None = any)."""

    user: str | None = None
    action: str | None = None  # exact, or a prefix when it ends with "."
    camera: str | None = None
    call: str | None = None
    case: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None

    def described(self) -> dict[str, str]:
        """The filters that are set, as text (for the audit row of a viewing or export)."""
        out: dict[str, str] = {}
        for name in ("user", "action", "camera", "call", "case", "since", "until", "text"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out


def target_expr(session: Session, key: str) -> ColumnElement[Any]:
    """``targets[key]`` as text, spelled exactly like the 0106 expression index."""
    if key not in TARGET_KEYS:
        raise ValueError(f"no index on target {key!r}")
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(f"(audit_events.targets ->> '{key}')")
    return func.json_extract(AuditEventRow.targets, literal_column(f"'$.{key}'"))


def _filtered(session: Session, query: AuditQuery) -> Select[AuditEventRow]:
    stmt = select(AuditEventRow)
    if query.user:
        stmt = stmt.where(AuditEventRow.username == query.user)
    if query.action:
        if query.action.endswith("."):
            stmt = stmt.where(AuditEventRow.action.startswith(query.action, autoescape=True))
        else:
            stmt = stmt.where(AuditEventRow.action == query.action)
    for key in TARGET_KEYS:
        value = getattr(query, key)
        if value:
            stmt = stmt.where(target_expr(session, key) == value)
    if query.since:
        stmt = stmt.where(AuditEventRow.at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEventRow.at < query.until)
    if query.text:
        stmt = stmt.where(
            or_(
                AuditEventRow.username.icontains(query.text, autoescape=True),
                AuditEventRow.action.icontains(query.text, autoescape=True),
                AuditEventRow.reason.icontains(query.text, autoescape=True),
                cast(AuditEventRow.targets, String).icontains(query.text, autoescape=True),
            )
        )
    return stmt


def page(
    session: Session,
    *,
    query: AuditQuery,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> tuple[list[AuditEventRow], bool]:
    """One page, newest first, and whether more entries lie in the direction of travel."""
    stmt = _filtered(session, query)
    if after_id is not None:
        rows = list(
            session.scalars(
                stmt.where(AuditEventRow.id > after_id)
                .order_by(AuditEventRow.id.asc())
                .limit(limit + 1)
            )
        )
        more = len(rows) > limit
        return list(reversed(rows[:limit])), more
    if before_id is not None:
        stmt = stmt.where(AuditEventRow.id < before_id)
    rows = list(session.scalars(stmt.order_by(AuditEventRow.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def count(session: Session, *, query: AuditQuery) -> int:
    """How many entries match (a full count: the viewer asks for it separately)."""
    sub = _filtered(session, query).with_only_columns(AuditEventRow.id).subquery()
    return int(session.scalar(select(func.count()).select_from(sub)) or 0)


def batches(
    session_factory: Any, *, query: AuditQuery, batch: int = 2000, max_rows: int | None = None
) -> Iterator[Sequence[AuditEventRow]]:
    """Matching entries newest first in keyset batches, each read in its own short session.

    ``session_factory`` is a context manager factory (``Database.read``); rows are detached
    plain objects, safe to use after their session closed.
    """
    before: int | None = None
    sent = 0
    while max_rows is None or sent < max_rows:
        size = batch if max_rows is None else min(batch, max_rows - sent)
        with session_factory() as session:
            rows, more = page(session, query=query, before_id=before, limit=size)
            session.expunge_all()
        if rows:
            yield rows
            sent += len(rows)
            before = rows[-1].id
        if not more or not rows:
            return


def head_id(session: Session) -> int:
    """The newest entry's id (0 when the trail is empty)."""
    return int(session.scalar(select(func.max(AuditEventRow.id))) or 0)


def entries_between(
    session: Session, *, since: datetime, until: datetime, limit: int
) -> list[AuditEventRow]:
    """Staff and service entries in a time range, oldest first (input of the misuse scan)."""
    stmt = (
        select(AuditEventRow)
        .where(AuditEventRow.at >= since, AuditEventRow.at < until)
        .order_by(AuditEventRow.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def entries_by_ids(session: Session, *, ids: Sequence[int]) -> dict[int, AuditEventRow]:
    if not ids:
        return {}
    rows = session.scalars(select(AuditEventRow).where(AuditEventRow.id.in_(list(ids))))
    return {r.id: r for r in rows}


# --- verification jobs ----------------------------------------------------------------------


def running_verify_job(session: Session) -> AuditVerifyJobRow | None:
    return session.scalars(
        select(AuditVerifyJobRow)
        .where(AuditVerifyJobRow.status == "running")
        .order_by(AuditVerifyJobRow.started_at.desc())
        .limit(1)
    ).first()


def create_verify_job(
    session: Session, *, job_id: str, started_by: str, started_at: datetime, total: int
) -> AuditVerifyJobRow:
    row = AuditVerifyJobRow(
        id=job_id,
        status="running",
        started_by=started_by,
        started_at=started_at,
        checked=0,
        total=total,
    )
    session.add(row)
    session.flush()
    return row


def get_verify_job(session: Session, *, job_id: str) -> AuditVerifyJobRow | None:
    return session.get(AuditVerifyJobRow, job_id)


def set_verify_progress(session: Session, *, job_id: str, checked: int) -> None:
    session.execute(
        update(AuditVerifyJobRow).where(AuditVerifyJobRow.id == job_id).values(checked=checked)
    )


def finish_verify_job(
    session: Session,
    *,
    job_id: str,
    status: str,
    checked: int,
    finished_at: datetime,
    broken_id: int | None = None,
    problem: str | None = None,
) -> None:
    session.execute(
        update(AuditVerifyJobRow)
        .where(AuditVerifyJobRow.id == job_id)
        .values(
            status=status,
            checked=checked,
            finished_at=finished_at,
            broken_id=broken_id,
            problem=problem,
        )
    )


# --- misuse flags -----------------------------------------------------------------------------


def store_new_flags(
    session: Session, *, flags: Sequence[dict[str, Any]], raised_at: datetime
) -> int:
    """Insert the flags whose id is not stored yet (ids are stable); returns how many were new."""
    if not flags:
        return 0
    known = set(
        session.scalars(
            select(MisuseFlagRow.id).where(MisuseFlagRow.id.in_([f["id"] for f in flags]))
        )
    )
    new = [f for f in flags if f["id"] not in known]
    for f in new:
        session.add(
            MisuseFlagRow(
                id=f["id"],
                kind=f["kind"],
                username=f["username"],
                first_at=f["first_at"],
                last_at=f["last_at"],
                entry_ids=list(f["entry_ids"]),
                explanation=f["explanation"],
                raised_at=raised_at,
            )
        )
    session.flush()
    return len(new)


def flags_between(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    kind: str | None = None,
    acknowledged: bool | None = None,
) -> list[MisuseFlagRow]:
    stmt = select(MisuseFlagRow).where(
        MisuseFlagRow.first_at >= since, MisuseFlagRow.first_at < until
    )
    if kind:
        stmt = stmt.where(MisuseFlagRow.kind == kind)
    if acknowledged is True:
        stmt = stmt.where(MisuseFlagRow.ack_at.is_not(None))
    elif acknowledged is False:
        stmt = stmt.where(MisuseFlagRow.ack_at.is_(None))
    return list(session.scalars(stmt.order_by(MisuseFlagRow.first_at.desc(), MisuseFlagRow.id)))


def get_flag(session: Session, *, flag_id: str) -> MisuseFlagRow | None:
    return session.get(MisuseFlagRow, flag_id)


def acknowledge_flag(session: Session, *, flag_id: str, by: str, at: datetime, note: str) -> bool:
    """Mark a flag acknowledged; False when it already was (or does not exist)."""
    result = session.execute(
        update(MisuseFlagRow)
        .where(MisuseFlagRow.id == flag_id, MisuseFlagRow.ack_at.is_(None))
        .values(ack_by=by, ack_at=at, ack_note=note)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- inputs of the misuse scan ------------------------------------------------------------------


def calls_open_between(
    session: Session, *, since: datetime, until: datetime
) -> list[tuple[str, float, float, datetime, datetime | None]]:
    """(id, lat, lon, opened_at, closed_at) of located calls open at some time in [since, until).

    A closed call's closing time is its last update (the CAD message that closed it).
    """
    rows = session.execute(
        select(
            CallRow.id,
            CallRow.lat,
            CallRow.lon,
            CallRow.reported_at,
            CallRow.updated_at,
            CallRow.status,
        ).where(
            CallRow.reported_at < until,
            CallRow.lat.is_not(None),
            CallRow.lon.is_not(None),
            or_(CallRow.status != "closed", CallRow.updated_at >= since),
        )
    )
    return [
        (
            r.id,
            float(r.lat),
            float(r.lon),
            r.reported_at,
            r.updated_at if r.status == "closed" else None,
        )
        for r in rows
    ]


def camera_positions(session: Session, *, ids: Sequence[str]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        rows = session.execute(
            select(CameraRow.id, CameraRow.lat, CameraRow.lon).where(
                CameraRow.id.in_(unique[start : start + 500])
            )
        )
        out.update({r.id: (float(r.lat), float(r.lon)) for r in rows})
    return out


def reference_page(session: Session, *, field: str, value: str, limit: int = 100) -> int:
    """The plain indexed ``SELECT * ... WHERE <field> = :v ORDER BY id DESC LIMIT n`` that
    ``rtcc bench audit`` compares the API's first page with; returns the rows fetched."""
    from sqlalchemy import text

    column = {"user": "username", "action": "action"}.get(field)
    if column is None:
        column = str(target_expr(session, field).compile(session.get_bind()))
        if (
            session.get_bind().dialect.name != "postgresql"
        ):  # json_extract(audit_events.targets, '$.camera')
            column = f"json_extract(targets, '$.{field}')"
    sql = text(f"SELECT * FROM audit_events WHERE {column} = :v ORDER BY id DESC LIMIT :n")
    return len(session.execute(sql, {"v": value, "n": limit}).all())


def canonical_batches(session: Session, *, batch: int = 5000) -> Iterator[list[AuditEventRow]]:
    """Every entry in id order, in batches (the bench rebuilds their hashed bytes)."""
    after = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.id > after)
                .order_by(AuditEventRow.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield rows
        after = rows[-1].id
        session.expunge_all()
