"""Simulated live cameras: pre-encoded loops served as live HTTP MPEG-TS, MJPEG and RTSP.

Nothing is encoded live. Each camera's loop (its name and a time code burned in) is
rendered once by ``sim.media_gen`` and cached on disk; serving is pacing and muxing only,
so one process can feed a 32+ camera wall on a laptop.

* ``/cam/{i}.ts`` - live MPEG-TS: each client starts at a keyframe and gets one frame every
  1/fps seconds, timestamps continuous across loops, every access unit stamped with its
  send time (an SEI the media pipeline turns into latency).
* ``/cam/{i}.mjpeg`` - multipart/x-mixed-replace JPEG, for the first ``mjpeg_count`` cameras.
* ``rtsp://host:port/cam/{i}`` - a GStreamer RTSP server (system python) when ``rtsp=True``.

Fault injection for tests: ``/cam/hang.ts`` accepts and never sends; ``?corrupt=1``
drops a TS packet from every 7th write (loss); ``?resize=1`` switches resolution halfway through the loop;
``?stall_after=S`` goes silent (connection open) after S seconds; ``?freeze_after=S``
repeats one picture after S seconds (frames keep coming); ``?codec=hevc`` serves H.265.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from rtcc_console.sim.cameras_http import CameraHTTPServer, LoopKey
from rtcc_console.sim.media_gen import Loop, LoopSpec, default_cache_dir, load_or_render
from rtcc_console.sim.rtsp_server import RtspProcess

log = logging.getLogger(__name__)

__all__ = ["SimCameraServer", "main"]


class SimCameraServer:
    """``count`` simulated cameras on loopback (context manager; ``start``/``stop``)."""

    def __init__(
        self,
        count: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fps: int = 15,
        size: tuple[int, int] = (1280, 720),
        gop: int = 30,
        mjpeg_count: int = 0,
        rtsp: bool = False,
        rtsp_port: int = 0,
        cache_dir: Path | None = None,
        loop_seconds: float = 4.0,
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count, self.host, self.fps, self.size, self.gop = count, host, fps, size, gop
        self.mjpeg_count = min(max(0, mjpeg_count), count)
        self.rtsp = rtsp
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.loop_seconds = loop_seconds
        self._port = port
        self._rtsp_port = rtsp_port
        self._loops: dict[LoopKey, tuple[Loop, Path]] = {}
        self._lock = threading.Lock()
        self._http: CameraHTTPServer | None = None
        self._rtsp: RtspProcess | None = None

    # --- loops ---------------------------------------------------------------------------

    def spec(self, index: int, *, codec: str = "h264", resize: bool = False) -> LoopSpec:
        """The loop parameters of camera ``index`` (and of its fault-injection variants)."""
        w, h = self.size
        return LoopSpec(
            name=f"Sim camera {index + 1}",
            index=index,
            fps=self.fps,
            size=self.size,
            gop=self.gop,
            seconds=self.loop_seconds,
            codec=codec,
            resize_to=(max(16, w // 2) // 2 * 2, max(16, h // 2) // 2 * 2) if resize else None,
        )

    def loop(self, key: LoopKey) -> tuple[Loop, Path]:
        """The loop for ``(index, codec, resize)``, rendered (or read from cache) on demand."""
        with self._lock:
            found = self._loops.get(key)
        if found is None:
            index, codec, resize = key
            found = load_or_render(self.spec(index, codec=codec, resize=resize), self.cache_dir)
            with self._lock:
                found = self._loops.setdefault(key, found)
        return found

    def prepare(self) -> None:
        """Render or load every camera's loops (two at a time; the encoder releases the GIL)."""
        keys: list[LoopKey] = [(i, "h264", False) for i in range(self.count)]
        keys += [(i, "mjpeg", False) for i in range(self.mjpeg_count)]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(self.loop, keys))
        log.info(
            "sim: %d loops ready in %.1f s (%s)", len(keys), time.monotonic() - t0, self.cache_dir
        )

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the loops and start serving (again on the same ports after ``stop``)."""
        self.prepare()
        if self._http is None:
            self._http = CameraHTTPServer(self, self.host, self._port)
            self._port = self._http.port  # a restart binds the same port
            self._http.start()
        if self.rtsp:
            self.start_rtsp()

    def stop(self) -> None:
        """Stop serving and drop every client connection."""
        self.stop_rtsp()
        if self._http is not None:
            self._http.stop()
            self._http = None

    def start_rtsp(self) -> None:
        """Start the RTSP helper process (on the same port as before, if it ran)."""
        if self._rtsp is not None:
            return
        paths = [self.loop((i, "h264", False))[1] for i in range(self.count)]
        self._rtsp = RtspProcess(paths, host=self.host, port=self._rtsp_port)
        self._rtsp_port = self._rtsp.start()

    def stop_rtsp(self) -> None:
        """Kill the RTSP helper (tests use it to simulate a server outage)."""
        if self._rtsp is not None:
            self._rtsp.stop()
            self._rtsp = None

    def __enter__(self) -> SimCameraServer:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def rtsp_port(self) -> int | None:
        return self._rtsp_port if self._rtsp is not None else None

    def url(self, index: int, kind: str = "ts") -> str:
        """The URL of camera ``index``: ``kind`` is "ts", "mjpeg" or "rtsp"."""
        if not 0 <= index < self.count:
            raise IndexError(f"camera {index} out of range 0..{self.count - 1}")
        if kind == "ts":
            return f"http://{self.host}:{self._port}/cam/{index}.ts"
        if kind == "mjpeg":
            if index >= self.mjpeg_count:
                raise ValueError(
                    f"camera {index} has no MJPEG stream (mjpeg_count={self.mjpeg_count})"
                )
            return f"http://{self.host}:{self._port}/cam/{index}.mjpeg"
        if kind == "rtsp":
            if self._rtsp is None:
                raise ValueError("the RTSP server is not running (rtsp=True)")
            return f"rtsp://{self.host}:{self._rtsp_port}/cam/{index}"
        raise ValueError(f"unknown kind {kind!r}")


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    """``rtcc sim cameras``: serve simulated cameras until Ctrl-C or ``--seconds``."""
    p = argparse.ArgumentParser(prog="rtcc sim cameras", description=__doc__.split("\n")[0])
    p.add_argument("--count", type=int, default=4)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8088)
    p.add_argument("--rtsp-port", type=int, default=None, help="also serve RTSP on this port")
    p.add_argument("--fps", type=int, default=15)
    p.add_argument("--size", type=_size, default=(1280, 720), help="WxH (default 1280x720)")
    p.add_argument("--mjpeg", type=int, default=0, help="MJPEG streams for the first K cameras")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long")
    p.add_argument("--cache-dir", type=Path, default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = SimCameraServer(
        args.count,
        host=args.host,
        port=args.port,
        fps=args.fps,
        size=args.size,
        mjpeg_count=args.mjpeg,
        rtsp=args.rtsp_port is not None,
        rtsp_port=args.rtsp_port or 0,
        cache_dir=args.cache_dir,
    )
    with server:
        for i in range(args.count):
            kinds = (
                ["ts"]
                + (["mjpeg"] if i < server.mjpeg_count else [])
                + (["rtsp"] if server.rtsp else [])
            )
            print("  ".join(server.url(i, k) for k in kinds), flush=True)
        print(f"serving {args.count} cameras; Ctrl-C to stop", flush=True)
        try:
            if args.seconds is not None:
                time.sleep(args.seconds)
            else:
                threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0
