"""Per-user video wall presets (layouts). Each user sees and changes only their own."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from rtcc_console.server.deps import CurrentUser, StateDep
from rtcc_console.store import presets as store_presets
from rtcc_console.store.presets import Preset

router = APIRouter(prefix="/me/presets", tags=["presets"])
MAX_LAYOUT_BYTES = 64_000


class PresetPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    layout: dict[str, Any] = Field(description="Opaque layout document of the console")


class PresetPublic(BaseModel):
    name: str
    layout: dict[str, Any]
    updated_at: str = Field(description="ISO-8601")


class PresetList(BaseModel):
    items: list[PresetPublic]


def _public(preset: Preset) -> dict[str, Any]:
    return {
        "name": preset.name,
        "layout": preset.layout,
        "updated_at": preset.updated_at.isoformat(),
    }


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise HTTPException(422, "name: 1-100 printable characters")
    return name


@router.get("", response_model=PresetList)
def list_presets(user: CurrentUser, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        return {
            "items": [
                _public(p) for p in store_presets.list_presets(session, username=user.username)
            ]
        }


@router.get("/{name}", response_model=PresetPublic)
def get_preset(name: str, user: CurrentUser, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        preset = store_presets.get_preset(session, username=user.username, name=_check_name(name))
    if preset is None:
        raise HTTPException(404, f"no preset {name!r}")
    return _public(preset)


@router.put("/{name}", response_model=PresetPublic)
def put_preset(name: str, body: PresetPut, user: CurrentUser, state: StateDep) -> dict[str, Any]:
    name = _check_name(name)
    if len(json.dumps(body.layout)) > MAX_LAYOUT_BYTES:
        raise HTTPException(422, f"layout: larger than {MAX_LAYOUT_BYTES} bytes")
    with state.db.write() as session:
        preset = store_presets.save_preset(
            session, username=user.username, name=name, layout=body.layout
        )
    return _public(preset)


@router.delete("/{name}", status_code=204)
def delete_preset(name: str, user: CurrentUser, state: StateDep) -> Response:
    with state.db.write() as session:
        deleted = store_presets.delete_preset(
            session, username=user.username, name=_check_name(name)
        )
    if not deleted:
        raise HTTPException(404, f"no preset {name!r}")
    return Response(status_code=204)
