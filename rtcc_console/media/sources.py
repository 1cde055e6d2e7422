"""How each kind of stream URL is opened: av.open options, format and pacing.

One place knows that RTSP wants TCP interleaving and a socket timeout, that HTTP wants a
read/write timeout and reconnect-off (the worker reconnects itself, with backoff), that an
MJPEG camera speaks multipart/x-mixed-replace (FFmpeg's ``mpjpeg`` demuxer) and that a
local file must be paced at its native rate to behave like a camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from rtcc_console.core.redact import redact_stream_url
from rtcc_console.core.redact import redact_text as core_redact_text


class SourceKind(StrEnum):
    RTSP = "rtsp"
    HLS = "hls"
    HTTP_TS = "http_ts"
    MJPEG = "mjpeg"
    HTTP = "http"  # other HTTP: let FFmpeg probe
    FILE = "file"


@dataclass(frozen=True)
class OpenSpec:
    """Arguments for ``av.open`` plus how the worker treats the source."""

    url: str
    kind: SourceKind
    options: dict[str, str] = field(default_factory=dict)
    format: str | None = None
    paced: bool = False  # local files: sleep to the packets' timestamps
    loop: bool = False  # local files: start over at the end, like a camera that never stops


def redact(url: str) -> str:
    """The URL without credentials: the project-wide ``redact_stream_url``."""
    return redact_stream_url(url)


def redact_text(text: str, url: str = "") -> str:
    """``text`` (an error message that may quote ``url``) with every credential removed.

    The exact URL is replaced first (FFmpeg quotes it verbatim), then the project-wide
    ``redact_text`` catches anything else that looks like a credential.
    """
    if url:
        text = text.replace(url, redact_stream_url(url))
    return core_redact_text(text)


def classify(url: str) -> SourceKind:
    """Which kind of source ``url`` names."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    path = parts.path.lower()
    if scheme in {"rtsp", "rtsps", "rtspt"}:
        return SourceKind.RTSP
    if scheme in {"http", "https"}:
        if path.endswith(".m3u8"):
            return SourceKind.HLS
        if path.endswith((".mjpeg", ".mjpg", ".cgi")) or "mjpeg" in path or "mjpg" in path:
            return SourceKind.MJPEG
        if path.endswith(".ts"):
            return SourceKind.HTTP_TS
        return SourceKind.HTTP
    if scheme in {"", "file"} or (len(scheme) == 1 and Path(url).exists()):  # C:\ paths
        return SourceKind.FILE
    return SourceKind.HTTP


def open_spec(url: str, *, rtsp_transport: str = "tcp", read_timeout_s: float = 3.0) -> OpenSpec:
    """The av.open arguments for ``url``.

    Socket-level timeouts (microseconds) back up PyAV's own interrupt timeout, so a peer
    that accepts and then goes silent fails inside FFmpeg rather than hanging the thread.
    """
    kind = classify(url)
    io_timeout_us = str(int(max(read_timeout_s, 0.1) * 1_000_000))
    # fpsprobesize=0: do not hold the first picture back while FFmpeg counts 20 frames to
    # guess a frame rate (1.3 s at 15 fps); live sources are paced by their sender anyway.
    # Not fflags=nobuffer: it discards the packets read while probing - the keyframe the
    # sender started with - and so delays the first picture by a whole GOP.
    low_delay = {"flags": "low_delay", "fpsprobesize": "0"}
    if kind is SourceKind.RTSP:
        if rtsp_transport not in {"tcp", "udp"}:
            raise ValueError(f"rtsp_transport must be 'tcp' or 'udp', got {rtsp_transport!r}")
        opts = {"rtsp_transport": rtsp_transport, "timeout": io_timeout_us, **low_delay}
        return OpenSpec(url, kind, opts)
    if kind is SourceKind.FILE:
        path = url[len("file://") :] if url.startswith("file://") else url
        return OpenSpec(path, kind, {}, paced=True, loop=True)
    http = {"rw_timeout": io_timeout_us, "reconnect": "0", **low_delay}
    if kind is SourceKind.MJPEG:
        return OpenSpec(url, kind, http, format="mpjpeg")
    if kind is SourceKind.HLS:
        return OpenSpec(url, kind, {"rw_timeout": io_timeout_us})
    if kind is SourceKind.HTTP_TS:
        return OpenSpec(url, kind, http, format="mpegts")
    return OpenSpec(url, kind, http)
