"""The one way back to the GUI thread, and the small operation object for background work.

``run_on_main(fn)`` queues ``fn`` onto the GUI thread through a queued Qt signal; it is the
only marshalling point in the console. ``run_in_background(work, on_success=...,
on_failure=...)`` runs ``work`` on a thread pool and delivers its outcome on the GUI
thread; without an ``on_failure`` handler the failure becomes a visible error message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

from rtcc_console.ui import messages

log = logging.getLogger(__name__)


class _Invoker(QObject):
    """Lives on the GUI thread; its queued signal carries callables across threads."""

    invoked = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.invoked.connect(self._call, Qt.ConnectionType.QueuedConnection)

    def _call(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception as exc:
            log.exception("handler on the GUI thread failed")
            messages.error(f"Internal error: {exc}")


_invoker: _Invoker | None = None
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def install() -> None:
    """Create the invoker on the GUI thread (call once the QApplication exists)."""
    global _invoker
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("tasks.install() needs a QApplication")
    with _lock:  # two worker threads may race to the first run_on_main
        if _invoker is None:
            invoker = _Invoker()
            invoker.moveToThread(app.thread())
            _invoker = invoker
        messages.bridge()


def run_on_main(fn: Callable[[], Any]) -> None:
    """Run ``fn`` on the GUI thread soon (always queued, even from the GUI thread)."""
    if _invoker is None:
        install()
    assert _invoker is not None
    _invoker.invoked.emit(fn)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rtcc-work")
        return _pool


def run_in_background(
    work: Callable[[], Any],
    *,
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
    what: str = "Operation",
    owner: QObject | None = None,
) -> Future[Any]:
    """Run blocking ``work`` off the GUI thread; deliver the outcome on the GUI thread.

    The default failure handler reports ``"<what> failed: <reason>"`` through the message
    bridge, so a failure is never silent. With ``owner``, an outcome that arrives after the
    owner widget was deleted (its window closed meanwhile) is dropped.
    """
    if _invoker is None:
        install()

    def done(fut: Future[Any]) -> None:
        if owner is not None and not shiboken6.isValid(owner):
            log.debug("%s: result dropped, its owner is gone", what)
            return
        exc = fut.exception()

        def alive() -> bool:
            return owner is None or shiboken6.isValid(owner)

        if exc is None:
            result = fut.result()
            if on_success is not None:
                run_on_main(lambda: on_success(result) if alive() else None)
        elif on_failure is not None:
            run_on_main(lambda: on_failure(exc) if alive() else None)
        else:
            log.warning("%s failed: %s", what, exc)
            messages.error(f"{what} failed: {exc}")

    fut = _executor().submit(work)
    fut.add_done_callback(done)
    return fut


def shutdown() -> None:
    """Stop accepting work; running jobs finish on their own (they are all short)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
