"""The vault of one server process: directories, running hashes, locks, background work.

Built lazily on first use (:func:`vault_of`) and hung on ``AppState.extras["vault"]``;
the uploads router's lifespan starts its housekeeping (purge of expired uploads, retention
purge, recovery of uploads that were complete on disk when the process died).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtcc_console.server.vault.blobs import BlobStore, Fingerprint
from rtcc_console.server.vault.hashing import HasherCache

if TYPE_CHECKING:
    from rtcc_console.server.state import AppState

log = logging.getLogger(__name__)
_create_lock = threading.Lock()

#: Test hook (fault injection): seconds to sleep inside finalization, after the digests are
#: taken and before anything is registered, so a test can kill the server there.
FINALIZE_DELAY_ENV = "RTCC_VAULT_TEST_FINALIZE_DELAY_S"


class UploadBusy(Exception):
    """Another request is writing this upload right now."""


class Vault:
    def __init__(self, state: AppState) -> None:
        self.state = state
        self.settings = state.settings
        self.blobs = BlobStore(Path(state.settings.vault_dir))
        self.blobs.ensure()
        self.hashers = HasherCache()
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._verified: dict[str, tuple[Fingerprint, float]] = {}
        self.workers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault-work")
        self.exporter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault-export")
        self.export_cancel: dict[str, threading.Event] = {}
        self.finalize_delay_s = float(os.environ.get(FINALIZE_DELAY_ENV, "0") or 0)

    @contextmanager
    def upload_lock(self, upload_id: str) -> Iterator[None]:
        """Exclusive access to one upload: a thread lock here, an flock across processes."""
        with self._locks_guard:
            lock = self._locks.setdefault(upload_id, threading.Lock())
        if not lock.acquire(blocking=False):
            raise UploadBusy(upload_id)
        fd = -1
        try:
            lock_path = self.blobs.uploads / f"{upload_id}.lock"
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise UploadBusy(upload_id) from exc
            yield
        finally:
            if fd >= 0:
                os.close(fd)
            lock.release()

    def forget_upload(self, upload_id: str) -> None:
        self.hashers.drop(upload_id)
        (self.blobs.uploads / f"{upload_id}.lock").unlink(missing_ok=True)
        with self._locks_guard:
            self._locks.pop(upload_id, None)

    # verification cache ------------------------------------------------------------------
    def recently_verified(self, sha256: str, fp: Fingerprint) -> bool:
        entry = self._verified.get(sha256)
        return (
            entry is not None
            and entry[0] == fp
            and time.monotonic() - entry[1] <= self.settings.vault_verify_cache_s
        )

    def mark_verified(self, sha256: str, fp: Fingerprint | None) -> None:
        if fp is None:
            self._verified.pop(sha256, None)
        else:
            self._verified[sha256] = (fp, time.monotonic())

    def close(self) -> None:
        for event in self.export_cancel.values():
            event.set()
        self.workers.shutdown(wait=True, cancel_futures=True)
        self.exporter.shutdown(wait=True, cancel_futures=True)


def vault_of(state: AppState) -> Vault:
    vault: Any = state.extras.get("vault")
    if vault is None:
        with _create_lock:
            vault = state.extras.get("vault")
            if vault is None:
                vault = Vault(state)
                state.extras["vault"] = vault
    return vault  # type: ignore[no-any-return]
