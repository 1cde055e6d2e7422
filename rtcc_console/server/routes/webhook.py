"""CAD webhook: calls pushed by a CAD system, authenticated by an HMAC of the raw body.

``X-RTCC-Signature: sha256=<hex HMAC-SHA256(raw body, RTCC_CAD_WEBHOOK_SECRET)>``. The
comparison is constant-time. 503 when no secret is configured (the endpoint is off), 401
for a missing or wrong signature. The body is one call (EIDO or simple) or
``{"items": [...]}`` (all or nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.call_schemas import WebhookAnswer
from rtcc_console.server.deps import StateDep, client_addr
from rtcc_console.server.intake import ingest
from rtcc_console.server.routes.calls import MAX_BATCH, MAX_BODY, parse_one

router = APIRouter(prefix="/cad", tags=["calls"])
SIGNATURE_HEADER = "X-RTCC-Signature"


def sign(body: bytes, secret: str) -> str:
    """The header value a CAD must send for ``body`` (also used by tests and simulators)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@router.post(
    "/webhook",
    response_model=WebhookAnswer,
    responses={201: {"description": "a call was created", "model": WebhookAnswer}},
)
async def webhook(request: Request, state: StateDep) -> JSONResponse:
    secret = state.settings.cad_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise HTTPException(503, "CAD webhook disabled: RTCC_CAD_WEBHOOK_SECRET is not configured")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, f"body larger than {MAX_BODY} bytes")
    given = request.headers.get(SIGNATURE_HEADER, "")
    expected = sign(body, secret.get_secret_value())
    if not hmac.compare_digest(given.encode(), expected.encode()):
        actor = Actor(username="cad-webhook", role=None, client_addr=client_addr(request))

        def _audit() -> None:
            with state.db.write() as session:
                append_audit(
                    session,
                    actor=actor,
                    action="cad.webhook",
                    outcome="denied",
                    reason="missing signature" if not given else "bad signature",
                )

        await run_in_threadpool(_audit)
        raise HTTPException(401, f"{SIGNATURE_HEADER}: missing or invalid signature")
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, f"body: not valid JSON ({exc})") from exc
    ctype = request.headers.get("content-type")
    if isinstance(obj, dict) and isinstance(obj.get("items"), list):
        items = obj["items"]
        if not items or len(items) > MAX_BATCH:
            raise HTTPException(422, f"items: expected 1..{MAX_BATCH} calls")
        parsed = [parse_one(item, None, where=f"items[{i}].") for i, item in enumerate(items)]
        raws = items
    else:
        parsed = [parse_one(obj, ctype)]
        raws = [obj]

    def _store() -> list[Any]:
        with state.db.write() as session:
            return [
                ingest(session, parsed=p, source="webhook", raw=r)
                for p, r in zip(parsed, raws, strict=True)
            ]

    results = await run_in_threadpool(_store)
    created = any(r.created for r in results)
    payload = {
        "items": [
            {"call": r.call, "created": r.created, "updated": r.updated, "duplicate": r.duplicate}
            for r in results
        ]
    }
    return JSONResponse(payload, status_code=201 if created else 200)
