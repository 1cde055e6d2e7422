"""Per-process server state, built by ``create_app`` and hung on ``app.state.rtcc``.

Everything a request needs beyond its own arguments lives here: settings, the database,
the password hasher, the event broker, the in-memory camera registry. Nothing is created
at import time; the composition root (``app.create_app``) builds one ``AppState``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rtcc_console.config import ServerSettings
from rtcc_console.server.broker import EventBroker, EventRecord
from rtcc_console.server.database import Database
from rtcc_console.server.intake_writer import IntakeWriter
from rtcc_console.server.passwords import Passwords
from rtcc_console.server.security import LoginThrottle, TokenCache

if TYPE_CHECKING:
    from rtcc_console.server.registry import CameraRegistry


@dataclass
class AppState:
    """The wiring of one server process."""

    settings: ServerSettings
    db: Database
    passwords: Passwords
    broker: EventBroker
    registry: CameraRegistry
    intake: IntakeWriter
    token_cache: TokenCache | None = None
    login_throttle: LoginThrottle | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def after_commit(self, record: EventRecord) -> None:
        """Called (from any thread) for each event committed by this process."""
        self.broker.offer(record)
        if record.type == "camera.changed":
            self.registry.mark_stale()
