"""Case export: one BagIt 1.0 bag (RFC 8493) streamed straight into a zip or tar.

Each original is read once: the bytes are hashed (SHA-256 and SHA-512) and written into
the archive in the same pass (SHA-256 on a helper thread, beside the write), and the SHA-256
must equal the one registered at arrival (a mismatch fails the export and flags the item).
The SHA-512 in the manifest is the one taken on arrival: the bytes were just re-verified. No intermediate bag directory and no
second hashing pass: ``bagit.make_bag`` would re-read every payload file, which alone would
double the cost of a multi-gigabyte export. The manifests, tag manifests, ``bagit.txt`` and
``bag-info.txt`` are written here from the hashes of that single pass; the ``bagit``
library's validator checks the result in the tests and in ``rtcc evidence verify``.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import logging
import mmap
import os
import re
import secrets
import tarfile
import threading
import time
import zipfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rtcc_console import __version__
from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.vault.access import flag_failure
from rtcc_console.server.vault.ingest import record_custody
from rtcc_console.server.vault.service import Vault
from rtcc_console.store import evidence as store

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.25


class ExportCancelled(Exception):
    pass


class ExportFailed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ItemSnapshot:
    id: str
    sha256: str
    sha512: str | None
    size: int
    filename: str
    kind: str
    received_at: datetime
    camera_id: str | None
    owner_kind: str | None
    request_id: str | None
    media: dict[str, Any]
    clock_offset_s: float | None
    integrity: str


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return cleaned[:120]


def bag_name(case_number: str) -> str:
    return "case-" + _safe_name(case_number)


def start_export(vault: Vault, *, case_number: str, fmt: str, actor: Actor, username: str) -> str:
    """Queue an export job; LookupError when the case has no items."""
    with vault.state.db.write() as session:
        items = store.items_for_case(session, case_number=case_number)
        if not items:
            raise LookupError(case_number)
        export_id = "exp-" + secrets.token_hex(8)
        store.create_export(
            session,
            export_id=export_id,
            case_number=case_number,
            fmt=fmt,
            created_by=username,
            bytes_total=sum(i.size_bytes for i in items),
        )
        append_audit(
            session,
            actor=actor,
            action="evidence.export_started",
            targets={"case": case_number, "export": export_id, "items": len(items)},
        )
    cancel = threading.Event()
    vault.export_cancel[export_id] = cancel
    vault.exporter.submit(run_export, vault, export_id=export_id, actor=actor, cancel=cancel)
    return export_id


def cancel_export(vault: Vault, *, export_id: str) -> None:
    event = vault.export_cancel.get(export_id)
    if event is not None:
        event.set()
    with vault.state.db.write() as session:
        row = store.get_export(session, export_id=export_id)
        if row is not None and row.status in ("queued", "running"):
            store.update_export(
                session, export_id=export_id, status="cancelled", finished_at=utcnow()
            )


def run_export(vault: Vault, *, export_id: str, actor: Actor, cancel: threading.Event) -> None:
    with vault.state.db.read() as session:
        job = store.get_export(session, export_id=export_id)
        if job is None or job.status != "queued":
            return
        case_number, fmt = job.case_number, job.format
        items = [
            ItemSnapshot(
                r.id,
                r.sha256,
                r.sha512,
                r.size_bytes,
                r.filename,
                r.kind,
                r.received_at,
                r.camera_id,
                r.owner_kind,
                r.request_id,
                dict(r.media or {}),
                r.clock_offset_s,
                r.integrity,
            )
            for r in store.items_for_case(session, case_number=case_number)
        ]
    with vault.state.db.write() as session:
        store.update_export(
            session, export_id=export_id, status="running", bytes_total=sum(i.size for i in items)
        )
    dest = vault.blobs.exports / f"{export_id}.{fmt}"
    tmp = dest.with_name(dest.name + ".tmp")
    last = [time.monotonic()]

    def progress(done: int) -> None:
        if cancel.is_set():
            raise ExportCancelled()
        if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
            last[0] = time.monotonic()
            with vault.state.db.write() as s:
                store.update_export(s, export_id=export_id, bytes_done=done)

    try:
        write_bag_archive(
            vault,
            tmp,
            fmt=fmt,
            case_number=case_number,
            items=items,
            actor=actor,
            progress=progress,
        )
        os.replace(tmp, dest)
    except ExportCancelled:
        tmp.unlink(missing_ok=True)
        with vault.state.db.write() as session:
            store.update_export(
                session, export_id=export_id, status="cancelled", finished_at=utcnow()
            )
            append_audit(
                session,
                actor=actor,
                action="evidence.export_cancelled",
                targets={"case": case_number, "export": export_id},
            )
        return
    except Exception as exc:  # noqa: BLE001 - any failure: the job says why, nothing half-made is offered
        tmp.unlink(missing_ok=True)
        log.warning("export %s failed: %s", export_id, exc)
        with vault.state.db.write() as session:
            store.update_export(
                session,
                export_id=export_id,
                status="failed",
                error=str(exc)[:500],
                finished_at=utcnow(),
            )
            append_audit(
                session,
                actor=actor,
                action="evidence.export_failed",
                outcome="failed",
                targets={"case": case_number, "export": export_id},
                reason=str(exc)[:200],
            )
        return
    finally:
        vault.export_cancel.pop(export_id, None)
    with vault.state.db.write() as session:
        store.update_export(
            session,
            export_id=export_id,
            status="done",
            path=str(dest),
            finished_at=utcnow(),
            bytes_done=sum(i.size for i in items),
        )
        for item in items:
            record_custody(
                session,
                actor=actor,
                custody_actor=actor.username or "?",
                evidence_id=item.id,
                action="exported",
                case_number=case_number,
                details={"export": export_id, "sha256": item.sha256},
            )


class _HashTap:
    """SHA-256 of the bytes passing by, computed on a helper thread while they are written."""

    def __init__(self, on_progress: Callable[[int], None]) -> None:
        self.h = hashlib.sha256()
        self.n = 0
        self.on_progress = on_progress
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-hash")
        self.pending: deque[Future[None]] = deque()

    def __call__(self, chunk: memoryview) -> None:
        self.pending.append(self.pool.submit(self.h.update, chunk))
        while len(self.pending) > 3:
            self.pending.popleft().result()
        self.n += len(chunk)
        self.on_progress(self.n)

    def finish(self) -> tuple[str, int]:
        """Wait for the helper (idempotent); (sha256 hex, bytes hashed)."""
        while self.pending:
            self.pending.popleft().result()
        self.pool.shutdown()
        return self.h.hexdigest(), self.n


class _Archive:
    """Add files to a zip (stored, zip64) or a tar (PAX), streaming, one pass per original.

    Originals are memory-mapped: the SHA-256 helper thread and the writer read the same
    pages without copying them into Python (``os.copy_file_range`` for the tar payload was
    measured slower: the file was then read twice, once for the hash and once by the copy).
    """

    SEGMENT = 8 * 1024 * 1024

    def __init__(self, path: Path, fmt: str) -> None:
        self.fmt = fmt
        self.zip: zipfile.ZipFile | None = None
        self.fd = -1
        if fmt == "zip":
            self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        else:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self.pos = 0

    def add_file(self, name: str, src: Path, size: int, tap: Callable[[memoryview], None]) -> None:
        with src.open("rb") as f:
            if size == 0:
                self._add_segments(name, 0, f.fileno(), None, tap)
                return
            mm = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ)
            if hasattr(mm, "madvise"):
                mm.madvise(
                    mmap.MADV_SEQUENTIAL
                )  # large read-ahead: page faults would otherwise read 4 KiB at a time
            view = memoryview(mm)
            try:
                self._add_segments(name, size, f.fileno(), view, tap)
            finally:
                finish = getattr(tap, "finish", None)
                if finish is not None:
                    finish()  # no helper may still hold a slice of the mapping
                try:
                    view.release()
                    mm.close()
                except BufferError:
                    pass  # an exception's traceback still holds a slice: the mapping goes with it

    def _add_segments(
        self,
        name: str,
        size: int,
        src_fd: int,
        view: memoryview | None,
        tap: Callable[[memoryview], None],
    ) -> None:
        if self.zip is not None:
            info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = size
            with self.zip.open(info, "w", force_zip64=size > 0x7FFFFFFF) as out:
                for off in range(0, size, self.SEGMENT):
                    assert view is not None
                    seg = view[off : off + self.SEGMENT]
                    tap(seg)
                    out.write(seg)
            return
        tinfo = tarfile.TarInfo(name)
        tinfo.size, tinfo.mtime, tinfo.mode = size, int(time.time()), 0o444
        self._write(tinfo.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        for off in range(0, size, self.SEGMENT):
            assert view is not None
            seg = view[off : off + self.SEGMENT]
            tap(seg)
            self._write(seg)
        if size % tarfile.BLOCKSIZE:
            self._write(b"\0" * (tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE))

    def _write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
            self.pos += n

    def add_bytes(self, name: str, data: bytes) -> None:
        if self.zip is not None:
            info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
            info.compress_type = zipfile.ZIP_STORED
            self.zip.writestr(info, data)
            return
        tinfo = tarfile.TarInfo(name)
        tinfo.size, tinfo.mtime, tinfo.mode = len(data), int(time.time()), 0o444
        self._write(tinfo.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
        self._write(data)
        if len(data) % tarfile.BLOCKSIZE:
            self._write(b"\0" * (tarfile.BLOCKSIZE - len(data) % tarfile.BLOCKSIZE))

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()
            fd = os.open(self.zip.filename or "", os.O_RDONLY)
            try:
                os.fsync(fd)  # a finished package is on disk before it is offered
            finally:
                os.close(fd)
        if self.fd >= 0:
            try:
                self._write(b"\0" * (2 * tarfile.BLOCKSIZE))  # end-of-archive marker
                os.fsync(self.fd)
            finally:
                os.close(self.fd)
                self.fd = -1


def write_bag_archive(
    vault: Vault,
    dest: Path,
    *,
    fmt: str,
    case_number: str,
    items: list[ItemSnapshot],
    actor: Actor,
    progress: Callable[[int], None],
) -> None:
    root = bag_name(case_number)
    archive = _Archive(dest, fmt)
    manifest: list[tuple[str, str, str]] = []  # (relpath, sha256, sha512)
    done = 0
    try:
        used: set[str] = set()
        for item in items:
            rel = f"data/originals/{item.sha256[:12]}-{_safe_name(item.filename)}"
            if rel in used:  # the same bytes twice on one case (two submissions): one file per item
                rel = f"data/originals/{item.sha256[:12]}-{item.id}-{_safe_name(item.filename)}"
            used.add(rel)
            src = vault.blobs.path_of(item.sha256)
            if item.integrity == "failed" or not src.exists() or not item.sha512:
                raise ExportFailed(f"item {item.id} failed its integrity check; not exported")
            base = done

            def report(n: int, base: int = base) -> None:
                progress(base + n)

            tap = _HashTap(report)
            archive.add_file(f"{root}/{rel}", src, item.size, tap)
            sha256, hashed = tap.finish()
            done += hashed
            if sha256 != item.sha256 or hashed != item.size:
                flag_failure(vault, sha256=item.sha256, actual=sha256, actor=actor)
                raise ExportFailed(
                    f"item {item.id}: stored bytes do not match the registered SHA-256; export stopped"
                )
            # SHA-512 as taken on arrival: these exact bytes were just re-verified by SHA-256
            manifest.append((rel, sha256, item.sha512))
        tags = _tag_payload(vault, case_number=case_number, items=items, manifest=manifest)
        payload_oxum = (
            f"{sum(i.size for i in items) + sum(len(d) for n, d in tags.items() if n.startswith('data/'))}."
            f"{len(items) + sum(1 for n in tags if n.startswith('data/'))}"
        )
        for name, data in tags.items():
            if name.startswith("data/"):
                archive.add_bytes(f"{root}/{name}", data)
                manifest.append(
                    (name, hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest())
                )
        tag_files = {
            "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
            "bag-info.txt": _bag_info(case_number, payload_oxum, len(items)).encode(),
            "manifest-sha256.txt": "".join(
                f"{h256}  {_enc(p)}\n" for p, h256, _ in manifest
            ).encode(),
            "manifest-sha512.txt": "".join(
                f"{h512}  {_enc(p)}\n" for p, _, h512 in manifest
            ).encode(),
        }
        for name, data in tag_files.items():
            archive.add_bytes(f"{root}/{name}", data)
        for algo in ("sha256", "sha512"):
            lines = "".join(
                f"{hashlib.new(algo, d).hexdigest()}  {n}\n" for n, d in tag_files.items()
            )
            archive.add_bytes(f"{root}/tagmanifest-{algo}.txt", lines.encode())
    finally:
        archive.close()


def _enc(path: str) -> str:
    """RFC 8493 §2.1.3: percent-encode CR, LF and % in manifest paths."""
    return path.replace("%", "%25").replace("\n", "%0A").replace("\r", "%0D")


def _bag_info(case_number: str, oxum: str, count: int) -> str:
    lines = [
        f"Source-Organization: RTCC evidence vault (rtcc-console {__version__})",
        f"Bagging-Date: {utcnow().date().isoformat()}",
        f"Payload-Oxum: {oxum}",
        f"External-Identifier: {case_number}",
        f"External-Description: Evidence of case {case_number}: {count} item(s), originals with chain of custody",
        "Bag-Software-Agent: rtcc_console.server.vault.export",
    ]
    return "".join(line.replace("\n", " ") + "\n" for line in lines)


def _tag_payload(
    vault: Vault,
    *,
    case_number: str,
    items: list[ItemSnapshot],
    manifest: list[tuple[str, str, str]],
) -> dict[str, bytes]:
    ids = [i.id for i in items]
    with vault.state.db.read() as session:
        custody = store.list_custody(session, evidence_ids=ids)
        custody_rows = [
            (
                c.id,
                c.evidence_id,
                c.at.isoformat(),
                c.actor,
                c.action,
                (c.details or {}).get("case_number") or "",
                _json(c.details),
                c.prev_hash or "",
                c.hash,
            )
            for c in custody
        ]
        audit = store.audit_rows_for_case(session, case_number=case_number, evidence_ids=ids)
        audit_rows = [
            (
                a.id,
                a.at.isoformat(),
                a.username or "",
                a.role or "",
                a.action,
                a.outcome,
                _json(a.targets),
                a.reason or "",
                a.client_addr or "",
                a.prev_hash or "",
                a.hash,
            )
            for a in audit
        ]
    out = {
        "data/custody.csv": _csv(
            (
                "id",
                "evidence_id",
                "at",
                "actor",
                "action",
                "case_number",
                "details",
                "prev_hash",
                "hash",
            ),
            custody_rows,
        ),
        "data/audit.csv": _csv(
            (
                "id",
                "at",
                "user",
                "role",
                "action",
                "outcome",
                "targets",
                "reason",
                "client_addr",
                "prev_hash",
                "hash",
            ),
            audit_rows,
        ),
        "data/report.html": _report_html(case_number, items, manifest).encode(),
    }
    pdf = _report_pdf(case_number, items)
    if pdf is not None:
        out["data/report.pdf"] = pdf
    return out


def _json(value: Any) -> str:
    import json

    return json.dumps(value or {}, sort_keys=True, separators=(",", ":"), default=str)


def _csv(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_safe(v) for v in row])
    return buf.getvalue().encode()


def _csv_safe(value: Any) -> Any:
    """No spreadsheet formulas from user-supplied text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _report_html(
    case_number: str, items: list[ItemSnapshot], manifest: list[tuple[str, str, str]]
) -> str:
    e = html.escape
    head = (
        "item",
        "file",
        "bytes",
        "received (UTC)",
        "camera",
        "owner kind",
        "duration s",
        "picture",
        "recording start (camera clock)",
        "clock offset s",
    )
    rows = []
    for item, (rel, h256, h512) in zip(items, manifest, strict=False):
        m = item.media
        cells = (
            item.id,
            item.filename,
            f"{item.size:,}",
            item.received_at.isoformat(timespec="seconds"),
            item.camera_id or "",
            item.owner_kind or "",
            m.get("duration_s") or "",
            f"{m.get('width') or ''}x{m.get('height') or ''} {m.get('codec') or ''}",
            m.get("start_time") or "",
            item.clock_offset_s if item.clock_offset_s is not None else "",
        )
        rows.append("<tr class=item>" + "".join(f"<td>{e(str(v))}</td>" for v in cells) + "</tr>")
        rows.append(
            f"<tr><td colspan={len(head)} class=h>file <code>{e(rel)}</code><br>SHA-256 <code>{e(h256)}</code>"
            f"<br>SHA-512 <code>{e(h512)}</code></td></tr>"
        )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>Evidence export — case {e(case_number)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px;width:100%}"
        "td,th{border:1px solid #999;padding:4px 6px;vertical-align:top;text-align:left}tr.item td{background:#f3f5f8}"
        "td.h{font-size:12px;border-top:none}code{font-family:monospace;word-break:break-all}</style>"
        f"<h1>Evidence export — case {e(case_number)}</h1>"
        f"<p>Exported {e(utcnow().isoformat(timespec='seconds'))} by the RTCC evidence vault. {len(items)} item(s). Each "
        "original was re-hashed while it was written into this package and matched the SHA-256 taken when it was "
        "received. The chain of custody is in <code>custody.csv</code>, the case's audit entries in "
        "<code>audit.csv</code>; <code>manifest-sha256.txt</code> and <code>manifest-sha512.txt</code> (BagIt, RFC 8493) "
        "list every file. Verify with <code>rtcc evidence verify</code> or any BagIt validator.</p>"
        "<table><tr>"
        + "".join(f"<th>{e(h)}</th>" for h in head)
        + "</tr>"
        + "".join(rows)
        + "</table></html>"
    )


def _report_pdf(case_number: str, items: list[ItemSnapshot]) -> bytes | None:
    try:
        from fpdf import FPDF
    except ImportError:
        return None
    pdf = FPDF(orientation="L")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, _latin1(f"Evidence export - case {case_number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        _latin1(
            f"Exported {utcnow().isoformat()}; {len(items)} item(s). Each original was re-hashed "
            "while written into this package and matched the SHA-256 taken on receipt."
        ),
    )
    for item in items:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(
            0,
            5,
            _latin1(
                f"{item.id}  {item.filename}  ({item.size} bytes, received {item.received_at.isoformat()})"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Courier", "", 8)
        pdf.multi_cell(0, 4, f"SHA-256 {item.sha256}\nSHA-512 {item.sha512 or ''}")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
