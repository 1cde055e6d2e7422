"""tus 1.0 resumable uploads at ``/uploads`` and the plain form upload (docs/api/vault.md).

Staff send ``Authorization: Bearer``; owners send their request link token (``request_token``
in ``Upload-Metadata`` at creation, ``Upload-Token`` header afterwards). Every later request
must carry the same credential as the one that created the upload; anyone else gets 404.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from rtcc_console.core.case_number import CaseNumberError, check_case_number
from rtcc_console.core.models import Role, utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.deps import actor_of, bearer_token, client_addr, current_user
from rtcc_console.server.state import AppState
from rtcc_console.server.vault.ingest import Submission
from rtcc_console.server.vault.probe import MediaRefused
from rtcc_console.server.vault.service import UploadBusy, Vault, vault_of
from rtcc_console.server.vault.uploads import (
    ChunkWriter,
    UploadError,
    create_upload,
    current_offset,
    encode_metadata,
    finalize,
    get_upload,
    parse_checksum,
    parse_metadata,
    terminate,
)
from rtcc_console.store.schema import VaultUploadRow

log = logging.getLogger(__name__)
TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
WRITE_BATCH = 1024 * 1024
RECEIPT_WAIT_S = 30.0
UPLOAD_PATHS = ("/api/v1/uploads", "/api/v1/evidence/form-upload")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from rtcc_console.server.vault.housekeeping import run_housekeeping

    state: AppState = app.state.rtcc
    task = asyncio.create_task(run_housekeeping(state), name="rtcc-vault-housekeeping")
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        vault: Any = state.extras.pop("vault", None)
        if vault is not None:
            await asyncio.to_thread(vault.close)


router = APIRouter(tags=["evidence uploads"], lifespan=_lifespan)


class Receipt(BaseModel):
    evidence_id: str
    sha256: str
    sha512: str
    size: int
    filename: str
    received_at: str
    duplicate: bool
    media: dict[str, Any]
    message: str


@dataclass(frozen=True, slots=True)
class Credential:
    actor: Actor
    username: str | None = None  # staff
    role: Role | None = None
    link: Any = None  # LinkedItem for owners
    custody_actor: str = ""
    owner_kind: str | None = None


def _tus_headers(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **(extra or {})}


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=_tus_headers(headers))


async def _credential(request: Request, token_from_meta: str | None = None) -> Credential:
    if bearer_token(request):
        user = await current_user(request)
        if not user.role.at_least(Role.ANALYST):
            raise HTTPException(403, "requires the analyst role")
        return Credential(
            actor=actor_of(user),
            username=user.username,
            role=user.role,
            custody_actor=user.username,
        )
    token = token_from_meta or request.headers.get("upload-token")
    if not token:
        raise HTTPException(
            401,
            "not authenticated: bearer token or request link token required",
            {"WWW-Authenticate": "Bearer"},
        )
    state: AppState = request.app.state.rtcc
    link, owner_kind = await asyncio.to_thread(_resolve_link, state, token)
    if link is None:
        raise HTTPException(404, "link is not valid")
    if not link.can_upload:
        raise HTTPException(
            410,
            "link has expired"
            if link.refusal == "expired"
            else "this request was already answered",
        )
    owner = f"owner:{link.owner_id or link.item_id}"
    return Credential(
        actor=Actor(username=owner, role="owner", client_addr=client_addr(request)),
        link=link,
        custody_actor=owner,
        owner_kind=owner_kind,
    )


def _resolve_link(state: AppState, token: str) -> tuple[Any, str | None]:
    from rtcc_console.store.footage_requests import resolve_link_token
    from rtcc_console.store.owners import get_owner

    with state.db.read() as session:
        link = resolve_link_token(session, token=token)
        owner = (
            get_owner(session, owner_id=link.owner_id)
            if link is not None and link.owner_id
            else None
        )
        return link, (
            str(owner.kind.value if hasattr(owner.kind, "value") else owner.kind) if owner else None
        )


def _owns(cred: Credential, upload: VaultUploadRow) -> bool:
    if cred.username is not None:
        return upload.username == cred.username or (
            upload.username is not None
            and cred.role is not None
            and cred.role.at_least(Role.SUPERVISOR)
        )
    return cred.link is not None and upload.link_item_id == cred.link.item_id


def _float(meta: dict[str, str], key: str) -> float | None:
    raw = meta.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise UploadError(400, f"{key} must be a number of seconds") from exc
    if not math.isfinite(value) or abs(value) > 7 * 86400:
        raise UploadError(400, f"{key} must be within a week")
    return value


def _short(meta: dict[str, str], key: str, limit: int = 64) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if len(value) > limit:
        raise UploadError(400, f"{key} is too long")
    return value


def _clean_filename(name: str) -> str:
    """A display name without path separators, control characters or lone surrogates."""
    name = name.encode("utf-8", "replace").decode("utf-8", "replace")
    name = "".join("_" if (ord(c) < 32 or ord(c) == 127 or c in "/\\") else c for c in name).strip()
    return name[:200] or "upload.bin"


def submission_for(
    cred: Credential,
    meta: dict[str, str],
    retention_categories: set[str],
    *,
    allow_image: bool = False,
) -> Submission:
    """The submission an upload's metadata + credential describe (UploadError when invalid)."""
    filename = _clean_filename(meta.get("filename") or "")
    retention = meta.get("retention") or "standard"
    if retention not in retention_categories:
        raise UploadError(400, f"retention must be one of {sorted(retention_categories)}")
    common = {
        "filename": filename,
        "camera_id": _short(meta, "camera_id", 32),
        "clock_offset_s": _float(meta, "clock_offset_s"),
        "retention": retention,
    }
    if cred.link is not None:
        link = cred.link
        if (
            common["camera_id"] is not None
            and link.camera_ids
            and common["camera_id"] not in link.camera_ids
        ):
            raise UploadError(400, "camera_id is not one of the cameras of this request")
        return Submission(
            actor=cred.actor,
            custody_actor=cred.custody_actor,
            case_numbers=tuple(link.case_numbers),
            call_id=link.call_ids[0] if getattr(link, "call_ids", ()) else None,
            owner_kind=cred.owner_kind,
            request_id=link.request_ids[0] if link.request_ids else None,
            request_item_id=link.item_id,
            window_start=getattr(link, "window_start", None),
            window_end=getattr(link, "window_end", None),
            **common,  # type: ignore[arg-type]
        )
    case = meta.get("case_number")
    if not case:
        raise UploadError(400, "case_number is required in Upload-Metadata for staff uploads")
    try:
        case = check_case_number(case)
    except CaseNumberError as exc:
        raise UploadError(400, str(exc)) from exc
    return Submission(
        actor=cred.actor,
        custody_actor=cred.custody_actor,
        case_numbers=(case,),
        call_id=_short(meta, "call_id", 48),
        owner_kind="staff",
        allow_image=allow_image,
        **common,  # type: ignore[arg-type]
    )


