"""Media relay hook: MediaMTX external authentication.

MediaMTX (``authMethod: http``, ``authHTTPAddress: http://server/api/v1/media/auth``)
POSTs ``{"user","password","token","ip","action","path","protocol","id","query"}`` for
every read/publish. This answers 200 only when the request *reads* path
``cam/<camera_id>`` and presents the secret of an open, unexpired live grant for that
camera, as ``password`` (any user name, e.g. ``rtsp://grant:SECRET@relay/cam/ID``), as
``token`` (``Authorization: Bearer SECRET`` on WebRTC/HLS) or as ``token=SECRET`` in the
query. Anything else is 401 and audited. Publishing is never authorised here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict

from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.deps import StateDep, client_addr
from rtcc_console.server.grants import check_grant_secret

router = APIRouter(prefix="/media", tags=["media"])
_READ_ACTIONS = {"read", "playback"}


class MediaAuthRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: str | None = None
    password: str | None = None
    token: str | None = None
    ip: str | None = None
    action: str | None = None
    path: str | None = None
    protocol: str | None = None
    id: str | None = None
    query: str | None = None


def _secrets(body: MediaAuthRequest) -> list[str]:
    found = [s for s in (body.password, body.token) if s]
    if body.query:
        found.extend(parse_qs(body.query).get("token", [])[:1])
    return found[:3]


class MediaAuthAnswer(BaseModel):
    ok: bool
    grant_id: str | None


@router.post("/auth", response_model=MediaAuthAnswer)
def media_auth(body: MediaAuthRequest, request: Request, state: StateDep) -> dict[str, Any]:
    prefix = state.settings.media_path_prefix
    path = (body.path or "").strip("/")
    camera_id = path[len(prefix) :] if path.startswith(prefix) else None
    reason = None
    grant_id = None
    if body.action not in _READ_ACTIONS:
        reason = f"action {body.action!r} not allowed"
    elif not camera_id:
        reason = f"path {body.path!r} is not {prefix}<camera_id>"
    else:
        reason = "no valid live grant for this camera"
        with state.db.read() as session:
            for secret in _secrets(body):
                grant, why = check_grant_secret(session, camera_id=camera_id, secret=secret)
                if grant is not None:
                    grant_id, reason = grant.id, None
                    break
                if why != reason:  # the grant exists but its session is over: say so in the audit
                    reason = why
    if reason is None:
        return {"ok": True, "grant_id": grant_id}
    actor = Actor(
        username=(body.user or None) and body.user[:64],
        role=None,
        client_addr=body.ip or client_addr(request),
    )
    with state.db.write() as session:
        append_audit(
            session,
            actor=actor,
            action="media.auth",
            outcome="denied",
            targets={
                "camera": camera_id,
                "path": (body.path or "")[:200],
                "protocol": body.protocol,
            },
            reason=reason,
        )
    raise HTTPException(401, reason)
