"""What the field page's two repackagers share (``field_hls``, ``field_mjpeg``).

A :class:`CameraWorker` is one thread reading one camera for any number of officers: it
starts at once, stops by itself when nobody asked for anything for ``idle_s`` seconds (or
at :meth:`CameraWorker.stop`), and wakes every waiter, threads and coroutines alike, at
each new piece of media and at its end. A :class:`CameraHub` keeps one running worker per
camera, started on demand. The camera's URL (which may carry credentials) never leaves
the worker: a failure is logged by its exception's type only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)


class AsyncWakers:
    """Wakes asyncio waiters from a worker thread, so that an HTTP request waiting for media
    (a blocking playlist reload, an MJPEG stream) holds no thread of the server's pool:
    there may be many officers, each waiting most of the time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[Callable[[], None]] = set()

    def wake(self) -> None:
        with self._lock:
            items = list(self._items)
        for fn in items:
            fn()

    async def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> bool:
        """Wait (without a thread) until ``ready()``, re-checked at each wake; False when
        ``timeout_s`` passed first."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()

        def waker() -> None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop closed: the server is stopping
                pass

        with self._lock:
            self._items.add(waker)
        try:
            deadline = loop.time() + timeout_s
            while True:
                event.clear()  # before the check: a wake after it is never lost
                if ready():
                    return True
                left = deadline - loop.time()
                if left <= 0:
                    return False
                try:
                    await asyncio.wait_for(event.wait(), left)
                except TimeoutError:
                    return ready()
        finally:
            with self._lock:
                self._items.discard(waker)


class CameraWorker:
    """One camera read by one thread (:meth:`_pump`, given by the subclass, which sets its
    own attributes before calling this ``__init__``: the thread starts here)."""

    label = "media"  # in the thread's name and the log line

    def __init__(self, camera_id: str, url: str, *, idle_s: float = 10.0) -> None:
        self.camera_id = camera_id
        self._url = url
        self.idle_s = idle_s
        self._cond = threading.Condition()
        self._wakers = AsyncWakers()
        self._finished = False
        self._stop = threading.Event()
        self._last_access = time.monotonic()
        self.error: str | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"{self.label.lower()}-{camera_id}", daemon=True
        )
        self._thread.start()

    @property
    def alive(self) -> bool:
        return not self._finished and self._thread.is_alive()

    def touch(self) -> None:
        self._last_access = time.monotonic()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._notify()

    def _notify(self) -> None:
        """Wake the waiters, threads and coroutines alike (the condition is held)."""
        self._cond.notify_all()
        self._wakers.wake()

    def _done(self) -> bool:
        """Whether the thread should stop reading: asked to, or nobody watches any more."""
        return self._stop.is_set() or time.monotonic() - self._last_access > self.idle_s

    def _pump(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        try:
            self._pump()
        except Exception as exc:  # noqa: BLE001 - a camera going away must not take the server down
            self.error = type(exc).__name__  # never the URL: it may carry credentials
            log.warning(
                "field %s for camera %s stopped: %s", self.label, self.camera_id, self.error
            )
        finally:
            with self._cond:
                self._finished = True  # before the wake: waiters see it at once
                self._notify()


W = TypeVar("W", bound=CameraWorker)


class CameraHub(Generic[W]):
    """One worker per camera, started on demand (:meth:`_start`); idle ones stop by
    themselves."""

    def __init__(self, *, idle_s: float = 10.0) -> None:
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._items: dict[str, W] = {}
        self.started = 0  # workers started (one per camera while watched)

    def _start(self, camera_id: str, url: str) -> W:
        raise NotImplementedError

    def get(self, camera_id: str, url: str | None) -> W | None:
        """The camera's running worker, started from ``url`` when none runs."""
        with self._lock:
            found = self._items.get(camera_id)
            if found is not None and found.alive:
                found.touch()
                return found
            if url is None:
                return None
            worker = self._start(camera_id, url)
            self._items[camera_id] = worker
            self.started += 1
            return worker

    def running(self, camera_id: str) -> W | None:
        with self._lock:
            found = self._items.get(camera_id)
            return found if found is not None and found.alive else None

    def stop_camera(self, camera_id: str) -> None:
        with self._lock:
            found = self._items.pop(camera_id, None)
        if found is not None:
            found.stop()

    def stop_all(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for worker in items:
            worker.stop()
