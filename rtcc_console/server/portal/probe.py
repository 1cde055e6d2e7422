"""'Test connection' for an integrated camera: open the stream with PyAV on the server, in a
worker thread with a timeout, and return the first video frame as PNG."""

from __future__ import annotations

import concurrent.futures
import io
from typing import Any

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="rtcc-portal-probe")


class ProbeFailed(Exception):
    """The stream could not be read; ``str`` is safe to show (no credentials)."""


def _grab(url: str, timeout_s: float) -> bytes:
    import av

    options = {"rtsp_transport": "tcp"} if url.lower().startswith("rtsp") else {}
    try:
        container: Any = av.open(url, options=options, timeout=(timeout_s, timeout_s))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ProbeFailed(f"could not open the stream ({exc.__class__.__name__})") from None
    try:
        for frame in container.decode(video=0):
            out = io.BytesIO()
            image = frame.to_image()
            image.thumbnail((640, 360))
            image.save(out, format="PNG")
            return out.getvalue()
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise ProbeFailed(f"the stream gave no video frame ({exc.__class__.__name__})") from None
    finally:
        container.close()
    raise ProbeFailed("the stream gave no video frame")


def probe_frame(url: str, *, timeout_s: float) -> bytes:
    """One frame as PNG, or :class:`ProbeFailed` (also when ``timeout_s`` passes)."""
    future = _POOL.submit(_grab, url, timeout_s)
    try:
        return future.result(timeout=timeout_s + 2)
    except concurrent.futures.TimeoutError:
        raise ProbeFailed(f"no answer within {timeout_s:g} s") from None
