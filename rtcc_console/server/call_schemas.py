"""Response models of the call routes (``/calls``) and of ranked nearby cameras.

They document the answers in ``/openapi.json``; the shapes are those of
docs/api-contract.md ("Calls"). Times are ISO-8601 strings with their UTC offset.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from rtcc_console.server.schemas import CameraPublic


class CallPublic(BaseModel):
    """A dispatch call (``lat``/``lon`` null when only an address is known)."""

    id: str
    incident_id: str
    type_code: str
    type_text: str
    category: str
    priority: int = Field(description="1 (most urgent) to 9")
    status: str = Field(description="pending | dispatched | on_scene | closed")
    lat: float | None
    lon: float | None
    address: str | None
    uncertainty_m: float | None = Field(description="radius of the CAD's position uncertainty")
    reported_at: str = Field(description="ISO-8601")
    updated_at: str = Field(description="ISO-8601: the CAD's update time of the applied message")
    source: str = Field(description="eido | simple | csv | manual ...")
    version: int


class CallPage(BaseModel):
    items: list[CallPublic]
    total: int
    limit: int
    offset: int


class CallHistoryItem(BaseModel):
    """One stored message of a call: a CAD update (``call``: its simple form) or an
    analyst's correction (``source`` manual, ``call`` null)."""

    updated_at: str
    received_at: str
    source: str
    applied: bool = Field(description="false for an older update kept in the history only")
    call: dict[str, Any] | None
    warnings: list[str] = Field(default_factory=list, description="what the parser had to guess")


class NearbyCameraPublic(CameraPublic):
    deleted: bool = False


class RankedCameraPublic(BaseModel):
    """A ranked camera near a point (``/cameras/nearest``, a call's ``cameras``)."""

    camera: NearbyCameraPublic
    distance_m: float
    bearing_deg: float = Field(description="from the point to the camera, degrees from north")
    score: float
    covers_scene: bool | None = Field(description="null when the camera's heading is unknown")
    explanation: str
    live_now: bool = Field(description="can be opened live right now (the ranking's live bonus)")


class CameraPage(BaseModel):
    items: list[NearbyCameraPublic]
    total: int
    limit: int
    offset: int


class CameraChanges(BaseModel):
    """``GET /cameras?since=<cursor>``: the change feed (deletions by id)."""

    items: list[NearbyCameraPublic]
    deleted: list[str]
    cursor: str = Field(description="pass back as ``since`` to continue")
    has_more: bool


class NearbyPage(BaseModel):
    items: list[RankedCameraPublic]


class CallDetail(CallPublic):
    history: list[CallHistoryItem]
    cameras: list[RankedCameraPublic]
    notes: list[str] = Field(
        default_factory=list, description="CAD narrative (EIDO notesComponent, simple form notes)"
    )
    units: list[str] = Field(
        default_factory=list, description="responding units (EIDO emergencyResourceComponent)"
    )
    agencies: list[str] = Field(default_factory=list, description="agencies (EIDO agencyComponent)")


class IntakeAnswer(BaseModel):
    """201 when a call was created, else 200 (updated, duplicate, or an older update)."""

    call: CallPublic
    created: bool
    updated: bool
    duplicate: bool


class WebhookAnswer(BaseModel):
    """``/cad/webhook``: one item per call in the body (201 when any call was created)."""

    items: list[IntakeAnswer]


class BatchAnswer(BaseModel):
    items: list[IntakeAnswer]
    created: int
    updated: int
    duplicates: int
