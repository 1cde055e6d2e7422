"""A one-slot mailbox between a feed's decode thread and the GUI.

The decoder must never wait for the screen, and the screen only ever wants the newest
picture: ``put`` replaces an untaken frame and counts it as dropped.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Holds at most one item; putting over an untaken item drops (and counts) the old one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: T | None = None
        self._dropped = 0
        self._put = 0

    def put(self, item: T) -> bool:
        """Store ``item``; return True when an untaken older item was dropped."""
        with self._lock:
            dropped = self._item is not None
            if dropped:
                self._dropped += 1
            self._item = item
            self._put += 1
            return dropped

    def take(self) -> T | None:
        """The newest item since the last take, or None."""
        with self._lock:
            item, self._item = self._item, None
            return item

    def clear(self) -> None:
        """Forget an untaken item without counting it as dropped (e.g. on stop)."""
        with self._lock:
            self._item = None

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def put_count(self) -> int:
        return self._put
