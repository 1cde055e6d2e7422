"""An MBTiles file served to the console's map on loopback.

MBTiles (a SQLite file of raster tiles, rows in TMS order) is how agencies carry a basemap
without internet. QtWebEngine loads tiles by URL, so a small HTTP server on 127.0.0.1
answers ``/{z}/{x}/{y}.png`` from the file; the map's tile URL points at it. The file is
opened read-only; nothing else is served, and any other path is a 404.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_TILE = re.compile(r"^/(\d{1,2})/(\d{1,8})/(\d{1,8})\.(png|jpg|jpeg|webp)$")
_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class MBTiles:
    """Read-only access to one MBTiles file (one connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"MBTiles file not found: {self.path}")
        self._local = threading.local()
        meta = dict(self._db().execute("SELECT name, value FROM metadata").fetchall())
        self.metadata: dict[str, str] = {str(k): str(v) for k, v in meta.items()}
        self.format = self.metadata.get("format", "png")

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.db = db
        return db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile in XYZ numbering (MBTiles stores TMS rows: flipped)."""
        if not (0 <= z <= 30 and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        row = (
            self._db()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (2**z - 1) - y),
            )
            .fetchone()
        )
        return bytes(row[0]) if row else None


class MBTilesServer:
    """``start()`` → the tile URL template for the map; ``stop()`` at exit."""

    def __init__(self, path: Path) -> None:
        self.tiles = MBTiles(path)
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def attribution(self) -> str:
        return (
            self.tiles.metadata.get("attribution")
            or self.tiles.metadata.get("name")
            or "MBTiles basemap"
        )

    def start(self) -> str:
        tiles = self.tiles

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                match = _TILE.match(self.path)
                data = tiles.tile(int(match[1]), int(match[2]), int(match[3])) if match else None
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header(
                    "Content-Type", _TYPES.get(tiles.format, "application/octet-stream")
                )
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "max-age=86400")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("mbtiles: " + format, *args)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, name="rtcc-mbtiles", daemon=True).start()
        port = self._httpd.server_address[1]
        return f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.{tiles.format}"

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
