"""Named wall presets (layout + camera per tile), per user, on the server with a local copy.

The server (``/me/presets``) is the source of truth so a preset follows the analyst to
another workstation. Every preset is also kept in a local JSON file so that the wall can
save and restore while the server is unreachable; presets saved offline stay local until
saved again. All methods block: the wall calls them from background threads.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from rtcc_console.ui.wall.grants import GrantService, GrantServiceUnavailable


def default_presets_file(user: str) -> Path:
    from rtcc_console.config import config_dir

    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in user) or "user"
    return config_dir() / f"wall-presets-{safe}.json"


class PresetStore:
    """Server presets with a local JSON fallback."""

    def __init__(self, grants: GrantService, local_file: Path) -> None:
        self.grants = grants
        self.local_file = local_file
        self._lock = threading.Lock()

    def _read_local(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.local_file.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # a damaged cache must not stop the wall; the server copy remains
        return (
            {str(k): v for k, v in data.items() if isinstance(v, dict)}
            if isinstance(data, dict)
            else {}
        )

    def _write_local(self, presets: dict[str, dict[str, Any]]) -> None:
        self.local_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.local_file.with_suffix(".part")
        tmp.write_text(json.dumps(presets, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, self.local_file)

    def load(self) -> tuple[dict[str, dict[str, Any]], bool]:
        """All presets and whether the server answered (False: local copy only)."""
        with self._lock:
            local = self._read_local()
            try:
                remote = self.grants.load_presets()
            except GrantServiceUnavailable:
                return local, False
            merged = {**local, **remote}
            self._write_local(merged)
            return merged, True

    def save(self, name: str, layout: dict[str, Any]) -> bool:
        """Save ``layout`` as ``name``; True if the server has it, False if only local."""
        with self._lock:
            local = self._read_local()
            local[name] = layout
            self._write_local(local)
            try:
                self.grants.save_preset(name, layout)
            except GrantServiceUnavailable:
                return False
            return True

    def delete(self, name: str) -> bool:
        with self._lock:
            local = self._read_local()
            local.pop(name, None)
            self._write_local(local)
            try:
                self.grants.delete_preset(name)
            except GrantServiceUnavailable:
                return False
            return True
