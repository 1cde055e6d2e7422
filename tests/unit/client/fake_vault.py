"""A stand-in vault over real loopback HTTP for unit and widget tests (the real vault is
exercised by tests/e2e/test_evidence_e2e.py). It serves the routes of docs/api/vault.md the
console reads, with Range, 409 for integrity failures, and an export job whose progress
the test drives step by step."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeVault:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.blobs: dict[str, bytes] = {}
        self.thumbs: dict[str, bytes] = {}
        self.failed: set[str] = set()
        self.slow: set[str] = set()  # content sent in 64 KiB pieces, 20 ms apart
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.export: dict[str, Any] | None = None
        self.export_blob = b""
        self.export_steps: list[float] = []  # progress values served by successive polls
        self.snapshots: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        vault = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_a: Any) -> None:
                return None

            def do_GET(self) -> None:
                vault._handle(self, "GET")

            def do_POST(self) -> None:
                vault._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, evidence_id: str, data: bytes, **fields: Any) -> dict[str, Any]:
        item = {
            "id": evidence_id,
            "sha256": hashlib.sha256(data).hexdigest(),
            "sha512": hashlib.sha512(data).hexdigest(),
            "size": len(data),
            "filename": fields.pop("filename", f"{evidence_id}.mp4"),
            "kind": "video",
            "integrity": "ok",
            "case_numbers": ["26-000001"],
            "received_at": "2026-11-29T18:00:00+00:00",
            "media": {
                "duration_s": 4.0,
                "codec": "h264",
                "width": 320,
                "height": 180,
                "start_time": "2026-11-29T03:00:00+00:00",
            },
            "clock_offset_s": 0.0,
            "owner_kind": "residential",
            "camera_id": "cam-000001",
            "call_id": "call-1",
            "requested_window": {
                "start": "2026-11-29T02:30:00+00:00",
                "end": "2026-11-29T03:30:00+00:00",
            },
            "has_thumbnail": False,
        }
        item.update(fields)
        with self.lock:
            self.items[evidence_id] = item
            self.blobs[evidence_id] = data
        return item

    # -- HTTP ----------------------------------------------------------------------------
    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes | dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        h.send_response(status)
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if isinstance(body, dict):
            h.send_header("Content-Type", "application/json")
        h.end_headers()
        h.wfile.write(raw)

    def _send_slowly(self, h: BaseHTTPRequestHandler, data: bytes) -> None:
        import time

        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            for i in range(0, len(data), 65536):
                h.wfile.write(data[i : i + 65536])
                h.wfile.flush()
                time.sleep(0.02)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cancelled

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path, _, query = h.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        self.requests.append((method, path, dict(h.headers)))
        if not h.headers.get("Authorization", "").startswith("Bearer "):
            return self._send(h, 401, {"detail": "not signed in"})
        p = path.removeprefix("/api/v1")
        slow_data: bytes | None = None
        with self.lock:
            if method == "GET" and p == "/evidence":
                items = [
                    i
                    for i in self.items.values()
                    if params.get("call_id") in (None, i.get("call_id"))
                    and (
                        params.get("case_number") is None
                        or params["case_number"] in i["case_numbers"]
                    )
                ]
                return self._send(
                    h, 200, {"items": items, "total": len(items), "limit": 200, "offset": 0}
                )
            m = re.fullmatch(r"/evidence/([^/]+)(/\w+)?", p)
            if m and m.group(1) in self.items:
                eid, sub = m.group(1), m.group(2) or ""
                if sub == "/content":
                    if eid in self.failed:
                        self.items[eid]["integrity"] = "failed"
                        return self._send(
                            h,
                            409,
                            {"detail": f"integrity failure: {eid} does not match its SHA-256"},
                        )
                    data = self.blobs[eid]
                    rng = h.headers.get("Range")
                    if rng:
                        a, _, b = rng.removeprefix("bytes=").partition("-")
                        end = int(b) if b else len(data) - 1
                        return self._send(
                            h,
                            206,
                            data[int(a) : end + 1],
                            {"Content-Range": f"bytes {a}-{end}/{len(data)}"},
                        )
                    if eid not in self.slow:
                        return self._send(h, 200, data)
                    slow_data = data  # sent below, outside the lock
                if sub == "/thumbnail":
                    if eid in self.thumbs:
                        return self._send(h, 200, self.thumbs[eid], {"Content-Type": "image/jpeg"})
                    return self._send(h, 404, {"detail": "no thumbnail"})
                if sub == "":
                    return self._send(h, 200, self.items[eid])
            if method == "POST" and p == "/evidence/snapshots":
                req = json.loads(body)
                self.snapshots.append(req)
                new = dict(
                    self.items[req["evidence_id"]],
                    id=f"ev-snap-{len(self.snapshots)}",
                    kind="image",
                    derived_from=req["evidence_id"],
                )
                return self._send(h, 201, new)
            m = re.fullmatch(r"/cases/([^/]+)/export", p)
            if method == "POST" and m:
                self.export = {
                    "id": "exp-1",
                    "case_number": m.group(1),
                    "status": "running",
                    "progress": 0.0,
                    "bytes_done": 0,
                    "bytes_total": len(self.export_blob),
                    "error": None,
                    "download_url": None,
                    "sha256": None,
                }
                return self._send(h, 202, self.export)
            m = re.fullmatch(r"/cases/([^/]+)/exports/([^/]+)(/\w+)?", p)
            if m and self.export is not None:
                sub = m.group(3) or ""
                if sub == "/cancel":
                    self.export.update(status="cancelled")
                    return self._send(h, 200, self.export)
                if sub == "/download":
                    return self._send(h, 200, self.export_blob, {"Content-Type": "application/zip"})
                if self.export["status"] == "running" and self.export_steps:
                    step = self.export_steps.pop(0)
                    self.export["progress"] = step
                    if step >= 1.0:
                        self.export.update(
                            status="done",
                            sha256=hashlib.sha256(self.export_blob).hexdigest(),
                            download_url=f"/api/v1/cases/{m.group(1)}/exports/exp-1/download",
                        )
                return self._send(h, 200, self.export)
        if slow_data is not None:
            return self._send_slowly(h, slow_data)
        return self._send(h, 404, {"detail": "not found"})
