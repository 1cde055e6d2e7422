"""A minimal SSE test client over real HTTP (httpx streaming in a thread)."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Sse:
    id: str | None
    event: str | None
    data: str
    comment: str | None = None


class SseReader:
    """Reads an event stream in a thread; ``get()`` returns the next event or comment."""

    def __init__(
        self, url: str, headers: dict[str, str] | None = None, params: dict[str, Any] | None = None
    ) -> None:
        self.items: queue.Queue[Sse | BaseException | None] = queue.Queue()
        self.status: int | None = None
        self.connected = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(30.0, read=60.0))
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(url, headers or {}, params or {}), daemon=True
        )
        self._thread.start()
        assert self.connected.wait(30), "SSE connection not established"

    def _run(self, url: str, headers: dict[str, str], params: dict[str, Any]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers, params=params) as resp:
                self.status = resp.status_code
                self.connected.set()
                if resp.status_code != 200:
                    resp.read()
                    self.items.put(None)
                    return
                fields: dict[str, str] = {}
                data: list[str] = []
                for line in resp.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if data or fields:
                            self.items.put(
                                Sse(fields.get("id"), fields.get("event"), "\n".join(data))
                            )
                        fields, data = {}, []
                    elif line.startswith(":"):
                        self.items.put(Sse(None, None, "", comment=line[1:].strip()))
                    else:
                        name, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "data":
                            data.append(value)
                        else:
                            fields[name] = value
            self.items.put(None)
        except (
            httpx.HTTPError,
            OSError,
            RuntimeError,
        ) as exc:  # reported to the test through the queue
            self.connected.set()
            if not self._stop.is_set():
                self.items.put(exc)

    def get(self, timeout: float = 20.0, *, skip_comments: bool = True) -> Sse | None:
        while True:
            item = self.items.get(timeout=timeout)
            if isinstance(item, BaseException):
                raise item
            if item is not None and skip_comments and item.comment is not None:
                continue
            return item

    def close(self) -> None:
        self._stop.set()
        self._client.close()
        self._thread.join(5)
