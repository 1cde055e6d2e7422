"""Group commit for call intake: one writer thread, many calls per transaction.

Under load most of a call's cost is per *transaction* (taking the write lock, BEGIN,
COMMIT, a thread hand-off), not per row. ``IntakeWriter`` queues parsed calls from the
request handlers and a single thread stores whatever has queued up, up to ``max_batch``
at a time, in one transaction, then answers every waiting request. Idle, a batch is one
call, so latency does not suffer; busy, batches grow and the transaction cost is shared.

Each call is still all-or-nothing on its own: if storing a batch fails, the batch is
rolled back and its calls are retried one per transaction, so one bad call can only
fail its own request. Events are published after the commit, in id order.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from rtcc_console.core.cad import ParsedCall
from rtcc_console.server.database import Database
from rtcc_console.server.intake import IntakeResult, ingest

log = logging.getLogger(__name__)


@dataclass
class _Job:
    parsed: ParsedCall
    source: str
    raw: Any
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[IntakeResult] = field(repr=False)


def _settle(job: _Job, result: IntakeResult | None, error: BaseException | None) -> None:
    def apply() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)  # type: ignore[arg-type]

    try:
        job.loop.call_soon_threadsafe(apply)
    except RuntimeError:  # the loop is gone (shutdown): nobody waits any more
        log.debug("intake answer dropped: event loop closed")


class IntakeWriter:
    """The single writer thread behind ``POST /calls`` (and the webhook)."""

    def __init__(self, db: Database, *, max_batch: int = 64) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.calls = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rtcc-intake-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    async def submit(self, parsed: ParsedCall, *, source: str, raw: Any) -> IntakeResult:
        """Store one parsed call (idempotently); resolves after its transaction committed."""
        if self._thread is None:
            raise RuntimeError("intake writer is not running")
        loop = asyncio.get_running_loop()
        job = _Job(parsed, source, raw, loop, loop.create_future())
        self._queue.put(job)
        return await job.future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._store(batch)
            if stop:
                return

    def _store(self, batch: list[_Job]) -> None:
        try:
            with self._db.write() as session:
                results = [
                    ingest(session, parsed=j.parsed, source=j.source, raw=j.raw) for j in batch
                ]
        except Exception:  # retried one by one below, so only the faulty call fails
            if len(batch) == 1:
                log.exception("storing a call failed")
                self._store_one(batch[0])
                return
            for job in batch:
                self._store_one(job)
            return
        self.batches += 1
        self.calls += len(batch)
        for job, result in zip(batch, results, strict=True):
            _settle(job, result, None)

    def _store_one(self, job: _Job) -> None:
        try:
            with self._db.write() as session:
                result = ingest(session, parsed=job.parsed, source=job.source, raw=job.raw)
        except Exception as exc:  # handed to the waiting request (a 500 there)
            log.exception("storing call %s failed", job.parsed.incident_id)
            _settle(job, None, exc)
            return
        self.calls += 1
        _settle(job, result, None)
