"""``POST /panic``: an alarm panel raises its site's emergency without a person.

Signed, not signed in: headers ``X-RTCC-Key`` (the site key's id, shown in the portal),
``X-RTCC-Timestamp`` (Unix seconds) and ``X-RTCC-Signature`` (hex HMAC-SHA256 over
``timestamp + "." + raw body`` with the site key). Refusals: 401 missing/unknown key or
bad signature, 401 timestamp outside the allowed skew, 409 a signature already used
(replay), 403 the body names another site, 422 a bad body. Contract: docs/api/portal.md.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of, client_addr
from rtcc_console.server.emergencies import emergency_public
from rtcc_console.server.portal import accounts as acc
from rtcc_console.server.portal import panic as panic_service
from rtcc_console.server.routes.emergencies import EmergencyPublic
from rtcc_console.server.routes.footage_requests import no_surrogates
from rtcc_console.store import portal as store

router = APIRouter(tags=["panic"])
MAX_BODY = 16 * 1024


class PanicBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: str | None = Field(
        default=None, max_length=32, description="the owner id of the site (optional check)"
    )
    alarm_level: int = Field(ge=0, le=4, description="TMA AVS-01 alarm level 0-4")
    location: str = Field(default="", max_length=200, description="where inside the site")
    description: str = Field(default="", max_length=500)

    @field_validator("site_id", "location", "description", mode="before")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        return no_surrogates(value)


def _refuse(
    status: int, detail: str, request: Request, state: Any, key_id: str | None, why: str
) -> HTTPException:
    with state.db.write() as session:
        append_audit(
            session,
            actor=Actor(username=None, role="alarm_panel", client_addr=client_addr(request)),
            action="panic.refused",
            outcome="denied",
            targets={"key": key_id, "reason": why},
        )
    return HTTPException(status, detail)


@router.post("/panic", status_code=201, response_model=EmergencyPublic)
async def panic(request: Request, state: StateDep) -> dict[str, Any]:
    key_id = request.headers.get("x-rtcc-key", "")[:40] or None
    stamp = request.headers.get("x-rtcc-timestamp", "")
    sent = request.headers.get("x-rtcc-signature", "").lower()
    if not key_id or not stamp or not sent:
        raise HTTPException(401, "sign the request: X-RTCC-Key, X-RTCC-Timestamp, X-RTCC-Signature")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"body larger than {MAX_BODY} bytes")
    return await asyncio.to_thread(_handle, request, state, key_id, stamp, sent, body)


def _handle(
    request: Request, state: Any, key_id: str, stamp: str, sent: str, body: bytes
) -> dict[str, Any]:
    """The blocking part (database, argon-free HMAC checks) off the event loop."""
    with state.db.read() as session:
        key = store.get_site_key(session, key_id=key_id)
    if key is None or key.revoked_at is not None:
        raise _refuse(401, "unknown or revoked site key", request, state, key_id, "key")
    secret = acc.site_key_secret(state, key_id=key.id, nonce=key.nonce)
    expected = panic_service.signature(secret, stamp, body)
    if not hmac.compare_digest(expected.encode(), sent.encode("utf-8", "surrogateescape")):
        raise _refuse(401, "bad signature", request, state, key_id, "signature")
    skew = acc.portal_settings(state).panic_max_skew_s
    if not stamp.isdigit() or len(stamp) > 12 or abs(time.time() - int(stamp)) > skew:
        raise _refuse(
            401, f"timestamp outside the allowed {skew} s", request, state, key_id, "timestamp"
        )
    try:
        parsed = PanicBody.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(
            422,
            "body: "
            + "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
            .encode("ascii", "backslashreplace")
            .decode(),
        ) from None
    if parsed.site_id is not None and parsed.site_id != key.owner_id:
        raise _refuse(
            403, "site_id: this key belongs to another site", request, state, key_id, "site"
        )
    actor = Actor(username=f"panel:{key.id}", role="alarm_panel", client_addr=client_addr(request))
    details = panic_service.PanicDetails(
        level=parsed.alarm_level,
        location=parsed.location,
        description=parsed.description,
        source="alarm_panel",
    )
    replay = False
    with state.db.write() as session:
        store.prune(
            session, seen_older_than_s=2 * skew + 60
        )  # signatures older than the skew window are refused anyway
        if not store.remember_signature(session, signature=expected, key_id=key.id):
            replay = True
        else:
            try:
                record = panic_service.press(
                    session,
                    owner_id=key.owner_id,
                    actor=actor,
                    details=details,
                    duration_s=acc.portal_settings(state).panic_duration_s,
                )
            except panic_service.PanicRefused as exc:
                raise HTTPException(409, str(exc)) from None
            return emergency_public(record)
    assert replay
    raise _refuse(
        409, "replay: this signed request was already used", request, state, key_id, "replay"
    )


@router.post("/emergencies/{emergency_id}/acknowledge", status_code=204, response_class=Response)
def acknowledge(emergency_id: str, user: RequireAnalyst, state: StateDep) -> Response:
    """The console's "acknowledge" on an emergency alert: audited per user."""
    from rtcc_console.store import emergencies as store_emergencies

    with state.db.write() as session:
        if store_emergencies.get_emergency(session, emergency_id=emergency_id[:40]) is None:
            raise HTTPException(404, f"emergency {emergency_id[:40]!r} not found")
        append_audit(
            session,
            actor=actor_of(user),
            action="emergency.acknowledge",
            targets={"emergency": emergency_id},
        )
    return Response(status_code=204)
