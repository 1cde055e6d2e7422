"""Audit trail queries (supervisor): JSON pages and a CSV export (itself audited)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from rtcc_console.server.audit import AuditFilter, append_audit, audit_query, public_row
from rtcc_console.server.deps import RequireSupervisor, StateDep, actor_of

router = APIRouter(tags=["audit"])
CSV_MAX_ROWS = 100_000
CSV_COLUMNS = ("id", "at", "user", "role", "action", "targets", "reason", "outcome", "client_addr", "hash")


def audit_filter(
    user: str | None = None,
    action: str | None = None,
    camera: str | None = None,
    call: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditFilter:
    """The shared query filters of /audit and /audit.csv."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"{name}: a time zone offset is required")
    return AuditFilter(user=user, action=action, camera=camera, call=call, since=since, until=until)




FilterDep = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("/audit")
def list_audit(
    supervisor: RequireSupervisor,
    state: StateDep,
    flt: FilterDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Audit rows, newest first, filtered by user/action/camera/call/time range."""
    stmt = audit_query(flt)
    with state.db.read() as session:
        total = int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
        rows = session.scalars(stmt.limit(limit).offset(offset)).all()
        items = [public_row(r) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/audit.csv", response_class=Response)
def export_audit_csv(supervisor: RequireSupervisor, state: StateDep, flt: FilterDep) -> Response:
    """The filtered trail as CSV (at most 100,000 rows); the export is audited first."""
    described = {k: v for k, v in dataclasses.asdict(flt).items() if v is not None}
    with state.db.write() as session:
        append_audit(session, actor=actor_of(supervisor), action="audit.export",
                     reason=json.dumps(described, default=str, sort_keys=True))  # fmt: skip
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    with state.db.read() as session:
        for row in session.scalars(audit_query(flt).limit(CSV_MAX_ROWS)):
            item = public_row(row)
            item["targets"] = json.dumps(item["targets"], sort_keys=True)
            writer.writerow([_cell(item[c]) for c in CSV_COLUMNS])
    return Response(
        buf.getvalue(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rtcc-audit.csv"'},
    )  # fmt: skip


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) in free-text cells."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