def _expires(upload: VaultUploadRow) -> str:
    return format_datetime(upload.expires_at, usegmt=True)


def _check_version(request: Request) -> JSONResponse | None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        return _error(412, "Tus-Resumable: 1.0.0 required", {"Tus-Version": TUS_VERSION})
    return None


@router.options("/uploads", include_in_schema=False)
async def tus_options(request: Request) -> Response:
    vault = vault_of(request.app.state.rtcc)
    return Response(
        status_code=204,
        headers=_tus_headers(
            {
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(vault.settings.vault_max_file_bytes),
                "Tus-Checksum-Algorithm": "sha256,sha1,md5",
            }
        ),
    )


@router.post(
    "/uploads",
    status_code=201,
    response_class=Response,
    responses={201: {"description": "tus upload created"}},
)
async def tus_create(request: Request) -> Response:
    try:
        meta = parse_metadata(request.headers.get("upload-metadata"))
    except UploadError:
        meta = {}
    cred = await _credential(request, meta.get("request_token"))
    if (bad := _check_version(request)) is not None:
        return bad
    state: AppState = request.app.state.rtcc
    vault = vault_of(state)
    try:
        meta = parse_metadata(request.headers.get("upload-metadata"))
        if request.headers.get("upload-defer-length"):
            raise UploadError(400, "Upload-Defer-Length is not supported: send Upload-Length")
        length = _parse_int(request.headers.get("upload-length"), "Upload-Length")
        sub = submission_for(
            cred,
            meta,
            set(vault.settings.vault_retention_days),
            allow_image=cred.username is not None,
        )
        upload = await asyncio.to_thread(
            create_upload,
            vault,
            length=length,
            sub=sub,
            username=cred.username,
            link_item_id=cred.link.item_id if cred.link is not None else None,
            tus_metadata=encode_metadata(meta),
        )
    except UploadError as exc:
        return _error(exc.status, exc.message)
    headers = {
        "Location": f"{request.url.path.rstrip('/')}/{upload.id}",
        "Upload-Expires": _expires(upload),
        "Upload-Offset": "0",
    }
    if request.headers.get("content-type") == "application/offset+octet-stream":
        return await _patch(request, vault, upload, cred, created_headers=headers)
    return Response(status_code=201, headers=_tus_headers(headers))


