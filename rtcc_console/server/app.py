"""The FastAPI application factory: the composition root of one server process.

``create_app(settings)`` wires settings, database, hasher, event broker and camera
registry into an :class:`~rtcc_console.server.state.AppState` and mounts every router
under ``/api/v1``. Nothing touches the database until the app's lifespan starts (uvicorn
or ``TestClient`` as a context manager): then the schema is migrated to head (unless
``migrate_on_start`` is off), the broker learns the newest event id, and background tasks
start (expiry of emergencies and grants, event pruning, PostgreSQL LISTEN, drop folder).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError

from rtcc_console import __version__
from rtcc_console.config import ServerSettings
from rtcc_console.core.redact import RedactingFilter
from rtcc_console.server.broker import EventBroker, EventRecord
from rtcc_console.server.database import Database
from rtcc_console.server.eventlog import load_events
from rtcc_console.server.intake_writer import IntakeWriter
from rtcc_console.server.passwords import Passwords
from rtcc_console.server.registry import CameraRegistry
from rtcc_console.server.security import LoginThrottle, TokenCache
from rtcc_console.server.state import AppState
from rtcc_console.store.events import last_event_id

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "rtcc_console", "sqlalchemy")


def install_log_redaction() -> None:
    """Put the credential-redacting filter on every handler of the loggers we emit to.

    Filters on handlers (not loggers) also see records propagated from child loggers.
    Idempotent.
    """
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


def build_state(settings: ServerSettings) -> AppState:
    """Wire one process's state (no I/O: the engine connects lazily)."""
    db = Database(settings.db_url)

    async def gap_loader(after: int, upto: int) -> list[EventRecord]:
        def _load() -> list[EventRecord]:
            with db.read() as session:
                return load_events(session, after=after, upto=upto, limit=upto - after)

        return await asyncio.to_thread(_load)

    state = AppState(
        settings=settings,
        db=db,
        passwords=Passwords.from_settings(settings),
        broker=EventBroker(queue_size=settings.sse_queue_size, gap_loader=gap_loader),
        registry=CameraRegistry(db),
        intake=IntakeWriter(db),
        token_cache=TokenCache(ttl_s=settings.token_cache_s)
        if settings.token_cache_s > 0
        else None,
        login_throttle=LoginThrottle(
            max_failures=settings.login_ip_max_failures, window_s=settings.login_ip_window_s
        ),
    )
    db.on_event = state.after_commit
    from rtcc_console.server.audit_checkpoints import install_audit_keys

    state.extras["audit_keyring"] = install_audit_keys(
        secret=settings.secret_key.get_secret_value(),
        key_file=settings.audit_key_file,
        engine=db.engine,
    )
    return state


def _startup_sync(state: AppState) -> int:
    if state.settings.migrate_on_start:
        from rtcc_console.store.migrate import upgrade

        upgrade(state.settings.db_url)
    with state.db.read() as session:
        newest = last_event_id(session)
    state.registry.refresh(force=True)
    return newest


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from rtcc_console.server import vehicle_index
    from rtcc_console.server.background import start_background, stop_background

    state: AppState = app.state.rtcc
    install_log_redaction()
    newest = await asyncio.to_thread(_startup_sync, state)
    state.broker.start(asyncio.get_running_loop(), newest)
    state.intake.start()
    await start_background(state)
    vehicle_index.start_vehicle_indexer(state)  # issue 17: low-priority worker process
    log.info("rtcc server ready (%s database, event id %d)", state.db.backend, newest)
    try:
        yield
    finally:
        state.broker.close_all()
        for key in ("field_hls", "field_mjpeg"):  # officers' live video (routes/field_shares)
            hub = state.extras.get(key)
            if hub is not None:
                await asyncio.to_thread(hub.stop_all)
        await vehicle_index.stop_vehicle_indexer(state)
        await stop_background(state)
        await asyncio.to_thread(state.intake.stop)
        state.db.dispose()


async def _validation_error(request: Request, exc: Exception) -> Response:
    """422 as FastAPI answers it, but rendered ASCII-only: an echoed lone surrogate (bad
    input) would otherwise make the error response itself fail with a 500."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    body = json.dumps({"detail": jsonable_encoder(errors)}, ensure_ascii=True, default=str)
    return Response(body, status_code=422, media_type="application/json")


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the ASGI app for ``settings`` (importable and runnable by uvicorn)."""
    from rtcc_console.server.routes import include_all

    app = FastAPI(
        title="RTCC server",
        version=__version__,
        description="Real-time crime center API: registry, consent, calls, live grants, audit, events.",
        lifespan=_lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.rtcc = build_state(settings)
    app.add_exception_handler(RequestValidationError, _validation_error)
    include_all(app, prefix=API_PREFIX)
    from rtcc_console.server.routes import field_auth  # officers sign in: /field/account/...

    app.include_router(field_auth.router)
    from rtcc_console.server.routes import vehicles

    app.include_router(
        vehicles.router, prefix=API_PREFIX
    )  # vehicle sort of evidence (docs/api/vehicles.md)
    from rtcc_console.server.routes import (
        cases,
        evidence,
        uploads,
    )  # evidence vault (docs/api/vault.md)

    for module in (uploads, evidence, cases):
        app.include_router(module.router, prefix=API_PREFIX)
    from rtcc_console.server.portal.routes import mount_portal  # owner portal pages (issue 12)
    from rtcc_console.server.routes import panic  # alarm panels (docs/api/portal.md)

    app.include_router(panic.router, prefix=API_PREFIX)
    from rtcc_console.server.routes import transparency

    app.include_router(
        transparency.router
    )  # public figures page, no prefix (docs/api/supervision.md)
    mount_portal(app)
    from rtcc_console.server.limits import (
        install_limits,
    )  # body limits, JSON text checks, bounded 422s

    install_limits(app, settings)  # keep last: its 422 handler must be the one in force
    return app
