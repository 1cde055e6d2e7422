"""The vehicle indexer: a low-priority worker process beside the server (issue 17).

Every evidence item that enters the vault (owner uploads, staff uploads, wall clips) gets a
``vehicle_index_jobs`` row; the worker finds items without one by polling, so it needs no
hook in the upload path and never blocks it. The worker runs in its own process (spawned,
``SCHED_IDLE`` and ``os.nice``'d, one onnxruntime thread, one decoder thread), so the server's event loop, the
uploads, playback and the console's wall keep their CPU. One clip failing marks that clip
``failed`` and the worker moves on; a worker that dies mid-clip leaves an expired lease,
the supervisor starts a new worker, and the clip is retried once, then marked ``failed``.

The server-side :class:`IndexerSupervisor` only counts pending items every few seconds; it
starts the worker when there is work, and the worker exits after a quiet minute, so a
server without new evidence pays nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from rtcc_console.store import vehicles as store
from rtcc_console.store.db import begin_write, make_engine, make_session_factory
from rtcc_console.store.schema import EvidenceItemRow

if TYPE_CHECKING:
    from rtcc_console.server.state import AppState

log = logging.getLogger(__name__)

LEASE_S = 30.0
RENEW_EVERY_S = 1.0
POLL_S = 2.0
IDLE_EXIT_S = 60.0
IMAGE_TYPES = ("image/",)

PathFor = Callable[[Session, EvidenceItemRow], Path]


class _Stopped(Exception):
    """The server asked the worker to stop in the middle of a clip."""


class OriginalUnavailable(RuntimeError):
    """The item's original file is missing or does not match its recorded SHA-256."""


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    db_url: str
    vault_dir: str
    fps: float = 2.0
    nice: int = 10
    idle_exit_s: float = IDLE_EXIT_S
    poll_s: float = POLL_S
    model_cache_dir: str | None = None


def vault_original(vault_dir: Path) -> PathFor:
    """The default ``path_for``: the item's content-addressed original under the vault,
    re-hashed before indexing (the index must describe exactly the evidence's bytes)."""

    def path_for(_session: Session, item: EvidenceItemRow) -> Path:
        stored = Path(item.stored_path)
        path = stored if stored.is_absolute() else vault_dir / stored
        if not path.is_file():
            raise OriginalUnavailable(f"original of {item.id} is not in the vault")
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != item.sha256:
            raise OriginalUnavailable(f"original of {item.id} does not match its SHA-256")
        return path

    return path_for


# --- the worker process ----------------------------------------------------------------------


def lower_priority(nice: int) -> str:
    """Make this process yield to everything else: ``SCHED_IDLE`` where the OS has it (it
    then runs only on CPU time nobody else wants: the wall and the console always win),
    else ``os.nice``. Returns what was applied."""
    applied = "none"
    with contextlib.suppress(OSError):
        os.nice(nice)
        applied = f"nice {nice}"
    sched_idle = getattr(os, "SCHED_IDLE", None)
    if sched_idle is not None and hasattr(os, "sched_setscheduler"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, sched_idle, os.sched_param(0))
            applied = f"SCHED_IDLE + {applied}"
    return applied


def worker_main(config: WorkerConfig, stop: MpEvent | None = None) -> None:
    """Entry point of the worker process (also callable in-process by tests and benches)."""
    applied = lower_priority(config.nice)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s vehicle-index %(levelname)s %(message)s"
    )
    log.info("vehicle index worker %s: priority %s", os.getpid(), applied)
    Worker(config).run(stop)


