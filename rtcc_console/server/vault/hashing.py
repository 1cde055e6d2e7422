"""SHA-256 and SHA-512 computed while an upload's bytes stream in, across resumes.

``hashlib`` objects cannot be pickled, so a running hash cannot be written to disk. Each
upload's :class:`RunningHash` lives in memory together with the exact offset it covers.
A PATCH that finds a hasher at the upload's current offset continues it; one that finds
none (server restarted, another worker process took the resume, the hasher was evicted or
rolled back) re-hashes the on-disk prefix once (:meth:`RunningHash.from_file`) and then
continues. So the final digests always describe exactly the bytes in the file. Before
each PATCH the hasher is copied (``hash.copy()``) so a rejected chunk (bad checksum, body
longer than declared, disk full) rolls back the file *and* the hash together.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rtcc_console.server.vault.blobs import READ_CHUNK

# SHA-512 runs on a helper thread beside SHA-256 (hashlib releases the GIL for large
# buffers), so the two digests cost about the time of the slower one on two cores.
_PARALLEL_MIN = 256 * 1024
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vault-sha512")
        return _pool


class RunningHash:
    """SHA-256 + SHA-512 over bytes [0, offset) of one upload."""

    __slots__ = ("offset", "_h256", "_h512")

    def __init__(self, offset: int = 0, h256: Any = None, h512: Any = None) -> None:
        self.offset = offset
        self._h256 = h256 if h256 is not None else hashlib.sha256()
        self._h512 = h512 if h512 is not None else hashlib.sha512()

    def update(self, data: bytes | memoryview) -> None:
        if len(data) >= _PARALLEL_MIN:
            future = _executor().submit(self._h512.update, data)
            self._h256.update(data)
            future.result()
        else:
            self._h256.update(data)
            self._h512.update(data)
        self.offset += len(data)

    def copy(self) -> RunningHash:
        return RunningHash(self.offset, self._h256.copy(), self._h512.copy())

    def hexdigests(self) -> tuple[str, str]:
        return self._h256.hexdigest(), self._h512.hexdigest()

    @classmethod
    def from_file(cls, path: Path, length: int) -> RunningHash:
        """Hash the first ``length`` bytes of ``path`` (the resume path)."""
        running = cls()
        remaining = length
        with path.open("rb") as f:
            while remaining > 0:
                chunk = f.read(min(READ_CHUNK * 4, remaining))
                if not chunk:
                    raise ValueError(f"{path.name} is shorter than {length} bytes")
                running.update(chunk)
                remaining -= len(chunk)
        return running


class HasherCache:
    """Running hashes of the uploads this process is receiving (bounded, thread-safe)."""

    def __init__(self, max_entries: int = 512) -> None:
        self._items: OrderedDict[str, RunningHash] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self.rehashes = 0  # how often a resume had to re-read the prefix (tests and bench read it)

    def take(self, upload_id: str, offset: int, path: Path) -> RunningHash:
        """The hasher covering exactly [0, offset), re-hashing the file prefix if needed."""
        with self._lock:
            running = self._items.pop(upload_id, None)
        if running is not None and running.offset == offset:
            return running
        self.rehashes += 1 if offset > 0 else 0
        return RunningHash.from_file(path, offset) if offset > 0 else RunningHash()

    def put(self, upload_id: str, running: RunningHash) -> None:
        with self._lock:
            self._items[upload_id] = running
            self._items.move_to_end(upload_id)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)
