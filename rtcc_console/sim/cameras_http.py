"""The simulator's HTTP side: live paced MPEG-TS and MJPEG from pre-encoded loops.

Each client gets its own thread and its own muxer: the stream starts at the keyframe at
or before the camera's position on a shared timeline, one frame is sent every 1/fps
seconds, and timestamps keep counting across loop restarts, as a real camera's would.
Serving costs a little muxing and a timer wake-up per frame; nothing is encoded here.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import av
import av.error

from rtcc_console.media.wallclock import h264_sei_nal, hevc_sei_nal
from rtcc_console.sim.media_gen import Loop

if TYPE_CHECKING:
    from rtcc_console.sim.cameras import SimCameraServer

log = logging.getLogger(__name__)

LoopKey = tuple[int, str, bool]  # (camera index, codec, resolution change mid-loop)
BOUNDARY = "rtccframe"
CORRUPT_EVERY = 7  # with ?corrupt=1, every 7th access unit is garbled
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError, OSError)


@dataclass(frozen=True)
class Faults:
    """What a test asked one stream to do wrong (query parameters of its URL)."""

    corrupt: bool = False  # ?corrupt=1: lose a TS packet now and then
    stall_after: float | None = None  # ?stall_after=S: silent (connection open) after S s
    freeze_after: float | None = None  # ?freeze_after=S: the same picture forever after S s

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Faults:
        def seconds(name: str) -> float | None:
            return float(query[name]) if name in query else None

        return cls(query.get("corrupt") == "1", seconds("stall_after"), seconds("freeze_after"))


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a wall connects all its cameras at once
    daemon_threads = True
    allow_reuse_address = True


class CameraHTTPServer:
    """Serves ``owner``'s cameras over HTTP on ``host:port`` from a background thread."""

    def __init__(self, owner: SimCameraServer, host: str, port: int) -> None:
        self.owner = owner
        self.epoch = time.monotonic()
        self.stopping = threading.Event()
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.httpd = _Server((host, port), _handler_class(self))
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="sim-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, cut every client, free the port."""
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)

    def track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._clients.add if add else self._clients.discard)(conn)

    # --- streams -------------------------------------------------------------------------

    def start_index(self, loop: Loop) -> int:
        """The keyframe at or before the camera's position on the shared timeline."""
        pos = int((time.monotonic() - self.epoch) * loop.fps) % loop.frames
        return max(i for i, p in enumerate(loop.packets[: pos + 1]) if p.keyframe)

    def frames(self, loop: Loop, faults: Faults) -> Any:
        """Yield (sequence number, packet) at the frame rate until stopped or stalled."""
        n, start, t0 = 0, self.start_index(loop), time.monotonic()
        while not self.stopping.is_set():
            due = t0 + n / loop.fps
            if faults.stall_after is not None and due - t0 >= faults.stall_after:
                self.stopping.wait()  # connected, silent: what a hung camera looks like
                return
            delay = due - time.monotonic()
            if delay > 0 and self.stopping.wait(delay):
                return
            if faults.freeze_after is not None and due - t0 >= faults.freeze_after:
                yield n, loop.packets[0]  # the same picture again and again: a frozen encoder
            else:
                yield n, loop.packets[(start + n) % loop.frames]
            n += 1

    def stream_ts(self, wfile: io.BufferedIOBase, loop: Loop, faults: Faults) -> None:
        sink: Any = _LossyWriter(wfile) if faults.corrupt else wfile
        out = av.open(sink, mode="w", format="mpegts", options={"flush_packets": "1"})
        try:
            codec = "hevc" if loop.codec == "hevc" else "h264"
            stream = out.add_mux_stream(codec, width=loop.width, height=loop.height)
            tb = Fraction(1, loop.fps)
            stream.time_base = tb
            sei = hevc_sei_nal if codec == "hevc" else h264_sei_nal
            for n, p in self.frames(loop, faults):
                packet = av.Packet(sei(time.time()) + p.data)
                packet.stream = stream
                packet.time_base = tb
                packet.pts = packet.dts = n
                packet.is_keyframe = p.keyframe
                out.mux(packet)
        finally:
            try:
                out.close()
            except (*_GONE, av.error.FFmpegError, ValueError):
                pass

    def stream_mjpeg(self, wfile: io.BufferedIOBase, loop: Loop, faults: Faults) -> None:
        for _, p in self.frames(loop, faults):
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(p.data)}\r\n\r\n"
            )
            wfile.write(head.encode("ascii") + p.data + b"\r\n")


class _LossyWriter:
    """Drops one 188-byte TS packet out of every ``CORRUPT_EVERY``-th write: network loss.

    The demuxer sees a continuity-counter gap and flags the packet corrupt; the decoder
    gets a picture with a hole in it. Exactly what a lossy camera link does.
    """

    def __init__(self, wfile: io.BufferedIOBase) -> None:
        self.wfile = wfile
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes % CORRUPT_EVERY == 0 and len(data) >= 3 * 188:
            data = data[:188] + data[2 * 188 :]
        self.wfile.write(data)
        return len(data)

    def flush(self) -> None:
        self.wfile.flush()


def _handler_class(server: CameraHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            name = parts.path.rsplit("/", 1)[-1]
            stem, _, ext = name.partition(".")
            server.track(self.connection, True)
            try:
                if parts.path == "/cam/hang.ts":
                    server.stopping.wait()  # accept, never answer
                    return
                self._serve(stem, ext, query)
            except _GONE:
                pass  # the client went away
            finally:
                server.track(self.connection, False)

        def _serve(self, stem: str, ext: str, query: dict[str, str]) -> None:
            owner = server.owner
            if not stem.isdigit() or int(stem) >= owner.count:
                self.send_error(404, "no such camera")
                return
            index = int(stem)
            faults = Faults.from_query(query)
            if ext == "ts":
                codec = query.get("codec", "h264")
                if codec not in {"h264", "hevc"}:
                    self.send_error(400, "codec must be h264 or hevc")
                    return
                loop, _ = owner.loop((index, codec, query.get("resize") == "1"))
                self._head("video/mp2t")
                server.stream_ts(self.wfile, loop, faults)
            elif ext == "mjpeg" and index < owner.mjpeg_count:
                loop, _ = owner.loop((index, "mjpeg", False))
                self._head(f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                server.stream_mjpeg(self.wfile, loop, faults)
            else:
                self.send_error(404, "no such stream")

        def _head(self, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("sim http: " + format, *args)

    return Handler
