"""The vault's wire objects as the console uses them (``docs/api/vault.md``).

Strict about what the console depends on (id, hashes, integrity), lenient about the rest,
so a newer server adding fields never breaks an older console. Owners appear only as a
kind ("residential", "business"...): the server never sends a name, and nothing here
would keep one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rtcc_console.client.convert import parse_time

INTEGRITY_STATES = ("ok", "failed", "unverified")


@dataclass(frozen=True, slots=True)
class MediaInfo:
    duration_s: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    start_time: datetime | None = None  # as the camera's clock stamped it


@dataclass(frozen=True, slots=True)
class Evidence:
    """One evidence item (a submission; several may share the same bytes)."""

    id: str
    sha256: str
    size: int
    filename: str
    integrity: str  # "ok" | "failed" | "unverified"
    sha512: str = ""
    content_type: str = ""
    kind: str = "video"  # "video" | "image"
    media: MediaInfo = MediaInfo()
    clock_offset_s: float = 0.0  # camera clock minus true time
    camera_id: str | None = None
    call_id: str | None = None
    owner_kind: str | None = None
    request_id: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    case_numbers: tuple[str, ...] = ()
    received_at: datetime | None = None
    derived_from: str | None = None
    has_thumbnail: bool = False

    @property
    def integrity_failed(self) -> bool:
        return self.integrity == "failed"

    @property
    def true_start(self) -> datetime | None:
        """The recording's first picture in true time: the camera's stamp corrected by the
        owner's stated clock offset (camera clock minus true time)."""
        start = self.media.start_time
        return None if start is None else start - timedelta(seconds=self.clock_offset_s)

    def recorded_at(self, offset_s: float) -> datetime | None:
        """True time of the picture ``offset_s`` seconds into the recording."""
        start = self.true_start
        return None if start is None else start + timedelta(seconds=offset_s)

    @property
    def is_video(self) -> bool:
        return self.kind != "image"


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def media_from_json(d: Any) -> MediaInfo:
    if not isinstance(d, dict):
        return MediaInfo()
    return MediaInfo(
        duration_s=_opt_float(d.get("duration_s")),
        codec=_opt_str(d.get("codec")),
        width=_opt_int(d.get("width")),
        height=_opt_int(d.get("height")),
        start_time=parse_time(d.get("start_time")),
    )


def evidence_from_json(d: dict[str, Any]) -> Evidence:
    """An evidence object of the API; ``KeyError``/``ValueError`` on a broken one."""
    integrity = str(d.get("integrity") or "unverified")
    if integrity not in INTEGRITY_STATES:
        integrity = "unverified"
    window = d.get("requested_window") if isinstance(d.get("requested_window"), dict) else {}
    assert isinstance(window, dict)
    cases = d.get("case_numbers") or []
    return Evidence(
        id=str(d["id"]),
        sha256=str(d["sha256"]),
        size=int(d.get("size") or 0),
        filename=str(d.get("filename") or d["id"]),
        integrity=integrity,
        sha512=str(d.get("sha512") or ""),
        content_type=str(d.get("content_type") or ""),
        kind=str(d.get("kind") or "video"),
        media=media_from_json(d.get("media")),
        clock_offset_s=float(d.get("clock_offset_s") or 0.0),
        camera_id=_opt_str(d.get("camera_id")),
        call_id=_opt_str(d.get("call_id")),
        owner_kind=_opt_str(d.get("owner_kind")),
        request_id=_opt_str(d.get("request_id")),
        window_start=parse_time(window.get("start")),
        window_end=parse_time(window.get("end")),
        case_numbers=tuple(str(c) for c in cases if isinstance(c, str)),
        received_at=parse_time(d.get("received_at")),
        derived_from=_opt_str(d.get("derived_from")),
        has_thumbnail=bool(d.get("has_thumbnail")),
    )


@dataclass(frozen=True, slots=True)
class ExportJob:
    """A case export running on the server (``/cases/{case}/exports/{id}``)."""

    id: str
    case_number: str
    status: str  # queued | running | done | failed | cancelled
    progress: float = 0.0
    bytes_done: int = 0
    bytes_total: int = 0
    error: str | None = None
    download_url: str | None = None
    sha256: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")


def export_from_json(d: dict[str, Any], case_number: str = "") -> ExportJob:
    return ExportJob(
        id=str(d["id"]),
        case_number=str(d.get("case_number") or case_number),
        status=str(d.get("status") or "queued"),
        progress=min(max(float(d.get("progress") or 0.0), 0.0), 1.0),
        bytes_done=int(d.get("bytes_done") or 0),
        bytes_total=int(d.get("bytes_total") or 0),
        error=_opt_str(d.get("error")),
        download_url=_opt_str(d.get("download_url")),
        sha256=_opt_str(d.get("sha256")),
    )
