"""The evidence vault from the console's side (``docs/api/vault.md``), Qt-free and blocking.

Everything goes through ``ApiClient.request`` (one HTTP client, one 401 path) except tus
uploads, which use the tus client ``tuspy`` with the same bearer token. Downloads stream to
disk in 1 MiB pieces with a progress callback and a cancel check, never holding a file in
memory. Originals are cached under their SHA-256 and are re-hashed as they arrive: a file
whose bytes do not match the hash the vault recorded is never handed to the player.
Opening a cached original still asks the server for its first byte, so every play is
audited and re-verified by the vault (a tampered original answers 409 there).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from rtcc_console.client.api import API_PREFIX, ApiClient, ApiError
from rtcc_console.client.evidence_models import (
    Evidence,
    ExportJob,
    evidence_from_json,
    export_from_json,
)

log = logging.getLogger(__name__)

CHUNK = 1 << 20
Progress = Callable[[int, int], None]  # bytes done, bytes total (0 = unknown)
Cancelled = Callable[[], bool]


class IntegrityFailure(ApiError):
    """The vault (409) or this console found that an item's bytes do not match its hash."""


class TransferCancelled(Exception):
    """The analyst cancelled a download, upload or export."""


def _never() -> bool:
    return False


def _quiet(_done: int, _total: int) -> None:
    return None


def _suffix(item: Evidence) -> str:
    suffix = Path(item.filename).suffix.lower()
    return suffix if suffix.isascii() and 1 < len(suffix) <= 6 and suffix[1:].isalnum() else ".bin"


