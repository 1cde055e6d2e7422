"""`rtcc bench player`: the evidence player's decode engine (no Qt) on a 720p15 H.264 clip.

Measured in one run, each against a reference taken in the same run on the same file:

* step back, frame by frame, from the end of the clip to its start through ``ClipPlayer``
  (command -> decode thread -> mailbox), p50/p95/max ms; the reference is decoding one
  whole GOP sequentially with PyAV (the work a step back across a keyframe needs);
* playback at 1x and 8x: wall time against the clip's duration / speed, frames delivered,
  and CPU seconds per second of video against a plain PyAV decode + BGRA conversion of
  every frame (the reference);
* opening (whole-file demux for the frame index) against the clip's duration.

Targets: step back p95 <= 100 ms (the key held down feels continuous at 10 steps/s), 8x
within 10 % of duration / 8, 1x CPU <= 1.6x the reference (a decode thread handing frames
to a 60 Hz consumer costs more than a bare loop; measured 1.3-1.55x on a loaded 2-core box).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rtcc_console.bench.common import emit, machine_info


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def reference_decode(path: Path, out_size: tuple[int, int], gop: int) -> dict[str, float]:
    """Plain PyAV: decode + BGRA conversion of every frame; and one GOP's decode time."""
    import av
    from av.video.reformatter import Interpolation, VideoReformatter

    fmt = VideoReformatter()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    frames = 0
    gop_times: list[float] = []
    start = time.perf_counter()
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            fmt.reformat(
                f,
                width=out_size[0],
                height=out_size[1],
                format="bgra",
                interpolation=Interpolation.FAST_BILINEAR,
                threads=1,
            )
            frames += 1
            if frames % gop == 0:
                gop_times.append((time.perf_counter() - start) * 1000.0)
                start = time.perf_counter()
    return {
        "frames": frames,
        "cpu_s": _cpu_s() - cpu0,
        "wall_s": time.perf_counter() - t0,
        "gop_decode_ms_p50": statistics.median(gop_times) if gop_times else 0.0,
    }


def _wait_frame(player: Any, index: int, timeout_s: float = 5.0) -> None:
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        frame = player.take_frame()
        if frame is not None and frame.index == index:
            return
        time.sleep(0.0005)
    raise TimeoutError(f"frame {index} did not arrive")


def run(
    seconds: float, size: tuple[int, int], gop: int, out_size: tuple[int, int]
) -> dict[str, Any]:
    from rtcc_console.media.clip_player import ClipPlayer
    from rtcc_console.sim.clip_file import write_mp4

    fps = 15
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-player-") as tmp:
        path = write_mp4(Path(tmp) / "clip.mp4", seconds=seconds, fps=fps, size=size, gop=gop)
        ref = reference_decode(path, out_size, gop)
        t0 = time.perf_counter()
        player = ClipPlayer(path, out_size=out_size)
        open_ms = (time.perf_counter() - t0) * 1000.0
        try:
            n = player.info.frame_count
            _wait_frame(player, 0)
            player.seek_index(n - 1)
            _wait_frame(player, n - 1)
            steps: list[float] = []
            for i in range(n - 2, -1, -1):
                t = time.perf_counter()
                player.step(-1)
                _wait_frame(player, i)
                steps.append((time.perf_counter() - t) * 1000.0)
            plays: dict[str, Any] = {}
            for speed in (1.0, 8.0):
                player.seek_index(0)
                _wait_frame(player, 0)
                player.set_speed(speed)
                delivered = 0
                cpu0, t = _cpu_s(), time.perf_counter()
                player.play()
                while not player.status().ended and time.perf_counter() - t < seconds * 3:
                    if player.take_frame() is not None:
                        delivered += 1
                    time.sleep(1 / 60)  # a display's refresh
                wall = time.perf_counter() - t
                cpu = _cpu_s() - cpu0
                plays[f"{speed:g}x"] = {
                    "wall_s": round(wall, 3),
                    "ideal_s": round(player.info.duration_s / speed, 3),
                    "over_ideal": round(wall / (player.info.duration_s / speed), 3),
                    "frames_delivered": delivered,
                    "cpu_s_per_video_s": round(cpu / player.info.duration_s, 4),
                }
                player.pause()
        finally:
            player.stop()
    ref_cpu_per_s = ref["cpu_s"] / seconds
    one = plays["1x"]
    result: dict[str, Any] = {
        "benchmark": "player",
        "clip": {
            "seconds": seconds,
            "size": list(size),
            "fps": fps,
            "gop": gop,
            "frames": n,
            "out_size": list(out_size),
        },
        "open_ms": round(open_ms, 1),
        "step_back_ms": {
            "p50": round(statistics.median(steps), 2),
            "p95": round(_pct(steps, 0.95), 2),
            "max": round(max(steps), 2),
            "n": len(steps),
        },
        "reference": {
            "decode_convert_cpu_s_per_video_s": round(ref_cpu_per_s, 4),
            "gop_decode_ms_p50": round(ref["gop_decode_ms_p50"], 2),
        },
        "playback": plays,
        "ratios": {
            "step_back_p95_vs_gop_decode": round(
                _pct(steps, 0.95) / max(ref["gop_decode_ms_p50"], 1e-6), 2
            ),
            "cpu_1x_vs_reference": round(one["cpu_s_per_video_s"] / max(ref_cpu_per_s, 1e-9), 2),
        },
        "targets": {
            "step_back_p95_ms_max": 100.0,
            "over_ideal_8x_max": 1.10,
            "cpu_1x_vs_reference_max": 1.6,
        },
        "machine": machine_info(),
    }
    result["targets_met"] = (
        result["step_back_ms"]["p95"] <= 100.0
        and plays["8x"]["over_ideal"] <= 1.10
        and result["ratios"]["cpu_1x_vs_reference"] <= 1.6
    )
    return result


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def _human(r: dict[str, Any]) -> str:
    s, p = r["step_back_ms"], r["playback"]
    return (
        f"open {r['open_ms']} ms; step back p50 {s['p50']} ms, p95 {s['p95']} ms (one GOP decodes in "
        f"{r['reference']['gop_decode_ms_p50']} ms); 1x: {p['1x']['over_ideal']}x ideal, CPU "
        f"{r['ratios']['cpu_1x_vs_reference']}x the reference; 8x: {p['8x']['over_ideal']}x ideal; "
        f"targets met: {r['targets_met']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rtcc bench player", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", type=_size, default=(1280, 720))
    parser.add_argument("--gop", type=int, default=30)
    parser.add_argument("--out-size", type=_size, default=(960, 540))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.seconds, args.size, args.gop, args.out_size)
    emit(result, as_json=args.json, human=_human)
    return 0
