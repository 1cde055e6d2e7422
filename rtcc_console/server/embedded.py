"""Run the server inside another program (demo, console tests, benchmarks).

``EmbeddedServer(settings).start()`` runs uvicorn in a background thread, binds the
configured host and port (port 0 = an ephemeral port), waits until the app's lifespan has
finished starting (schema migrated, broker ready) and returns the base URL, e.g.
``http://127.0.0.1:43817``; the API is under ``base_url + "/api/v1"``. ``stop()`` ends
event streams, asks uvicorn to exit and joins the thread.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from rtcc_console.config import ServerSettings
from rtcc_console.server.app import API_PREFIX, create_app

log = logging.getLogger(__name__)


def _http_impl() -> str:
    try:
        import httptools  # noqa: F401
    except ImportError:
        return "h11"
    return "httptools"


class EmbeddedServer:
    """uvicorn in a daemon thread on a socket we bind ourselves (so port 0 works)."""

    def __init__(
        self, settings: ServerSettings, *, log_level: str = "warning", access_log: bool = False
    ) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self._config = uvicorn.Config(
            self.app,
            log_level=log_level,
            access_log=access_log,
            lifespan="on",
            http=_http_impl(),
            timeout_graceful_shutdown=2,
            ws="none",
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.base_url = ""
        self._error: BaseException | None = None

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def state(self) -> Any:
        return self.app.state.rtcc

    def start(self, timeout: float = 60.0) -> str:
        """Start serving; returns the base URL (``http://host:port``)."""
        family = socket.AF_INET6 if ":" in self.settings.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.host, self.settings.port))
        sock.listen(2048)
        self._sock = sock
        port = sock.getsockname()[1]
        host = f"[{self.settings.host}]" if family == socket.AF_INET6 else self.settings.host
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._run, name=f"rtcc-server-{port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"embedded server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"embedded server did not start within {timeout} s")
            time.sleep(0.02)
        return self.base_url

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self._config.get_loop_factory()) as runner:
                runner.run(self._server.serve(sockets=[self._sock] if self._sock else None))
        except BaseException as exc:  # reported to start() / stop()
            self._error = exc
            log.exception("embedded server crashed")

    def stop(self, timeout: float = 10.0) -> None:
        """End streams, stop uvicorn and join the thread (idempotent)."""
        if self._thread is None:
            return
        self.state.broker.close_all()
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def ensure_user(self, username: str, role: str, password: str) -> bool:
        """Create a staff account unless it exists (demo/tests); True when created.

        Call after :meth:`start` (the schema must exist). The password must satisfy the
        same rules as ``POST /users`` (at least 12 characters).
        """
        from rtcc_console.core.models import Role
        from rtcc_console.server.audit import Actor, append_audit
        from rtcc_console.server.passwords import validate_password
        from rtcc_console.server.security import create_user, get_user, normalize_username

        problem = validate_password(password)
        if problem:
            raise ValueError(problem)
        state = self.state
        name = normalize_username(username)
        password_hash = state.passwords.hash(password)
        with state.db.write() as session:
            if get_user(session, username=name) is not None:
                return False
            create_user(session, username=name, role=Role(role), password_hash=password_hash)
            append_audit(
                session,
                actor=Actor("embedded", "admin", "local"),
                action="admin.user_add",
                targets={"user": name},
                reason=f"role {role}",
            )
        return True

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
