"""Domain models shared by the server, the console and the simulators.

Plain dataclasses and string enums: no I/O, no framework types. Enum values are the
wire names of the public API (``tier``: ``registered``/``integrated``; ``sharing_mode``:
``request_only``/``live_always``/``live_in_emergency``), so ``Tier(value)`` parses JSON.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only clock the domain uses)."""
    return datetime.now(UTC)


class Tier(StrEnum):
    """How much the police can do with a camera."""

    REGISTERED = "registered"  # location + owner contact only; footage must be requested
    INTEGRATED = "integrated"  # has a stream the crime center may view live


class CameraKind(StrEnum):
    """Who owns the camera; shown to analysts and used by policy (schools, businesses)."""

    RESIDENTIAL = "residential"
    BUSINESS = "business"
    SCHOOL = "school"
    PUBLIC = "public"


class SharingMode(StrEnum):
    """What the owner consented to."""

    REQUEST_ONLY = "request_only"
    LIVE_ALWAYS = "live_always"
    LIVE_IN_EMERGENCY = "live_in_emergency"


class Role(StrEnum):
    """Staff roles; each includes the rights of the one before it.

    ``OFFICER`` ranks below every staff role: a responding officer's account opens only
    the field page of a share made for it (``/field/...``); every staff route refuses it.
    """

    OFFICER = "officer"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.OFFICER: 0, Role.ANALYST: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


class CallStatus(StrEnum):
    """Lifecycle of a dispatch call, normalised from CAD status vocabularies."""

    PENDING = "pending"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self is not CallStatus.CLOSED


class RequestStatus(StrEnum):
    """State of a geo-fenced footage request."""

    OPEN = "open"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS-84 position in decimal degrees. Construction validates the ranges."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (isinstance(self.lat, int | float) and isinstance(self.lon, int | float)):
            raise ValueError(f"coordinates must be numbers, got lat={self.lat!r} lon={self.lon!r}")
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)):
            raise ValueError(f"coordinates must be finite, got lat={self.lat} lon={self.lon}")
        if not -90.0 <= self.lat <= 90.0:
            raise ValueError(f"latitude {self.lat} is outside -90..90")
        if not -180.0 <= self.lon <= 180.0:
            raise ValueError(f"longitude {self.lon} is outside -180..180")


@dataclass(slots=True)
class Owner:
    """A resident, business, school or agency that registered cameras."""

    id: str
    name: str
    kind: CameraKind
    email: str | None = None
    phone: str | None = None
    accepts_requests: bool = True


@dataclass(slots=True)
class Camera:
    """A registry entry.

    ``stream_ref`` is what the console may see of an integrated camera's stream: a URL
    with any credentials removed (``core.redact.redact_stream_url``) or a relay path.
    Credentials are kept by the server apart from this record.
    """

    id: str
    name: str
    tier: Tier
    location: GeoPoint
    kind: CameraKind
    sharing_mode: SharingMode
    address: str = ""
    owner_id: str | None = None
    heading_deg: float | None = None  # 0 = north, clockwise
    fov_deg: float | None = None  # horizontal field of view
    range_m: float | None = None  # useful viewing distance, when known
    revoked: bool = False
    stream_ref: str | None = None
    substream_ref: str | None = None
    updated_at: datetime | None = None
    # the yearly "still there?" question (issue 12): a stale camera's owner did not confirm
    # it in time; it stays listed (footage can still be asked for), shown as not confirmed
    confirmed_at: datetime | None = None
    stale: bool = False

    @property
    def is_live_capable(self) -> bool:
        return self.tier is Tier.INTEGRATED and self.sharing_mode is not SharingMode.REQUEST_ONLY


@dataclass(frozen=True, slots=True)
class Emergency:
    """A panic-button activation or an agency-declared emergency for some cameras.

    While active it opens ``live_in_emergency`` cameras of ``camera_ids`` for live view.
    """

    id: str
    owner_id: str | None
    camera_ids: frozenset[str]
    started_at: datetime
    ends_at: datetime | None = None
    reason: str = ""

    def active(self, now: datetime) -> bool:
        return self.started_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(slots=True)
class DispatchCall:
    """A CAD incident. ``location`` is None when only a civic address is known."""

    id: str
    incident_id: str
    type_code: str
    type_text: str
    priority: int  # 1 = most urgent
    status: CallStatus
    reported_at: datetime
    updated_at: datetime
    location: GeoPoint | None = None
    address: str | None = None
    category: str = "other"
    source: str = "cad"


@dataclass(frozen=True, slots=True)
class CircleFence:
    center: GeoPoint
    radius_m: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_m) and self.radius_m > 0):
            raise ValueError(
                f"geofence radius must be a positive number of metres, got {self.radius_m}"
            )


@dataclass(frozen=True, slots=True)
class PolygonFence:
    vertices: tuple[GeoPoint, ...]

    def __post_init__(self) -> None:
        if len(self.vertices) < 3:
            raise ValueError("a polygon geofence needs at least 3 vertices")


Geofence = CircleFence | PolygonFence


@dataclass(slots=True)
class FootageRequest:
    """A geo-fenced request for recorded footage sent to owners of registered cameras."""

    id: str
    call_id: str | None
    geofence: Geofence
    window_start: datetime
    window_end: datetime
    created_by: str
    created_at: datetime
    status: RequestStatus = RequestStatus.OPEN
    camera_ids: tuple[str, ...] = ()
    message: str = ""


@dataclass(slots=True)
class EvidenceItem:
    """A file in the evidence vault, identified by its SHA-256."""

    id: str
    filename: str
    sha256: str
    size_bytes: int
    media_type: str
    received_at: datetime
    request_id: str | None = None
    camera_id: str | None = None
    call_id: str | None = None
    uploaded_by: str | None = None


@dataclass(slots=True)
class AuditEvent:
    """One row of the append-only, hash-chained audit trail."""

    at: datetime
    action: str
    outcome: str  # "ok", "denied", "failed"
    user: str | None = None
    role: Role | None = None
    targets: dict[str, str] = field(default_factory=dict)  # e.g. {"camera": "c-12", "call": "..."}
    reason: str | None = None
    client_addr: str | None = None
    id: int | None = None
    prev_hash: str | None = None
    hash: str | None = None
