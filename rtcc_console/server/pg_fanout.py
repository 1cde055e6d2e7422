"""PostgreSQL LISTEN/NOTIFY: events committed by *other* server processes reach ours.

Each process keeps one autocommit psycopg 3 async connection that ``LISTEN``s on
``rtcc_events``. ``eventlog.record_event`` issues ``pg_notify`` with the event id inside
the writing transaction, which PostgreSQL delivers only after commit. The broker receives
the id, loads any rows it has not delivered yet and fans them out in id order (its own
events arrive twice, by the in-process path and by NOTIFY, and are delivered once). On a
lost connection the listener reconnects with backoff and offers the newest id, so the
broker's gap fill catches up on whatever was committed meanwhile. The same connection
listens on ``rtcc_sessions``: a token revoked by any process is dropped from every
process's token cache.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg

from rtcc_console.server.state import AppState
from rtcc_console.store.db import normalize_url
from rtcc_console.store.events import NOTIFY_CHANNEL, last_event_id
from rtcc_console.store.users import SESSIONS_CHANNEL

log = logging.getLogger(__name__)


def _libpq_url(url: str) -> str:
    return normalize_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_forever(state: AppState) -> None:
    """LISTEN until cancelled, reconnecting with backoff."""
    conninfo = _libpq_url(state.settings.db_url)
    backoff = 0.5
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                await conn.execute(f"LISTEN {SESSIONS_CHANNEL}")
                backoff = 0.5
                cache = state.token_cache
                if cache is not None:
                    cache.clear()  # revocations may have been missed while disconnected
                newest = await asyncio.to_thread(_newest, state)
                state.broker.offer(newest)  # catch up on anything missed while away
                async for note in conn.notifies():
                    if note.channel == SESSIONS_CHANNEL:
                        if cache is not None and note.payload == "*":
                            cache.clear()
                        elif cache is not None:
                            cache.invalidate(note.payload)
                    elif note.payload.isdigit():
                        state.broker.offer(int(note.payload))
        except asyncio.CancelledError:
            raise
        except (psycopg.Error, OSError) as exc:
            log.warning(
                "event LISTEN connection lost (%s); retrying in %.1f s", type(exc).__name__, backoff
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


def _newest(state: AppState) -> int:
    with state.db.read() as session:
        return last_event_id(session)
