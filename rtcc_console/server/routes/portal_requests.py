"""What the owner portal calls with the link token from the e-mail (no staff sign-in).

The token opens exactly one item (one owner); answers are single-use: once the owner
answered "no footage" or "declined" the link answers 410. Every refusal is audited with
the reason (never the token). Contract: ``docs/api/footage-requests.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from rtcc_console.core.request_items import ItemState, TransitionError, token_digest
from rtcc_console.server import footage_requests as service
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.deps import StateDep, client_addr
from rtcc_console.server.routes.footage_requests import no_surrogates
from rtcc_console.server.state import AppState
from rtcc_console.store import footage_requests as store
from rtcc_console.store.footage_requests import LinkedItem

router = APIRouter(prefix="/portal/requests", tags=["portal"])

_REFUSALS = {
    "expired": (410, "link has expired"),
    "answered": (410, "this request was already answered"),
}


class CameraOut(BaseModel):
    id: str
    name: str
    address: str


class AgencyOut(BaseModel):
    name: str
    contact_email: str
    contact_phone: str


class PortalRequestOut(BaseModel):
    item_id: str
    state: str
    area: dict[str, Any] | None
    areas: list[dict[str, Any]]
    window_start: datetime
    window_end: datetime
    message: str
    case_numbers: list[str]
    cameras: list[CameraOut]
    agency: AgencyOut
    expires_at: datetime
    can_upload: bool
    can_answer: bool
    reminders_opt_out: bool


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: Literal["no_footage", "declined"]
    note: str | None = Field(default=None, max_length=500)

    @field_validator("note", mode="before")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        return no_surrogates(value)


class RemindersBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opt_out: bool


class AnswerOut(BaseModel):
    item_id: str
    state: str


def _actor(request: Request) -> Actor:
    return Actor(username=None, role="owner", client_addr=client_addr(request))


def _open(session: Session, request: Request, token: str, *, purpose: str) -> LinkedItem:
    """The item behind ``token``, or an audited 404/410."""
    linked = store.resolve_link_token(session, token=token)
    reason: str | None = None
    if linked is None:
        reason, status, detail = "unknown", 404, "link is not valid"
    elif linked.refusal is not None:
        reason = linked.refusal
        status, detail = _REFUSALS[linked.refusal]
    if reason is not None:
        append_audit(
            session,
            actor=_actor(request),
            action="portal.token_refused",
            outcome="denied",
            targets={
                "reason": reason,
                "purpose": purpose,
                "token_sha256_prefix": _digest_prefix(token),
                "item": linked.item_id if linked else None,
            },
        )
        session.commit()
        raise HTTPException(status, detail)
    assert linked is not None
    return linked


def _digest_prefix(token: str) -> str:
    return token_digest(token)[:12]


def _view(state: AppState, session: Session, linked: LinkedItem, opt_out: bool) -> dict[str, Any]:
    settings = state.settings
    reqs = store.request_summaries(session, request_ids=linked.request_ids)
    areas = [r.area for r in reqs]
    messages = list(dict.fromkeys(r.message for r in reqs if r.message))
    answered = ItemState(linked.state) in (
        ItemState.NO_FOOTAGE,
        ItemState.DECLINED,
        ItemState.UPLOADED,
    )
    return {
        "item_id": linked.item_id,
        "state": linked.state,
        "area": areas[0] if areas else None,
        "areas": areas,
        "window_start": linked.window_start,
        "window_end": linked.window_end,
        "message": "\n\n".join(messages),
        "case_numbers": list(linked.case_numbers),
        "cameras": [
            {"id": cid, "name": name, "address": addr}
            for cid, name, addr in store.camera_labels(session, camera_ids=linked.camera_ids)
        ],
        "agency": {
            "name": settings.agency_name,
            "contact_email": settings.agency_contact_email,
            "contact_phone": settings.agency_contact_phone,
        },
        "expires_at": linked.due_at,
        "can_upload": linked.can_upload,
        "can_answer": not answered,
        "reminders_opt_out": opt_out,
    }


@router.get("/{link_token}", response_model=PortalRequestOut)
def read(link_token: str, request: Request, state: StateDep) -> dict[str, Any]:
    with state.db.write() as session:
        linked = _open(session, request, link_token, purpose="view")
        opened = store.mark_opened(session, item_id=linked.item_id)
        if opened is not None:
            append_audit(
                session,
                actor=_actor(request),
                action="portal.request_opened",
                targets={"item": linked.item_id, "requests": ",".join(linked.request_ids)},
            )
            service.publish_item(session, settings=state.settings, item=opened)
            linked = store.resolve_link_token(session, token=link_token) or linked
        item = store.get_item(session, item_id=linked.item_id)
        return _view(state, session, linked, bool(item and item.reminders_opt_out))


@router.post("/{link_token}/answer", response_model=AnswerOut)
def answer(link_token: str, body: AnswerBody, request: Request, state: StateDep) -> dict[str, Any]:
    with state.db.write() as session:
        linked = _open(session, request, link_token, purpose="answer")
        try:
            item = service.move_item(
                session,
                settings=state.settings,
                item_id=linked.item_id,
                state=ItemState(body.answer),
                actor=_actor(request),
                note=body.note,
                action="footage_request.answered",
            )
        except TransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        return {"item_id": item.id, "state": item.state}


@router.post("/{link_token}/reminders", response_model=AnswerOut)
def reminders(
    link_token: str, body: RemindersBody, request: Request, state: StateDep
) -> dict[str, Any]:
    with state.db.write() as session:
        linked = _open(session, request, link_token, purpose="reminders")
        store.set_reminders_opt_out(session, item_id=linked.item_id, opt_out=body.opt_out)
        append_audit(
            session,
            actor=_actor(request),
            action="portal.reminders_opt_out",
            targets={"item": linked.item_id, "opt_out": body.opt_out},
        )
        return {"item_id": linked.item_id, "state": linked.state}
