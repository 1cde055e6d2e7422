"""HLS for the officer's field page: a camera's H.264 packets repackaged, never re-encoded.

One :class:`Repackager` per camera however many officers watch: a thread demuxes the
camera's stream with PyAV and cuts it at keyframes into short MPEG-TS segments (at least
``segment_s`` long) kept in a private temporary directory (the newest ``keep``). It starts
on the first playlist request and stops by itself when nobody has asked for anything for
``idle_s`` seconds. The camera's URL (which may carry credentials) stays in this process:
the page only ever sees ``/field/s/{share}/cameras/{camera}/...`` paths, each checked
against the share by the route (routes/field_shares.py).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Segment:
    seq: int
    duration_s: float
    path: Path


class Repackager:
    """Demux one camera, write TS segments; thread-safe readers (playlist/segment)."""

    def __init__(
        self,
        camera_id: str,
        url: str,
        *,
        segment_s: float = 1.0,
        keep: int = 6,
        idle_s: float = 10.0,
    ) -> None:
        self.camera_id = camera_id
        self._url = url
        self.segment_s = segment_s
        self.keep = keep
        self.idle_s = idle_s
        self._dir = Path(tempfile.mkdtemp(prefix="rtcc-hls-"))
        self._segments: deque[Segment] = deque()
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._last_access = time.monotonic()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"hls-{camera_id}", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def touch(self) -> None:
        self._last_access = time.monotonic()

    def stop(self) -> None:
        self._stop.set()

    def playlist(self, *, wait_s: float = 6.0) -> str | None:
        """The live media playlist (segment URIs relative to it), or None when no segment
        came within ``wait_s``."""
        self.touch()
        deadline = time.monotonic() + wait_s
        with self._lock:
            while not self._segments and self.alive and time.monotonic() < deadline:
                self._lock.wait(0.1)
            segments = list(self._segments)
        if not segments:
            return None
        target = max(1, int(max(s.duration_s for s in segments) + 0.999))
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{target}",
            f"#EXT-X-MEDIA-SEQUENCE:{segments[0].seq}",
        ]
        for seg in segments:
            lines += [f"#EXTINF:{seg.duration_s:.3f},", f"seg-{seg.seq}.ts"]
        return "\n".join(lines) + "\n"

    def segment(self, seq: int) -> bytes | None:
        self.touch()
        with self._lock:
            found = next((s for s in self._segments if s.seq == seq), None)
            if found is None:
                return None
            try:
                return found.path.read_bytes()
            except OSError:
                return None

    def _idle(self) -> bool:
        return time.monotonic() - self._last_access > self.idle_s

    def _run(self) -> None:
        try:
            self._pump()
        except Exception as exc:  # noqa: BLE001 - a camera going away must not take the server down
            self.error = type(exc).__name__  # never the URL: it may carry credentials
            log.warning("field HLS for camera %s stopped: %s", self.camera_id, self.error)
        finally:
            with self._lock:
                self._lock.notify_all()
            shutil.rmtree(self._dir, ignore_errors=True)

    def _pump(self) -> None:
        with av.open(
            self._url, options={"rw_timeout": "5000000", "timeout": "5000000"}, timeout=5.0
        ) as src:
            vstream = src.streams.video[0]
            out: Any = None
            ostream: Any = None
            seq = 0
            start_pts: float | None = None
            last_pts = 0.0
            path: Path | None = None
            for packet in src.demux(vstream):
                if self._stop.is_set() or self._idle():
                    break
                if packet.dts is None or packet.pts is None or packet.time_base is None:
                    continue
                t = float(packet.pts * packet.time_base)
                if packet.is_keyframe and (
                    out is None or (start_pts is not None and t - start_pts >= self.segment_s)
                ):
                    if out is not None and path is not None and start_pts is not None:
                        out.close()
                        self._publish(Segment(seq, max(0.001, t - start_pts), path))
                        seq += 1
                    path = self._dir / f"seg-{seq}.ts"
                    out = av.open(str(path), "w", format="mpegts")
                    ostream = out.add_stream_from_template(vstream)
                    start_pts = t
                if out is None:
                    continue  # wait for the first keyframe
                last_pts = t
                packet.stream = ostream
                out.mux(packet)
            if out is not None:
                out.close()
            _ = last_pts

    def _publish(self, seg: Segment) -> None:
        with self._lock:
            self._segments.append(seg)
            while len(self._segments) > self.keep:
                old = self._segments.popleft()
                old.path.unlink(missing_ok=True)
            self._lock.notify_all()


class HlsHub:
    """One repackager per camera, started on demand; idle ones stop by themselves."""

    def __init__(self, *, segment_s: float = 1.0, idle_s: float = 10.0) -> None:
        self.segment_s = segment_s
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._items: dict[str, Repackager] = {}
        self.started = 0  # how many repackagers were started (one per camera while watched)
        self._watched: set[tuple[str, str]] = set()

    def mark_watched(self, share_id: str, camera_id: str) -> bool:
        """True the first time a share's officer asks for a camera (audited once, not per segment)."""
        with self._lock:
            if (share_id, camera_id) in self._watched:
                return False
            self._watched.add((share_id, camera_id))
            return True

    def get(self, camera_id: str, url: str | None) -> Repackager | None:
        """The camera's running repackager, started from ``url`` when none runs."""
        with self._lock:
            found = self._items.get(camera_id)
            if found is not None and found.alive:
                found.touch()
                return found
            if url is None:
                return None
            rep = Repackager(camera_id, url, segment_s=self.segment_s, idle_s=self.idle_s)
            self._items[camera_id] = rep
            self.started += 1
            return rep

    def running(self, camera_id: str) -> Repackager | None:
        with self._lock:
            found = self._items.get(camera_id)
            return found if found is not None and found.alive else None

    def stop_camera(self, camera_id: str) -> None:
        with self._lock:
            found = self._items.pop(camera_id, None)
        if found is not None:
            found.stop()

    def stop_all(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for rep in items:
            rep.stop()
