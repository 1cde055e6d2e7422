"""Helpers for the vault tests: real MP4 bytes and raw tus requests."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from rtcc_console.sim.vault_media import make_mp4

API = "/api/v1"
TUS = {"Tus-Resumable": "1.0.0"}


@lru_cache(maxsize=8)
def mp4_bytes(seed: int = 0, seconds: float = 2.0) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = make_mp4(Path(d) / "clip.mp4", seconds=seconds, seed=seed)
        return path.read_bytes()


def meta_header(**pairs: Any) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in pairs.items())


def tus_create(client: Any, headers: dict[str, str], length: int, **meta: Any) -> Any:
    return client.post(
        f"{API}/uploads",
        headers={
            **headers,
            **TUS,
            "Upload-Length": str(length),
            "Upload-Metadata": meta_header(**meta),
        },
    )


def tus_patch(
    client: Any, location: str, headers: dict[str, str], offset: int, data: bytes, **extra: str
) -> Any:
    return client.patch(
        location,
        content=data,
        headers={
            **headers,
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **extra,
        },
    )


def upload_whole(
    client: Any, headers: dict[str, str], data: bytes, *, parts: int = 1, **meta: Any
) -> Any:
    r = tus_create(client, headers, len(data), **meta)
    assert r.status_code == 201, r.text
    loc = r.headers["Location"]
    step = max(1, -(-len(data) // parts))
    last = r
    for start in range(0, len(data), step):
        last = tus_patch(client, loc, headers, start, data[start : start + step])
        if last.status_code != 204:
            return last
    return last


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
