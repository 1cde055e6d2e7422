"""Footage requests: the server's rules around the store (limits, audit, events, e-mail).

Routes (``routes/footage_requests.py``, ``routes/portal_requests.py``) parse and check
roles; this module decides and writes, always inside the caller's ``db.write()``
transaction, so a request, its items, its queued e-mails, its audit entries and its events
commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from rtcc_console.config import ServerSettings
from rtcc_console.core.fence import Area
from rtcc_console.core.footage_mail import message_id_for
from rtcc_console.core.models import Role, utcnow
from rtcc_console.core.request_items import (
    ItemState,
    LimitBreach,
    Limits,
    OwnerSelection,
    check_limits,
    is_overdue,
    select_owners,
)
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.eventlog import record_event
from rtcc_console.store import footage_requests as store
from rtcc_console.store import outbox
from rtcc_console.store.db import journal_lock
from rtcc_console.store.footage_requests import ItemView, NewRequest, RequestView

MIN_OVERRIDE_REASON = 10


class RequestRefused(Exception):
    """A clear 4xx: ``status`` and a ``detail`` (text or a limit object)."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated create/preview body (the route's pydantic model turned into this)."""

    case_number: str
    offence_category: str
    call_id: str | None
    area: Area
    window_start: datetime
    window_end: datetime
    message: str
    camera_ids: tuple[str, ...] | None = None
    client_key: str | None = None
    override_reason: str | None = None


@dataclass(slots=True)
class Assessment:
    selection: OwnerSelection
    breaches: list[LimitBreach] = field(default_factory=list)
    requests_for_case: int = 0


def limits_of(settings: ServerSettings) -> Limits:
    return Limits(
        max_window_s=settings.request_max_window_s,
        max_area_sq_mi=settings.request_max_area_sq_mi,
        max_per_case=settings.request_max_per_case,
    )


def mail_domain(settings: ServerSettings) -> str:
    return settings.smtp_from.rpartition("@")[2] or "rtcc.invalid"


def assess(
    session: Session, *, settings: ServerSettings, draft: Draft, now: datetime
) -> Assessment:
    """Who is inside and accepts requests, and which limits the draft breaks."""
    if draft.window_end <= draft.window_start:
        raise RequestRefused(422, "window_end: the window must end after it starts")
    if draft.call_id is not None and not store.call_exists(session, call_id=draft.call_id):
        raise RequestRefused(422, f"call_id: unknown call {draft.call_id!r}")
    if draft.camera_ids is not None:
        missing = store.unknown_cameras(session, camera_ids=draft.camera_ids)
        if missing:
            raise RequestRefused(422, f"camera_ids: unknown camera(s) {', '.join(missing[:10])}")
    min_lat, min_lon, max_lat, max_lon = draft.area.bbox()
    cams = store.cameras_in_bbox(
        session,
        min_lat=min_lat,
        min_lon=min_lon,
        max_lat=max_lat,
        max_lon=max_lon,
        camera_ids=draft.camera_ids,
    )
    if cams:
        import numpy as np

        inside = draft.area.contains_arrays(
            np.array([c.lat for c in cams]), np.array([c.lon for c in cams])
        )
        cams = [c for c, ok in zip(cams, inside, strict=True) if ok]
    if draft.camera_ids is not None:
        outside = sorted(set(draft.camera_ids) - {c.id for c in cams})
        if outside:
            raise RequestRefused(
                422, f"camera_ids: camera(s) outside the area {', '.join(outside[:10])}"
            )
    selection = select_owners(cams)
    count = store.count_requests_for_case(session, case_number=draft.case_number)
    breaches = check_limits(
        limits_of(settings),
        window_start=draft.window_start,
        window_end=draft.window_end,
        area_sq_mi=draft.area.area_sq_mi,
        requests_for_case=count,
        now=now,
    )
    return Assessment(selection=selection, breaches=breaches, requests_for_case=count)


def preview(session: Session, *, settings: ServerSettings, draft: Draft) -> dict[str, Any]:
    now = utcnow()
    result = assess(session, settings=settings, draft=draft, now=now)
    sel = result.selection
    return {
        "area_m2": round(draft.area.area_m2, 1),
        "area_sq_mi": round(draft.area.area_sq_mi, 5),
        "cameras_inside": sel.cameras_inside,
        "owners_inside": sel.owners_inside,
        "owners_included": sel.owners_included,
        "excluded": dict(sel.excluded),
        "warnings": [b.as_dict() for b in result.breaches],
        "limits": {
            "max_window_s": settings.request_max_window_s,
            "max_area_sq_mi": settings.request_max_area_sq_mi,
            "max_per_case": settings.request_max_per_case,
            "requests_for_case": result.requests_for_case,
        },
    }