class Worker:
    def __init__(self, config: WorkerConfig, path_for: PathFor | None = None) -> None:
        from rtcc_console.vision.detector import VehicleDetector

        self.config = config
        self.name = f"{socket.gethostname()}:{os.getpid()}"[:64]
        self.engine = make_engine(config.db_url)
        self.sessions = make_session_factory(self.engine)
        self.path_for = path_for or vault_original(Path(config.vault_dir))
        cache = Path(config.model_cache_dir) if config.model_cache_dir else None
        self.detector = VehicleDetector(cache_dir=cache, threads=1)
        self.model = f"yolov3-tiny:{self.detector.model_path.stem[-32:][:12]}"
        self.stop: MpEvent | None = None

    def run(self, stop: MpEvent | None = None) -> None:
        self.stop = stop
        parent = os.getppid()
        idle_since = time.monotonic()
        try:
            while stop is None or not stop.is_set():
                if os.getppid() != parent:
                    log.info("the server is gone; vehicle index worker exiting")
                    return
                if self.run_once():
                    idle_since = time.monotonic()
                    continue
                if time.monotonic() - idle_since > self.config.idle_exit_s:
                    log.info("vehicle index worker idle, exiting")
                    return
                if stop is not None:
                    stop.wait(self.config.poll_s)
                else:
                    time.sleep(self.config.poll_s)
        finally:
            self.engine.dispose()

    def run_once(self) -> bool:
        """Claim and index one item; ``False`` when there was nothing to do."""
        with self.sessions() as session:
            begin_write(session)
            store.release_stale(session)
            item = store.claim_next(session, worker=self.name, lease_s=LEASE_S)
            session.commit()
            if item is None:
                return False
            evidence_id = item.id
            if (item.media_type or "").startswith(IMAGE_TYPES):
                self._fail(evidence_id, "not a video (still image)", status="skipped")
                return True
            try:
                path = self.path_for(session, item)
            except (OriginalUnavailable, LookupError, OSError) as exc:
                self._fail(evidence_id, str(exc) or type(exc).__name__)
                return True
        self._index(evidence_id, path)
        return True

    def _index(self, evidence_id: str, path: Path) -> None:
        from rtcc_console.vision.indexer import ClipError, index_clip

        last = [0.0]

        def progress(fraction: float) -> None:
            if self.stop is not None and self.stop.is_set():
                raise _Stopped
            now = time.monotonic()
            if now - last[0] < RENEW_EVERY_S and fraction < 1.0:
                return
            last[0] = now
            with self.sessions() as s:
                begin_write(s)
                store.renew(
                    s, evidence_id=evidence_id, worker=self.name, progress=fraction, lease_s=LEASE_S
                )
                s.commit()

        try:
            result = index_clip(path, self.detector, fps=self.config.fps, progress=progress)
        except ClipError as exc:
            self._fail(evidence_id, str(exc))
            return
        except _Stopped:
            self._release(evidence_id)
            return
        except Exception as exc:  # one bad clip must never stop the queue
            log.exception("indexing %s failed", evidence_id)
            self._fail(evidence_id, f"{type(exc).__name__}: {exc}")
            return
        sightings = [
            store.NewSighting(
                label=s.label,
                colour=s.colour or "grey",
                start_s=s.start_s,
                end_s=s.end_s,
                best_score=s.best_score,
                best_time_s=s.best_time_s,
                box=s.box,
                thumbnail=s.thumbnail_jpeg or None,
            )
            for s in result.sightings
        ]
        stats = store.ClipStats(
            model=self.model,
            duration_s=result.stats.duration_s,
            sampled=result.stats.sampled,
            model_runs=result.stats.model_runs,
        )
        with self.sessions() as session:
            begin_write(session)
            store.finish(session, evidence_id=evidence_id, sightings=sightings, stats=stats)
            session.commit()
        log.info("indexed %s: %d sightings", evidence_id, len(sightings))

    def _release(self, evidence_id: str) -> None:
        """Hand an unfinished clip back to the queue (the server is stopping)."""
        with self.sessions() as session:
            begin_write(session)
            store.release(session, evidence_id=evidence_id, worker=self.name)
            session.commit()

    def _fail(self, evidence_id: str, error: str, status: str = "failed") -> None:
        with self.sessions() as session:
            begin_write(session)
            store.fail(session, evidence_id=evidence_id, error=error, status=status)
            session.commit()


# --- the server side ---------------------------------------------------------------------------


class IndexerSupervisor:
    """Starts the worker process when evidence waits, restarts it when it dies."""

    def __init__(self, state: AppState, config: WorkerConfig) -> None:
        self.state = state
        self.config = config
        self._ctx = multiprocessing.get_context("spawn")
        self._stop: MpEvent = self._ctx.Event()
        self._proc: BaseProcess | None = None
        self._task: asyncio.Task[None] | None = None
        self.starts = 0
        self.last_exitcode: int | None = None

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="rtcc-vehicle-index")

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # the supervisor itself must keep going
                log.exception("vehicle index supervisor pass failed")
            await asyncio.sleep(self.config.poll_s)

    def tick(self) -> None:
        proc = self._proc
        if proc is not None and not proc.is_alive():
            self.last_exitcode = proc.exitcode
            if proc.exitcode not in (0, None):
                log.warning(
                    "vehicle index worker exited with %s; its clip is retried once", proc.exitcode
                )
            self._proc = None
        if self._proc is not None:
            return
        with self.state.db.read() as session:
            waiting = store.pending_count(session) + len(store.stale_running(session))
        if waiting:
            self._spawn()

    def _spawn(self) -> None:
        proc = self._ctx.Process(
            target=worker_main,
            args=(self.config, self._stop),
            name="rtcc-vehicle-index",
            daemon=True,
        )
        proc.start()
        self._proc = proc
        self.starts += 1
        log.info("vehicle index worker started (pid %s)", proc.pid)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Ask, wait, then force."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._stop.set()
        proc = self._proc
        if proc is None:
            return
        await asyncio.to_thread(proc.join, timeout_s)
        if proc.is_alive():
            proc.terminate()
            await asyncio.to_thread(proc.join, 2.0)
        if proc.is_alive():
            proc.kill()
            await asyncio.to_thread(proc.join, 2.0)
        self._proc = None


def start_vehicle_indexer(state: AppState) -> IndexerSupervisor | None:
    settings = state.settings
    if not settings.vehicle_index:
        return None
    config = WorkerConfig(
        db_url=str(settings.db_url),
        vault_dir=str(settings.vault_dir),
        fps=settings.vehicle_index_fps,
        nice=settings.vehicle_index_nice,
    )
    supervisor = IndexerSupervisor(state, config)
    supervisor.start()
    state.extras["vehicle_indexer"] = supervisor
    return supervisor


async def stop_vehicle_indexer(state: AppState) -> None:
    supervisor = state.extras.pop("vehicle_indexer", None)
    if isinstance(supervisor, IndexerSupervisor):
        await supervisor.stop()
