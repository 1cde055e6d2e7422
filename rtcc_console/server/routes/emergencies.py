"""Emergencies: declare (supervisor), list (analyst), end (supervisor).

An emergency covers the cameras it names, or, when it names none, every camera of its
owner. It ends explicitly or when ``ends_at`` passes (the app's housekeeping task); then
grants that depended on it end with ``grant.revoked``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rtcc_console.server.deps import RequireAnalyst, RequireSupervisor, StateDep, actor_of
from rtcc_console.server.emergencies import emergency_public, end_emergency, start_emergency
from rtcc_console.server.portal import panic as panic_service
from rtcc_console.server.routes.footage_requests import no_surrogates
from rtcc_console.server.schemas import Reason
from rtcc_console.store import emergencies as store_emergencies
from rtcc_console.store.db import journal_lock

router = APIRouter(prefix="/emergencies", tags=["emergencies"])


class EmergencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_id: str | None = Field(default=None, max_length=32)
    camera_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=500
    )
    reason: Reason
    duration_s: int | None = Field(
        default=3600, ge=1, le=7 * 24 * 3600, description="None = until ended"
    )
    alarm_level: int | None = Field(
        default=None,
        ge=0,
        le=4,
        description="a supervisor raising a site's panic: TMA AVS-01 level 0-4 (needs owner_id "
        "of a business or school); the emergency then carries panic fields, source supervisor",
    )
    location: str = Field(default="", max_length=200, description="where inside the site")
    description: str = Field(default="", max_length=500)

    @field_validator("location", "description", mode="before")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        return no_surrogates(value)

    @model_validator(mode="after")
    def _scope(self) -> EmergencyCreate:
        if not self.owner_id and not self.camera_ids:
            raise ValueError("give owner_id or camera_ids: an emergency must cover some cameras")
        if self.alarm_level is None and (self.location or self.description):
            raise ValueError("location and description belong to a panic: give alarm_level")
        if self.alarm_level is not None and not self.owner_id:
            raise ValueError("alarm_level raises a site's panic: give the site's owner_id")
        return self


class EmergencyPanic(BaseModel):
    """What a panic-button emergency says about itself (null for a declared one)."""

    site_name: str = Field(max_length=200, description="the site's (owner's) name")
    site_kind: Literal["business", "school"]
    alarm_level: int = Field(ge=0, le=4, description="TMA AVS-01 alarm level 0-4")
    location: str = Field(default="", max_length=200, description="where inside the site")
    description: str = Field(default="", max_length=500)
    source: Literal["portal", "alarm_panel", "dc09", "supervisor"] = Field(
        description="portal button, alarm panel (POST /panic), SIA DC-09 receiver, supervisor"
    )
    lat: float | None = Field(default=None, ge=-90, le=90, description="the site's cameras' centre")
    lon: float | None = Field(default=None, ge=-180, le=180)


class EmergencyPublic(BaseModel):
    id: str
    owner_id: str | None
    camera_ids: list[str]
    started_at: str = Field(description="ISO-8601")
    ends_at: str | None = Field(description="planned end (null: until ended)")
    ended_at: str | None
    reason: str
    created_by: str | None
    active: bool
    panic: EmergencyPanic | None = Field(
        default=None, description="structured panic details; null: declared, or an older row"
    )


class EmergencyPage(BaseModel):
    items: list[EmergencyPublic]
    total: int
    limit: int
    offset: int


class EmergencyEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="ended by supervisor", max_length=1000)


@router.post("", status_code=201, response_model=EmergencyPublic)
def create(body: EmergencyCreate, user: RequireSupervisor, state: StateDep) -> dict[str, Any]:
    with state.db.write() as session:
        owner_unknown, missing = store_emergencies.unknown_scope(
            session, owner_id=body.owner_id, camera_ids=body.camera_ids
        )
        if owner_unknown:
            raise HTTPException(422, f"owner_id: unknown owner {body.owner_id!r}")
        if missing:
            raise HTTPException(422, f"camera_ids: unknown camera(s) {', '.join(missing[:10])}")
        panic: dict[str, Any] | None = None
        if body.alarm_level is not None and body.owner_id:
            details = panic_service.PanicDetails(
                level=body.alarm_level,
                location=body.location.strip(),
                description=body.description.strip(),
                source="supervisor",
            )
            try:
                panic = panic_service.site_panic_fields(
                    session, owner_id=body.owner_id, details=details
                )
            except panic_service.PanicRefused as exc:
                raise HTTPException(422, f"owner_id: {exc}") from None
        row = start_emergency(
            session,
            actor=actor_of(user),
            owner_id=body.owner_id,
            camera_ids=body.camera_ids,
            reason=body.reason,
            duration_s=body.duration_s,
            panic=panic,
        )
        if panic is not None:
            panic_service.publish_panic(session, record=row, now=row.started_at)
        return emergency_public(row)


@router.get("", response_model=EmergencyPage)
def list_all(
    user: RequireAnalyst, state: StateDep, active: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    with state.db.read() as session:
        rows = store_emergencies.list_emergencies(session, active_only=active)
        items = [emergency_public(r) for r in rows]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@router.post("/{emergency_id}/end", response_model=EmergencyPublic)
def end(
    emergency_id: str, user: RequireSupervisor, state: StateDep, body: EmergencyEnd | None = None
) -> dict[str, Any]:
    with state.db.write() as session:
        journal_lock(session)  # serialise with other processes' expiry of the same emergency
        found = store_emergencies.get_emergency(session, emergency_id=emergency_id)
        if found is None:
            raise HTTPException(404, f"emergency {emergency_id!r} not found")
        if found.ended_at is not None:
            raise HTTPException(
                409, f"emergency {emergency_id!r} already ended at {found.ended_at.isoformat()}"
            )
        row = end_emergency(
            session,
            emergency_id=emergency_id,
            actor=actor_of(user),
            reason=(body.reason if body else "ended by supervisor"),
        )
        return emergency_public(row)
