"""Evidence items for the console: list, read (verified, audited), custody, attach, verify,
snapshots, and the plain form upload (docs/api/vault.md)."""

from __future__ import annotations

import asyncio
import html
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from rtcc_console.core.case_number import CaseNumberError, check_case_number
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.server.routes.uploads import Receipt, _credential, submission_for
from rtcc_console.server.state import AppState
from rtcc_console.server.vault.access import check_browser_copy, check_original, flag_failure
from rtcc_console.server.vault.blobs import VaultIntegrityError, hash_file
from rtcc_console.server.vault.ingest import public_of, record_custody, register
from rtcc_console.server.vault.probe import MediaRefused, ProbeResult, frame_png, probe
from rtcc_console.server.vault.service import Vault, vault_of
from rtcc_console.server.vault.uploads import UploadError
from rtcc_console.store import evidence as store
from rtcc_console.store.schema import EvidenceItemRow

router = APIRouter(tags=["evidence"])
_RANGE_FROM = re.compile(r"bytes=(\d*)-")


class MediaPublic(BaseModel):
    duration_s: float | None = None
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    start_time: str | None = None


class WindowPublic(BaseModel):
    start: str
    end: str


class EvidencePublic(BaseModel):
    id: str
    sha256: str
    sha512: str | None
    size: int
    filename: str
    content_type: str
    kind: str
    media: MediaPublic
    clock_offset_s: float | None
    camera_id: str | None
    call_id: str | None
    owner_kind: str | None
    request_id: str | None
    request_item_id: str | None
    requested_window: WindowPublic | None
    case_numbers: list[str]
    received_at: str
    retention: str
    derived_from: str | None
    has_thumbnail: bool
    has_browser_copy: bool
    integrity: str
    verified_at: str | None


class EvidencePage(BaseModel):
    items: list[EvidencePublic]
    total: int
    limit: int
    offset: int


