"""Vehicle sort of evidence from the console's side (``docs/api/vehicles.md``): blocking,
Qt-free, everything through ``ApiClient.request``. Results are candidates to verify."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rtcc_console.client.api import API_PREFIX, ApiClient

VEHICLES = ("bicycle", "car", "motorcycle", "bus", "truck")
COLOURS = ("white", "black", "grey", "silver", "red", "blue", "green", "yellow", "brown")

Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class VehicleMoment:
    id: int
    evidence_id: str
    label: str
    colour: str
    start_s: float
    end_s: float
    best_score: float
    best_time_s: float
    box: Box
    thumbnail_path: str | None  # API path without the /api/v1 prefix


@dataclass(frozen=True, slots=True)
class ItemIndex:
    evidence_id: str
    status: str
    progress: float
    error: str | None
    detections: tuple[VehicleMoment, ...]
    notice: str


@dataclass(frozen=True, slots=True)
class ClipCandidates:
    evidence_id: str
    filename: str
    camera_id: str | None
    call_id: str | None
    best_score: float
    moments: tuple[VehicleMoment, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    clips: int
    indexed: int
    pending: int
    running: int
    failed: int
    with_match: int
    text: str


@dataclass(frozen=True, slots=True)
class VehicleQuery:
    case_number: str | None = None
    call_id: str | None = None
    vehicle: str | None = None
    colour: str | None = None

    def params(self) -> dict[str, str]:
        pairs = {
            "case_number": self.case_number,
            "call_id": self.call_id,
            "vehicle": self.vehicle,
            "color": self.colour,
        }
        return {k: v for k, v in pairs.items() if v}


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: VehicleQuery
    clips: tuple[ClipCandidates, ...]
    summary: Summary
    notice: str
    total: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def moments(self) -> list[VehicleMoment]:
        """Every moment of every clip, best score first."""
        return sorted((m for c in self.clips for m in c.moments), key=lambda m: -m.best_score)


def _strip_prefix(url: str | None) -> str | None:
    if url and url.startswith(API_PREFIX):
        return url[len(API_PREFIX) :]
    return url


def moment_from_json(evidence_id: str, d: dict[str, Any]) -> VehicleMoment:
    box = d["box"]
    return VehicleMoment(
        id=int(d["id"]),
        evidence_id=evidence_id,
        label=str(d["label"]),
        colour=str(d["colour"]),
        start_s=float(d["start_s"]),
        end_s=float(d["end_s"]),
        best_score=float(d["best_score"]),
        best_time_s=float(d["best_time_s"]),
        box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        thumbnail_path=_strip_prefix(d.get("thumbnail_url")),
    )


def item_vehicles(api: ApiClient, evidence_id: str) -> ItemIndex:
    d = api.request("GET", f"/evidence/{evidence_id}/vehicles").json()
    return ItemIndex(
        evidence_id=str(d["evidence_id"]),
        status=str(d["status"]),
        progress=float(d["progress"]),
        error=d.get("error"),
        detections=tuple(moment_from_json(evidence_id, m) for m in d["detections"]),
        notice=str(d.get("notice", "")),
    )


def search(api: ApiClient, query: VehicleQuery, *, limit: int = 200) -> SearchResult:
    params: dict[str, str | int] = {**query.params(), "limit": limit}
    d = api.request("GET", "/evidence/vehicles/search", params=params).json()
    clips = tuple(
        ClipCandidates(
            evidence_id=str(c["evidence_id"]),
            filename=str(c["filename"]),
            camera_id=c.get("camera_id"),
            call_id=c.get("call_id"),
            best_score=float(c["best_score"]),
            moments=tuple(moment_from_json(str(c["evidence_id"]), m) for m in c["moments"]),
        )
        for c in d["items"]
    )
    s = d["summary"]
    summary = Summary(
        clips=int(s["clips"]),
        indexed=int(s["indexed"]),
        pending=int(s["pending"]),
        running=int(s["running"]),
        failed=int(s["failed"]),
        with_match=int(s["with_match"]),
        text=str(s["text"]),
    )
    return SearchResult(
        query=query,
        clips=clips,
        summary=summary,
        notice=str(d.get("notice", "")),
        total=int(d["total"]),
    )


def thumbnail(api: ApiClient, moment: VehicleMoment) -> bytes | None:
    if not moment.thumbnail_path:
        return None
    return bytes(api.request("GET", moment.thumbnail_path).content)


def queue(api: ApiClient) -> dict[str, Any]:
    return dict(api.request("GET", "/evidence/vehicles/queue").json())