def _parse_int(raw: str | None, name: str) -> int:
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 19:
        raise UploadError(400, f"{name} must be a non-negative integer")
    return int(raw.strip())


async def _load(request: Request, upload_id: str) -> tuple[Vault, VaultUploadRow, Credential]:
    cred = await _credential(request)
    vault = vault_of(request.app.state.rtcc)
    upload = await asyncio.to_thread(get_upload, vault, upload_id)
    if upload is None or not _owns(cred, upload) or upload.state in ("refused", "terminated"):
        raise HTTPException(404, "upload not found", _tus_headers())
    if upload.state == "receiving" and upload.expires_at <= utcnow():
        raise HTTPException(
            410, "this upload expired before it was finished; start it again", _tus_headers()
        )
    return vault, upload, cred


@router.head("/uploads/{upload_id}", response_class=Response)
async def tus_head(upload_id: str, request: Request) -> Response:
    vault, upload, _ = await _load(request, upload_id)
    if _check_version(request) is not None:
        return Response(status_code=412, headers=_tus_headers({"Tus-Version": TUS_VERSION}))
    offset = await asyncio.to_thread(current_offset, vault, upload.id)
    if offset < 0:
        return Response(
            status_code=404 if upload.state != "complete" else 200,
            headers=_tus_headers(
                {"Upload-Offset": str(upload.length), "Upload-Length": str(upload.length)}
                if upload.state == "complete"
                else None
            ),
        )
    headers = {
        "Upload-Offset": str(offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": _expires(upload),
    }
    if echoed := str((upload.meta or {}).get("tus_metadata") or ""):
        headers["Upload-Metadata"] = echoed  # as sent at creation, never the request token
    if offset == upload.length and upload.state != "complete":
        try:  # the process died after the last byte: finish now (re-hashes from disk)
            with vault.upload_lock(upload.id):
                registered = await asyncio.to_thread(finalize, vault, upload)
            headers.update(
                {"Upload-Evidence-Id": registered.row_id, "Upload-Sha256": registered.sha256}
            )
        except UploadBusy:
            pass
        except MediaRefused:
            return Response(status_code=404, headers=_tus_headers())
    return Response(status_code=200, headers=_tus_headers(headers))


@router.patch("/uploads/{upload_id}", status_code=204, response_class=Response)
async def tus_patch(upload_id: str, request: Request) -> Response:
    vault, upload, cred = await _load(request, upload_id)
    if (bad := _check_version(request)) is not None:
        return bad
    if request.headers.get("content-type") != "application/offset+octet-stream":
        return _error(415, "Content-Type must be application/offset+octet-stream")
    return await _patch(request, vault, upload, cred)


async def _patch(
    request: Request,
    vault: Vault,
    upload: VaultUploadRow,
    cred: Credential,
    created_headers: dict[str, str] | None = None,
) -> Response:
    ok_status = 201 if created_headers is not None else 204
    headers = dict(created_headers or {})
    try:
        claimed = _parse_int(
            request.headers.get("upload-offset", "0" if created_headers else None), "Upload-Offset"
        )
        checksum = parse_checksum(request.headers.get("upload-checksum"))
        declared = request.headers.get("content-length")
        with vault.upload_lock(upload.id):
            offset = await asyncio.to_thread(current_offset, vault, upload.id)
            if offset < 0 or upload.state == "complete":
                raise UploadError(
                    409 if upload.state == "complete" else 404,
                    "upload is already complete"
                    if upload.state == "complete"
                    else "upload not found",
                )
            if claimed != offset:
                raise UploadError(
                    409, f"Upload-Offset {claimed} does not match the server's offset {offset}"
                )
            if (
                declared is not None
                and declared.isdigit()
                and offset + int(declared) > upload.length
            ):
                raise UploadError(413, "Content-Length goes past Upload-Length")
            writer = await asyncio.to_thread(
                ChunkWriter.open, vault, upload, offset, checksum[0] if checksum else None
            )
            new_offset = await _stream_into(request, writer)
            if new_offset is None:  # client went away: what arrived is kept for the resume
                return Response(status_code=400, headers=_tus_headers())
            if (
                checksum is not None
                and writer.checksum is not None
                and writer.checksum.digest() != checksum[1]
            ):
                await asyncio.to_thread(writer.rollback)
                return _error(
                    460,
                    "Upload-Checksum does not match the bytes received; send this chunk again",
                    {"Upload-Offset": str(offset)},
                )
            new_offset = await asyncio.to_thread(writer.commit)
            headers["Upload-Offset"] = str(new_offset)
            if new_offset == upload.length:
                registered = await asyncio.to_thread(finalize, vault, upload)
                headers.update(
                    {"Upload-Evidence-Id": registered.row_id, "Upload-Sha256": registered.sha256}
                )
    except UploadBusy:
        return _error(423, "this upload is being written by another request; retry shortly")
    except UploadError as exc:
        return _error(exc.status, exc.message)
    except MediaRefused as exc:
        return _error(422, str(exc))
    return Response(status_code=ok_status, headers=_tus_headers(headers))


async def _stream_into(request: Request, writer: ChunkWriter) -> int | None:
    """Copy the body into the writer in ~1 MiB batches; None when the client disconnected."""
    parts: list[bytes] = []
    pending = 0
    try:
        try:
            async for chunk in request.stream():
                parts.append(chunk)
                pending += len(chunk)
                if pending >= WRITE_BATCH:
                    data, parts, pending = b"".join(parts), [], 0
                    await asyncio.to_thread(writer.write, data)
        except ClientDisconnect:
            if writer.checksum is not None:  # an unverifiable partial chunk is not kept
                await asyncio.to_thread(writer.rollback)
                return None
            if parts:
                await asyncio.to_thread(writer.write, b"".join(parts))
            await asyncio.to_thread(writer.commit)
            return None
        if parts:
            await asyncio.to_thread(writer.write, b"".join(parts))
    except UploadError:
        await asyncio.to_thread(writer.rollback)
        raise
    except OSError as exc:
        await asyncio.to_thread(writer.rollback)
        if exc.errno == 28:  # ENOSPC
            raise UploadError(
                507, "the evidence store is full: nothing of this chunk was kept; try again later"
            ) from exc
        raise UploadError(
            507, f"the evidence store could not write the upload ({exc.strerror})"
        ) from exc
    return writer.start + writer.written


@router.delete("/uploads/{upload_id}", status_code=204, response_class=Response)
async def tus_delete(upload_id: str, request: Request) -> Response:
    vault, upload, cred = await _load(request, upload_id)
    if (bad := _check_version(request)) is not None:
        return bad
    if upload.state == "complete":
        return _error(409, "a completed upload is evidence now and cannot be deleted")
    try:
        with vault.upload_lock(upload.id):
            await asyncio.to_thread(terminate, vault, upload, cred.actor)
    except UploadBusy:
        return _error(423, "this upload is being written by another request; retry shortly")
    return Response(status_code=204, headers=_tus_headers())


@router.get("/uploads/{upload_id}/receipt", response_model=Receipt)
async def upload_receipt(upload_id: str, request: Request) -> Any:
    vault, upload, _ = await _load(request, upload_id)
    if (
        upload.state != "complete"
        and await asyncio.to_thread(current_offset, vault, upload.id) != upload.length
    ):
        raise HTTPException(409, "upload is not complete")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECEIPT_WAIT_S
    while True:  # the last PATCH or the start-up recovery may be finalizing it right now
        try:
            with vault.upload_lock(upload.id):
                registered = await asyncio.to_thread(finalize, vault, upload)
            return registered.receipt()
        except UploadBusy as exc:
            if loop.time() > deadline:
                raise HTTPException(423, "upload is being finalized; retry shortly") from exc
            await asyncio.sleep(0.1)
        except MediaRefused as exc:
            raise HTTPException(422, str(exc)) from exc
