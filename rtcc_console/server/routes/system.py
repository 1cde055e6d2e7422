"""System routes: health and the system-use notice (both unauthenticated)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from rtcc_console.server.deps import DbDep, SettingsDep
from rtcc_console.store.db import ping

router = APIRouter(tags=["system"])


class HealthPublic(BaseModel):
    status: str
    db: str


class NoticePublic(BaseModel):
    text: str
    agency: str


@router.get("/health", response_model=HealthPublic)
def health(db: DbDep) -> HealthPublic:
    """Liveness and database reachability (503 when the database does not answer)."""
    from fastapi import HTTPException

    try:
        with db.read() as session:
            ping(session)
    except Exception as exc:  # any driver error means "not healthy"
        raise HTTPException(503, f"database unavailable: {type(exc).__name__}") from exc
    return HealthPublic(status="ok", db=db.backend)


@router.get("/system/notice", response_model=NoticePublic)
def notice(settings: SettingsDep) -> NoticePublic:
    """The system-use banner shown before sign-in (CJIS 5.5.4)."""
    return NoticePublic(text=settings.system_use_notice, agency=settings.agency_name)
