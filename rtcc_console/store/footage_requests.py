"""Footage requests, their owner items and the links between them (repository).

A *request* is what an analyst sent (case, area, window, message). An *item* is what one
owner is asked; when analysts ask the same owner about overlapping windows within the
agency's de-duplication time, the later request links to the existing item instead of
making a new one (``request_item_links``), so one item can serve several requests.

Owner link tokens are never stored: ``core.request_items.link_token`` derives them from
the item id, a random nonce and the server secret; only their SHA-256 is kept here.
Functions take a Session and keyword-only arguments and leave committing to the caller.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, or_, select, update
from sqlalchemy.orm import Session

from rtcc_console.core.models import utcnow
from rtcc_console.core.request_items import (
    ALL_STATES,
    WAITING,
    CandidateCamera,
    ItemState,
    OwnerPick,
    TransitionError,
    check_move,
    link_token,
    token_digest,
    windows_mergeable,
)
from rtcc_console.store.bulk import _db_value, _write
from rtcc_console.store.schema import (
    CallRow,
    CameraRow,
    FootageRequestRow,
    OwnerRow,
    RequestItemLinkRow,
    RequestItemRow,
    RequestStateCountRow,
)

_CHUNK = 500
_ITEMS = cast(Table, RequestItemRow.__table__)
_COUNTS = cast(Table, RequestStateCountRow.__table__)
_ITEM_FIELDS = (
    "id",
    "owner_id",
    "owner_kind",
    "camera_ids",
    "window_start",
    "window_end",
    "state",
    "files",
    "link_nonce",
    "token_hash",
    "due_at",
    "created_at",
    "reminders_sent",
    "reminders_opt_out",
)


def new_request_id() -> str:
    return f"freq-{secrets.token_hex(8)}"


def new_item_ids(count: int) -> list[str]:
    """``count`` fresh item ids that sort in creation order (time prefix, then sequence).

    Ordered keys append to the end of every index they are in (items, links, outbox), which
    keeps inserting a 10,000-owner request cheap; the random tail keeps them unguessable and
    unique across server processes.
    """
    stamp = f"{time.time_ns() // 1_000_000:011x}"
    tail = secrets.token_hex(4)
    return [f"fri-{stamp}{i:05x}{tail}" for i in range(count)]


def _chunks(values: Sequence[str], size: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# --- views ------------------------------------------------------------------------------


@dataclass(slots=True)
class ItemView:
    id: str
    owner_id: str | None
    owner_kind: str
    camera_ids: list[str]
    state: str
    state_reason: str | None
    files: int
    window_start: datetime
    window_end: datetime
    created_at: datetime
    sent_at: datetime | None
    opened_at: datetime | None
    answered_at: datetime | None
    due_at: datetime
    reminders_sent: int
    reminders_opt_out: bool
    request_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RequestView:
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
    items: list[ItemView] = field(default_factory=list)
    state_counts: dict[str, int] | None = None  # set when items were not loaded

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(ALL_STATES, 0)
        if self.state_counts is not None:
            out.update(self.state_counts)
            return out
        for item in self.items:
            out[item.state] = out.get(item.state, 0) + 1
        return out


def item_view(row: RequestItemRow, request_ids: list[str] | None = None) -> ItemView:
    return ItemView(
        id=row.id,
        owner_id=row.owner_id,
        owner_kind=row.owner_kind,
        camera_ids=list(row.camera_ids or []),
        state=row.state,
        state_reason=row.state_reason,
        files=int(row.files),
        window_start=row.window_start,
        window_end=row.window_end,
        created_at=row.created_at,
        sent_at=row.sent_at,
        opened_at=row.opened_at,
        answered_at=row.answered_at,
        due_at=row.due_at,
        reminders_sent=int(row.reminders_sent),
        reminders_opt_out=bool(row.reminders_opt_out),
        request_ids=list(request_ids or []),
    )


def _request_view(row: FootageRequestRow) -> RequestView:
    return RequestView(
        id=row.id,
        case_number=row.case_number,
        offence_category=row.offence_category,
        call_id=row.call_id,
        area=dict(row.geofence),
        area_m2=float(row.area_m2),
        window_start=row.window_start,
        window_end=row.window_end,
        message=row.message,
        created_by=row.created_by,
        created_at=row.created_at,
        override_reason=row.override_reason,
        excluded={str(k): int(v) for k, v in (row.excluded or {}).items()},
    )


# --- look-ups for validation ------------------------------------------------------------


def call_exists(session: Session, *, call_id: str) -> bool:
    return session.get(CallRow, call_id) is not None


def unknown_cameras(session: Session, *, camera_ids: Sequence[str]) -> list[str]:
    """The ids among ``camera_ids`` that are not live (non-deleted) cameras."""
    known: set[str] = set()
    for chunk in _chunks(list(dict.fromkeys(camera_ids))):
        known.update(
            session.scalars(
                select(CameraRow.id).where(CameraRow.id.in_(chunk), CameraRow.deleted.is_(False))
            )
        )
    return [c for c in dict.fromkeys(camera_ids) if c not in known]


def count_requests_for_case(session: Session, *, case_number: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(FootageRequestRow)
            .where(FootageRequestRow.case_number == case_number)
        )
        or 0
    )


def find_by_client_key(session: Session, *, created_by: str, client_key: str) -> str | None:
    return session.scalar(
        select(FootageRequestRow.id).where(
            FootageRequestRow.created_by == created_by, FootageRequestRow.client_key == client_key
        )
    )


def cameras_in_bbox(
    session: Session,
    *,
    min_lat: float,
    min_lon: float,
    max_lat: float,
    max_lon: float,
    camera_ids: Sequence[str] | None = None,
) -> list[CandidateCamera]:
    """Non-deleted cameras in a lat/lon box with what the owner rules need (no contacts)."""
    has_email = func.coalesce(func.length(OwnerRow.email), 0) > 0
    stmt = (
        select(
            CameraRow.id,
            CameraRow.lat,
            CameraRow.lon,
            CameraRow.tier,
            CameraRow.revoked,
            CameraRow.owner_id,
            OwnerRow.kind,
            OwnerRow.accepts_requests,
            has_email,
        )
        .outerjoin(OwnerRow, OwnerRow.id == CameraRow.owner_id)
        .where(
            CameraRow.deleted.is_(False),
            CameraRow.lat >= min_lat,
            CameraRow.lat <= max_lat,
            CameraRow.lon >= min_lon,
            CameraRow.lon <= max_lon,
        )
    )
    if camera_ids is not None:
        stmt = stmt.where(CameraRow.id.in_(list(camera_ids)))
    return [
        CandidateCamera(
            id=r[0],
            lat=float(r[1]),
            lon=float(r[2]),
            tier=r[3],
            revoked=bool(r[4]),
            owner_id=r[5],
            owner_kind=r[6] or "residential",
            owner_accepts=bool(r[7]) if r[7] is not None else False,
            owner_has_email=bool(r[8]),
        )
        for r in session.execute(stmt)
    ]


# --- create -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewRequest:
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
    client_key: str | None
    override_reason: str | None
    excluded: dict[str, int]


@dataclass(frozen=True, slots=True)
class CreateResult:
    request_id: str
    new_item_ids: list[str]
    merged_item_ids: list[str]
    items: list[ItemView]  # every item of the new request (built in memory, not read back)


def create_request(
    session: Session,
    *,
    request: NewRequest,
    owners: Sequence[OwnerPick],
    secret: bytes,
    link_ttl: timedelta,
    dedup_within: timedelta,
    now: datetime | None = None,
) -> CreateResult:
    """Store a request and its items: new ones, or existing ones it can share.

    An owner's waiting item (queued/sent/opened) created within ``dedup_within`` whose window
    overlaps the new window is extended (window and cameras become the unions) and linked;
    other owners get a new queued item. The caller enqueues e-mail for ``new_item_ids``.
    """
    now = now or utcnow()
    if request.window_end <= request.window_start:
        raise ValueError("window_end must be after window_start")
    session.add(
        FootageRequestRow(
            id=request.id,
            call_id=request.call_id,
            geofence=request.area,
            window_start=request.window_start,
            window_end=request.window_end,
            created_by=request.created_by,
            created_at=now,
            status="open",
            message=request.message,
            case_number=request.case_number,
            offence_category=request.offence_category,
            client_key=request.client_key,
            area_m2=request.area_m2,
            override_reason=request.override_reason,
            excluded=dict(request.excluded),
        )
    )
    session.flush()
    by_owner = {o.owner_id: o for o in owners}
    merged: list[str] = []
    merged_states: list[str] = []
    if dedup_within.total_seconds() > 0 and by_owner:
        since = now - dedup_within
        for chunk in _chunks(list(by_owner)):
            rows = session.scalars(
                select(RequestItemRow)
                .where(
                    RequestItemRow.owner_id.in_(chunk),
                    RequestItemRow.state.in_([s.value for s in WAITING]),
                    RequestItemRow.created_at >= since,
                )
                .order_by(RequestItemRow.created_at)
            ).all()
            for row in rows:
                pick = by_owner.get(row.owner_id or "")
                if pick is None or not windows_mergeable(
                    row.window_start, row.window_end, request.window_start, request.window_end
                ):
                    continue
                row.window_start = min(row.window_start, request.window_start)
                row.window_end = max(row.window_end, request.window_end)
                row.camera_ids = sorted(set(row.camera_ids or []) | set(pick.camera_ids))
                merged.append(row.id)
                merged_states.append(row.state)
                del by_owner[pick.owner_id]
    due = now + link_ttl
    item_ids: list[str] = []
    new_rows: list[tuple[Any, ...]] = []
    views: list[ItemView] = []
    col = _ITEMS.c
    ts = [
        _db_value(session, col.created_at, v)
        for v in (request.window_start, request.window_end, due, now)
    ]
    queued = ItemState.QUEUED.value
    for pick, item_id in zip(by_owner.values(), new_item_ids(len(by_owner)), strict=True):
        nonce = secrets.token_hex(16)
        item_ids.append(item_id)
        new_rows.append(
            (
                item_id,
                pick.owner_id,
                pick.owner_kind,
                json.dumps(list(pick.camera_ids)),
                ts[0],
                ts[1],
                queued,
                0,
                nonce,
                token_digest(link_token(secret, item_id, nonce)),
                ts[2],
                ts[3],
                0,
                False,
            )
        )
        views.append(
            ItemView(
                id=item_id,
                owner_id=pick.owner_id,
                owner_kind=pick.owner_kind,
                camera_ids=list(pick.camera_ids),
                state=queued,
                state_reason=None,
                files=0,
                window_start=request.window_start,
                window_end=request.window_end,
                created_at=now,
                sent_at=None,
                opened_at=None,
                answered_at=None,
                due_at=due,
                reminders_sent=0,
                reminders_opt_out=False,
                request_ids=[request.id],
            )
        )
    if (
        new_rows
    ):  # driver-level bulk insert (COPY on PostgreSQL): 10,000 owners in a fraction of a second
        _write(session, "request_items", _ITEM_FIELDS, new_rows)
    links = [(request.id, i) for i in item_ids] + [(request.id, i) for i in merged]
    if links:
        _write(session, "request_item_links", ("request_id", "item_id"), links)
    counts = dict.fromkeys(ALL_STATES, 0)
    counts[queued] += len(item_ids)
    for state in merged_states:
        counts[state] += 1
    session.execute(
        insert(_COUNTS), [{"request_id": request.id, "state": k, "n": v} for k, v in counts.items()]
    )
    session.flush()
    views += get_items(session, item_ids=merged)
    views.sort(key=lambda v: v.id)
    return CreateResult(request.id, item_ids, merged, views)


# --- read -------------------------------------------------------------------------------


def _links_for_items(session: Session, item_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(list(item_ids)):
        for req_id, item_id in session.execute(
            select(RequestItemLinkRow.request_id, RequestItemLinkRow.item_id).where(
                RequestItemLinkRow.item_id.in_(chunk)
            )
        ):
            out[item_id].append(req_id)
    return out


def _attach_items(session: Session, views: list[RequestView]) -> None:
    if not views:
        return
    by_req = {v.id: v for v in views}
    rows = session.execute(
        select(RequestItemLinkRow.request_id, RequestItemRow)
        .join(RequestItemRow, RequestItemRow.id == RequestItemLinkRow.item_id)
        .where(RequestItemLinkRow.request_id.in_(list(by_req)))
        .order_by(RequestItemRow.id)
    ).all()
    links = _links_for_items(session, list({r[1].id for r in rows}))
    for req_id, item in rows:
        by_req[req_id].items.append(item_view(item, sorted(links.get(item.id, []))))


def get_request_head(session: Session, *, request_id: str) -> RequestView | None:
    """The request without its items."""
    row = session.get(FootageRequestRow, request_id)
    return _request_view(row) if row is not None else None


def get_request(session: Session, *, request_id: str) -> RequestView | None:
    row = session.get(FootageRequestRow, request_id)
    if row is None:
        return None
    view = _request_view(row)
    _attach_items(session, [view])
    return view


def list_requests(
    session: Session,
    *,
    created_by: str | None = None,
    case_number: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RequestView], int]:
    """Requests newest first (with items), and the total matching."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    where: list[Any] = []
    if created_by is not None:
        where.append(FootageRequestRow.created_by == created_by)
    if case_number:
        where.append(FootageRequestRow.case_number == case_number)
    if state:
        ItemState(state)
        where.append(
            FootageRequestRow.id.in_(
                select(RequestItemLinkRow.request_id)
                .join(RequestItemRow, RequestItemRow.id == RequestItemLinkRow.item_id)
                .where(RequestItemRow.state == state)
            )
        )
    total = int(
        session.scalar(select(func.count()).select_from(FootageRequestRow).where(*where)) or 0
    )
    rows = session.scalars(
        select(FootageRequestRow)
        .where(*where)
        .order_by(FootageRequestRow.created_at.desc(), FootageRequestRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    views = [_request_view(r) for r in rows]
    _attach_items(session, views)
    return views, total


def get_item(session: Session, *, item_id: str) -> ItemView | None:
    row = session.get(RequestItemRow, item_id)
    if row is None:
        return None
    return item_view(row, sorted(_links_for_items(session, [item_id]).get(item_id, [])))


def request_summaries(session: Session, *, request_ids: Sequence[str]) -> list[RequestView]:
    """Requests without their items but with per-state item counts (for events naming them).

    The counts come from ``request_state_counts`` (kept with every state change): a sender
    publishing one item's change must not count its request's ten thousand other items.
    """
    rows = session.scalars(
        select(FootageRequestRow)
        .where(FootageRequestRow.id.in_(list(request_ids)))
        .order_by(FootageRequestRow.id)
    ).all()
    views = [_request_view(r) for r in rows]
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    if views:
        for req_id, state, n in session.execute(
            select(
                RequestStateCountRow.request_id, RequestStateCountRow.state, RequestStateCountRow.n
            ).where(RequestStateCountRow.request_id.in_([v.id for v in views]))
        ):
            counts[req_id][state] = int(n)
    for view in views:
        view.state_counts = dict(counts.get(view.id, {}))
    return views


# --- item state -------------------------------------------------------------------------


def _bump_counts(session: Session, deltas: dict[tuple[str, str], int]) -> None:
    """Apply ``{(request_id, state): delta}`` to ``request_state_counts`` (rows exist from creation)."""
    for (request_id, state), delta in deltas.items():
        if delta:
            session.execute(
                update(RequestStateCountRow)
                .where(
                    RequestStateCountRow.request_id == request_id,
                    RequestStateCountRow.state == state,
                )
                .values(n=RequestStateCountRow.n + delta),
                execution_options={"synchronize_session": False},
            )


def set_item_state(
    session: Session,
    *,
    item_id: str,
    state: str,
    reason: str | None = None,
    now: datetime | None = None,
    note: str | None = None,
) -> ItemView:
    """Move an item along its state machine (TransitionError when not allowed)."""
    now = now or utcnow()
    row = session.get(RequestItemRow, item_id, populate_existing=True, with_for_update=True)
    if row is None:
        raise LookupError(f"request item {item_id!r} not found")
    target = check_move(row.state, state)
    links = sorted(_links_for_items(session, [item_id]).get(item_id, []))
    if row.state != target.value:
        deltas: dict[tuple[str, str], int] = {}
        for rid in links:
            deltas[(rid, row.state)] = -1
            deltas[(rid, target.value)] = 1
        _bump_counts(session, deltas)
    row.state = target.value
    if reason is not None:
        row.state_reason = reason[:2000]
    if target is ItemState.SENT and row.sent_at is None:
        row.sent_at = now
    elif target is ItemState.OPENED and row.opened_at is None:
        row.opened_at = now
    elif (
        target in (ItemState.UPLOADED, ItemState.NO_FOOTAGE, ItemState.DECLINED)
        and row.answered_at is None
    ):
        row.answered_at = now
    if target is ItemState.UPLOADED:
        row.files = int(row.files) + 1
    if note is not None:
        row.answer_note = note[:500]
    session.flush()
    return item_view(row, links)


def mark_items_sent(session: Session, *, item_ids: Sequence[str], now: datetime) -> list[str]:
    """``queued -> sent`` for the items among ``item_ids`` still queued; returns those moved."""
    moved: list[str] = []
    for chunk in _chunks(list(item_ids)):
        moved += session.scalars(
            update(RequestItemRow)
            .where(RequestItemRow.id.in_(chunk), RequestItemRow.state == ItemState.QUEUED.value)
            .values(state=ItemState.SENT.value, sent_at=now)
            .returning(RequestItemRow.id),
            execution_options={"synchronize_session": False},
        ).all()
    if moved:
        per_request: dict[str, int] = defaultdict(int)
        for rids in _links_for_items(session, moved).values():
            for rid in rids:
                per_request[rid] += 1
        deltas: dict[tuple[str, str], int] = {}
        for rid, k in per_request.items():
            deltas[(rid, ItemState.QUEUED.value)] = -k
            deltas[(rid, ItemState.SENT.value)] = k
        _bump_counts(session, deltas)
    return moved


def get_items(session: Session, *, item_ids: Sequence[str]) -> list[ItemView]:
    """Several items with the requests they serve, in the given order."""
    rows: dict[str, RequestItemRow] = {}
    for chunk in _chunks(list(dict.fromkeys(item_ids))):
        for row in session.scalars(
            select(RequestItemRow)
            .where(RequestItemRow.id.in_(chunk))
            .execution_options(populate_existing=True)
        ):
            rows[row.id] = row
    links = _links_for_items(session, list(rows))
    return [
        item_view(rows[i], sorted(links.get(i, []))) for i in dict.fromkeys(item_ids) if i in rows
    ]


def mark_opened(session: Session, *, item_id: str, now: datetime | None = None) -> ItemView | None:
    """``sent -> opened`` on the owner's first visit; None when nothing changed."""
    row = session.get(RequestItemRow, item_id)
    if row is None or row.state not in (ItemState.SENT.value, ItemState.QUEUED.value):
        return None
    return set_item_state(session, item_id=item_id, state=ItemState.OPENED.value, now=now)


def set_reminders_opt_out(session: Session, *, item_id: str, opt_out: bool) -> None:
    session.execute(
        update(RequestItemRow).where(RequestItemRow.id == item_id).values(reminders_opt_out=opt_out)
    )


def record_upload(session: Session, *, item_id: str, evidence_id: str) -> ItemView:
    """The vault stored ``evidence_id`` for this item: ``uploaded``, one more file.

    Raises TransitionError (a ValueError) when the item can no longer take uploads.
    """
    if not evidence_id:
        raise ValueError("evidence_id is required")
    return set_item_state(session, item_id=item_id, state=ItemState.UPLOADED.value)


# --- owner link tokens ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkedItem:
    item_id: str
    owner_id: str | None
    request_ids: tuple[str, ...]
    case_numbers: tuple[str, ...]
    call_ids: tuple[str, ...]
    state: str
    due_at: datetime
    window_start: datetime
    window_end: datetime
    camera_ids: tuple[str, ...]
    can_upload: bool
    refusal: str | None  # None | "expired" | "answered"


def resolve_link_token(
    session: Session, *, token: str, now: datetime | None = None
) -> LinkedItem | None:
    """The item an owner's link token opens, or None for unknown/forged tokens."""
    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        return None
    row = session.scalar(
        select(RequestItemRow).where(RequestItemRow.token_hash == token_digest(token))
    )
    if row is None:
        return None
    now = now or utcnow()
    reqs = session.execute(
        select(FootageRequestRow.id, FootageRequestRow.case_number, FootageRequestRow.call_id)
        .join(RequestItemLinkRow, RequestItemLinkRow.request_id == FootageRequestRow.id)
        .where(RequestItemLinkRow.item_id == row.id)
        .order_by(FootageRequestRow.created_at)
    ).all()
    state = ItemState(row.state)
    refusal: str | None = None
    if state in (ItemState.NO_FOOTAGE, ItemState.DECLINED):
        refusal = "answered"
    elif state is ItemState.EXPIRED or now >= row.due_at:
        refusal = "expired"
    elif state is ItemState.UNDELIVERABLE:
        refusal = "expired"
    return LinkedItem(
        item_id=row.id,
        owner_id=row.owner_id,
        request_ids=tuple(r[0] for r in reqs),
        case_numbers=tuple(dict.fromkeys(r[1] for r in reqs)),
        call_ids=tuple(dict.fromkeys(r[2] for r in reqs if r[2])),
        state=row.state,
        due_at=row.due_at,
        window_start=row.window_start,
        window_end=row.window_end,
        camera_ids=tuple(row.camera_ids or []),
        can_upload=refusal is None,
        refusal=refusal,
    )


# --- housekeeping -----------------------------------------------------------------------


def expire_due_items(
    session: Session, *, now: datetime | None = None, limit: int = 500
) -> list[str]:
    """Items still waiting for an answer whose link expired: ``expired``. Returns their ids."""
    now = now or utcnow()
    ids = list(
        session.scalars(
            select(RequestItemRow.id)
            .where(
                RequestItemRow.state.in_([ItemState.SENT.value, ItemState.OPENED.value]),
                RequestItemRow.due_at <= now,
            )
            .limit(limit)
        )
    )
    for item_id in ids:
        try:
            set_item_state(
                session,
                item_id=item_id,
                state=ItemState.EXPIRED.value,
                reason="link expired",
                now=now,
            )
        except TransitionError:  # answered meanwhile
            continue
    return ids


def expiry_or_reminder_due(
    session: Session, *, now: datetime, offsets: Sequence[timedelta]
) -> bool:
    """Whether :func:`expire_due_items` or :func:`items_due_reminder` would find anything."""
    waiting = RequestItemRow.state.in_([ItemState.SENT.value, ItemState.OPENED.value])
    if session.scalar(
        select(RequestItemRow.id).where(waiting, RequestItemRow.due_at <= now).limit(1)
    ):
        return True
    return bool(offsets) and bool(items_due_reminder(session, now=now, offsets=offsets, limit=50))


def items_due_reminder(
    session: Session, *, now: datetime, offsets: Sequence[timedelta], limit: int = 500
) -> list[tuple[str, int]]:
    """(item id, reminder number 1..) for waiting items whose next reminder time passed."""
    if not offsets:
        return []
    next_due = or_(
        *[
            (RequestItemRow.reminders_sent == n) & (RequestItemRow.sent_at <= now - offset)
            for n, offset in enumerate(offsets)
        ]
    )
    rows = session.execute(
        select(RequestItemRow.id, RequestItemRow.reminders_sent)
        .where(
            RequestItemRow.state.in_([ItemState.SENT.value, ItemState.OPENED.value]),
            RequestItemRow.reminders_opt_out.is_(False),
            RequestItemRow.due_at > now,
            RequestItemRow.sent_at.is_not(None),
            next_due,
        )
        .order_by(RequestItemRow.sent_at)
        .limit(limit)
    ).all()
    return [(item_id, int(sent) + 1) for item_id, sent in rows]


def note_reminder_enqueued(session: Session, *, item_id: str, number: int) -> None:
    session.execute(
        update(RequestItemRow).where(RequestItemRow.id == item_id).values(reminders_sent=number)
    )


def camera_labels(session: Session, *, camera_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """(id, name, address) of the given cameras, in the given order (unknown ones skipped)."""
    ids = list(dict.fromkeys(camera_ids))
    found: dict[str, tuple[str, str, str]] = {}
    for chunk in _chunks(ids):
        for cid, name, address in session.execute(
            select(CameraRow.id, CameraRow.name, CameraRow.address).where(CameraRow.id.in_(chunk))
        ):
            found[cid] = (cid, name, address or "")
    return [found[c] for c in ids if c in found]