class CustodyPublic(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    evidence_id: str
    case_number: str | None
    details: dict[str, Any]
    hash: str
    prev_hash: str | None


class CustodyPage(BaseModel):
    items: list[CustodyPublic]
    chain_ok: bool


class AttachBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_number: str = Field(min_length=1, max_length=64)


class VerifyResult(BaseModel):
    id: str
    integrity: str
    sha256_expected: str
    sha256_actual: str | None
    verified_at: str


class SnapshotBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evidence_id: str = Field(min_length=1, max_length=48)
    at_s: float = Field(ge=0, le=7 * 86400)
    case_number: str | None = Field(default=None, max_length=64)


def _case(value: str) -> str:
    try:
        return check_case_number(value)
    except CaseNumberError as exc:
        raise HTTPException(422, str(exc)) from exc


def _item(state: AppState, evidence_id: str) -> EvidenceItemRow:
    with state.db.read() as session:
        row = store.get_item(session, evidence_id=evidence_id)
        if row is None or row.purged_at is not None:
            raise HTTPException(404, "evidence item not found")
        session.expunge(row)
        return row


@router.get("/evidence", response_model=EvidencePage)
def list_evidence(
    user: RequireAnalyst,
    state: StateDep,
    call_id: str | None = None,
    case_number: str | None = None,
    request_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    with state.db.read() as session:
        rows, total = store.list_items(
            session,
            call_id=call_id,
            case_number=case_number,
            request_id=request_id,
            limit=limit,
            offset=offset,
        )
        cases = store.case_numbers_of(session, evidence_ids=[r.id for r in rows])
        from rtcc_console.server.vault.ingest import evidence_public

        items = [evidence_public(r, cases[r.id]) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/evidence/{evidence_id}", response_model=EvidencePublic)
def get_evidence(evidence_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    row = _item(state, evidence_id)
    with state.db.read() as session:
        return public_of(session, row)


def _first_case(state: AppState, evidence_id: str) -> str | None:
    with state.db.read() as session:
        cases = store.case_numbers_of(session, evidence_ids=[evidence_id])[evidence_id]
    return cases[0] if cases else None


@router.get(
    "/evidence/{evidence_id}/content",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/mp4": {}}},
        206: {"description": "partial content"},
        409: {"description": "integrity failure: not served"},
    },
)
def evidence_content(
    evidence_id: str,
    request: Request,
    user: RequireAnalyst,
    state: StateDep,
    purpose: Annotated[str, Query(pattern="^(view|play)$")] = "view",
    variant: Annotated[str, Query(pattern="^(original|browser)$")] = "original",
) -> Any:
    row = _item(state, evidence_id)
    vault = vault_of(state)
    actor = actor_of(user)
    if row.integrity == "failed":
        raise HTTPException(
            409,
            "integrity failure: this item's stored bytes do not match its hash; it is not served",
        )
    rng = request.headers.get("range")
    m = _RANGE_FROM.match(rng or "")
    fresh_open = rng is None or (m is not None and m.group(1) in ("", "0"))
    try:
        path = check_original(vault, sha256=row.sha256, actor=actor, use_cache=not fresh_open)
    except VaultIntegrityError as exc:
        raise HTTPException(
            409, f"integrity failure: {exc}; the item is flagged and not served"
        ) from exc
    media_type = row.media_type
    if variant == "browser":
        browser = check_browser_copy(vault, row)
        if browser is None:
            raise HTTPException(404, "no browser copy of this item (yet)")
        path, media_type = browser, "video/mp4"
    if fresh_open:
        with state.db.write() as session:
            record_custody(
                session,
                actor=actor,
                custody_actor=user.username,
                evidence_id=row.id,
                action="played" if purpose == "play" else "viewed",
                case_number=_first_case(state, row.id),
                details={"variant": variant, "range": rng},
            )
    return FileResponse(
        path,
        media_type=media_type,
        filename=row.filename,
        content_disposition_type="inline",
        headers={"ETag": f'"{row.sha256}"', "Cache-Control": "private, no-store"},
    )


@router.get(
    "/evidence/{evidence_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def evidence_thumbnail(evidence_id: str, user: RequireAnalyst, state: StateDep) -> Response:
    row = _item(state, evidence_id)
    vault = vault_of(state)
    if row.kind == "image" and row.integrity != "failed":
        try:
            path = check_original(vault, sha256=row.sha256, actor=actor_of(user))
        except VaultIntegrityError as exc:
            raise HTTPException(409, "integrity failure") from exc
        return Response(
            path.read_bytes(),
            media_type=row.media_type,
            headers={"Cache-Control": "private, max-age=300"},
        )
    if not row.thumb_path:
        raise HTTPException(404, "no thumbnail")
    path = vault.blobs.root / row.thumb_path
    if not path.is_file():
        raise HTTPException(404, "no thumbnail")
    return Response(
        path.read_bytes(),
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=300"},
    )


@router.get("/evidence/{evidence_id}/custody", response_model=CustodyPage)
def evidence_custody(evidence_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    _item(state, evidence_id)
    with state.db.read() as session:
        rows = store.list_custody(session, evidence_ids=[evidence_id])
        broken = store.verify_custody(session, evidence_id=evidence_id)
        items = [
            {
                "id": r.id,
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "evidence_id": r.evidence_id,
                "case_number": (r.details or {}).get("case_number"),
                "details": dict(r.details or {}),
                "hash": r.hash,
                "prev_hash": r.prev_hash,
            }
            for r in rows
        ]
    return {"items": items, "chain_ok": broken is None}


@router.post("/evidence/{evidence_id}/attach", response_model=EvidencePublic)
def attach_evidence(
    evidence_id: str, body: AttachBody, user: RequireAnalyst, state: StateDep
) -> Any:
    case_number = _case(body.case_number)
    _item(state, evidence_id)
    with state.db.write() as session:
        if store.attach_case(
            session, evidence_id=evidence_id, case_number=case_number, by=user.username
        ):
            record_custody(
                session,
                actor=actor_of(user),
                custody_actor=user.username,
                evidence_id=evidence_id,
                action="attached",
                case_number=case_number,
            )
        row = store.get_item(session, evidence_id=evidence_id)
        assert row is not None
        return public_of(session, row)


@router.post("/evidence/{evidence_id}/verify", response_model=VerifyResult)
def verify_evidence(evidence_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    row = _item(state, evidence_id)
    vault = vault_of(state)
    actor = actor_of(user)
    path = vault.blobs.path_of(row.sha256)
    actual = hash_file(path)[0] if path.exists() else None
    if actual != row.sha256:
        flag_failure(vault, sha256=row.sha256, actual=actual, actor=actor)
        integrity = "failed"
    else:
        integrity = "ok"
        with state.db.write() as session:
            store.set_integrity_by_sha256(session, sha256=row.sha256, integrity="ok")
            record_custody(
                session,
                actor=actor,
                custody_actor=user.username,
                evidence_id=row.id,
                action="verified",
                case_number=_first_case(state, row.id),
                details={"sha256": actual},
            )
    with state.db.read() as session:
        fresh = store.get_item(session, evidence_id=evidence_id)
        verified_at = (
            fresh.verified_at.isoformat() if fresh is not None and fresh.verified_at else ""
        )
    return {
        "id": row.id,
        "integrity": integrity,
        "sha256_expected": row.sha256,
        "sha256_actual": actual,
        "verified_at": verified_at,
    }


@router.post("/evidence/snapshots", status_code=201, response_model=EvidencePublic)
def create_snapshot(body: SnapshotBody, user: RequireAnalyst, state: StateDep) -> Any:
    """A PNG of the frame at ``at_s`` decoded by the server from the verified original."""
    source = _item(state, body.evidence_id)
    if source.kind != "video":
        raise HTTPException(422, "snapshots are taken from video items")
    case = _case(body.case_number) if body.case_number else None
    vault = vault_of(state)
    actor = actor_of(user)
    try:
        path = check_original(vault, sha256=source.sha256, actor=actor)
    except VaultIntegrityError as exc:
        raise HTTPException(409, f"integrity failure: {exc}") from exc
    duration = (source.media or {}).get("duration_s")
    if isinstance(duration, (int, float)) and body.at_s > duration + 0.5:
        raise HTTPException(422, f"at_s is past the end of the recording ({duration:.1f} s)")
    try:
        png, frame_s, width, height = frame_png(path, body.at_s)
    except MediaRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    cases = (case,) if case else tuple(_cases_of(state, source.id))
    info = ProbeResult(
        kind="image",
        content_type="image/png",
        format_name="png",
        duration_s=None,
        codec="png",
        width=width,
        height=height,
        start_time=None,
    )
    from rtcc_console.server.vault.ingest import Submission

    stem = os.path.splitext(source.filename)[0]
    sub = Submission(
        actor=actor,
        custody_actor=user.username,
        filename=f"{stem}-{frame_s:09.3f}s.png"[:200],
        case_numbers=cases,
        call_id=source.call_id,
        camera_id=source.camera_id,
        clock_offset_s=source.clock_offset_s,
        owner_kind=source.owner_kind,
        allow_image=True,
        derived_from=source.id,
        retention=source.retention,
        extra_custody={"source_evidence": source.id, "frame_time_s": round(frame_s, 3)},
    )
    import hashlib

    sha256, sha512 = hashlib.sha256(png).hexdigest(), hashlib.sha512(png).hexdigest()
    fd, tmp_name = tempfile.mkstemp(dir=vault.blobs.uploads, suffix=".png")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(png)
        registered = register(
            vault, src=tmp, sha256=sha256, sha512=sha512, size=len(png), info=info, sub=sub
        )
    finally:
        tmp.unlink(missing_ok=True)
    with state.db.write() as session:
        record_custody(
            session,
            actor=actor,
            custody_actor=user.username,
            evidence_id=source.id,
            action="snapshot",
            case_number=cases[0] if cases else None,
            details={"snapshot_evidence": registered.row_id, "frame_time_s": round(frame_s, 3)},
        )
    return registered.public


def _cases_of(state: AppState, evidence_id: str) -> list[str]:
    with state.db.read() as session:
        return store.case_numbers_of(session, evidence_ids=[evidence_id])[evidence_id]


@router.post(
    "/evidence/form-upload",
    status_code=201,
    response_model=Receipt,
    responses={201: {"content": {"text/html": {}}}},
)
async def form_upload(request: Request) -> Any:
    """Plain multipart upload (no JavaScript): ``file`` + ``request_token`` or bearer + ``case_number``.

    A browser posting the portal's plain HTML form (``Accept: text/html``) gets a readable page:
    the receipt with the file's SHA-256, or the reason it was refused.
    """
    wants_html = "text/html" in request.headers.get("accept", "")
    try:
        receipt = await _form_upload(request)
    except HTTPException as exc:
        if wants_html and exc.status_code != 401:
            return HTMLResponse(
                _page("The file was not accepted", str(exc.detail)), status_code=exc.status_code
            )
        raise
    if wants_html:
        return HTMLResponse(
            _page("Thank you: your video was received", receipt["message"], receipt),
            status_code=201,
        )
    return JSONResponse(receipt, status_code=201)


def _page(title: str, message: str, receipt: dict[str, Any] | None = None) -> str:
    e = html.escape
    rows = ""
    if receipt is not None:
        labels = {
            "filename": "File",
            "size": "Size (bytes)",
            "received_at": "Received (UTC)",
            "sha256": "SHA-256",
            "sha512": "SHA-512",
        }
        rows = "".join(
            f"<tr><th>{e(label)}</th><td><code>{e(str(receipt[k]))}</code></td></tr>"
            for k, label in labels.items()
        )
        rows = f"<table>{rows}</table><p>Keep this page: the SHA-256 fingerprint identifies exactly the file you sent.</p>"
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>{e(title)}</title><style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}}"
        f"code{{word-break:break-all}}th{{text-align:left;padding-right:1em;vertical-align:top}}</style>"
        f"<h1>{e(title)}</h1><p>{e(message)}</p>{rows}</html>"
    )


async def _form_upload(request: Request) -> dict[str, Any]:
    state: AppState = request.app.state.rtcc
    vault = vault_of(state)
    limit = vault.settings.vault_form_max_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise HTTPException(
            413, f"the file is larger than the {limit} bytes allowed here; use the resumable upload"
        )
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        if request.headers.get("authorization") or request.headers.get("upload-token"):
            await _credential(request)
        else:
            raise HTTPException(
                401, "not authenticated: bearer token or request link token required"
            )
        raise HTTPException(415, "send multipart/form-data with a 'file' field")
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception as exc:  # multipart parser errors (malformed body, too many parts)
        raise HTTPException(400, f"malformed form: {type(exc).__name__}") from exc
    token = form.get("request_token")
    cred = await _credential(request, token if isinstance(token, str) and token else None)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, "a 'file' field with the video is required")
    meta = {k: v for k, v in form.items() if isinstance(v, str) and k != "request_token"}
    meta.setdefault("filename", upload.filename or "upload.bin")
    if cred.username is None:
        meta.pop("case_number", None)
    try:
        sub = submission_for(
            cred,
            meta,
            set(vault.settings.vault_retention_days),
            allow_image=cred.username is not None,
        )
    except UploadError as exc:
        raise HTTPException(422 if exc.status == 400 else exc.status, exc.message) from exc
    return await asyncio.to_thread(
        _store_form_file, vault, upload, sub, cred.link.item_id if cred.link else None
    )


def _store_form_file(
    vault: Vault, upload: UploadFile, sub: Any, link_item_id: str | None
) -> dict[str, Any]:
    import hashlib

    limit = vault.settings.vault_form_max_bytes
    if link_item_id is not None:
        with vault.state.db.read() as session:
            files, total = store.link_usage(session, link_item_id=link_item_id)
        if files >= vault.settings.vault_max_link_files:
            raise HTTPException(413, "this link already received the most files allowed")
        if total >= vault.settings.vault_max_link_bytes:
            raise HTTPException(413, "this link already received the total size allowed")
    fd, tmp_name = tempfile.mkstemp(dir=vault.blobs.uploads, suffix=".form")
    tmp = Path(tmp_name)
    h256, h512, size = hashlib.sha256(), hashlib.sha512(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(
                        413, f"the file is larger than the {limit} bytes allowed here"
                    )
                out.write(chunk)
                h256.update(chunk)
                h512.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        try:
            info = probe(tmp, allow_image=sub.allow_image)
        except MediaRefused as exc:
            raise HTTPException(422, str(exc)) from exc
        registered = register(
            vault,
            src=tmp,
            sha256=h256.hexdigest(),
            sha512=h512.hexdigest(),
            size=size,
            info=info,
            sub=sub,
        )
        return registered.receipt()
    except OSError as exc:
        raise HTTPException(
            507, f"the evidence store could not write the file ({exc.strerror})"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
