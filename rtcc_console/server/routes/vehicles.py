"""Vehicle-type sort of evidence (docs/api/vehicles.md): per-item index, case/call search,
thumbnails of the best box, the indexing queue. Every read is audited; results are
candidates for a person to verify, and every answer says so."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from rtcc_console.core.case_number import CaseNumberError, check_case_number
from rtcc_console.server.audit import append_audit
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.store import evidence as evidence_store
from rtcc_console.store import vehicles as store
from rtcc_console.store.schema import VehicleIndexJobRow, VehicleSightingRow

router = APIRouter(tags=["vehicles"])

NOTICE = (
    "Candidates from an automatic vehicle-type sort (a small model that misses small or hidden "
    "vehicles and confuses car and truck): verify each one by watching the clip. Not a finding."
)
Vehicle = Literal["bicycle", "car", "motorcycle", "bus", "truck"]
Colour = Literal["white", "black", "grey", "silver", "red", "blue", "green", "yellow", "brown"]
EvidenceId = Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_-]+$")]
MAX_SCOPE = 10_000


class Detection(BaseModel):
    id: int
    label: Vehicle
    colour: Colour
    start_s: float
    end_s: float
    best_score: float
    best_time_s: float
    box: tuple[float, float, float, float] = Field(
        description="x1, y1, x2, y2 as fractions of the frame"
    )
    thumbnail_url: str | None


class ItemIndex(BaseModel):
    evidence_id: str
    status: Literal["pending", "running", "done", "failed", "skipped"]
    progress: float
    error: str | None
    model: str | None
    duration_s: float | None
    sampled: int
    model_runs: int
    detections: list[Detection]
    notice: str = NOTICE


class ClipHit(BaseModel):
    evidence_id: str
    filename: str
    camera_id: str | None
    call_id: str | None
    best_score: float
    moments: list[Detection]


class Summary(BaseModel):
    clips: int
    indexed: int
    pending: int
    running: int
    failed: int
    skipped: int
    with_match: int
    text: str


class SearchAnswer(BaseModel):
    items: list[ClipHit]
    total: int
    limit: int
    offset: int
    summary: Summary
    notice: str = NOTICE


class QueueState(BaseModel):
    pending: int
    running: int
    done: int
    failed: int
    skipped: int
    worker_running: bool
    running_items: list[dict[str, float | str]]


def _detection(row: VehicleSightingRow) -> Detection:
    return Detection(
        id=row.id,
        label=row.label,  # type: ignore[arg-type]  # the database refuses any other label (CHECK)
        colour=row.colour,  # type: ignore[arg-type]
        start_s=row.start_s,
        end_s=row.end_s,
        best_score=round(row.best_score, 4),
        best_time_s=row.best_time_s,
        box=(row.x1, row.y1, row.x2, row.y2),
        thumbnail_url=(
            f"/api/v1/evidence/{row.evidence_id}/vehicles/{row.id}/thumbnail"
            if row.thumbnail
            else None
        ),
    )


def _status(job: VehicleIndexJobRow | None) -> str:
    return "pending" if job is None else job.status


def _summary_text(clips: int, with_match: int, vehicle: str | None, colour: str | None) -> str:
    what = " ".join(x for x in (colour, vehicle) if x) or "vehicle"
    noun = "clip" if clips == 1 else "clips"
    return f"{clips} {noun}, {with_match} with a {what} candidate (verify)"


@router.get("/evidence/vehicles/search", response_model=SearchAnswer)
def search_vehicles(
    user: RequireAnalyst,
    state: StateDep,
    case_number: Annotated[str | None, Query(max_length=64)] = None,
    call_id: Annotated[
        str | None, Query(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9_.:-]+$")
    ] = None,
    vehicle: Vehicle | None = None,
    color: Colour | None = None,
    min_score: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SearchAnswer:
    """Clips of a case and/or call with matching candidates, best score first; audited."""
    if case_number is None and call_id is None:
        raise HTTPException(
            422, "case_number or call_id is required (a search is always about a case or a call)"
        )
    if case_number is not None:
        try:
            case_number = check_case_number(case_number)
        except CaseNumberError as exc:
            raise HTTPException(422, str(exc)) from None
    query = {
        "case_number": case_number,
        "call_id": call_id,
        "vehicle": vehicle,
        "color": color,
        "min_score": min_score,
    }
    with state.db.write() as session:
        # the scope is what the Evidence tab lists: the call's items plus the case's items
        ids: list[str] = []
        for scope in ({"call_id": call_id}, {"case_number": case_number}):
            if next(iter(scope.values())) is None:
                continue
            items, _total = evidence_store.list_items(session, limit=MAX_SCOPE, offset=0, **scope)
            ids += [i.id for i in items if i.id not in ids]
        hits = store.search(
            session, evidence_ids=ids, label=vehicle, colour=color, min_score=min_score
        )
        counts = store.status_counts(session, evidence_ids=ids)
        by_clip: dict[str, ClipHit] = {}
        for hit in hits:
            clip = by_clip.get(hit.item.id)
            if clip is None:
                clip = by_clip[hit.item.id] = ClipHit(
                    evidence_id=hit.item.id,
                    filename=hit.item.filename,
                    camera_id=hit.item.camera_id,
                    call_id=hit.item.call_id,
                    best_score=round(hit.sighting.best_score, 4),
                    moments=[],
                )
            clip.moments.append(_detection(hit.sighting))
        ordered = list(by_clip.values())  # hits come best score first, so clips do too
        summary = Summary(
            clips=len(ids),
            indexed=counts["done"],
            pending=counts["pending"],
            running=counts["running"],
            failed=counts["failed"],
            skipped=counts["skipped"],
            with_match=len(ordered),
            text=_summary_text(len(ids), len(ordered), vehicle, color),
        )
        append_audit(
            session,
            actor=actor_of(user),
            action="evidence.vehicles.search",
            targets={"case_number": case_number, "call_id": call_id},
            reason=json.dumps({k: v for k, v in query.items() if v is not None}, sort_keys=True),
        )
    page = ordered[offset : offset + limit]
    return SearchAnswer(items=page, total=len(ordered), limit=limit, offset=offset, summary=summary)


@router.get("/evidence/vehicles/queue", response_model=QueueState)
def vehicle_queue(user: RequireAnalyst, state: StateDep) -> QueueState:
    """How far the background indexer is: counts by status and the items being indexed."""
    with state.db.read() as session:
        counts, running = store.queue_state(session)
    supervisor = state.extras.get("vehicle_indexer")
    alive = bool(supervisor is not None and getattr(supervisor, "pid", None))
    return QueueState(
        pending=counts["pending"],
        running=counts["running"],
        done=counts["done"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        worker_running=alive,
        running_items=[
            {"evidence_id": j.evidence_id, "progress": round(j.progress, 3)} for j in running
        ],
    )


@router.get("/evidence/{evidence_id}/vehicles", response_model=ItemIndex)
def item_vehicles(user: RequireAnalyst, state: StateDep, evidence_id: EvidenceId) -> ItemIndex:
    """The index of one item: status, progress and its vehicle candidates; audited."""
    with state.db.write() as session:
        if evidence_store.get_item(session, evidence_id=evidence_id) is None:
            raise HTTPException(404, "no such evidence item")
        job = store.get_job(session, evidence_id=evidence_id)
        rows = (
            store.sightings_of(session, evidence_id=evidence_id)
            if job is not None and job.status == "done"
            else []
        )
        append_audit(
            session,
            actor=actor_of(user),
            action="evidence.vehicles.view",
            targets={"evidence": evidence_id},
        )
    return ItemIndex(
        evidence_id=evidence_id,
        status=_status(job),  # type: ignore[arg-type]  # one of the job states
        progress=round(job.progress, 3) if job else 0.0,
        error=job.error if job else None,
        model=(job.model or None) if job else None,
        duration_s=job.duration_s if job and job.status == "done" else None,
        sampled=job.sampled if job else 0,
        model_runs=job.model_runs if job else 0,
        detections=[_detection(r) for r in rows],
    )


@router.get(
    "/evidence/{evidence_id}/vehicles/{sighting_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def sighting_thumbnail(
    user: RequireAnalyst,
    state: StateDep,
    evidence_id: EvidenceId,
    sighting_id: Annotated[int, Field(ge=1, le=2**62)],
) -> Response:
    """A small JPEG crop of the candidate's best box (never anything but a vehicle box)."""
    with state.db.write() as session:
        row = store.get_sighting(session, evidence_id=evidence_id, sighting_id=sighting_id)
        data = row.thumbnail if row is not None else None
        if not data:
            raise HTTPException(404, "no such thumbnail")
        append_audit(
            session,
            actor=actor_of(user),
            action="evidence.vehicles.thumbnail",
            targets={"evidence": evidence_id, "sighting": sighting_id},
        )
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )
