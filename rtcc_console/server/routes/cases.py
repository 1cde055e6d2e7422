"""Case exports: a BagIt package of a case's evidence, as a background job with progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from rtcc_console.core.case_number import CaseNumberError, check_case_number
from rtcc_console.server.audit import append_audit
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.server.state import AppState
from rtcc_console.server.vault.export import bag_name, cancel_export, start_export
from rtcc_console.server.vault.service import vault_of
from rtcc_console.store import evidence as store
from rtcc_console.store.schema import CaseExportRow

router = APIRouter(tags=["cases"])


class ExportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: str = Field(default="zip", pattern="^(zip|tar)$")


class ExportJob(BaseModel):
    id: str
    case_number: str
    format: str
    status: str
    progress: float
    bytes_done: int
    bytes_total: int
    error: str | None
    download_url: str | None
    sha256: str | None
    created_by: str
    created_at: str
    finished_at: str | None


def _case(value: str) -> str:
    try:
        return check_case_number(value)
    except CaseNumberError as exc:
        raise HTTPException(422, str(exc)) from exc


def _public(row: CaseExportRow) -> dict[str, Any]:
    total = row.bytes_total or 0
    done = row.bytes_total if row.status == "done" else row.bytes_done
    return {
        "id": row.id,
        "case_number": row.case_number,
        "format": row.format,
        "status": row.status,
        "progress": 1.0 if row.status == "done" else (min(1.0, done / total) if total else 0.0),
        "bytes_done": done,
        "bytes_total": total,
        "error": row.error,
        "download_url": f"/api/v1/cases/{row.case_number}/exports/{row.id}/download"
        if row.status == "done"
        else None,
        "sha256": row.sha256,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


def _job(state: AppState, case_number: str, export_id: str) -> CaseExportRow:
    with state.db.read() as session:
        row = store.get_export(session, export_id=export_id)
        if row is None or row.case_number != case_number:
            raise HTTPException(404, "export not found")
        session.expunge(row)
        return row


@router.post("/cases/{case_number}/export", status_code=202, response_model=ExportJob)
def create_export(
    case_number: str, user: RequireAnalyst, state: StateDep, body: ExportBody | None = None
) -> Any:
    case = _case(case_number)
    vault = vault_of(state)
    try:
        export_id = start_export(
            vault,
            case_number=case,
            fmt=(body or ExportBody()).format,
            actor=actor_of(user),
            username=user.username,
        )
    except LookupError as exc:
        raise HTTPException(404, f"case {case} has no evidence items") from exc
    return _public(_job(state, case, export_id))


@router.get("/cases/{case_number}/exports/{export_id}", response_model=ExportJob)
def get_export(case_number: str, export_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    return _public(_job(state, _case(case_number), export_id))


@router.post("/cases/{case_number}/exports/{export_id}/cancel", response_model=ExportJob)
def cancel(case_number: str, export_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    case = _case(case_number)
    row = _job(state, case, export_id)
    if row.status in ("queued", "running"):
        cancel_export(vault_of(state), export_id=export_id)
    return _public(_job(state, case, export_id))


@router.get(
    "/cases/{case_number}/exports/{export_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}, "application/x-tar": {}}}},
)
def download(case_number: str, export_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    case = _case(case_number)
    row = _job(state, case, export_id)
    if row.status != "done" or not row.path:
        raise HTTPException(409, f"export is {row.status}, not ready")
    with state.db.write() as session:
        append_audit(
            session,
            actor=actor_of(user),
            action="evidence.export_downloaded",
            targets={"case": case, "export": export_id},
        )
    media = "application/zip" if row.format == "zip" else "application/x-tar"
    return FileResponse(row.path, media_type=media, filename=f"{bag_name(case)}.{row.format}")
