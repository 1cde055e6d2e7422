"""The console's local copy of the server's data: camera registry, recent calls, cursors.

SQLite (stdlib ``sqlite3``) under ``ConsoleSettings.cache_dir``, one file per server, so
the console starts fast (no full download) and keeps working while the server is
unreachable: the last calls stay listed and nearest cameras are still ranked locally.
Rows are stored as the server's JSON; the registry is brought up to date through the
``GET /cameras?since=CURSOR`` feed. Thread-safe: one connection guarded by a lock.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtcc_console.client.api import ApiClient

SCHEMA = """
CREATE TABLE IF NOT EXISTS cameras (id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, version INTEGER NOT NULL,
                                  updated_at TEXT, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


def cache_path_for(cache_dir: Path, server_url: str) -> Path:
    """One cache file per server, so two agencies' registries never mix."""
    key = hashlib.sha256(server_url.rstrip("/").encode()).hexdigest()[:16]
    return cache_dir / f"server-{key}.sqlite"


@dataclass
class SyncResult:
    """What one registry sync changed."""

    changed: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cursor: str = "0"
    pages: int = 0


class RegistryCache:
    """Persistent registry + call cache. ``path=None`` keeps everything in memory (tests)."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def cursor(self) -> str:
        return self.get_meta("camera_cursor") or "0"

    @property
    def last_event_id(self) -> int | None:
        value = self.get_meta("last_event_id")
        return int(value) if value else None

    # -- cameras ---------------------------------------------------------------------
    def camera_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT json FROM cameras").fetchall()
        return [json.loads(r[0]) for r in rows]

    def apply_cameras(
        self,
        items: Iterable[dict[str, Any]],
        deleted: Iterable[str] = (),
        cursor: str | None = None,
    ) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO cameras(id, json) VALUES (?, ?)",
                [(str(c["id"]), json.dumps(c, separators=(",", ":"))) for c in items],
            )
            self._db.executemany("DELETE FROM cameras WHERE id=?", [(d,) for d in deleted])
            if cursor is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('camera_cursor', ?)", (cursor,)
                )

    def reset_registry(self) -> None:
        """Forget every camera and the cursor (the server's database was replaced)."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM cameras")
            self._db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('camera_cursor', '0')"
            )

    def sync(self, api: ApiClient, *, page: int = 5000, max_pages: int = 1000) -> SyncResult:
        """Pull every registry change since the stored cursor; each page is committed as it lands."""
        result = SyncResult(cursor=self.cursor)
        for _ in range(max_pages):
            body = api.cameras_since(result.cursor, limit=page)
            items = list(body.get("items", []))
            deleted = [str(d) for d in body.get("deleted", [])]
            cursor = str(body.get("cursor", result.cursor))
            self.apply_cameras(items, deleted, cursor)
            result.changed.extend(items)
            result.deleted.extend(deleted)
            result.cursor, result.pages = cursor, result.pages + 1
            if not body.get("has_more"):
                break
        return result

    # -- calls -----------------------------------------------------------------------
    def upsert_call(self, call: dict[str, Any], event_id: int | None = None) -> None:
        """Keep the newest version of a call; remember the event id it came with."""
        version = int(call.get("version") or 0)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO calls(id, version, updated_at, json) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET version=excluded.version, updated_at=excluded.updated_at, "
                "json=excluded.json WHERE excluded.version >= calls.version",
                (
                    str(call["id"]),
                    version,
                    call.get("updated_at"),
                    json.dumps(call, separators=(",", ":")),
                ),
            )
            if event_id is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('last_event_id', ?)",
                    (str(event_id),),
                )

    def replace_calls(self, calls: Iterable[dict[str, Any]]) -> None:
        """After a resync: the server's snapshot of open calls replaces what was kept."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM calls")
        for call in calls:
            self.upsert_call(call)

    def set_last_event_id(self, event_id: int | None) -> None:
        self.set_meta("last_event_id", None if event_id is None else str(event_id))

    def call_rows(self, limit: int = 2000) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT json FROM calls ORDER BY updated_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]
