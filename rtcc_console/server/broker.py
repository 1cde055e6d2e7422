"""In-process fan-out of persisted events to SSE subscribers.

Every event is first written to the ``events`` table (its id is the SSE id). The broker
only moves already-committed events to the connected clients of *this* process:

* Publishers running in worker threads call :meth:`EventBroker.offer` after commit; with
  several processes on PostgreSQL the LISTEN/NOTIFY listener offers the ids it hears.
* Delivery is strictly in id order and never duplicated: the broker remembers the last id
  it fanned out. An id that arrives ahead of a missing one (two threads committing close
  together, or an event committed by another process) waits for a gap fill that reads the
  missing rows from the database; ids that never committed are skipped after that read.
* Each subscriber has a bounded buffer. A client that cannot keep up is disconnected
  instead of slowing the others; it resumes with ``Last-Event-ID`` and loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One persisted event as sent on the stream (``data`` is already JSON text)."""

    id: int
    type: str
    data: str


GapLoader = Callable[[int, int], Awaitable[list[EventRecord]]]


@dataclass(eq=False)
class Subscriber:
    """A connected SSE client's buffer; ``overflowed`` means it must reconnect."""

    max_size: int
    items: deque[EventRecord] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False
    closed: bool = False

    def push(self, event: EventRecord) -> None:
        if self.overflowed or self.closed:
            return
        if len(self.items) >= self.max_size:
            self.overflowed = True
            self.items.clear()
        else:
            self.items.append(event)
        self.wakeup.set()

    def close(self) -> None:
        self.closed = True
        self.wakeup.set()

    async def next_batch(self) -> list[EventRecord] | None:
        """Wait for events; None when the subscriber was closed or overflowed."""
        while not self.items:
            if self.closed or self.overflowed:
                return None
            self.wakeup.clear()
            await self.wakeup.wait()
        if self.overflowed or self.closed:
            return None
        batch = list(self.items)
        self.items.clear()
        return batch


class EventBroker:
    """Orders committed events by id and fans them out to this process's subscribers."""

    def __init__(self, *, queue_size: int, gap_loader: GapLoader, gap_wait_s: float = 0.05) -> None:
        self.queue_size = queue_size
        self._gap_loader = gap_loader
        self._gap_wait_s = gap_wait_s
        self._subscribers: set[Subscriber] = set()
        self._pending: dict[int, EventRecord | None] = {}
        self._last_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gap_task: asyncio.Task[None] | None = None
        self.dropped_subscribers = 0

    @property
    def last_id(self) -> int:
        return self._last_id

    def start(self, loop: asyncio.AbstractEventLoop, last_id: int) -> None:
        """Bind to the serving loop; ``last_id`` is the newest event already in the DB."""
        self._loop = loop
        self._last_id = last_id

    def subscribe(self) -> Subscriber:
        sub = Subscriber(self.queue_size)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def close_all(self) -> None:
        """End every stream (server shutdown); thread-safe."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def _close() -> None:
            for sub in list(self._subscribers):
                sub.close()

        loop.call_soon_threadsafe(_close)

    def offer(self, event: EventRecord | int) -> None:
        """Hand over a committed event (or just its id, when only the id is known).

        Thread-safe; a no-op before :meth:`start` (e.g. CLI use without a running app).
        """
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._accept, event)
        except RuntimeError:  # loop closed between the check and the call
            log.debug("event %s offered after shutdown", event)

    def _accept(self, event: EventRecord | int) -> None:
        event_id = event if isinstance(event, int) else event.id
        if event_id <= self._last_id:
            return
        record = None if isinstance(event, int) else event
        if self._pending.get(event_id) is None:
            self._pending[event_id] = record
        self._drain()
        if self._pending and (self._gap_task is None or self._gap_task.done()):
            self._gap_task = asyncio.get_running_loop().create_task(self._fill_gaps())

    def _drain(self) -> None:
        while True:
            nxt = self._last_id + 1
            record = self._pending.get(nxt)
            if record is None:
                return
            del self._pending[nxt]
            self._last_id = nxt
            self._fan_out(record)

    def _fan_out(self, record: EventRecord) -> None:
        for sub in list(self._subscribers):
            was_overflowed = sub.overflowed
            sub.push(record)
            if sub.overflowed and not was_overflowed:
                self.dropped_subscribers += 1
                log.warning(
                    "event stream client too slow (>%d queued): disconnecting it", self.queue_size
                )

    async def _fill_gaps(self) -> None:
        """Read missing ids from the database once in-order delivery is stuck."""
        while self._pending:
            await asyncio.sleep(self._gap_wait_s)
            if not self._pending:
                return
            upto = max(self._pending)
            start = self._last_id
            try:
                rows = await self._gap_loader(start, upto)
            except Exception:  # keep the broker alive; retry on the next pass
                log.exception("could not load events %d..%d for the stream", start + 1, upto)
                await asyncio.sleep(0.5)
                continue
            for row in rows:
                if row.id > self._last_id and self._pending.get(row.id) is None:
                    self._pending[row.id] = row
            # Every id <= upto is committed or never will be (ids are allocated under a
            # lock held to commit), so ids still missing after the read are skipped.
            while self._last_id < upto:
                record = self._pending.pop(self._last_id + 1, None)
                self._last_id += 1
                if record is not None:
                    self._fan_out(record)
            self._drain()
