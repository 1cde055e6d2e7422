"""The demo's world, without Qt: camera simulator, Dallas registry, server, CAD feed.

``DemoEnvironment`` is a context manager. ``start()`` makes a temporary directory, starts
the camera simulator (``sim.cameras.SimCameraServer`` when it is available, else the
stand-in ``bench.wall_sim.LoopServer``), seeds a Connect Dallas-shaped registry whose
integrated cameras stream from that simulator, starts the embedded server (dev mode,
SQLite in the temporary directory), creates the demo analyst with a random password that
only lives in memory, and starts a thread that posts simulated CAD calls: a handful at
once, then one every few seconds, some of them status updates of earlier incidents.
``stop()`` undoes all of it, in reverse order, whatever failed on the way.
"""

from __future__ import annotations

import logging
import random
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

DEMO_USER = "demo"
CAD_USER = "cad-feed"


@dataclass(slots=True)
class FeedStats:
    """What the CAD feed thread has done (read by tests and the demo's status line)."""

    posted: int = 0
    failed: int = 0
    incident_ids: list[str] = field(default_factory=list)


def start_camera_simulator(count: int) -> tuple[Any, str]:
    """Start ``count`` simulated cameras; return (server, URL template with ``{index}``)."""
    server: Any
    try:
        from rtcc_console.sim.cameras import SimCameraServer

        server = SimCameraServer(count)
        server.start()
        kind = "sim.cameras"
    except Exception as exc:  # noqa: BLE001 - not there yet (or broken): use the stand-in
        log.info("sim.cameras unavailable (%s); using the bench stand-in simulator", exc)
        from rtcc_console.bench.wall_sim import LoopServer

        server = LoopServer(count)
        server.start()
        kind = "bench.wall_sim"
    last = count - 1
    template = server.url(last).replace(f"/cam/{last}", "/cam/{index}")
    if "{index}" not in template:
        server.stop()
        raise RuntimeError(f"unexpected camera URL shape: {server.url(last)}")
    log.info("camera simulator (%s): %d streams at %s", kind, count, template)
    return server, template


class CadFeed(threading.Thread):
    """Posts generated calls with current times: ``initial`` at once, then one per interval."""

    def __init__(self, base_url: str, username: str, password: str, *, seed: int = 1,
                 initial: int = 6, interval_s: tuple[float, float] = (5.0, 8.0)) -> None:
        super().__init__(name="demo-cad-feed", daemon=True)
        from rtcc_console.sim.cad import generate_calls
        from rtcc_console.sim.cad_post import CallPoster

        self.rng = random.Random(seed)
        now = datetime.now(UTC)
        # Only calls with coordinates: the demo shows them on the map at once.
        records = generate_calls(self.rng, 400, now, id_prefix=f"DEMO-{now:%H%M%S}")
        self.records = [r for r in records if r.get("lat") is not None]
        self.poster = CallPoster(base_url, username=username, password=password, give_up_after_s=20.0)
        self.initial, self.interval_s = initial, interval_s
        self.stats = FeedStats()
        self._halt = threading.Event()
        self._reported: dict[str, str] = {}

    def _retime(self, record: dict[str, Any], moment: datetime) -> dict[str, Any]:
        """The record as if the CAD sent it at ``moment`` (updates keep their reported time)."""
        stamp = moment.isoformat()
        reported = self._reported.setdefault(record["incident_id"], stamp)
        return {**record, "reported_at": reported, "updated_at": stamp}

    def post(self, record: dict[str, Any], moment: datetime) -> None:
        from rtcc_console.sim.cad_post import to_outgoing

        try:
            ok = self.poster.deliver(to_outgoing(self._retime(record, moment), "simple"))
        except Exception as exc:  # noqa: BLE001 - the feed must outlive one bad post
            log.warning("CAD feed: %s not posted: %s", record["incident_id"], exc)
            ok = False
        if ok:
            self.stats.posted += 1
            if record["incident_id"] not in self.stats.incident_ids:
                self.stats.incident_ids.append(record["incident_id"])
        else:
            self.stats.failed += 1

    def run(self) -> None:
        backlog = self.records[: self.initial]
        start = datetime.now(UTC)
        for i, record in enumerate(backlog):  # the last few minutes, oldest first
            self.post(record, start.replace(microsecond=0) - (len(backlog) - i) * timedelta(minutes=3))
        for record in self.records[self.initial:]:
            if self._halt.wait(self.rng.uniform(*self.interval_s)):
                return
            self.post(record, datetime.now(UTC))

    def stop(self) -> None:
        self._halt.set()


class DemoEnvironment:
    """Everything the console needs to show a live demo, on loopback, in a temp directory."""

    def __init__(self, *, streams: int = 16, seed: int = 2024, n_registered: int = 2306,
                 n_integrated: int = 276, initial_calls: int = 6,
                 call_interval_s: tuple[float, float] = (5.0, 8.0)) -> None:
        self.streams, self.seed = streams, seed
        self.n_registered, self.n_integrated = n_registered, n_integrated
        self.initial_calls, self.call_interval_s = initial_calls, call_interval_s
        self.username = DEMO_USER
        self.password = secrets.token_urlsafe(18)  # in memory only
        self._cad_password = secrets.token_urlsafe(18)
        self.tmp: Path | None = None
        self.base_url = ""
        self.simulator: Any = None
        self.server: Any = None
        self.feed: CadFeed | None = None
        self.timings: dict[str, float] = {}

    @property
    def credentials(self) -> tuple[str, str]:
        return self.username, self.password

    def start(self) -> DemoEnvironment:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from rtcc_console.config import ServerSettings
        from rtcc_console.server.embedded import EmbeddedServer
        from rtcc_console.sim.seed import generate_registry, seed_database

        t0 = time.perf_counter()
        self.tmp = Path(tempfile.mkdtemp(prefix="rtcc-demo-"))
        self.simulator, template = start_camera_simulator(self.streams)
        t1 = time.perf_counter()
        registry = generate_registry(seed=self.seed, n_registered=self.n_registered,
                                     n_integrated=self.n_integrated, stream_base=template,
                                     stream_pool=self.streams)
        db_url = f"sqlite:///{self.tmp / 'rtcc.sqlite'}"
        seed_database(db_url, registry)
        t2 = time.perf_counter()
        settings = ServerSettings(dev_mode=True, port=0, db_url=db_url, vault_dir=self.tmp / "vault",
                                  secret_key=secrets.token_urlsafe(32), argon2_time_cost=1,
                                  argon2_memory_kib=8192, argon2_parallelism=1)
        self.server = EmbeddedServer(settings)
        self.base_url = self.server.start()
        self.server.ensure_user(self.username, "analyst", self.password)
        self.server.ensure_user(CAD_USER, "analyst", self._cad_password)
        t3 = time.perf_counter()
        self.timings = {"simulator_s": t1 - t0, "seed_s": t2 - t1, "server_s": t3 - t2}
        if self.initial_calls >= 0:
            self.feed = CadFeed(self.base_url, CAD_USER, self._cad_password, seed=self.seed,
                                initial=self.initial_calls, interval_s=self.call_interval_s)
            self.feed.start()

    def stop(self) -> None:
        """Stop the feed, the server and the simulator; delete the temporary directory."""
        if self.feed is not None:
            self.feed.stop()
            self.feed.join(timeout=15)
            self.feed = None
        for name in ("server", "simulator"):
            part = getattr(self, name)
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # noqa: BLE001 - keep tearing down the rest
                    log.warning("demo %s did not stop cleanly: %s", name, exc)
                setattr(self, name, None)
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def __enter__(self) -> DemoEnvironment:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
