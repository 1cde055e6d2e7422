"""Background work for the wall and the one way its results come back to the GUI thread.

Grant requests, renewals, snapshot writes and worker shutdowns can block; they run on a
small thread pool and their outcome is delivered on the GUI thread through a queued Qt
signal. Failures go to an explicit handler; if none is given they reach ``on_error`` of
the runner (the wall shows them), never silence.

Results go back through the console's one marshalling point,
``rtcc_console.ui.tasks.run_on_main``. The wall keeps its own small pool because its jobs
include worker shutdowns that may block for seconds and must not be cancelled at exit
(a released grant is an audit record).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rtcc_console.ui.tasks import run_on_main

T = TypeVar("T")
log = logging.getLogger(__name__)


class BackgroundRunner:
    """A thread pool whose completion callbacks run on the GUI thread."""

    def __init__(
        self,
        *,
        on_error: Callable[[str], None],
        max_workers: int = 8,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="wall-bg")
        self._on_error = on_error
        self._closed = threading.Event()

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on the GUI thread (safe from any thread, including worker threads)."""
        if self._closed.is_set():
            return

        def deliver() -> None:
            if not self._closed.is_set():  # the wall may have shut down meanwhile
                fn()

        run_on_main(deliver)

    def submit(
        self,
        work: Callable[[], T],
        *,
        on_done: Callable[[T], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
        what: str = "background task",
    ) -> None:
        """Run ``work`` off the GUI thread; deliver its result or exception on the GUI thread."""
        if self._closed.is_set():
            return

        def job() -> None:
            try:
                result: Any = work()
            except Exception as exc:  # noqa: BLE001 - delivered to a handler, never dropped
                failure: BaseException = exc

                def report() -> None:
                    self._fail(failure, on_failed, what)

                self.run_on_main(report)
                return
            if on_done is not None:
                done = on_done

                def deliver() -> None:
                    done(result)

                self.run_on_main(deliver)

        self._pool.submit(job)

    def _fail(
        self, exc: BaseException, on_failed: Callable[[BaseException], None] | None, what: str
    ) -> None:
        if on_failed is not None:
            on_failed(exc)
            return
        log.warning("%s failed: %s", what, exc)
        self._on_error(f"{what} failed: {exc}")

    def shutdown(self, wait: bool = True) -> None:
        """Stop delivering results and finish queued work (worker stops, grant releases)."""
        self._closed.set()
        self._pool.shutdown(wait=wait, cancel_futures=False)
