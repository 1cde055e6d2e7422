"""Footage requests from staff: preview, create (idempotent), list, read.

Contract: ``docs/api/footage-requests.md``. Analysts create and see their own requests;
supervisors see all and may override the agency's limits with a written reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError

from rtcc_console.core.fence import AreaError, parse_area
from rtcc_console.core.request_items import ALL_STATES
from rtcc_console.server import footage_requests as service
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.store import footage_requests as store

router = APIRouter(prefix="/footage-requests", tags=["footage-requests"])
_STATE_PATTERN = "^(" + "|".join(ALL_STATES) + ")$"


def no_surrogates(value: Any) -> Any:
    """Refuse strings that cannot be stored as UTF-8 (lone surrogates), anywhere inside."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode (lone surrogate)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            no_surrogates(k)
            no_surrogates(v)
    elif isinstance(value, list):
        for v in value:
            no_surrogates(v)
    return value


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_key: str | None = Field(
        default=None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    case_number: str = Field(min_length=1, max_length=40)
    offence_category: str = Field(default="", max_length=60)
    call_id: str | None = Field(default=None, min_length=1, max_length=48)
    area: dict[str, Any]
    window_start: AwareDatetime
    window_end: AwareDatetime
    message: str = Field(default="", max_length=2000)
    camera_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, max_length=2000
    )
    override_reason: str | None = Field(default=None, max_length=2000)

    @field_validator("*", mode="before")
    @classmethod
    def _unicode(cls, value: Any) -> Any:
        return no_surrogates(value)

    @field_validator("case_number")
    @classmethod
    def _case(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("a case number is required")
        return value


class PointOut(BaseModel):
    lat: float
    lon: float


class ItemOut(BaseModel):
    id: str
    owner_ref: str | None
    owner_kind: str
    camera_ids: list[str]
    state: str
    state_reason: str | None
    files: int
    sent_at: datetime | None
    opened_at: datetime | None
    answered_at: datetime | None
    due_at: datetime | None
    overdue: bool
    window_start: datetime
    window_end: datetime
    shared_with: list[str]


class RequestOut(BaseModel):
    id: str
    case_number: str
    offence_category: str
    call_id: str | None
    area: dict[str, Any]
    area_m2: float
    window_start: datetime
    window_end: datetime
    message: str
    created_by: str
    created_at: datetime
    override_reason: str | None
    excluded: dict[str, int]
    counts: dict[str, int]
    items: list[ItemOut]


class RequestPage(BaseModel):
    items: list[RequestOut]
    total: int
    limit: int
    offset: int


class LimitWarning(BaseModel):
    limit: str
    message: str
    overridable: bool


class PreviewOut(BaseModel):
    area_m2: float
    area_sq_mi: float
    cameras_inside: int
    owners_inside: int
    owners_included: int
    excluded: dict[str, int]
    warnings: list[LimitWarning]
    limits: dict[str, float]


def _draft(body: RequestBody) -> service.Draft:
    try:
        area = parse_area(body.area)
    except AreaError as exc:
        raise HTTPException(422, str(exc)) from None
    return service.Draft(
        case_number=body.case_number,
        offence_category=body.offence_category.strip(),
        call_id=body.call_id,
        area=area,
        window_start=body.window_start,
        window_end=body.window_end,
        message=body.message.strip(),
        camera_ids=tuple(body.camera_ids) if body.camera_ids is not None else None,
        client_key=body.client_key,
        override_reason=body.override_reason,
    )


@router.post("/preview", response_model=PreviewOut)
def preview(body: RequestBody, user: RequireAnalyst, state: StateDep) -> dict[str, Any]:
    draft = _draft(body)
    try:
        with state.db.read() as session:
            return service.preview(session, settings=state.settings, draft=draft)
    except service.RequestRefused as exc:
        raise HTTPException(exc.status, exc.detail) from None


@router.post("", response_model=RequestOut, status_code=201)
def create(
    body: RequestBody, user: RequireAnalyst, state: StateDep, response: Response
) -> dict[str, Any]:
    draft = _draft(body)
    try:
        with state.db.write() as session:
            view, created = service.create(
                session, settings=state.settings, draft=draft, actor=actor_of(user), role=user.role
            )
            out = service.request_public(view, settings=state.settings)
    except service.RequestRefused as exc:
        raise HTTPException(exc.status, exc.detail) from None
    except IntegrityError:  # the same client key committed by a concurrent call
        with state.db.read() as session:
            existing = store.find_by_client_key(
                session, created_by=user.username, client_key=body.client_key or ""
            )
            found = store.get_request(session, request_id=existing) if existing else None
            if found is None:
                raise HTTPException(409, "conflicting request; retry") from None
            out, created = service.request_public(found, settings=state.settings), False
    if not created:
        response.status_code = 200
    if state.extras.get("mailer") is not None:
        state.extras["mailer"].wake()
    return out


@router.get("", response_model=RequestPage)
def list_requests(
    user: RequireAnalyst,
    state: StateDep,
    scope: Annotated[Literal["mine", "all"], Query()] = "mine",
    case_number: Annotated[str | None, Query(max_length=40)] = None,
    item_state: Annotated[str | None, Query(alias="state", pattern=_STATE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    from rtcc_console.core.models import Role

    if scope == "all" and not user.role.at_least(Role.SUPERVISOR):
        raise HTTPException(403, "scope=all requires the supervisor role")
    with state.db.read() as session:
        views, total = store.list_requests(
            session,
            created_by=user.username if scope == "mine" else None,
            case_number=case_number,
            state=item_state,
            limit=limit,
            offset=offset,
        )
        items = [service.request_public(v, settings=state.settings) for v in views]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{request_id}", response_model=RequestOut)
def get_one(request_id: str, user: RequireAnalyst, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        view = store.get_request(session, request_id=request_id) if len(request_id) <= 48 else None
        if view is None or not service.can_see(view, username=user.username, role=user.role):
            raise HTTPException(404, f"footage request {request_id[:48]!r} not found")
        return service.request_public(view, settings=state.settings)
