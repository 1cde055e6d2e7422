"""Live-view grants: issue (policy-checked, audited), renew, end.

``POST /cameras/{id}/live-grants`` answers 201 with the stream URL to open, or 403 with
the consent policy's reason. The grant holder renews before ``expires_at``; a renewal
after consent is gone answers 403 (policy says no) or 410 (grant already ended/expired).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from rtcc_console.core.models import Role, utcnow
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.server.grants import end_grant, grant_public, issue_grant, renew_grant
from rtcc_console.server.schemas import Reason
from rtcc_console.store.grants import get_grant, open_grants
from rtcc_console.store.schema import LiveGrantRow

router = APIRouter(tags=["live view"])


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason = Field(description="Case number or reason, e.g. 'case 26-001234'")


class GrantPublic(BaseModel):
    id: str
    camera_id: str
    stream_url: str | None
    substream_url: str | None
    token: str | None = Field(description="Grant secret for the media relay (password or token)")
    expires_at: str
    ttl_s: int
    emergency_id: str | None
    reason: str


@router.post("/cameras/{camera_id}/live-grants", status_code=201, response_model=GrantPublic)
def create_grant(camera_id: str, body: GrantRequest, user: RequireAnalyst, state: StateDep) -> Any:
    with state.db.write() as session:
        outcome = issue_grant(
            session,
            actor=actor_of(user),
            role=user.role,
            camera_id=camera_id,
            reason=body.reason,
            ttl_s=state.settings.grant_ttl_s,
            session_jti=user.jti,
        )
        if outcome.grant is None:
            # The denial is audited: commit it, then answer with the policy's reason.
            denial = outcome
        else:
            return grant_public(
                outcome.grant,
                session=session,
                secret=outcome.secret,
                relay_url=state.settings.media_relay_url,
            )
    raise HTTPException(denial.status, denial.decision.reason)


class GrantListItem(BaseModel):
    id: str
    camera_id: str
    username: str
    reason: str
    issued_at: str
    expires_at: str
    emergency_id: str | None


class GrantList(BaseModel):
    items: list[GrantListItem]
    total: int
    limit: int
    offset: int


@router.get("/live-grants", response_model=GrantList)
def list_grants(user: RequireAnalyst, state: StateDep, mine: bool = False) -> dict[str, Any]:
    """Open live views: an analyst sees their own; supervisors see everyone's (oversight).

    Never includes stream URLs or grant secrets.
    """
    now = utcnow()
    with state.db.read() as session:
        rows = open_grants(session, now=now)
    if mine or not user.role.at_least(Role.SUPERVISOR):
        rows = [g for g in rows if g.username == user.username]
    items = [
        {
            "id": g.id,
            "camera_id": g.camera_id,
            "username": g.username,
            "reason": g.reason,
            "issued_at": g.issued_at.isoformat(),
            "expires_at": g.expires_at.isoformat(),
            "emergency_id": g.emergency_id,
        }
        for g in rows
    ]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


def _own_grant(session: Any, grant_id: str, user: Any) -> LiveGrantRow:
    grant = get_grant(session, grant_id=grant_id)
    if grant is None or (
        grant.username != user.username and not user.role.at_least(Role.SUPERVISOR)
    ):
        raise HTTPException(404, f"no live grant {grant_id!r} of yours")
    return grant


@router.post("/live-grants/{grant_id}/renew", response_model=GrantPublic)
def renew(grant_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    with state.db.write() as session:
        grant = _own_grant(session, grant_id, user)
        if grant.username != user.username:
            raise HTTPException(403, "only the holder of a grant can renew it")
        outcome = renew_grant(
            session,
            actor=actor_of(user),
            role=user.role,
            grant=grant,
            ttl_s=state.settings.grant_ttl_s,
        )
        if outcome.grant is not None:
            return grant_public(
                outcome.grant,
                session=session,
                secret=None,
                relay_url=state.settings.media_relay_url,
            )
    raise HTTPException(outcome.status, outcome.decision.reason)


@router.delete("/live-grants/{grant_id}", status_code=204)
def end(
    grant_id: str,
    user: RequireAnalyst,
    state: StateDep,
    why: Literal["closed", "sign-out"] = "closed",
) -> Response:
    """The tile was closed, the viewer is signing out (``?why=sign-out``), or a supervisor
    ends someone's view."""
    with state.db.write() as session:
        grant = _own_grant(session, grant_id, user)
        by_other = grant.username != user.username
        own = "viewer signed out" if why == "sign-out" else "viewer closed the tile"
        end_grant(
            session,
            grant=grant,
            actor=actor_of(user),
            publish=by_other,
            reason="ended by supervisor" if by_other else own,
        )
    return Response(status_code=204)