class EvidenceApi:
    """Vault operations for one signed-in console; ``cache_dir`` holds verified originals."""

    def __init__(self, api: ApiClient, cache_dir: Path) -> None:
        self.api = api
        self.cache_dir = cache_dir

    # -- reading -----------------------------------------------------------------------
    def list_items(
        self,
        *,
        call_id: str | None = None,
        case_number: str | None = None,
        request_id: str | None = None,
        page: int = 200,
        max_items: int = 2000,
    ) -> list[Evidence]:
        """The items of a call, a case or a request, newest first (all pages)."""
        params: dict[str, Any] = {
            k: v
            for k, v in (
                ("call_id", call_id),
                ("case_number", case_number),
                ("request_id", request_id),
            )
            if v
        }
        items: list[Evidence] = []
        while len(items) < max_items:
            body = self.api.request(
                "GET", "/evidence", params={**params, "limit": page, "offset": len(items)}
            ).json()
            batch = body.get("items", []) if isinstance(body, dict) else []
            items.extend(evidence_from_json(d) for d in batch if isinstance(d, dict))
            if len(batch) < page or len(items) >= int(body.get("total", 0)):
                break
        return items

    def get(self, evidence_id: str) -> Evidence:
        return evidence_from_json(self.api.request("GET", f"/evidence/{evidence_id}").json())

    def thumbnail(self, evidence_id: str) -> bytes | None:
        """The item's JPEG thumbnail, or None when it has none."""
        try:
            return self.api.request("GET", f"/evidence/{evidence_id}/thumbnail").content
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def custody(self, evidence_id: str) -> list[dict[str, Any]]:
        body = self.api.request("GET", f"/evidence/{evidence_id}/custody").json()
        return [d for d in body.get("items", []) if isinstance(d, dict)]

    def attach(self, evidence_id: str, case_number: str) -> Evidence:
        resp = self.api.request(
            "POST", f"/evidence/{evidence_id}/attach", json={"case_number": case_number}
        )
        return evidence_from_json(resp.json())

    def verify(self, evidence_id: str) -> dict[str, Any]:
        """Ask the vault to re-hash the original now (custody ``verified``)."""
        return dict(self.api.request("POST", f"/evidence/{evidence_id}/verify").json())

    def snapshot(self, evidence_id: str, at_s: float, case_number: str | None = None) -> Evidence:
        """A still of the frame ``at_s`` seconds into the recording, made by the vault
        from the verified original and stored as a new item (audited on both)."""
        body: dict[str, Any] = {"evidence_id": evidence_id, "at_s": float(at_s)}
        if case_number:
            body["case_number"] = case_number
        return evidence_from_json(self.api.request("POST", "/evidence/snapshots", json=body).json())

    # -- content -----------------------------------------------------------------------
    def clear_cache(self) -> None:
        """Remove every local copy (sign-out, exit): evidence does not linger on a workstation."""
        shutil.rmtree(self.cache_dir, ignore_errors=True)

    def cached_path(self, item: Evidence) -> Path:
        return self.cache_dir / item.sha256[:2] / f"{item.sha256}{_suffix(item)}"

    def fetch_content(
        self,
        item: Evidence,
        *,
        purpose: str = "play",
        progress: Progress = _quiet,
        cancelled: Cancelled = _never,
    ) -> Path:
        """The verified original on local disk (downloaded once, resumed with ``Range``).

        Each call is one audited read on the server (``purpose`` = view/play): with a cached
        copy only the first byte is asked for, which makes the vault re-verify the original.
        """
        dest = self.cached_path(item)
        if dest.exists() and dest.stat().st_size == item.size:
            resp = self._content(item, purpose, {"Range": "bytes=0-0"})
            resp.close()
            progress(item.size, item.size)
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        digest = hashlib.sha256()
        offset = part.stat().st_size if part.exists() else 0
        if offset >= item.size:
            part.unlink()
            offset = 0
        if offset:
            with part.open("rb") as f:
                for block in iter(lambda: f.read(CHUNK), b""):
                    digest.update(block)
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        resp = self._content(item, purpose, headers)
        try:
            if resp.status_code != 206 and offset:
                digest, offset = hashlib.sha256(), 0  # the server sent the whole file
            with part.open("r+b" if offset else "wb") as f:
                f.seek(offset)
                f.truncate()
                done = offset
                for block in resp.iter_content(CHUNK):
                    if cancelled():
                        raise TransferCancelled("download cancelled")
                    f.write(block)
                    digest.update(block)
                    done += len(block)
                    progress(done, item.size)
        except requests.RequestException as exc:
            raise ApiError(
                0, f"download of {item.filename} interrupted ({type(exc).__name__})"
            ) from exc
        finally:
            resp.close()
        if digest.hexdigest() != item.sha256:
            part.unlink(missing_ok=True)
            raise IntegrityFailure(
                409,
                f"integrity failure: {item.filename} does not match its SHA-256 {item.sha256[:12]}…",
            )
        os.replace(part, dest)
        return dest

    def _content(self, item: Evidence, purpose: str, headers: dict[str, str]) -> requests.Response:
        try:
            return self.api.request(
                "GET",
                f"/evidence/{item.id}/content",
                params={"purpose": purpose, "variant": "original"},
                headers=headers,
                stream=True,
                timeout=(5.0, 60.0),
            )
        except ApiError as exc:
            if exc.status == 409:
                raise IntegrityFailure(409, exc.detail) from exc
            raise

    # -- uploads -----------------------------------------------------------------------
    def form_upload(
        self,
        path: Path,
        *,
        case_number: str,
        call_id: str | None = None,
        camera_id: str | None = None,
        clock_offset_s: float | None = None,
        retention: str | None = None,
    ) -> dict[str, Any]:
        """Send a small file (a wall clip or snapshot) in one request; the receipt."""
        fields: dict[str, str] = {"case_number": case_number}
        for key, value in (
            ("call_id", call_id),
            ("camera_id", camera_id),
            ("retention", retention),
        ):
            if value:
                fields[key] = value
        if clock_offset_s is not None:
            fields["clock_offset_s"] = repr(float(clock_offset_s))
        with path.open("rb") as f:
            resp = self.api.request(
                "POST",
                "/evidence/form-upload",
                data=fields,
                files={"file": (path.name, f, _mime(path))},
                timeout=(5.0, 300.0),
            )
        return dict(resp.json())

    def tus_upload(
        self,
        path: Path,
        *,
        case_number: str,
        call_id: str | None = None,
        camera_id: str | None = None,
        clock_offset_s: float | None = None,
        chunk_size: int = 8 * CHUNK,
        progress: Progress = _quiet,
        cancelled: Cancelled = _never,
    ) -> tuple[str, str]:
        """Resumable upload through the vault's tus endpoint; (evidence id, sha256)."""
        metadata = {"case_number": case_number, "filename": path.name}
        for key, value in (("call_id", call_id), ("camera_id", camera_id)):
            if value:
                metadata[key] = value
        if clock_offset_s is not None:
            metadata["clock_offset_s"] = repr(float(clock_offset_s))
        tus = tus_client.TusClient(self.api.url("/uploads"), headers=self.api.auth_headers())
        uploader = tus.uploader(
            file_path=str(path), chunk_size=chunk_size, metadata=metadata, retries=2, retry_delay=1
        )
        size = path.stat().st_size
        try:
            uploader.stop_at = size
            uploader.set_url(uploader.create_url())  # POST: the upload exists
            uploader.offset = 0
            while uploader.offset < size:
                if cancelled():
                    self._terminate(str(uploader.url))
                    raise TransferCancelled("upload cancelled")
                uploader.upload_chunk()  # type: ignore[no-untyped-call]
                progress(uploader.offset, size)
        except TusCommunicationError as exc:
            body = exc.response_content or b""
            raise ApiError(exc.status_code or 0, _tus_detail(body) or str(exc)) from exc
        request = uploader.request
        headers: dict[str, str] = dict(request.response_headers) if request is not None else {}
        evidence_id = headers.get("upload-evidence-id", "")
        if not evidence_id:
            raise ApiError(0, "the vault did not confirm the upload")
        return evidence_id, headers.get("upload-sha256", "")

    def _terminate(self, url: str) -> None:
        path = url.split(API_PREFIX, 1)[-1] if API_PREFIX in url else url
        try:
            self.api.request("DELETE", path, headers={"Tus-Resumable": "1.0.0"})
        except ApiError as exc:
            log.info("terminating upload failed: %s", exc)

    # -- case export -------------------------------------------------------------------
    def start_export(self, case_number: str, fmt: str = "zip") -> ExportJob:
        resp = self.api.request("POST", f"/cases/{case_number}/export", json={"format": fmt})
        return export_from_json(resp.json(), case_number)

    def export_status(self, job: ExportJob) -> ExportJob:
        resp = self.api.request("GET", f"/cases/{job.case_number}/exports/{job.id}")
        return export_from_json(resp.json(), job.case_number)

    def cancel_export(self, job: ExportJob) -> ExportJob:
        resp = self.api.request("POST", f"/cases/{job.case_number}/exports/{job.id}/cancel")
        return export_from_json(resp.json(), job.case_number)

    def wait_export(
        self,
        job: ExportJob,
        *,
        on_update: Callable[[ExportJob], None] = lambda _job: None,
        cancelled: Cancelled = _never,
        poll_s: float = 0.3,
        timeout_s: float = 3600.0,
    ) -> ExportJob:
        """Poll until the server finishes the package; cancelling asks the server to stop."""
        end = time.monotonic() + timeout_s
        while not job.finished:
            if cancelled():
                job = self.cancel_export(job)
                on_update(job)
                raise TransferCancelled("export cancelled")
            if time.monotonic() > end:
                raise ApiError(0, "the export did not finish in time")
            time.sleep(poll_s)
            job = self.export_status(job)
            on_update(job)
        return job

    def download_export(
        self,
        job: ExportJob,
        dest: Path,
        *,
        progress: Progress = _quiet,
        cancelled: Cancelled = _never,
    ) -> Path:
        """Stream the finished package to ``dest`` (written as ``dest.part``, then renamed)
        and check it against the archive hash the server announced."""
        path = job.download_url or f"/cases/{job.case_number}/exports/{job.id}/download"
        if path.startswith(API_PREFIX):
            path = path[len(API_PREFIX) :]
        resp = self.api.request("GET", path, stream=True, timeout=(5.0, 120.0))
        total = int(resp.headers.get("Content-Length") or 0)
        part = dest.with_name(dest.name + ".part")
        digest = hashlib.sha256()
        done = 0
        try:
            with part.open("wb") as f:
                for block in resp.iter_content(CHUNK):
                    if cancelled():
                        raise TransferCancelled("download cancelled")
                    f.write(block)
                    digest.update(block)
                    done += len(block)
                    progress(done, total)
        except (TransferCancelled, requests.RequestException, OSError) as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc, requests.RequestException):
                raise ApiError(0, f"export download interrupted ({type(exc).__name__})") from exc
            raise
        finally:
            resp.close()
        if job.sha256 and digest.hexdigest() != job.sha256:
            part.unlink(missing_ok=True)
            raise IntegrityFailure(
                409, "the downloaded package does not match the server's SHA-256"
            )
        os.replace(part, dest)
        return dest


def _mime(path: Path) -> str:
    return {".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream"
    )


def _tus_detail(body: bytes) -> str:
    import json

    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:200]
    return str(data.get("detail", "")) if isinstance(data, dict) else ""
