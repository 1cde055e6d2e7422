"""Field shares (issue 16): the analyst's API and the officer's page.

API (``/api/v1``, analyst or above): ``POST /calls/{id}/field-shares`` shares a call's
cameras with officer accounts (default: the call's top live cameras) and answers one
single-use link per officer; ``GET`` lists the call's shares (who, until when, ended
why); ``DELETE /calls/{id}/field-shares/{share_id}`` ends one. The same three under
``/emergencies/{id}/field-shares`` share an emergency with no call (a panic button): default
cameras the site's cameras live in the emergency plus the nearest integrated ones; the
shares end when the emergency ends.

Officer page (no prefix, not in the OpenAPI schema): ``GET /field/{link_token}`` spends the
link, sets an HttpOnly session cookie (path ``/field/s/{share_id}``) and redirects to the
page; ``GET /field/s/{share_id}`` is the page, ``.../state`` its data (polled each second:
the call, the cameras and each one's consent now). Every request is checked against the
share (403 without its cookie, 410 once it ended) and denials are audited.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from rtcc_console.core.models import GeoPoint, Tier, utcnow
from rtcc_console.server import field_shares as svc
from rtcc_console.server.audit import append_audit
from rtcc_console.server.broker import EventRecord
from rtcc_console.server.camera_store import get_camera, stream_secret
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of, client_addr
from rtcc_console.server.field_hls import HlsHub, Repackager
from rtcc_console.server.field_mjpeg import CONTENT_TYPE as MJPEG_TYPE
from rtcc_console.server.field_mjpeg import MjpegHub, player_for, stream_parts
from rtcc_console.server.intake import history_public
from rtcc_console.server.nearby import ranked_nearby
from rtcc_console.server.routes.calls import call_cameras, latest_details
from rtcc_console.store import calls as store_calls
from rtcc_console.store import field_shares as store
from rtcc_console.store.emergencies import EmergencyRecord, active_emergencies, get_emergency
from rtcc_console.store.schema import FieldShareRow

router = APIRouter(tags=["field shares"])
page_router = APIRouter(prefix="/field", include_in_schema=False)

STATIC = Path(__file__).resolve().parent.parent.parent / "resources" / "field"
STATIC_FILES = {
    "field.js": "text/javascript",
    "field.css": "text/css",
    "hls.min.js": "text/javascript",
}
DEFAULT_CAMERAS = 4
EMERGENCY_SITE_CAMERAS = 6  # an emergency's default: its site's live cameras (at most 6)...
EMERGENCY_NEAR_CAMERAS = 2  # ...then the nearest integrated cameras live now (at most 2)

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._@-]{1,63}$")]
CameraId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]


UnitId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"
    ),
]


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    officers: list[Name] = Field(
        default_factory=list, max_length=svc.MAX_OFFICERS, description="Officer usernames"
    )
    units: list[UnitId] = Field(
        default_factory=list,
        max_length=svc.MAX_OFFICERS,
        description="Unit ids (call signs); each adds the active officers answering to it",
    )
    duration_s: int | None = Field(
        default=None,
        ge=60,
        le=svc.MAX_DURATION_S,
        description="Default: the field_share_ttl_s setting",
    )
    camera_ids: list[CameraId] | None = Field(
        default=None,
        min_length=1,
        max_length=svc.MAX_CAMERAS,
        description="Default: the call's top live cameras",
    )

    @model_validator(mode="after")
    def _someone(self) -> ShareRequest:
        if not self.officers and not self.units:
            raise ValueError("name at least one officer or unit")
        return self


class SharePublic(BaseModel):
    id: str
    call_id: str | None = Field(description="The call shared (null: an emergency's share)")
    emergency_id: str | None = Field(
        default=None, description="The emergency shared (null: a call's share)"
    )
    officer: str
    camera_ids: list[str]
    created_by: str
    created_at: str
    expires_at: str
    ended_at: str | None
    end_reason: str | None
    link_used: bool


class ShareCreated(SharePublic):
    link: str = Field(description="Single-use link for the officer's device (shown once)")


class ShareList(BaseModel):
    items: list[SharePublic]


def _public(row: FieldShareRow) -> dict[str, Any]:
    return svc.share_public(row)


def _default_cameras(state: Any, call_id: str) -> list[str]:
    with state.db.read() as session:
        call = store_calls.get_call(session, call_id=call_id)
        if call is None:
            raise HTTPException(404, f"call {call_id!r} not found")
        emergencies = active_emergencies(session)
    ranked = [
        item["camera"]["id"]
        for item in call_cameras(state, call, emergencies)
        if item.get("live_now")
    ]
    if not ranked:
        raise HTTPException(422, "the call has no live camera near it: name camera_ids")
    return [str(c) for c in ranked[:DEFAULT_CAMERAS]]


@router.post("/calls/{call_id}/field-shares", status_code=201, response_model=list[ShareCreated])
def create_field_shares(
    call_id: str, body: ShareRequest, request: Request, user: RequireAnalyst, state: StateDep
) -> Any:
    cameras = (
        list(dict.fromkeys(body.camera_ids))
        if body.camera_ids
        else _default_cameras(state, call_id)
    )
    return _create(body, cameras, request, user, state, call_id=call_id)


def _create(
    body: ShareRequest,
    cameras: list[str],
    request: Request,
    user: Any,
    state: Any,
    *,
    call_id: str | None = None,
    emergency_id: str | None = None,
) -> list[dict[str, Any]]:
    """Create one share per officer for a call or an emergency; a denial is audited, then
    answered with its status."""
    error: svc.ShareError | None = None
    with state.db.write() as session:
        try:
            made = svc.create_shares(
                session,
                actor=actor_of(user),
                call_id=call_id,
                emergency_id=emergency_id,
                officers=list(dict.fromkeys(body.officers)),
                camera_ids=cameras,
                ttl_s=body.duration_s or state.settings.field_share_ttl_s,
                units=list(dict.fromkeys(body.units)),
            )
        except svc.ShareError as exc:
            error = exc  # the denial is audited: commit it, then answer
        else:
            base = str(request.base_url).rstrip("/")
            return [{**_public(m.share), "link": f"{base}/field/{m.link_token}"} for m in made]
    raise HTTPException(error.status, error.reason)


@router.get("/calls/{call_id}/field-shares", response_model=ShareList)
def list_field_shares(call_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    with state.db.write() as session:
        if store_calls.get_call(session, call_id=call_id) is None:
            raise HTTPException(404, f"call {call_id!r} not found")
        rows = store.call_shares(session, call_id=call_id)
        now = utcnow()
        for row in rows:
            svc.share_problem(
                session, share=row, now=now
            )  # ends (audited) those whose call closed / time ran out
        return {"items": [_public(r) for r in rows]}


@router.delete("/calls/{call_id}/field-shares/{share_id}", response_model=SharePublic)
def end_field_share(call_id: str, share_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    with state.db.write() as session:
        row = store.get_share(session, share_id=share_id)
        if row is None or row.call_id != call_id:
            raise HTTPException(404, f"share {share_id!r} not found on call {call_id!r}")
        svc.end_share(session, share=row, actor=actor_of(user), reason=f"ended by {user.username}")
        return _public(row)


# --- an emergency with no call (a school's or business's panic) ----------------------------


def _emergency_default_cameras(state: Any, emergency_id: str) -> list[str]:
    """The site's cameras the policy lets be viewed live now (the emergency opens them),
    then the nearest integrated cameras live now around the site (none for an emergency
    that ended: the share is then refused as such)."""
    now = utcnow()
    with state.db.read() as session:
        record = get_emergency(session, emergency_id=emergency_id)
        if record is None:
            raise HTTPException(404, f"emergency {emergency_id!r} not found")
        if not record.active(now):
            return []  # svc.create_shares refuses it: 409, audited
        site = [
            str(c)
            for c in record.camera_ids
            if svc.decide_camera(session, camera_id=str(c), now=now).allowed
        ][:EMERGENCY_SITE_CAMERAS]
        emergencies = active_emergencies(session, now=now)
    out = list(site)
    lat, lon = _emergency_point(record)
    if lat is not None and lon is not None:
        near = ranked_nearby(
            state.registry,
            point=GeoPoint(lat, lon),
            k=EMERGENCY_NEAR_CAMERAS + len(out),
            radius_m=state.settings.nearest_radius_m,
            tier=Tier.INTEGRATED,
            emergencies=emergencies,
        )
        extra = [
            str(item["camera"]["id"])
            for item in near
            if item.get("live_now") and str(item["camera"]["id"]) not in out
        ]
        out += extra[:EMERGENCY_NEAR_CAMERAS]
    if not out:
        raise HTTPException(422, "the emergency has no live camera: name camera_ids")
    return out[: svc.MAX_CAMERAS]


def _emergency_point(record: EmergencyRecord) -> tuple[float | None, float | None]:
    panic = record.panic or {}
    lat, lon = panic.get("lat"), panic.get("lon")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return float(lat), float(lon)
    return None, None


@router.post(
    "/emergencies/{emergency_id}/field-shares",
    status_code=201,
    response_model=list[ShareCreated],
)
def create_emergency_field_shares(
    emergency_id: str, body: ShareRequest, request: Request, user: RequireAnalyst, state: StateDep
) -> Any:
    """Send an emergency with no call to officers (the same body as a call's share)."""
    if len(emergency_id) > 40:
        raise HTTPException(404, "emergency not found")
    cameras = (
        list(dict.fromkeys(body.camera_ids))
        if body.camera_ids
        else _emergency_default_cameras(state, emergency_id)
    )
    return _create(body, cameras, request, user, state, emergency_id=emergency_id)


@router.get("/emergencies/{emergency_id}/field-shares", response_model=ShareList)
def list_emergency_field_shares(emergency_id: str, user: RequireAnalyst, state: StateDep) -> Any:
    with state.db.write() as session:
        if len(emergency_id) > 40 or get_emergency(session, emergency_id=emergency_id) is None:
            raise HTTPException(404, f"emergency {emergency_id[:40]!r} not found")
        rows = store.emergency_shares(session, emergency_id=emergency_id)
        now = utcnow()
        for row in rows:
            svc.share_problem(session, share=row, now=now)  # ends (audited) those now over
        return {"items": [_public(r) for r in rows]}


@router.delete("/emergencies/{emergency_id}/field-shares/{share_id}", response_model=SharePublic)
def end_emergency_field_share(
    emergency_id: str, share_id: str, user: RequireAnalyst, state: StateDep
) -> Any:
    with state.db.write() as session:
        row = store.get_share(session, share_id=share_id) if len(share_id) < 64 else None
        if row is None or row.emergency_id != emergency_id:
            raise HTTPException(404, f"share {share_id[:64]!r} not found on that emergency")
        svc.end_share(session, share=row, actor=actor_of(user), reason=f"ended by {user.username}")
        return _public(row)


# --- the officer's page ----------------------------------------------------------------------


def _page_error(status: int, reason: str) -> HTMLResponse:
    html = (
        f"<!doctype html><meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>Field share</title><h1>Not available</h1><p id=reason>{_esc(reason)}</p>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


@page_router.get("/static/{name}")
def field_static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise HTTPException(404, "not found")
    path = STATIC / "vendor" / "hls.js" / name if name == "hls.min.js" else STATIC / name
    return FileResponse(path, media_type=STATIC_FILES[name])


@page_router.get("/{link_token}")
def open_field_link(link_token: str, request: Request, state: StateDep) -> Response:
    error: svc.ShareError | None = None
    with state.db.write() as session:
        try:
            share, secret = svc.open_link(
                session,
                link_token=link_token,
                link_ttl_s=state.settings.field_link_ttl_s,
                client_addr=client_addr(request),
            )
        except svc.ShareError as exc:
            error = exc
        else:
            share_id, ttl = share.id, max(1, int((share.expires_at - utcnow()).total_seconds()))
    if error is not None:
        return _page_error(error.status, error.reason)
    out = RedirectResponse(
        f"/field/s/{share_id}", status_code=303, headers={"Cache-Control": "no-store"}
    )
    out.set_cookie(
        svc.SESSION_COOKIE,
        secret,
        max_age=ttl,
        path=f"/field/s/{share_id}",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return out


@page_router.get("/s/{share_id}")
def field_page(share_id: str, request: Request, state: StateDep) -> Response:
    error: svc.ShareError | None = None
    with state.db.write() as session:
        try:
            svc.share_for_session(
                session,
                share_id=share_id,
                cookie=request.cookies.get(svc.SESSION_COOKIE),
                officer_token=request.cookies.get(svc.OFFICER_COOKIE),
                client_addr=client_addr(request),
                what="page",
            )
        except svc.ShareError as exc:
            error = exc
    if error is not None:
        return _page_error(error.status, error.reason)
    html = (
        (STATIC / "field.html").read_text(encoding="utf-8").replace("{{SHARE_ID}}", _esc(share_id))
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@page_router.get("/s/{share_id}/state")
def field_state(share_id: str, request: Request, state: StateDep) -> Response:
    """The call and the cameras, each with its consent now (no stream URL, no credential)."""
    now = utcnow()
    with state.db.write() as session:
        try:
            share = svc.share_for_session(
                session,
                share_id=share_id,
                cookie=request.cookies.get(svc.SESSION_COOKIE),
                officer_token=request.cookies.get(svc.OFFICER_COOKIE),
                client_addr=client_addr(request),
                what="state",
                now=now,
            )
        except svc.ShareError as exc:
            return JSONResponse(
                {"ended": True, "reason": exc.reason},
                status_code=exc.status,
                headers={"Cache-Control": "no-store"},
            )
        cameras = []
        for camera_id in share.camera_ids:
            row = get_camera(session, camera_id=str(camera_id))
            decision = svc.decide_camera(session, camera_id=str(camera_id), now=now)
            cameras.append(
                {
                    "id": str(camera_id),
                    "name": row.name if row else str(camera_id),
                    "lat": row.lat if row else None,
                    "lon": row.lon if row else None,
                    "live": decision.allowed,
                    "reason": None if decision.allowed else decision.reason,
                    "player": player_for(stream_secret(session, camera_id=str(camera_id))[0]),
                }
            )
        body = {
            "ended": False,
            "share_id": share.id,
            "officer": share.officer,
            "expires_at": share.expires_at.isoformat(),
            **_subject_state(session, share),
            "cameras": cameras,
            "now": now.isoformat(),
        }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _subject_state(session: Any, share: FieldShareRow) -> dict[str, Any]:
    """The page's ``call`` (a call's share: ``emergency`` null) or ``emergency`` (an
    emergency's share: site name and kind, alarm level, location, description, the site's
    point, when it started; ``call`` null). ``share_problem`` ended the share otherwise."""
    if share.emergency_id is not None:
        record = get_emergency(session, emergency_id=share.emergency_id)
        assert record is not None
        panic = record.panic or {}
        lat, lon = _emergency_point(record)
        level = panic.get("alarm_level")
        return {
            "call": None,
            "emergency": {
                "id": record.id,
                "site_name": str(panic.get("site_name") or "") or None,
                "site_kind": str(panic.get("site_kind") or "") or None,
                "alarm_level": level if isinstance(level, int) else None,
                "location": str(panic.get("location") or ""),
                "description": str(panic.get("description") or "") or record.reason,
                "lat": lat,
                "lon": lon,
                "started_at": record.started_at.isoformat(),
            },
        }
    call = store_calls.get_call(session, call_id=str(share.call_id))
    assert call is not None
    history = [history_public(h) for h in store_calls.call_history(session, call_id=call.id)]
    return {
        "emergency": None,
        "call": {
            "id": call.id,
            "type": call.type_text or call.type_code,
            "priority": call.priority,
            "status": call.status.value,
            "address": call.address,
            "lat": call.lat,
            "lon": call.lon,
            "reported_at": call.reported_at.isoformat(),
            "notes": latest_details(history)["notes"],
        },
    }


# --- live video: HLS repackaged without re-encoding (server/field_hls.py), or the camera's own
# MJPEG pictures passed through (server/field_mjpeg.py) ------------------------------------------

HLS_TYPES = {"m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t"}
HLS_PART_S = 2 / 3  # low-latency HLS parts (EXT-X-PART); players without LL-HLS ignore them
Msn = Annotated[int | None, Query(alias="_HLS_msn", ge=0, le=2**31)]
PartIndex = Annotated[int | None, Query(alias="_HLS_part", ge=0, le=10_000)]


def _hub(state: Any) -> HlsHub:
    hub = state.extras.get("field_hls")
    if not isinstance(hub, HlsHub):
        hub = state.extras["field_hls"] = HlsHub(segment_s=1.0, part_s=HLS_PART_S, idle_s=10.0)
    return hub


def _mjpeg_hub(state: Any) -> MjpegHub:
    hub = state.extras.get("field_mjpeg")
    if not isinstance(hub, MjpegHub):
        hub = state.extras["field_mjpeg"] = MjpegHub(idle_s=10.0)
    return hub


_ACCESS_LOCK = threading.Lock()


def _access_cache(state: Any) -> svc.AccessCache:
    """This process's cache of video decisions, cleared by every committed event that can
    take access away (hung on the database's after-commit hook, before the broker's)."""
    cache = state.extras.get("field_access")
    if isinstance(cache, svc.AccessCache):
        return cache
    with _ACCESS_LOCK:
        cache = state.extras.get("field_access")
        if isinstance(cache, svc.AccessCache):
            return cache
        made = svc.AccessCache()
        previous = state.db.on_event

        def on_event(record: EventRecord) -> None:
            made.note_event(record.type)
            if previous is not None:
                previous(record)

        state.db.on_event = on_event
        state.extras["field_access"] = made
        return made


def _cached_access(
    request: Request, state: Any, share_id: str, camera_id: str, what: str, *, fresh: bool
) -> bool:
    """True when this video request may go on without the full (writing, auditing) check:
    a yes decided less than 0.5 s ago and not cleared since, or every rule read in one
    read-only query now (``svc.video_access``). A first look at a camera (audited once)
    always takes the full check. ``fresh``: not from the cache (an MJPEG stream's
    once-a-second re-check, whose interval the cache must not lengthen)."""
    cache = _access_cache(state)
    if what in {"index.m3u8", "live.mjpeg"} and not cache.seen(share_id, camera_id):
        return False
    cookie = request.cookies.get(svc.SESSION_COOKIE)
    officer_token = request.cookies.get(svc.OFFICER_COOKIE)
    tokens = state.token_cache
    key = cache.key(share_id, camera_id, cookie, officer_token)
    hit = None if fresh else cache.get(key)
    if hit is not None and not hit.needs_token:
        return True
    if hit is not None and tokens is not None and officer_token:
        if tokens.get(officer_token) is not None:
            return True
    generation = cache.generation
    now = utcnow()
    with state.db.read() as session:
        access = svc.video_access(
            session,
            share_id=share_id,
            camera_id=camera_id,
            cookie=cookie,
            officer_token=officer_token,
            now=now,
        )
    if access is None:
        return False
    if access.via_link or (tokens is not None and access.principal is not None):
        if access.principal is not None and tokens is not None:
            tokens.put(access.principal)
        cache.put(
            key,
            generation=generation,
            needs_token=not access.via_link,
            share_left_s=(access.share_expires_at - now).total_seconds(),
        )
    return True


def _camera_allowed(
    request: Request,
    state: Any,
    share_id: str,
    camera_id: str,
    what: str,
    *,
    want_url: bool,
    fresh: bool = False,
) -> str | None:
    """Every check of a video request for this share's session (403/404/410, denials
    audited; a refused camera's HLS/MJPEG reader is stopped); the camera's stream URL
    (the substream when there is one) when ``want_url``. A request the cache or the
    one-query read lets in (``_cached_access``) skips the writing check; anything else
    (a refusal, a first look, a reader to start) runs it in full."""
    if not want_url and _cached_access(request, state, share_id, camera_id, what, fresh=fresh):
        return None
    hub = _hub(state)
    addr = client_addr(request)
    error: svc.ShareError | None = None
    url: str | None = None
    seen = False
    with state.db.write() as session:
        try:
            share = svc.share_for_session(
                session,
                share_id=share_id,
                cookie=request.cookies.get(svc.SESSION_COOKIE),
                officer_token=request.cookies.get(svc.OFFICER_COOKIE),
                client_addr=addr,
                what=f"{camera_id[:64]}/{what}",
            )
            actor = svc.officer_actor(share, addr)
            targets = {"share": share.id, "camera": camera_id[:64], "what": what}
            if camera_id not in [str(c) for c in share.camera_ids]:
                append_audit(
                    session,
                    actor=actor,
                    action="field.video",
                    outcome="denied",
                    targets=targets,
                    reason="camera not in this share",
                )
                raise svc.ShareError(404, "camera not in this share")
            decision = svc.decide_camera(session, camera_id=camera_id, now=utcnow())
            if not decision.allowed:
                append_audit(
                    session,
                    actor=actor,
                    action="field.video",
                    outcome="denied",
                    targets=targets,
                    reason=decision.reason,
                )
                hub.stop_camera(camera_id)
                _mjpeg_hub(state).stop_camera(camera_id)
                raise svc.ShareError(403, decision.reason)
            if want_url:
                main, sub = stream_secret(session, camera_id=camera_id)
                url = sub or main  # low bitrate first: the substream when there is one
                if url is None:
                    raise svc.ShareError(409, "the camera has no stream")
            if what in {"index.m3u8", "live.mjpeg"} and hub.mark_watched(share.id, camera_id):
                append_audit(
                    session, actor=actor, action="field.video", outcome="ok", targets=targets
                )
            seen = what in {"index.m3u8", "live.mjpeg"}
        except svc.ShareError as exc:
            error = exc
    if error is not None:
        raise HTTPException(error.status, error.reason)
    if seen:  # committed: later looks may take the cached path
        _access_cache(state).mark_seen(share_id, camera_id)
    return url


def _camera_feed(
    request: Request, state: Any, share_id: str, camera_id: str, what: str, *, start: bool
) -> Repackager:
    """The camera's repackager for this share's session, after every check;
    ``start`` starts one when none runs (the playlist does, segments do not)."""
    hub = _hub(state)
    want = start and hub.running(camera_id) is None
    url = _camera_allowed(request, state, share_id, camera_id, what, want_url=want)
    if url is not None and player_for(url) != "hls":
        raise HTTPException(409, "this camera plays as MJPEG: live.mjpeg")
    rep = hub.get(camera_id, url)
    if rep is None:
        raise HTTPException(404, "no live segments for this camera now")
    return rep


_NO_STORE = {"Cache-Control": "no-store"}


@page_router.get("/s/{share_id}/cameras/{camera_id}/index.m3u8")
async def field_playlist(
    share_id: str,
    camera_id: str,
    request: Request,
    state: StateDep,
    msn: Msn = None,
    part: PartIndex = None,
) -> Response:
    """The live playlist; ``_HLS_msn``/``_HLS_part`` (blocking reload, RFC 8216bis) hold the
    answer until that segment or part exists (at most 6 s). The checks run on the thread
    pool; the wait holds no thread (an officer's player waits here most of the time)."""
    if part is not None and msn is None:
        raise HTTPException(400, "_HLS_part needs _HLS_msn")
    rep = await run_in_threadpool(
        _camera_feed, request, state, share_id, camera_id, "index.m3u8", start=True
    )
    if msn is not None and rep.too_far(msn):
        raise HTTPException(400, "_HLS_msn is more than two segments ahead")
    text = await rep.playlist_async(msn=msn, part=part)
    if text is None:
        raise HTTPException(503, "the camera sends nothing yet", headers={"Retry-After": "1"})
    return Response(text, media_type=HLS_TYPES["m3u8"], headers=_NO_STORE)


@page_router.get("/s/{share_id}/cameras/{camera_id}/seg-{seq}.ts")
def field_segment(
    share_id: str, camera_id: str, seq: int, request: Request, state: StateDep
) -> Response:
    rep = _camera_feed(request, state, share_id, camera_id, "segment", start=False)
    data = rep.segment(seq)
    if data is None:
        raise HTTPException(404, "segment gone or not yet made")
    return Response(data, media_type=HLS_TYPES["ts"], headers=_NO_STORE)


@page_router.get("/s/{share_id}/cameras/{camera_id}/part-{seq:int}.{index:int}.ts")
def field_part(
    share_id: str, camera_id: str, seq: int, index: int, request: Request, state: StateDep
) -> Response:
    rep = _camera_feed(request, state, share_id, camera_id, "part", start=False)
    data = rep.part(seq, index)
    if data is None:
        raise HTTPException(404, "part gone or not yet made")
    return Response(data, media_type=HLS_TYPES["ts"], headers=_NO_STORE)


@page_router.get("/s/{share_id}/cameras/{camera_id}/live.mjpeg")
async def field_mjpeg(share_id: str, camera_id: str, request: Request, state: StateDep) -> Response:
    """An MJPEG camera's own pictures as ``multipart/x-mixed-replace`` (one reader per camera
    however many officers); the share and the camera's consent are re-checked every second
    and the answer ends when either says no. Waiting for pictures holds no thread."""
    hub = _mjpeg_hub(state)
    want = hub.running(camera_id) is None
    url = await run_in_threadpool(
        _camera_allowed, request, state, share_id, camera_id, "live.mjpeg", want_url=want
    )
    if url is not None and player_for(url) != "mjpeg":
        raise HTTPException(409, "this camera plays as HLS: index.m3u8")
    reader = hub.get(camera_id, url)
    if reader is None:
        raise HTTPException(404, "no live pictures for this camera now")

    def check() -> bool:
        try:
            _camera_allowed(
                request, state, share_id, camera_id, "mjpeg part", want_url=False, fresh=True
            )
        except HTTPException:
            return False
        return True

    async def still_allowed() -> bool:
        return await run_in_threadpool(check)

    return StreamingResponse(
        stream_parts(reader, still_allowed, check_every_s=1.0),
        media_type=MJPEG_TYPE,
        headers=_NO_STORE,
    )
