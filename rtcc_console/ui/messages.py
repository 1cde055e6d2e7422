"""The message bridge: one place where errors, warnings and notices go to reach the analyst.

Any thread may call :func:`error`, :func:`warning` or :func:`info`; the bridge delivers to
the GUI thread through a queued signal, and the main window shows them (status bar + a
dialog for errors). :func:`install_excepthooks` routes uncaught exceptions of the GUI
thread and of worker threads here too, and into the log.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, Signal

log = logging.getLogger("rtcc_console.ui")


class MessageBridge(QObject):
    """Emits ``message_posted(level, text)`` with level in {"error", "warning", "info"}."""

    message_posted = Signal(str, str)


_bridge: MessageBridge | None = None
_history: list[tuple[str, str]] = []
_lock = threading.Lock()


def bridge() -> MessageBridge:
    """The process-wide bridge; it lives on the GUI thread so receivers get queued calls."""
    global _bridge
    with _lock:
        if _bridge is None:
            created = MessageBridge()
            app = QCoreApplication.instance()
            if app is not None:
                created.moveToThread(app.thread())
            _bridge = created
        return _bridge


def history() -> list[tuple[str, str]]:
    """Messages posted so far (newest last); the tests and the log pane read it."""
    with _lock:
        return list(_history)


def _post(level: str, text: str) -> None:
    with _lock:
        _history.append((level, text))
        del _history[:-200]
    getattr(log, "warning" if level == "warning" else "error" if level == "error" else "info")(text)
    bridge().message_posted.emit(level, text)


def error(text: str) -> None:
    """Something failed that the analyst must know about (shown as a dialog)."""
    _post("error", text)


def warning(text: str) -> None:
    """Something degraded (shown in the status bar)."""
    _post("warning", text)


def info(text: str) -> None:
    """A notice (status bar only)."""
    _post("info", text)


def _report(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, where: str
) -> None:
    log.error(
        "uncaught exception in %s:\n%s",
        where,
        "".join(traceback.format_exception(exc_type, exc, tb)),
    )
    error(f"Unexpected error in {where}: {exc_type.__name__}: {exc}")


def install_excepthooks() -> None:
    """Send uncaught exceptions (GUI thread and workers) to the log and to the analyst."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        _report(exc_type, exc, tb, "the console")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        name = args.thread.name if args.thread else "a worker"
        _report(args.exc_type, args.exc_value, args.exc_traceback, f"thread {name}")

    sys.excepthook = hook
    threading.excepthook = thread_hook
