"""The audit trail for supervisors: keyset pages, counts, a streamed CSV export, chain
verification jobs and misuse flags (docs/api/supervision.md). Every viewing and export is
itself audited."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from rtcc_console.server import audit_verify
from rtcc_console.server import misuse_scan as misuse_scan
from rtcc_console.server.audit import append_audit, public_row
from rtcc_console.server.deps import RequireSupervisor, StateDep, actor_of
from rtcc_console.server.supervision_schemas import (
    AuditCount,
    AuditPage,
    AuditVerifyJob,
    FlagAck,
    FlagList,
    FlagPublic,
)
from rtcc_console.store import audit_log
from rtcc_console.store.audit_log import AuditQuery

router = APIRouter(tags=["audit"])
CSV_COLUMNS = (
    "id",
    "at",
    "user",
    "role",
    "action",
    "targets",
    "reason",
    "outcome",
    "client_addr",
    "hash",
)
_Text = Annotated[str | None, Query(min_length=1, max_length=200)]


def audit_filter(
    user: _Text = None,
    action: _Text = None,
    camera: _Text = None,
    call: _Text = None,
    case: _Text = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: _Text = None,
) -> AuditQuery:
    """The shared query filters of /audit, /audit/count and /audit.csv."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"{name}: a time zone offset is required")
    return AuditQuery(
        user=user,
        action=action,
        camera=camera,
        call=call,
        case=case,
        since=since,
        until=until,
        text=q,
    )


FilterDep = Annotated[AuditQuery, Depends(audit_filter)]
_Cursor = Annotated[int | None, Query(ge=0, le=2**62)]


@router.get("/audit", response_model=AuditPage)
def list_audit(
    supervisor: RequireSupervisor,
    state: StateDep,
    flt: FilterDep,
    before_id: _Cursor = None,
    after_id: _Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Audit entries newest first, keyset-paged; the first page of a viewing is audited."""
    if before_id is not None and after_id is not None:
        raise HTTPException(422, "before_id and after_id: give one cursor, not both")
    if before_id is None and after_id is None:
        with state.db.write() as session:
            append_audit(
                session,
                actor=actor_of(supervisor),
                action="audit.view",
                reason=json.dumps(flt.described(), sort_keys=True),
            )
    with state.db.read() as session:
        rows, more = audit_log.page(
            session, query=flt, before_id=before_id, after_id=after_id, limit=limit
        )
        items = [public_row(r) for r in rows]
    older_more = more if after_id is None else True
    return {
        "items": items,
        "limit": limit,
        "has_more": more,
        "next_before_id": items[-1]["id"] if items and older_more else None,
        "prev_after_id": items[0]["id"] if items else None,
    }


@router.get("/audit/count", response_model=AuditCount)
def count_audit(supervisor: RequireSupervisor, state: StateDep, flt: FilterDep) -> dict[str, int]:
    """How many entries match the filters (a full count; not needed to page)."""
    with state.db.read() as session:
        return {"total": audit_log.count(session, query=flt)}


@router.get("/audit.csv", response_class=StreamingResponse)
def export_audit_csv(
    supervisor: RequireSupervisor, state: StateDep, flt: FilterDep
) -> StreamingResponse:
    """The filtered trail as CSV, streamed in keyset batches; the export is audited first."""
    with state.db.write() as session:
        append_audit(
            session,
            actor=actor_of(supervisor),
            action="audit.export",
            reason=json.dumps(flt.described(), sort_keys=True),
        )
    max_rows = state.settings.audit_csv_max_rows

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        for rows in audit_log.batches(state.db.read, query=flt, max_rows=max_rows):
            for row in rows:
                item = public_row(row)
                item["targets"] = json.dumps(item["targets"], sort_keys=True, ensure_ascii=False)
                writer.writerow([_cell(item[c]) for c in CSV_COLUMNS])
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        if buf.tell():
            yield buf.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="rtcc-audit.csv"'},
    )


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas (CSV injection) in free-text cells."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@router.post("/audit/verify", response_model=AuditVerifyJob, status_code=202)
def start_verify(supervisor: RequireSupervisor, state: StateDep) -> Any:
    """Start a verification of the whole chain (or answer the one already running, 200)."""
    from fastapi.responses import JSONResponse

    job, started = audit_verify.start_verify(state.db, actor=actor_of(supervisor))
    return job if started else JSONResponse(job, status_code=200)


@router.get("/audit/verify/{job_id}", response_model=AuditVerifyJob)
def verify_status(job_id: str, supervisor: RequireSupervisor, state: StateDep) -> dict[str, Any]:
    job = audit_verify.get_job(state.db, job_id=job_id) if len(job_id) <= 48 else None
    if job is None:
        raise HTTPException(404, "no such verification job")
    return job


@router.get("/audit/flags", response_model=FlagList)
async def list_flags(
    supervisor: RequireSupervisor,
    state: StateDep,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: _Text = None,
    acknowledged: bool | None = None,
) -> dict[str, Any]:
    """Misuse flags of a window (default the last 7 days, at most 31), each with its entries."""
    try:
        window = misuse_scan.window_of(since, until)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return await run_in_threadpool(
        misuse_scan.scan_and_list,
        state,
        actor=actor_of(supervisor),
        window=window,
        kind=kind,
        acknowledged=acknowledged,
    )


@router.post("/audit/flags/{flag_id}/ack", response_model=FlagPublic)
def ack_flag(
    flag_id: str, body: FlagAck, supervisor: RequireSupervisor, state: StateDep
) -> dict[str, Any]:
    """Acknowledge a flag with a note (audited); 404 unknown, 409 already acknowledged."""
    if len(flag_id) > 48:
        raise HTTPException(404, "no such flag")
    flag: dict[str, Any] = misuse_scan.acknowledge(
        state, actor=actor_of(supervisor), flag_id=flag_id, note=body.note
    )
    return flag
