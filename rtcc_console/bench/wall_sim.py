"""A stand-in camera simulator for ``rtcc bench wall`` while ``rtcc_console.sim.cameras``
is not available: pre-encoded 720p15 H.264 loops (``sim.media_gen``, cached) served as
live MPEG-TS over loopback HTTP, paced at the frame rate, each client muxed on its own.

Only the benchmark uses it, in a child process; the real simulator replaces it as soon as
it exists (see ``wall_support.SimProcess``).
"""

from __future__ import annotations

import logging
import threading
import time
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)
DISTINCT_LOOPS = 36  # one loop per camera (rendered once, then cached on disk)


class LoopServer:
    """``count`` cameras at ``http://127.0.0.1:PORT/cam/<i>.ts``."""

    def __init__(self, count: int, *, fps: int = 15, size: tuple[int, int] = (1280, 720)) -> None:
        from rtcc_console.sim.media_gen import LoopSpec, load_or_render

        self.count, self.fps = count, fps
        self.epoch = time.monotonic()
        self.loops = [
            load_or_render(LoopSpec(name=f"Sim camera {i + 1}", index=i, fps=fps, size=size))[0]
            for i in range(min(count, DISTINCT_LOOPS))
        ]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                try:
                    index = int(self.path.rsplit("/", 1)[1].split(".")[0])
                except (IndexError, ValueError):
                    index = -1
                if not 0 <= index < server.count:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.end_headers()
                try:
                    server.stream(index, self.wfile)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client went away

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # a wall connects all its cameras at once

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, index: int, kind: str = "ts") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/cam/{index}.ts"

    def stream(self, index: int, wfile: Any) -> None:
        """Mux the camera's loop into ``wfile`` forever, one frame every 1/fps seconds."""
        import av

        loop = self.loops[index % len(self.loops)]
        out = av.open(wfile, mode="w", format="mpegts", options={"flush_packets": "1"})
        stream = out.add_stream("h264", rate=self.fps)
        stream.width, stream.height = loop.width, loop.height
        tb = Fraction(1, self.fps)
        t0 = time.monotonic()
        n = 0
        # like a real camera, a new viewer joins the live timeline mid-GOP, not at a keyframe
        offset = int((t0 - self.epoch) * self.fps) % len(loop.packets)
        packets = loop.packets[offset:] + loop.packets[:offset]
        try:
            while True:
                for pkt in packets:
                    packet = av.Packet(pkt.data)
                    packet.stream = stream
                    packet.time_base = tb
                    packet.pts = packet.dts = n
                    packet.is_keyframe = pkt.keyframe
                    due = t0 + n / self.fps
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    out.mux(packet)
                    n += 1
        finally:
            try:
                out.close()
            except (OSError, ValueError, av.error.FFmpegError):
                pass
