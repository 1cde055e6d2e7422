"""Per-user video wall presets (layouts). Each user sees and changes only their own."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from rtcc_console.core.models import utcnow
from rtcc_console.server.deps import CurrentUser, StateDep
from rtcc_console.store.schema import UserPresetRow

router = APIRouter(prefix="/me/presets", tags=["presets"])
MAX_LAYOUT_BYTES = 64_000


class PresetPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layout: dict[str, Any] = Field(description="Opaque layout document of the console")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise HTTPException(422, "name: 1-100 printable characters")
    return name


@router.get("")
def list_presets(user: CurrentUser, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        rows = session.scalars(
            select(UserPresetRow).where(UserPresetRow.username == user.username).order_by(UserPresetRow.name)
        ).all()
        return {"items": [{"name": r.name, "layout": r.layout, "updated_at": r.updated_at.isoformat()} for r in rows]}


@router.get("/{name}")
def get_preset(name: str, user: CurrentUser, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        row = session.get(UserPresetRow, (user.username, _check_name(name)))
        if row is None:
            raise HTTPException(404, f"no preset {name!r}")
        return {"name": row.name, "layout": row.layout, "updated_at": row.updated_at.isoformat()}


@router.put("/{name}")
def put_preset(name: str, body: PresetPut, user: CurrentUser, state: StateDep) -> dict[str, Any]:
    name = _check_name(name)
    if len(json.dumps(body.layout)) > MAX_LAYOUT_BYTES:
        raise HTTPException(422, f"layout: larger than {MAX_LAYOUT_BYTES} bytes")
    with state.db.write() as session:
        row = session.get(UserPresetRow, (user.username, name))
        if row is None:
            row = UserPresetRow(username=user.username, name=name)
            session.add(row)
        row.layout = body.layout
        row.updated_at = utcnow()
        session.flush()
        return {"name": row.name, "layout": row.layout, "updated_at": row.updated_at.isoformat()}


@router.delete("/{name}", status_code=204)
def delete_preset(name: str, user: CurrentUser, state: StateDep) -> Response:
    with state.db.write() as session:
        row = session.get(UserPresetRow, (user.username, _check_name(name)))
        if row is None:
            raise HTTPException(404, f"no preset {name!r}")
        session.delete(row)
    return Response(status_code=204)
