"""Server-Sent Events consumer with resume (``GET /events`` + ``Last-Event-ID``).

One background thread reads the stream with requests, parses events (JSON decoding happens
here, never on the GUI thread) and hands each to ``on_event``. After any disconnect it
reconnects with exponential backoff and the last event id, so nothing is lost or repeated.
When the server no longer holds that id (HTTP 410, or a ``stream.reset`` event) the
consumer reconnects from "now" and asks the owner to re-fetch a snapshot (``on_resync``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import requests

from rtcc_console.client.api import ApiClient

log = logging.getLogger(__name__)


class LinkState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class ServerEvent:
    id: int | None
    type: str
    data: dict[str, Any]


class SseParser:
    """Incremental SSE parser (the WHATWG algorithm, minus ``retry``) over text chunks."""

    def __init__(self) -> None:
        self._buf = ""
        self._data: list[str] = []
        self._type = ""
        self._id: str | None = None

    def feed(self, chunk: str) -> Iterator[tuple[str | None, str, str]]:
        """Yield (id, type, data) for each complete event in ``chunk``."""
        self._buf += chunk
        while True:
            cut = min(
                (i for i in (self._buf.find("\r"), self._buf.find("\n")) if i >= 0), default=-1
            )
            if cut < 0:
                return
            if self._buf[cut] == "\r" and cut + 1 == len(self._buf):
                return  # could be the first half of \r\n: wait for more
            line = self._buf[:cut]
            step = 2 if self._buf.startswith("\r\n", cut) else 1
            self._buf = self._buf[cut + step :]
            if line == "":
                if self._data:
                    yield self._id, self._type or "message", "\n".join(self._data)
                self._data, self._type = [], ""
                continue
            if line.startswith(":"):
                continue  # heartbeat / comment
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                self._data.append(value)
            elif field == "event":
                self._type = value
            elif field == "id" and "\0" not in value:
                self._id = value


class ResyncNeeded(Exception):
    """The server cannot replay from our last id."""


class EventStream:
    """Keeps one SSE connection alive on a daemon thread until ``stop()``."""

    def __init__(
        self,
        api: ApiClient,
        *,
        on_event: Callable[[ServerEvent], None],
        on_state: Callable[[LinkState, datetime | None], None] = lambda s, t: None,
        on_resync: Callable[[], None] = lambda: None,
        last_event_id: int | None = None,
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 10.0,
        read_timeout_s: float = 40.0,
        offline_after: int = 2,
    ) -> None:
        self.api = api
        self.on_event, self.on_state, self.on_resync = on_event, on_state, on_resync
        self.last_event_id = last_event_id
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.read_timeout_s = read_timeout_s
        self.offline_after = offline_after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resp: requests.Response | None = None
        self._down_since: datetime | None = None
        self._state = LinkState.STOPPED

    @property
    def state(self) -> LinkState:
        return self._state

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rtcc-events", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Ask the thread to end, close the socket to unblock it, and wait a little."""
        self._stop.set()
        resp = self._resp
        if resp is not None:
            resp.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        self._thread = None
        self._set_state(LinkState.STOPPED)

    def _set_state(self, state: LinkState) -> None:
        if state is self._state:
            return
        self._state = state
        self.on_state(
            state,
            self._down_since if state in (LinkState.RECONNECTING, LinkState.OFFLINE) else None,
        )

    def _run(self) -> None:
        failures = 0
        delay = self.backoff_initial_s
        resync = self.last_event_id is None
        self._set_state(LinkState.CONNECTING)
        while not self._stop.is_set():
            try:
                resync = self._session(resync)
                failures, delay = 0, self.backoff_initial_s  # clean end: reconnect at once
                continue
            except ResyncNeeded:
                self.last_event_id, resync = None, True
                continue
            except (requests.RequestException, OSError, ValueError, AttributeError) as exc:
                if self._stop.is_set():
                    break  # stop() closed the socket under the reader (urllib3 may say AttributeError)
                if isinstance(exc, AttributeError):
                    raise
                log.info("event stream interrupted: %s", type(exc).__name__)
            except _Unauthorized:
                self.api.notify_unauthorized()
                break
            failures += 1
            if self._down_since is None:
                self._down_since = datetime.now(UTC)
            self._set_state(
                LinkState.OFFLINE if failures >= self.offline_after else LinkState.RECONNECTING
            )
            self._stop.wait(delay)
            delay = min(delay * 2, self.backoff_max_s)

    def _session(self, resync: bool) -> bool:
        """One connection: returns whether a resync is still pending when it ends."""
        sent = self.api.token
        headers = {"Accept": "text/event-stream", **self.api.auth_headers()}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        resp = self.api.http().get(
            self.api.url("/events"),
            headers=headers,
            stream=True,
            timeout=(5.0, self.read_timeout_s),
        )
        self._resp = resp
        try:
            if resp.status_code == 401:
                if sent is not None and sent != self.api.token:
                    return resync  # the session was continued meanwhile (screen unlock): reconnect
                raise _Unauthorized()
            if resp.status_code == 410:
                raise ResyncNeeded()
            resp.raise_for_status()
            self._down_since = None
            self._set_state(LinkState.CONNECTED)
            if resync:
                self.on_resync()
                resync = False
            self._consume(resp.iter_content(chunk_size=None, decode_unicode=False))
        finally:
            self._resp = None
            resp.close()
        return resync

    def _consume(self, chunks: Iterable[bytes]) -> None:
        parser = SseParser()
        for chunk in chunks:
            if self._stop.is_set():
                return
            for raw_id, etype, data in parser.feed(chunk.decode("utf-8", errors="replace")):
                if etype == "stream.reset":
                    raise ResyncNeeded()
                event_id = int(raw_id) if raw_id and raw_id.isdigit() else None
                if etype == "replay.truncated":
                    # our id is too old or (replaced database) newer than any the server
                    # issued: ids restart from what follows, so forget ours for de-duplication
                    self.last_event_id = None
                    event_id = None
                if (
                    event_id is not None
                    and self.last_event_id is not None
                    and event_id <= self.last_event_id
                ):
                    continue  # replayed twice: already applied
                try:
                    payload = json.loads(data) if data else {}
                except ValueError:
                    log.warning("event %s (%s) is not JSON; skipped", raw_id, etype)
                    payload = None
                if isinstance(payload, dict):
                    self.on_event(ServerEvent(event_id, etype, payload))
                if event_id is not None:
                    self.last_event_id = event_id


class _Unauthorized(Exception):
    pass
