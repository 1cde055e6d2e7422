"""The simulator's RTSP side: a GStreamer RTSP server replaying the cached camera loops.

GstRtspServer comes from Debian's ``gir1.2-gst-rtsp-server-1.0`` and ``python3-gi``, so the
server runs as a child process under the system ``/usr/bin/python3``. This file is both
the parent's handle (``RtspProcess``, standard library only) and the child's program
(``main``, which imports ``gi`` lazily). The child reads the ``.pk`` loop files written by
``sim.media_gen`` itself (no numpy, no av there) and feeds each client's pipeline through an
``appsrc`` paced at the frame rate, starting at a keyframe and looping with continuous
timestamps, each access unit stamped with its send time (``media.wallclock`` SEI, so the
pipeline can show latency): no live encoder anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"
_REC = struct.Struct("<qqBI")


class RtspProcess:
    """The RTSP server child process serving ``rtsp://host:port/cam/{i}`` for ``loops[i]``."""

    def __init__(self, loops: list[Path], *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.loops, self.host, self.port = loops, host, port
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> int:
        """Start the child and return the port it listens on."""
        args = [
            SYSTEM_PYTHON,
            os.path.abspath(__file__),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        # The child imports only the standard-library module media.wallclock from us.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": root}
        self._proc = subprocess.Popen(
            [*args, *map(str, self.loops)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout_s)
        line = self._proc.stdout.readline().decode("ascii", "replace").split() if ready else []
        if len(line) != 2 or line[0] != "READY":
            self.stop()
            raise RuntimeError(f"the RTSP simulator did not start (got {line!r})")
        self.port = int(line[1])
        return self.port

    def stop(self) -> None:
        """Kill the child (abruptly: to a client this looks like a server outage)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


# --- the child (system python + gi) ----------------------------------------------------------


def read_loop(path: str) -> tuple[int, list[tuple[bytes, bool]]]:
    """(fps, [(access unit, keyframe)]) from a ``.pk`` cache file."""
    raw = Path(path).read_bytes()
    nl = raw.index(b"\n")
    fps = int(json.loads(raw[:nl])["fps"])
    units, pos = [], nl + 1
    while pos < len(raw):
        _pts, _dts, flags, size = _REC.unpack_from(raw, pos)
        pos += _REC.size
        units.append((raw[pos : pos + size], bool(flags & 1)))
        pos += size
    return fps, units


def main(argv: list[str] | None = None) -> int:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    from rtcc_console.media.wallclock import h264_sei_nal

    p = argparse.ArgumentParser(description="RTSP camera simulator (child process)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("loops", nargs="+")
    args = p.parse_args(argv)
    Gst.init(None)
    loops = [read_loop(path) for path in args.loops]
    epoch = time.monotonic()

    def feeder(fps: int, units: list[tuple[bytes, bool]]) -> object:
        """need-data handler state for one client's pipeline: pace, loop, timestamp."""
        pos = int((time.monotonic() - epoch) * fps) % len(units)
        start = max(i for i in range(pos + 1) if units[i][1])
        sent = [0]  # frames pushed so far
        t0: list[float] = []  # when the first one was
        dur = Gst.SECOND // fps

        def need_data(src: Any, _length: int) -> None:
            n = sent[0]
            if not t0:
                t0.append(time.monotonic())
            delay = t0[0] + n / fps - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            data, key = units[(start + n) % len(units)]
            buf = Gst.Buffer.new_wrapped(h264_sei_nal(time.time()) + data)  # capture time
            buf.pts = buf.dts = n * dur
            buf.duration = dur
            if not key:
                buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
            sent[0] = n + 1
            src.emit("push-buffer", buf)

        return need_data

    class Factory(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index
            self.set_shared(False)  # each client starts at a keyframe: fast first frame

        def do_create_element(self, url: object) -> object:
            fps, _ = loops[self.index]
            launch = (
                "( appsrc name=src is-live=true format=time block=false "
                "caps=video/x-h264,stream-format=byte-stream,alignment=au,"
                f"framerate={fps}/1 ! h264parse config-interval=-1 ! "
                "rtph264pay name=pay0 pt=96 config-interval=-1 )"
            )
            bin_ = Gst.parse_launch(launch)
            src = bin_.get_by_name("src")
            src.connect("need-data", feeder(*loops[self.index]))
            return bin_

    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for i in range(len(loops)):
        mounts.add_factory(f"/cam/{i}", Factory(i))
    if server.attach(None) == 0:
        sys.stderr.write(f"rtsp sim: cannot listen on {args.host}:{args.port}\n")
        return 1
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()
    loop = GLib.MainLoop()
    threading.Thread(target=_exit_with_parent, args=(loop,), daemon=True).start()
    loop.run()
    return 0


def _exit_with_parent(loop: object) -> None:
    """Quit when the parent goes away (its end of our stdin-less pipe: the ppid changes)."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
