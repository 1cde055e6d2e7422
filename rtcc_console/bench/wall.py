"""`rtcc bench wall`: the real video wall, offscreen, against simulated 720p15 H.264 feeds.

What it measures (one process, simulator in a subprocess so its CPU is not counted):

* delivered frame rate per tile (distinct frames painted), min and median, and drops;
* the wall process's CPU seconds per second of video per tile (getrusage deltas over the
  measurement window: decode + scale + paint + Python), and the same figure for the
  ffmpeg CLI decoding the same streams to null in the same run, and their ratio;
* time to first frame when opening a camera cold (grant + connect + keyframe) and
  pre-warmed (adopting a running worker), p50/p95 over several opens.

The machine is usually shared: every result carries the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from rtcc_console.bench.common import emit, machine_info
from rtcc_console.bench.ffmpeg_ref import measure_ffmpeg_decode
from rtcc_console.bench.wall_support import SimProcess, percentile
from rtcc_console.core.models import Tier


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class WallBench:
    """Drives one offscreen VideoWall through the measurements."""

    def __init__(self, urls: list[str], size: tuple[int, int], tiles: int) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        from rtcc_console.ui.wall import LocalGrantService, VideoWall
        from rtcc_console.ui.wall.layout import layout_for_tiles

        self.app = QApplication.instance() or QApplication(["rtcc-bench-wall"])
        self.urls = urls
        self.tmp = tempfile.TemporaryDirectory(prefix="rtcc-bench-wall-")
        self.grants = LocalGrantService(lambda cid: urls[int(cid.rsplit("-", 1)[1])])
        self.wall = VideoWall(
            self.grants,
            user="bench",
            layout=layout_for_tiles(tiles).name,
            snapshot_dir=Path(self.tmp.name) / "snapshots",
            presets_file=Path(self.tmp.name) / "presets.json",
        )
        self.wall.resize(*size)
        self.wall.show()
        self.wall.set_reason("benchmark")

    # --- event loop helpers -------------------------------------------------------------
    def spin(self, seconds: float) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.spin(0.005)
        return predicate()

    @staticmethod
    def camera(i: int) -> Any:
        from rtcc_console.ui.wall import CameraRef

        return CameraRef(f"cam-{i}", f"Sim camera {i + 1}", Tier.INTEGRATED)

    # --- steady state -------------------------------------------------------------------
    def steady_state(self, tiles: int, warmup_s: float, seconds: float) -> dict[str, Any]:
        wall = self.wall
        for i in range(tiles):
            wall.open_camera(self.camera(i), "benchmark", i)
        shown = wall.tiles[:tiles]
        all_live = self.wait_until(lambda: all(t.frames_shown > 0 for t in shown), 30.0)
        self.spin(warmup_s)
        feeds = [wall.feeds.feeds[t] for t in shown if t in wall.feeds.feeds]

        def dropped() -> int:
            return sum(f.worker.stats().frames_dropped for f in feeds if f.worker is not None)

        def decoded() -> int:
            return sum(f.worker.stats().frames_decoded for f in feeds if f.worker is not None)

        frames0 = [t.frames_shown for t in shown]
        drops0, dec0, cpu0, gui0, t0 = (
            dropped(),
            decoded(),
            _cpu_s(),
            time.thread_time(),
            time.monotonic(),
        )
        self.spin(seconds)
        elapsed, cpu, gui = time.monotonic() - t0, _cpu_s() - cpu0, time.thread_time() - gui0
        fps = [(t.frames_shown - f0) / elapsed for t, f0 in zip(shown, frames0, strict=True)]
        result = {
            "tiles": tiles,
            "all_tiles_live": all_live,
            "tiles_not_delivering": [
                f"tile {t.index}: {t.badge.text} {t.badge.detail}".strip()
                for t, f0 in zip(shown, frames0, strict=True)
                if t.frames_shown == f0
            ],
            "tile_size_px": [shown[-1].width(), shown[-1].height()],
            "seconds": round(elapsed, 2),
            "delivered_fps_min": round(min(fps), 2),
            "delivered_fps_median": round(statistics.median(fps), 2),
            "decoded_fps_per_tile": round((decoded() - dec0) / elapsed / tiles, 2),
            "drops_total": dropped() - drops0,
            "wall_cpu_s_per_video_s_per_tile": round(cpu / elapsed / tiles, 4),
            "wall_cpu_cores": round(cpu / elapsed, 3),
            # the GUI thread alone (poll, paint, badges): the wall's own share of the CPU
            "gui_thread_cpu_s_per_video_s_per_tile": round(gui / elapsed / tiles, 4),
        }
        for i in range(tiles):
            wall.close_tile(i)
        self.wait_until(lambda: not wall.feeds.feeds, 5.0)
        self.spin(2.5)  # let the workers stop before anything else is measured
        return result

    # --- time to first frame ------------------------------------------------------------
    def first_frames(self, opens: int, cameras: int) -> dict[str, Any]:
        wall = self.wall
        wall.set_layout("2x2")
        tile = wall.tiles[0]
        cold: list[float] = []
        warm: list[float] = []
        rng = random.Random(7)  # opens land at random points of the cameras' 2 s GOPs
        for n in range(opens):
            cam = self.camera(n % cameras)
            t0 = time.monotonic()
            wall.open_camera(cam, "benchmark", 0)
            if self.wait_until(lambda: tile.first_shown_at is not None, 10.0):
                cold.append(tile.first_shown_at - t0)  # type: ignore[operator]
            wall.close_tile(0)
            self.spin(rng.uniform(0.3, 2.3))
        for n in range(opens):
            cam = self.camera(n % cameras)
            wall.prewarm([cam], "benchmark")
            self.wait_until(partial(self._warm_has_frame, cam.id), 10.0)
            t0 = time.monotonic()
            wall.open_camera(cam, "benchmark", 0)
            if self.wait_until(lambda: tile.first_shown_at is not None, 10.0):
                warm.append(tile.first_shown_at - t0)  # type: ignore[operator]
            wall.close_tile(0)
            self.spin(0.3)
        return {
            "first_frame_cold_ms": _ms_summary(cold, opens),
            "first_frame_prewarmed_ms": _ms_summary(warm, opens),
        }

    def _warm_has_frame(self, camera_id: str) -> bool:
        feed = self.wall.prewarm_pool.entries.get(camera_id)
        return (
            feed is not None and feed.worker is not None and feed.worker.stats().frames_decoded > 0
        )

    def screenshot(self, path: Path, seconds: float) -> None:
        """A 3x3 wall for the docs: seven live feeds, a registered camera refused and a
        revoked feed, diagnostics shown; grabbed to ``path``."""
        from rtcc_console.ui.wall import CameraRef

        wall = self.wall
        wall.set_layout("3x3")
        wall.set_reason("case 26-001234")
        for i in range(9):
            wall.open_camera(self.camera(i), "case 26-001234", i)
        wall.set_show_stats(True)
        self.wait_until(lambda: all(t.first_shown_at is not None for t in wall.tiles[:9]), 30.0)
        self.spin(seconds)
        wall.open_camera(
            CameraRef("cam-reg-1", "Oak Ave 310 porch (registered)", Tier.REGISTERED),
            "case 26-001234",
            7,
        )
        revoked = wall.feeds.feeds[wall.tiles[8]]
        wall.on_grant_revoked(
            revoked.grant.id if revoked.grant else None, revoked.camera.id, "owner revoked access"
        )
        self.spin(0.5)
        path.parent.mkdir(parents=True, exist_ok=True)
        wall.grab().save(str(path))

    def close(self) -> None:
        self.wall.shutdown()
        self.wall.deleteLater()
        self.tmp.cleanup()


def _ms_summary(samples_s: list[float], attempts: int) -> dict[str, Any]:
    ms = sorted(x * 1000.0 for x in samples_s)
    if not ms:
        return {"n": 0, "attempts": attempts}
    return {
        "n": len(ms),
        "attempts": attempts,
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "max": round(ms[-1], 1),
    }


def _targets(r: dict[str, Any], fps: int) -> dict[str, bool | None]:
    """The stated targets, each True/False (None: not measured in this run)."""
    s = r["steady"]
    ratio = r.get("wall_to_ffmpeg_ratio")
    cold = r.get("first_frame_cold_ms", {}).get("p95")
    warm = r.get("first_frame_prewarmed_ms", {}).get("p95")
    return {
        "full_frame_rate_every_tile (min >= 95%)": s["delivered_fps_min"] >= 0.95 * fps,
        "cpu_vs_ffmpeg_le_1.3": None if ratio is None else ratio <= 1.3,
        "first_frame_prewarmed_p95_lt_300ms": None if warm is None else warm < 300,
        "first_frame_cold_p95_lt_2300ms": None if cold is None else cold < 2300,
    }


def _human(r: dict[str, Any]) -> str:
    s = r["steady"]
    lines = [
        f"video wall: {s['tiles']} tiles of {s['tile_size_px'][0]}x{s['tile_size_px'][1]} px, "
        f"{r['source']}, {s['seconds']} s measured (load avg {r['machine']['load_avg_1_5_15']})",
        f"  delivered fps per tile: min {s['delivered_fps_min']}, median {s['delivered_fps_median']} "
        f"(decoded {s['decoded_fps_per_tile']}); drops {s['drops_total']}",
        f"  wall CPU: {s['wall_cpu_s_per_video_s_per_tile']} CPU-s per video-s per tile "
        f"({s['wall_cpu_cores']} cores in all; GUI thread {s['gui_thread_cpu_s_per_video_s_per_tile']})",
    ]
    if "ffmpeg" in r:
        f = r["ffmpeg"]
        lines.append(
            f"  ffmpeg decode-only: {f['cpu_s_per_video_s_per_stream']} CPU-s per video-s per stream; "
            f"wall / ffmpeg = {r['wall_to_ffmpeg_ratio']}"
        )
    for key in ("first_frame_cold_ms", "first_frame_prewarmed_ms"):
        if key in r:
            lines.append(f"  {key}: {r[key]}")
    lines.append(f"  targets: {r['targets']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rtcc bench wall", description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=16, help="simulated feeds on the wall (1-36)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument(
        "--opens", type=int, default=6, help="opens for first-frame times (0: skip)"
    )
    parser.add_argument("--size", default="1920x1080", help="wall size in pixels")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip the ffmpeg reference")
    parser.add_argument(
        "--screenshot", type=Path, default=None, help="also save a 3x3 wall PNG here"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.tiles <= 36:
        parser.error("--tiles must be between 1 and 36")
    width, height = (int(v) for v in args.size.lower().split("x"))

    with SimProcess(max(args.tiles, 9), fps=args.fps, size=(1280, 720)) as sim:
        bench = WallBench(sim.urls, (width, height), args.tiles)
        try:
            result: dict[str, Any] = {
                "benchmark": "wall",
                "machine": machine_info(),
                "source": f"{sim.description}, loopback HTTP TS",
            }
            result["steady"] = bench.steady_state(args.tiles, args.warmup, args.seconds)
            if not args.no_ffmpeg:
                # ffmpeg needs ~2-4 s to probe and reach a keyframe before it decodes steadily
                ref = measure_ffmpeg_decode(
                    sim.urls[: args.tiles], args.seconds, warmup_s=max(args.warmup, 5.0)
                )
                result["ffmpeg"] = ref
                per = ref["cpu_s_per_video_s_per_stream"]
                result["wall_to_ffmpeg_ratio"] = (
                    round(result["steady"]["wall_cpu_s_per_video_s_per_tile"] / per, 2)
                    if per
                    else None
                )
            if args.opens:
                result.update(bench.first_frames(args.opens, min(args.tiles, len(sim.urls))))
            if args.screenshot is not None:
                bench.screenshot(args.screenshot, 3.0)
                result["screenshot"] = str(args.screenshot)
            result["targets"] = _targets(result, args.fps)
            result["machine_after"] = machine_info()["load_avg_1_5_15"]
        finally:
            bench.close()
    emit(result, as_json=args.json, human=_human)
    return 0
