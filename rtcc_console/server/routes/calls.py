"""Dispatch calls: intake (single, batch), list, detail with ranked cameras, correction.

Bodies are parsed by ``core.cad`` (EIDO or the simple form). A bad body is a 422 whose
``detail`` names the field (``incidentComponent[0].lastUpdateTimeStamp: ...``); nothing is
stored. A batch is all or nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rtcc_console.core.cad import CadParseError, ParsedCall, parse_call
from rtcc_console.core.models import CallStatus, GeoPoint
from rtcc_console.server.audit import append_audit
from rtcc_console.server.call_schemas import (
    BatchAnswer,
    CallDetail,
    CallPage,
    CallPublic,
    IntakeAnswer,
)
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.intake import call_public, history_public, ingest
from rtcc_console.server.nearby import ranked_for_call_public
from rtcc_console.server.state import AppState
from rtcc_console.store import calls as store_calls
from rtcc_console.store.calls import CallRecord
from rtcc_console.store.cameras import NotFoundError
from rtcc_console.store.emergencies import active_emergencies

router = APIRouter(prefix="/calls", tags=["calls"])
MAX_BODY = 1_000_000
MAX_BATCH = 1000


async def read_json(request: Request) -> Any:
    """The decoded JSON body, or a 413/422 naming the problem."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPException(413, f"body larger than {MAX_BODY} bytes")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"body larger than {MAX_BODY} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"body: not valid JSON ({exc})") from exc


def parse_one(obj: Any, content_type: str | None, *, where: str = "") -> ParsedCall:
    try:
        return parse_call(obj, content_type)
    except CadParseError as exc:
        raise HTTPException(422, f"{where}{exc.field}: {exc.problem}") from exc


def source_of(obj: Any, content_type: str | None) -> str:
    from rtcc_console.core.cad import detect_format

    try:
        return detect_format(obj, content_type)
    except CadParseError:
        return "simple"


def intake_response(result: Any) -> JSONResponse:
    payload = {
        "call": result.call,
        "created": result.created,
        "updated": result.updated,
        "duplicate": result.duplicate,
    }
    return JSONResponse(payload, status_code=201 if result.created else 200)


@router.post(
    "",
    status_code=201,
    response_model=IntakeAnswer,
    responses={200: {"description": "already known (created: false)", "model": IntakeAnswer}},
)
async def post_call(request: Request, user: RequireAnalyst, state: StateDep) -> JSONResponse:
    """Ingest one CAD message (EIDO or simple JSON); idempotent by incident + update time."""
    obj = await read_json(request)
    ctype = request.headers.get("content-type")
    parsed = parse_one(obj, ctype)
    result = await state.intake.submit(parsed, source=source_of(obj, ctype), raw=obj)
    return intake_response(result)


@router.post("/batch", response_model=BatchAnswer)
async def post_batch(request: Request, user: RequireAnalyst, state: StateDep) -> dict[str, Any]:
    """Ingest ``{"items": [...]}`` all or nothing; 422 names the item index and field."""
    obj = await read_json(request)
    if not isinstance(obj, dict) or not isinstance(obj.get("items"), list):
        raise HTTPException(422, 'items: expected {"items": [call, ...]}')
    items = obj["items"]
    if not items or len(items) > MAX_BATCH:
        raise HTTPException(422, f"items: expected 1..{MAX_BATCH} calls, got {len(items)}")
    parsed = [parse_one(item, None, where=f"items[{i}].") for i, item in enumerate(items)]
    from starlette.concurrency import run_in_threadpool

    def _store() -> list[Any]:
        with state.db.write() as session:
            return [
                ingest(session, parsed=p, source=source_of(o, None), raw=o)
                for p, o in zip(parsed, items, strict=True)
            ]

    results = await run_in_threadpool(_store)
    return {
        "items": [
            {"call": r.call, "created": r.created, "updated": r.updated, "duplicate": r.duplicate}
            for r in results
        ],
        "created": sum(r.created for r in results),
        "updated": sum(r.updated for r in results),
        "duplicates": sum(r.duplicate for r in results),
    }


@router.get("", response_model=CallPage)
def list_calls(
    user: RequireAnalyst,
    state: StateDep,
    status: Literal["open", "closed", "all"] = "open",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Calls, newest first (by update time); ``since``/``until`` bound ``updated_at``."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(422, f"{name}: a time zone offset is required")
    with state.db.read() as session:
        page = store_calls.list_calls(
            session, status=status, since=since, until=until, limit=limit, offset=offset
        )
    return {
        "items": [call_public(c) for c in page.items],
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }


def call_cameras(state: AppState, row: CallRecord, emergencies: list[Any]) -> list[dict[str, Any]]:
    """Ranked nearest cameras of both tiers (a few of each tier even if one dominates)."""
    if row.lat is None or row.lon is None:
        return []
    return ranked_for_call_public(
        state.registry,
        point=GeoPoint(row.lat, row.lon),
        k=state.settings.nearest_k,
        radius_m=state.settings.nearest_radius_m,
        emergencies=emergencies,
    )


@router.get("/{call_id}", response_model=CallDetail)
def get_call(call_id: str, user: RequireAnalyst, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        row = store_calls.get_call(session, call_id=call_id)
        if row is None:
            raise HTTPException(404, f"call {call_id!r} not found")
        out = call_public(row)
        out["history"] = [
            history_public(h) for h in store_calls.call_history(session, call_id=call_id)
        ]
        out.update(latest_details(out["history"]))
        emergencies = active_emergencies(session)
    out["cameras"] = call_cameras(state, row, emergencies)
    return out


def latest_details(history: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The narrative, units and agencies as of the newest applied CAD update (an update
    that omits them leaves the earlier ones standing)."""
    details: dict[str, list[str]] = {"notes": [], "units": [], "agencies": []}
    applied = [h for h in history if h.get("applied") and isinstance(h.get("call"), dict)]
    for entry in sorted(applied, key=lambda h: str(h.get("updated_at") or "")):
        for key in details:
            value = entry["call"].get(key)
            if isinstance(value, list) and value:
                details[key] = [str(v) for v in value]
    return details


class CallPatch(BaseModel):
    """A dispatcher/analyst correction (e.g. a geocoded position for an address-only call)."""

    model_config = ConfigDict(extra="forbid")
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    address: str | None = Field(default=None, max_length=300)
    status: CallStatus | None = None

    @model_validator(mode="after")
    def _pair(self) -> CallPatch:
        has_lat, has_lon = "lat" in self.model_fields_set, "lon" in self.model_fields_set
        if has_lat != has_lon or (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together (both numbers, or both null)")
        if self.lat == 0 and self.lon == 0:
            raise ValueError(
                "lat/lon 0,0 is not a real location; send null for an unknown position"
            )
        if not self.model_fields_set:
            raise ValueError("nothing to change: give lat/lon, address or status")
        return self


@router.patch("/{call_id}", response_model=CallPublic)
def patch_call(
    call_id: str, body: CallPatch, user: RequireAnalyst, state: StateDep
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    with state.db.write() as session:
        try:
            row = store_calls.patch_call(
                session, call_id=call_id, changes=changes, by=user.username
            )
        except NotFoundError:
            raise HTTPException(404, f"call {call_id!r} not found") from None
        append_audit(
            session,
            actor=actor_of(user),
            action="call.update",
            targets={"call": call_id},
            reason="fields: " + ", ".join(sorted(changes)),
        )
        public = call_public(row)
        record_event(session, type="call.updated", payload={"call": public})
    return public
