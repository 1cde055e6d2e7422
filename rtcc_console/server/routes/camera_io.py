"""Registry import/export routes (admin): CSV and GeoJSON, all-or-nothing import."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from rtcc_console.server import camera_io
from rtcc_console.server.audit import append_audit
from rtcc_console.server.camera_store import camera_public, create_camera
from rtcc_console.server.deps import RequireAdmin, StateDep, actor_of
from rtcc_console.server.eventlog import record_event
from rtcc_console.store.cameras import alive_rows
from rtcc_console.store.schema import CameraRow

router = APIRouter(prefix="/cameras", tags=["cameras"])
MAX_IMPORT_BYTES = 50_000_000


class ImportAnswer(BaseModel):
    imported: int = Field(
        description="cameras added (all rows or none: a bad row is a 422 listing every problem)"
    )


@router.post("/import", response_model=ImportAnswer)
async def import_cameras(request: Request, admin: RequireAdmin, state: StateDep) -> JSONResponse:
    """Import cameras from ``text/csv`` or ``application/geo+json``; 422 lists every bad row."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise HTTPException(413, f"file larger than {MAX_IMPORT_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            422, f"body: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from exc
    if media in ("text/csv", "application/csv"):
        rows, problems = camera_io.rows_from_csv(text)
        fmt = "csv"
    elif media in ("application/geo+json", "application/json"):
        rows, problems = camera_io.rows_from_geojson(text)
        fmt = "geojson"
    else:
        raise HTTPException(415, "Content-Type: send text/csv or application/geo+json")

    def _store() -> tuple[int, list[camera_io.RowProblem]]:
        with state.db.write() as session:
            good, more = camera_io.validate_rows(session, rows)
            all_problems = sorted(problems + more, key=lambda p: (p.row, p.field))
            if all_problems:
                return 0, all_problems
            if not good:
                return 0, [camera_io.RowProblem(0, "$", "no camera rows in the file")]
            for camera in good:
                row = create_camera(session, fields=camera.model_dump())
                record_event(
                    session,
                    type="camera.changed",
                    payload={"camera": camera_public(row), "change": "created"},
                )
            append_audit(
                session,
                actor=actor_of(admin),
                action="registry.import",
                targets={"format": fmt},
                reason=f"{len(good)} cameras",
            )
            return len(good), []

    imported, errors = await run_in_threadpool(_store)
    if errors:
        return JSONResponse(
            {
                "detail": f"{len(errors)} problem(s); nothing imported",
                "errors": [e.as_dict() for e in errors[:1000]],
            },
            status_code=422,
        )
    return JSONResponse({"imported": imported})


def _all_rows(state: Any) -> list[CameraRow]:
    with state.db.read() as session:
        return alive_rows(session)


def _audit_export(state: Any, admin: Any, fmt: str, count: int) -> None:
    with state.db.write() as session:
        append_audit(
            session,
            actor=actor_of(admin),
            action="registry.export",
            targets={"format": fmt},
            reason=f"{count} cameras",
        )


@router.get("/export.csv", response_class=Response)
def export_csv(admin: RequireAdmin, state: StateDep) -> Response:
    rows = _all_rows(state)
    _audit_export(state, admin, "csv", len(rows))
    return Response(
        camera_io.export_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="cameras.csv"'},
    )


@router.get("/export.geojson", response_class=Response)
def export_geojson(admin: RequireAdmin, state: StateDep) -> Response:
    rows = _all_rows(state)
    _audit_export(state, admin, "geojson", len(rows))
    return Response(
        json.dumps(camera_io.export_geojson(rows)),
        media_type="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="cameras.geojson"'},
    )
