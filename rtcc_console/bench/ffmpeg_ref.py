"""Reference decode cost (the ffmpeg CLI) and the media pipeline's figures against it.

``measure_ffmpeg_decode`` runs ``ffmpeg -threads 1 -i URL -f null -`` per URL, all at once,
and reads each process's CPU (utime + stime from /proc) just before terminating it, so the
wall's own cost can be judged against "what decoding alone costs" on the same machine, the
same streams, the same run. ``python -m rtcc_console.bench.ffmpeg_ref`` prints the media
figures: FeedWorker (decode + scale to BGRA) vs ffmpeg for 4 and 16 HTTP-TS sim feeds,
the simulator's CPU for 32 cameras, first-frame times for HTTP TS and RTSP.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from typing import Any
from urllib.parse import urlsplit


def proc_cpu_s(pid: int | str) -> float | None:
    """utime + stime of process ``pid`` in seconds (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_ffmpeg_decode(
    urls: list[str], seconds: float, *, warmup_s: float = 0.0
) -> dict[str, Any]:
    """CPU seconds per video second per stream of the ffmpeg CLI decoding ``urls`` to null.

    One ``ffmpeg -threads 1`` per URL, run concurrently for ``warmup_s + seconds``. With
    ``warmup_s`` > 0 only the CPU used after the warm-up counts (start-up and probing
    excluded); ``cpu_s_total`` always includes everything.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return {
            "streams": len(urls),
            "cpu_s_per_video_s_per_stream": None,
            "error": "ffmpeg not found",
        }
    procs = []
    for url in urls:
        rtsp = ["-rtsp_transport", "tcp"] if url.lower().startswith("rtsp") else []
        cmd = [
            ffmpeg,
            "-nostdin",
            "-loglevel",
            "error",
            "-threads",
            "1",
            *rtsp,
            "-i",
            url,
            "-f",
            "null",
            "-",
        ]
        procs.append(
            subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    try:
        time.sleep(warmup_s)
        start = [proc_cpu_s(p.pid) if warmup_s > 0 else 0.0 for p in procs]
        t0 = time.monotonic()
        time.sleep(seconds)
        end = [proc_cpu_s(p.pid) for p in procs]  # just before terminating
        elapsed = time.monotonic() - t0
        alive = [p.poll() is None for p in procs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(3)
    used = [
        e - s
        for s, e, a in zip(start, end, alive, strict=True)
        if a and s is not None and e is not None
    ]
    n = len(used)
    return {
        "method": "ffmpeg -threads 1 -f null, /proc utime+stime",
        "streams": len(urls),
        "streams_measured": n,
        "seconds": round(elapsed, 2),
        "warmup_s": warmup_s,
        "cpu_s_total": round(sum(e or 0.0 for e in end), 3),
        "cpu_s_per_video_s_per_stream": round(sum(used) / elapsed / n, 4) if n else None,
    }


def measure_feedworkers(
    urls: list[str],
    seconds: float,
    *,
    warmup_s: float = 3.0,
    out_size: tuple[int, int] = (320, 180),
) -> dict[str, Any]:
    """The same figure for FeedWorker (decode + scale to BGRA) in this process.

    A consumer thread takes frames at 30 Hz like the wall's timer; this process's CPU
    (all threads) is counted over the window after the warm-up.
    """
    from rtcc_console.media.feed import FeedWorker

    workers = [FeedWorker(u, name=f"f{i}", out_size=out_size) for i, u in enumerate(urls)]
    taken = [0] * len(workers)
    done = threading.Event()

    def consume() -> None:
        while not done.wait(1 / 30):
            for i, w in enumerate(workers):
                if w.take_frame() is not None:
                    taken[i] += 1

    consumer = threading.Thread(target=consume, daemon=True)
    for w in workers:
        w.start()
    consumer.start()
    try:
        time.sleep(warmup_s)
        c0, d0 = proc_cpu_s("self"), [w.stats().frames_decoded for w in workers]
        t0 = time.monotonic()
        time.sleep(seconds)
        c1, d1 = proc_cpu_s("self"), [w.stats().frames_decoded for w in workers]
        elapsed = time.monotonic() - t0
    finally:
        done.set()
        for w in workers:
            w.stop(timeout=1.0)
    decoded = [b - a for a, b in zip(d0, d1, strict=True)]
    return {
        "streams": len(urls),
        "seconds": round(elapsed, 2),
        "out_size": list(out_size),
        "cpu_s_per_video_s_per_stream": round(((c1 or 0) - (c0 or 0)) / elapsed / len(urls), 4),
        "decoded_fps_min": round(min(decoded) / elapsed, 2),
        "decoded_fps_median": round(statistics.median(decoded) / elapsed, 2),
    }


def first_frame_s(urls: list[str], opens: int) -> dict[str, Any]:
    """Seconds from ``start()`` to the first frame in the mailbox, ``opens`` times."""
    from rtcc_console.media.feed import FeedWorker

    times = []
    for n in range(opens):
        w = FeedWorker(urls[n % len(urls)], name="ff", out_size=(320, 180))
        t0 = time.monotonic()
        w.start()
        while w.take_frame() is None and time.monotonic() - t0 < 20:
            time.sleep(0.005)
        times.append(time.monotonic() - t0)
        w.stop(timeout=1.0)
        time.sleep(0.37)  # land the next open elsewhere in the sender's GOP
    times.sort()
    return {
        "opens": opens,
        "median_s": round(statistics.median(times), 3),
        "max_s": round(times[-1], 3),
    }


def simulator_cpu(count: int, seconds: float) -> dict[str, Any]:
    """CPU of a ``count``-camera simulator process while a client reads every TS stream."""
    from rtcc_console.bench.wall_support import SimProcess

    with SimProcess(count) as sim:
        pid = sim._proc.pid or 0  # the benchmark's own child
        stop = threading.Event()
        readers = [threading.Thread(target=_drain, args=(u, stop), daemon=True) for u in sim.urls]
        for r in readers:
            r.start()
        time.sleep(2.0)
        c0, t0 = proc_cpu_s(pid), time.monotonic()
        time.sleep(seconds)
        c1, elapsed = proc_cpu_s(pid), time.monotonic() - t0
        stop.set()
    cpu = (c1 or 0) - (c0 or 0)
    return {
        "cameras": count,
        "seconds": round(elapsed, 2),
        "cpu_s_per_s": round(cpu / elapsed, 4),
        "cpu_s_per_s_per_camera": round(cpu / elapsed / count, 5),
        "simulator": sim.simulator,
    }


def _drain(url: str, stop: threading.Event) -> None:
    parts = urlsplit(url)
    with socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 80), timeout=5
    ) as s:
        s.sendall(f"GET {parts.path} HTTP/1.0\r\n\r\n".encode("ascii"))
        while not stop.is_set() and s.recv(65536):
            pass


def main(argv: list[str] | None = None) -> int:
    """Print the media figures as JSON (``python -m rtcc_console.bench.ffmpeg_ref``)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--feeds", type=int, nargs="+", default=[4, 16])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--sim-cameras", type=int, default=32)
    p.add_argument("--opens", type=int, default=6)
    args = p.parse_args(argv)
    from rtcc_console.bench.wall_support import SimProcess
    from rtcc_console.sim.cameras import SimCameraServer

    result: dict[str, Any] = {"cpus": os.cpu_count()}
    with SimProcess(max(args.feeds)) as sim:
        result["source"] = sim.description
        for n in args.feeds:
            urls = sim.urls[:n]
            result[f"feedworker_{n}"] = measure_feedworkers(urls, args.seconds)
            result[f"ffmpeg_{n}"] = measure_ffmpeg_decode(urls, args.seconds, warmup_s=3.0)
    result["simulator"] = simulator_cpu(args.sim_cameras, args.seconds)
    with SimCameraServer(2, rtsp=True) as live:
        result["first_frame_http_ts"] = first_frame_s([live.url(i) for i in range(2)], args.opens)
        result["first_frame_rtsp"] = first_frame_s(
            [live.url(i, "rtsp") for i in range(2)], args.opens
        )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
