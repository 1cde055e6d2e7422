"""CAD drop folder: ingest ``*.json`` and ``*.csv`` files a CAD export writes into a folder.

A watchdog observer wakes the worker on file-system events, and a periodic rescan
(``cad_dropdir_rescan_s``) catches anything the observer missed (network shares, events
lost under load). A file is read only once its size and mtime have stayed the same for
``cad_dropdir_stable_s`` seconds, so a file still being written is never read half-way;
dotfiles and ``*.tmp`` / ``*.part`` files are ignored (write-then-rename is the safest way
to drop a file). Each file is all or nothing: every call in it is stored in one
transaction, then the file moves to ``processed/``; on any problem it moves to ``failed/``
with ``<name>.error.txt`` beside it saying why. A file is never deleted or lost.

JSON files hold one call (EIDO or simple form) or ``{"items": [...]}``; CSV files have a
header row of simple-form fields.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtcc_console.core.cad import CadParseError, ParsedCall, parse_call, parse_csv
from rtcc_console.core.models import utcnow
from rtcc_console.server.intake import ingest
from rtcc_console.server.state import AppState

log = logging.getLogger(__name__)
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".swp", ".crdownload", ".error.txt")
MAX_FILE_BYTES = 50_000_000


class DropFileError(ValueError):
    """Why a dropped file could not be ingested (written to ``<name>.error.txt``)."""


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


def parse_drop_file(path: Path) -> list[tuple[ParsedCall, Any]]:
    """All calls of one file, or DropFileError naming the item/row and field."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DropFileError(f"file larger than {MAX_FILE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DropFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if path.suffix.lower() == ".csv":
        result = parse_csv(text)
        if result.errors:
            lines = [f"row {e.row}, {e.field}: {e.message}" for e in result.errors]
            raise DropFileError("CSV rows rejected, nothing imported:\n" + "\n".join(lines))
        if not result.calls:
            raise DropFileError("no call rows in the CSV file")
        return [(call, call.to_simple_dict()) for call in result.calls]
    from rtcc_console.server.limits import json_text_problem  # the same edge checks as HTTP bodies

    problem = json_text_problem(text.encode("utf-8"))
    if problem is not None:  # lone surrogates, NUL, deep nesting: refused, never retried
        raise DropFileError(problem.removeprefix("body: "))
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise DropFileError(f"not valid JSON: {exc}") from exc
    items = obj["items"] if isinstance(obj, dict) and isinstance(obj.get("items"), list) else None
    try:
        if items is None:
            return [(parse_call(obj), obj)]
        if not items:
            raise DropFileError('"items" is empty')
        out = []
        for i, item in enumerate(items):
            try:
                out.append((parse_call(item), item))
            except CadParseError as exc:
                raise DropFileError(f"items[{i}].{exc.field}: {exc.problem}") from exc
        return out
    except CadParseError as exc:
        raise DropFileError(f"{exc.field}: {exc.problem}") from exc


class DropFolder:
    """Watches one folder; ``scan_once`` is the unit of work (tests call it directly)."""

    def __init__(
        self, state: AppState, folder: Path, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.state = state
        self.folder = Path(folder)
        self.processed = self.folder / "processed"
        self.failed = self.folder / "failed"
        self.stable_s = state.settings.cad_dropdir_stable_s
        self.rescan_s = state.settings.cad_dropdir_rescan_s
        self._clock = clock
        self._seen: dict[str, _Seen] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None
        self.ingested_files = 0
        self.failed_files = 0

    def start(self) -> None:
        for d in (self.folder, self.processed, self.failed):
            d.mkdir(parents=True, exist_ok=True)
        try:
            from watchdog.events import FileSystemEventHandler
            from watchdog.observers import Observer

            wake = self._wake

            class _Handler(FileSystemEventHandler):
                def on_any_event(self, event: Any) -> None:
                    wake.set()

            observer = Observer()
            observer.schedule(_Handler(), str(self.folder), recursive=False)
            observer.daemon = True
            observer.start()
            self._observer = observer
        except OSError as exc:  # e.g. inotify limits: the periodic rescan still works
            log.warning("drop folder watcher unavailable (%s); relying on the periodic rescan", exc)
        self._thread = threading.Thread(target=self._loop, name="rtcc-dropdir", daemon=True)
        self._thread.start()
        log.info("watching CAD drop folder %s", self.folder)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(5)
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                waiting = self.scan_once()
            except Exception:  # keep watching; the next pass retries
                log.exception("drop folder scan failed")
                waiting = False
            delay = max(0.05, self.stable_s / 2) if waiting else self.rescan_s
            self._wake.wait(delay)
            self._wake.clear()

    def _candidates(self) -> list[Path]:
        out = []
        for entry in os.scandir(self.folder):
            name = entry.name
            if (
                not entry.is_file(follow_symlinks=False)
                or name.startswith(".")
                or name.lower().endswith(IGNORED_SUFFIXES)
            ):
                continue
            if name.lower().endswith((".json", ".csv")):
                out.append(Path(entry.path))
        return sorted(out, key=lambda p: p.name)

    def scan_once(self) -> bool:
        """Ingest every stable file; True when some file is still settling."""
        now = self._clock()
        settling = False
        present = set()
        for path in self._candidates():
            present.add(path.name)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            seen = self._seen.get(path.name)
            if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
                self._seen[path.name] = _Seen(st.st_size, st.st_mtime_ns, now)
                settling = True
                if self.stable_s > 0:
                    continue
            elif now - seen.since < self.stable_s:
                settling = True
                continue
            self._process(path)
            self._seen.pop(path.name, None)
        for name in list(self._seen):
            if name not in present:
                del self._seen[name]
        return settling

    def _process(self, path: Path) -> None:
        try:
            calls = parse_drop_file(path)
            with self.state.db.write() as session:
                for parsed, raw in calls:
                    ingest(session, parsed=parsed, source="dropdir", raw=raw)
        except DropFileError as exc:
            self._fail(path, str(exc))
            return
        except Exception as exc:  # a database problem: keep the file for inspection
            log.exception("could not store calls from %s", path.name)
            self._fail(path, f"could not store the calls: {type(exc).__name__}: {exc}")
            return
        self._move(path, self.processed)
        self.ingested_files += 1
        log.info("ingested %d call(s) from %s", len(calls), path.name)

    def _fail(self, path: Path, reason: str) -> None:
        target = self._move(path, self.failed)
        target.with_name(target.name + ".error.txt").write_text(
            f"{utcnow().isoformat()} {path.name}: not ingested (nothing from this file was stored)\n{reason}\n",
            encoding="utf-8",
        )
        self.failed_files += 1
        log.warning("CAD file %s rejected: %s", path.name, reason.splitlines()[0])

    def _move(self, path: Path, folder: Path) -> Path:
        target = folder / path.name
        if target.exists():
            stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
            target = folder / f"{path.stem}.{stamp}{path.suffix}"
        os.replace(path, target)
        return target