def create(
    session: Session, *, settings: ServerSettings, draft: Draft, actor: Actor, role: Role
) -> tuple[RequestView, bool]:
    """Create the request (or return the one made with the same client key): (view, created)."""
    if not draft.client_key:
        raise RequestRefused(422, "client_key: required to create a request")
    journal_lock(session)  # one writer at a time: per-case counting and de-duplication stay exact
    existing = store.find_by_client_key(
        session, created_by=actor.username or "", client_key=draft.client_key
    )
    if existing is not None:
        view = store.get_request(session, request_id=existing)
        assert view is not None
        return view, False
    if draft.override_reason is not None and not role.at_least(Role.SUPERVISOR):
        raise RequestRefused(
            403, "override_reason: only a supervisor may override the agency's limits"
        )
    now = utcnow()
    result = assess(session, settings=settings, draft=draft, now=now)
    hard = [b for b in result.breaches if not b.overridable]
    soft = [b for b in result.breaches if b.overridable]
    if hard:
        raise RequestRefused(422, hard[0].as_dict())
    if soft:
        reason = (draft.override_reason or "").strip()
        if not reason:
            raise RequestRefused(422, soft[0].as_dict())
        if len(reason) < MIN_OVERRIDE_REASON:
            raise RequestRefused(
                422, f"override_reason: write at least {MIN_OVERRIDE_REASON} characters"
            )
    sel = result.selection
    request_id = store.new_request_id()
    made = store.create_request(
        session,
        request=NewRequest(
            id=request_id,
            case_number=draft.case_number,
            offence_category=draft.offence_category,
            call_id=draft.call_id,
            area=draft.area.spec,
            area_m2=round(draft.area.area_m2, 1),
            window_start=draft.window_start,
            window_end=draft.window_end,
            message=draft.message,
            created_by=actor.username or "",
            client_key=draft.client_key,
            override_reason=draft.override_reason.strip()
            if soft and draft.override_reason
            else None,
            excluded=dict(sel.excluded),
        ),
        owners=sel.picks,
        secret=settings.secret_key.get_secret_value().encode(),
        link_ttl=timedelta(seconds=settings.request_link_ttl_s),
        dedup_within=timedelta(seconds=settings.request_dedup_s),
        now=now,
    )
    domain = mail_domain(settings)
    outbox.enqueue(
        session,
        entries=[
            outbox.OutboxEntry(
                item_id=i,
                kind="initial",
                idem_key=f"item:{i}:initial",
                message_id=message_id_for(f"item:{i}:initial", domain),
            )
            for i in made.new_item_ids
        ],
        now=now,
        skip_existing=False,
    )
    targets = {
        "request": request_id,
        "case": draft.case_number,
        "call": draft.call_id,
        "items": len(made.new_item_ids),
        "shared_items": len(made.merged_item_ids),
        "owners_excluded": sum(sel.excluded.values()),
    }
    append_audit(
        session,
        actor=actor,
        action="footage_request.created",
        targets=targets,
        reason=draft.message[:500],
    )
    if soft:
        append_audit(
            session,
            actor=actor,
            action="footage_request.override",
            targets={
                "request": request_id,
                "case": draft.case_number,
                "limits": ",".join(b.limit for b in soft),
            },
            reason=draft.override_reason,
        )
    view = store.get_request_head(session, request_id=request_id)
    assert view is not None
    view.items = made.items
    record_event(
        session,
        type="request.created",
        payload={"request": request_summary(view, settings=settings)},
    )
    merged = set(made.merged_item_ids)
    for item in made.items:  # the other requests now share these items
        if item.id in merged:
            publish_item(session, settings=settings, item=item, skip={request_id})
    return view, True


# --- public shapes ----------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


DEFAULT_NAG = timedelta(hours=72)


def nag_after(settings: ServerSettings | None) -> timedelta | None:
    """An unanswered item is overdue this long after its first e-mail (the last reminder)."""
    if settings is None:
        return DEFAULT_NAG
    return (
        timedelta(seconds=max(settings.request_reminders_s))
        if settings.request_reminders_s
        else None
    )


