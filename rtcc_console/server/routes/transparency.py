"""The public transparency page (no sign-in): the program's figures for the last 12 months,
cached, with the agency's policy text (docs/api/supervision.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from rtcc_console.server import transparency
from rtcc_console.server.deps import StateDep

router = APIRouter(tags=["transparency"])


class TransparencyFigures(BaseModel):
    agency: str
    period: dict[str, str]
    period_label: str
    generated_at: str
    months: list[dict[str, Any]]
    totals: dict[str, Any]
    now: dict[str, int]
    retention_days: dict[str, int]
    event_retention_h: int
    policy_text: str
    no_face_statement: str
    facial_recognition: bool


def _cache_header(state: Any) -> dict[str, str]:
    return {"Cache-Control": f"public, max-age={int(state.settings.transparency_cache_s)}"}


@router.get("/transparency", response_class=HTMLResponse, include_in_schema=False)
async def transparency_page(state: StateDep) -> HTMLResponse:
    """The public page: figures only, no personal data."""
    html, _ = await run_in_threadpool(transparency.public_page, state)
    return HTMLResponse(html, headers=_cache_header(state))


@router.get("/transparency.json", response_model=TransparencyFigures)
async def transparency_json(state: StateDep) -> Any:
    """The same figures as JSON (for a city's open-data portal)."""
    from fastapi.responses import JSONResponse

    _, figures = await run_in_threadpool(transparency.public_page, state)
    return JSONResponse(figures, headers=_cache_header(state))
