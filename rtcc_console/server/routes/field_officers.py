"""Officer accounts for "Send to field" (issue 16): the list an analyst picks from, and the
admin's way to give an officer its unit ids (CAD call signs such as ``1A23``).

``GET /officers`` (analyst or above; an officer token is refused like on every staff
route) answers usernames, display names and unit ids only: no e-mail, no credential, no
second-factor state. It also carries the share duration the server uses by default.
``PUT /users/{username}/units`` (admin) replaces an officer's unit ids, audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rtcc_console.server import field_shares as svc
from rtcc_console.server.deps import RequireAdmin, RequireAnalyst, StateDep, actor_of
from rtcc_console.server.security import normalize_username
from rtcc_console.store import officers as store_officers

router = APIRouter(tags=["field shares"])

UnitText = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class OfficerPublic(BaseModel):
    username: str
    display_name: str | None
    unit_ids: list[str]


class OfficerList(BaseModel):
    items: list[OfficerPublic]
    total: int
    default_duration_s: int = Field(description="A share's duration when none is given")
    max_duration_s: int = Field(description="The longest duration a share may ask for")


class UnitsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_ids: list[UnitText] = Field(max_length=svc.MAX_UNITS, description="Replaces the list")
    display_name: str | None = Field(
        default=None, max_length=100, description="Omitted: unchanged; null: cleared"
    )


@router.get("/officers", response_model=OfficerList)
def list_officers(user: RequireAnalyst, state: StateDep) -> Any:
    """Active officer accounts, by username (who a call can be sent to)."""
    with state.db.read() as session:
        rows = store_officers.list_officers(session)
    items = [
        {"username": r.username, "display_name": r.display_name, "unit_ids": list(r.unit_ids)}
        for r in rows
    ]
    return {
        "items": items,
        "total": len(items),
        "default_duration_s": state.settings.field_share_ttl_s,
        "max_duration_s": svc.MAX_DURATION_S,
    }


@router.put("/users/{username}/units", response_model=OfficerPublic)
def set_units(username: str, body: UnitsUpdate, admin: RequireAdmin, state: StateDep) -> Any:
    name = normalize_username(username)[:64]
    error: svc.ShareError | None = None
    with state.db.write() as session:
        try:
            display, units = svc.set_officer_units(
                session,
                actor=actor_of(admin),
                username=name,
                unit_ids=body.unit_ids,
                display_name=(body.display_name or "").strip() or None,
                set_name="display_name" in body.model_fields_set,
            )
        except svc.ShareError as exc:
            error = exc
        else:
            return {"username": name, "display_name": display, "unit_ids": list(units)}
    raise HTTPException(error.status, error.reason)