def item_public(
    item: ItemView,
    *,
    request_id: str | None,
    settings: ServerSettings | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The API shape of an item (never the owner's name or address)."""
    now = now or utcnow()
    nag = nag_after(settings)
    return {
        "id": item.id,
        "owner_ref": item.owner_id,
        "owner_kind": item.owner_kind,
        "camera_ids": list(item.camera_ids),
        "state": item.state,
        "state_reason": item.state_reason,
        "files": item.files,
        "sent_at": _iso(item.sent_at),
        "opened_at": _iso(item.opened_at),
        "answered_at": _iso(item.answered_at),
        "due_at": _iso(item.due_at),
        "overdue": is_overdue(
            state=item.state, due_at=item.due_at, sent_at=item.sent_at, now=now, nag_after=nag
        ),
        "window_start": _iso(item.window_start),
        "window_end": _iso(item.window_end),
        "shared_with": [r for r in item.request_ids if r != request_id],
    }


def request_summary(view: RequestView, *, settings: ServerSettings | None) -> dict[str, Any]:
    return {
        "id": view.id,
        "case_number": view.case_number,
        "offence_category": view.offence_category,
        "call_id": view.call_id,
        "area": view.area,
        "area_m2": view.area_m2,
        "window_start": _iso(view.window_start),
        "window_end": _iso(view.window_end),
        "message": view.message,
        "created_by": view.created_by,
        "created_at": _iso(view.created_at),
        "override_reason": view.override_reason,
        "excluded": dict(view.excluded),
        "counts": view.counts(),
    }


def request_public(
    view: RequestView, *, settings: ServerSettings, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    out = request_summary(view, settings=settings)
    out["items"] = [
        item_public(i, request_id=view.id, settings=settings, now=now) for i in view.items
    ]
    return out


def publish_item(
    session: Session,
    *,
    settings: ServerSettings | None,
    item: ItemView,
    skip: set[str] | None = None,
) -> None:
    """``request.updated`` for every request the item serves (after commit)."""
    for view in store.request_summaries(session, request_ids=item.request_ids):
        if skip and view.id in skip:
            continue
        record_event(
            session,
            type="request.updated",
            payload={
                "request": request_summary(view, settings=settings),
                "item": item_public(item, request_id=view.id, settings=settings),
            },
        )


def publish_items(
    session: Session, *, settings: ServerSettings | None, items: Sequence[ItemView]
) -> None:
    """Many items changed at once (the sender's group of ``sent`` marks): one
    ``request.updated`` per request, its ``items`` listing every changed item of it and
    ``item`` the first of them (so a client reading only ``item`` still sees one change
    and the request's fresh ``counts``)."""
    by_request: dict[str, list[ItemView]] = {}
    for item in items:
        for rid in item.request_ids:
            by_request.setdefault(rid, []).append(item)
    if not by_request:
        return
    now = utcnow()
    for view in store.request_summaries(session, request_ids=sorted(by_request)):
        changed = [
            item_public(i, request_id=view.id, settings=settings, now=now)
            for i in by_request[view.id]
        ]
        record_event(
            session,
            type="request.updated",
            payload={
                "request": request_summary(view, settings=settings),
                "item": changed[0],
                "items": changed,
            },
        )


def can_see(view: RequestView, *, username: str, role: Role) -> bool:
    return role.at_least(Role.SUPERVISOR) or view.created_by == username


# --- item changes (portal answers, vault uploads, mail outcomes) ------------------------


def move_item(
    session: Session,
    *,
    settings: ServerSettings,
    item_id: str,
    state: ItemState,
    actor: Actor,
    reason: str | None = None,
    note: str | None = None,
    action: str | None = None,
) -> ItemView:
    item = store.set_item_state(
        session, item_id=item_id, state=state.value, reason=reason, note=note
    )
    if action:
        append_audit(
            session,
            actor=actor,
            action=action,
            targets={"item": item_id, "requests": ",".join(item.request_ids), "state": item.state},
            reason=reason,
        )
    publish_item(session, settings=settings, item=item)
    return item


def record_upload(
    session: Session,
    *,
    item_id: str,
    evidence_id: str,
    settings: ServerSettings | None = None,
    actor: Actor | None = None,
) -> ItemView:
    """The vault stored a file for this item: ``uploaded`` (files + 1), audited, published."""
    item = store.record_upload(session, item_id=item_id, evidence_id=evidence_id)
    append_audit(
        session,
        actor=actor or Actor(username=None, role="owner"),
        action="footage_request.uploaded",
        targets={"item": item_id, "evidence": evidence_id, "requests": ",".join(item.request_ids)},
    )
    publish_item(session, settings=settings, item=item)
    return item


def items_changed(session: Session, *, settings: ServerSettings, item_ids: Sequence[str]) -> None:
    """Publish ``request.updated`` for items changed by housekeeping."""
    for item_id in item_ids:
        item = store.get_item(session, item_id=item_id)
        if item is not None:
            publish_item(session, settings=settings, item=item)
