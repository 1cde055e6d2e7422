"""Request/response schemas shared by several route modules (cameras, ranking).

Input models forbid unknown fields and validate ranges, so a bad request is a 422 naming
the field before anything is written. Stream URLs may carry credentials on the way *in*
(admin); responses only ever carry the redacted form.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from rtcc_console.core.models import CameraKind, SharingMode, Tier

CAMERA_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,31}$")
_STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "srt", "udp", "rtp")

Latitude = Annotated[
    float, Field(ge=-90, le=90, allow_inf_nan=False, description="WGS-84 latitude")
]
Longitude = Annotated[
    float, Field(ge=-180, le=180, allow_inf_nan=False, description="WGS-84 longitude")
]
Heading = Annotated[
    float, Field(ge=0, lt=360, allow_inf_nan=False, description="0 = north, clockwise")
]
Fov = Annotated[float, Field(gt=0, le=360, allow_inf_nan=False)]
RangeM = Annotated[float, Field(gt=0, le=10_000, allow_inf_nan=False)]


def check_stream_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    scheme = value.partition("://")[0].lower()
    if "://" not in value or scheme not in _STREAM_SCHEMES:
        raise ValueError(f"must be a URL with one of the schemes {', '.join(_STREAM_SCHEMES)}")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain whitespace")
    return value


class _CameraFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("stream_url", "substream_url", check_fields=False)
    @classmethod
    def _stream(cls, value: str | None) -> str | None:
        return check_stream_url(value)

    @model_validator(mode="after")
    def _not_null_island(self) -> Any:
        lat, lon = getattr(self, "lat", None), getattr(self, "lon", None)
        if lat == 0 and lon == 0:
            raise ValueError("lat/lon 0,0 is not a real camera location (missing coordinates?)")
        return self


class CameraCreate(_CameraFields):
    """A new registry entry (admin). ``id`` is generated when omitted."""

    id: str | None = Field(default=None, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    tier: Tier
    kind: CameraKind
    sharing_mode: SharingMode
    lat: Latitude
    lon: Longitude
    address: str = Field(default="", max_length=300)
    owner_id: str | None = Field(default=None, max_length=32)
    heading_deg: Heading | None = None
    fov_deg: Fov | None = None
    range_m: RangeM | None = None
    stream_url: str | None = Field(default=None, max_length=2000)
    substream_url: str | None = Field(default=None, max_length=2000)

    @field_validator("address", mode="before")
    @classmethod
    def _address(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not CAMERA_ID_RE.match(value):
            raise ValueError(
                "camera id must be 1-32 characters: letters, digits, '.', '_', ':', '-'"
            )
        return value


class CameraUpdate(_CameraFields):
    """A partial update (admin): only the fields present change; null clears optionals."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: Tier | None = None
    kind: CameraKind | None = None
    sharing_mode: SharingMode | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    address: str | None = Field(default=None, max_length=300)
    owner_id: str | None = Field(default=None, max_length=32)
    heading_deg: Heading | None = None
    fov_deg: Fov | None = None
    range_m: RangeM | None = None
    stream_url: str | None = Field(default=None, max_length=2000)
    substream_url: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _required_not_null(self) -> CameraUpdate:
        for name in ("name", "tier", "kind", "sharing_mode", "lat", "lon"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CameraPublic(BaseModel):
    """A camera as analysts see it (no credentials)."""

    id: str
    name: str
    tier: str
    kind: str
    sharing_mode: str
    lat: float
    lon: float
    address: str
    owner_id: str | None
    heading_deg: float | None
    fov_deg: float | None
    range_m: float | None
    revoked: bool
    has_stream: bool
    stream_url: str | None
    substream_url: str | None
    updated_at: str | None = Field(description="ISO-8601 UTC")
    version: int
    confirmed_at: str | None = Field(
        default=None, description="ISO-8601 UTC: the owner last confirmed the camera is there"
    )
    stale: bool = Field(
        default=False, description="Not confirmed by its owner in time (still listed, marked)"
    )
    stale_since: str | None = Field(default=None, description="ISO-8601 UTC, when it went stale")


#: A reason or case number: required, stripped, never blank (audited with the action).
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason
