"""Snapshots: a tile's current frame as a PNG with provenance, hashed and audited.

The PNG carries camera, time (UTC ISO) and user in its text chunks; its SHA-256 is
computed over the exact bytes written and recorded on the server through
``GrantService.record_snapshot``. Encoding, writing and auditing run off the GUI thread.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage

from rtcc_console.ui.wall.grants import GrantService


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A written snapshot: where it is and what it hashes to."""

    path: Path
    sha256: str
    taken_at: datetime
    camera_id: str


def default_snapshot_dir() -> Path:
    from rtcc_console.config import data_dir

    return data_dir() / "snapshots"


def safe_filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "camera"


def encode_png(image: QImage, metadata: dict[str, str]) -> bytes:
    """PNG bytes of ``image`` with ``metadata`` as text chunks (reentrant: any thread)."""
    tagged = QImage(image)  # implicit share; setText detaches only the text
    for key, value in metadata.items():
        tagged.setText(key, value)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not tagged.save(buffer, "PNG"):  # type: ignore[call-overload]  # the stub says bytes; PySide6 wants str
        raise OSError("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def write_snapshot(
    image: QImage,
    *,
    folder: Path,
    camera_id: str,
    camera_name: str,
    grant_id: str,
    user: str,
    reason: str,
    taken_at: datetime,
    grants: GrantService,
) -> Snapshot:
    """Encode, write atomically, hash and audit one snapshot (blocking)."""
    stamp = taken_at.isoformat(timespec="milliseconds")
    png = encode_png(
        image,
        {
            "Camera": camera_name,
            "CameraId": camera_id,
            "Time": stamp,
            "User": user,
            "Reason": reason,
            "Software": "RTCC Console",
        },
    )
    digest = hashlib.sha256(png).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{safe_filename(camera_id)}_{taken_at.strftime('%Y%m%dT%H%M%S_%fZ')}.png"
    path = folder / name
    tmp = path.with_suffix(".png.part")
    tmp.write_bytes(png)
    os.replace(tmp, path)
    grants.record_snapshot(camera_id, grant_id, digest, taken_at, reason)
    return Snapshot(path, digest, taken_at, camera_id)
