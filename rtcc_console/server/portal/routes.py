"""Owner portal pages under ``/portal/`` (server-rendered, every form works without JS).

Routes hold no SQL: accounts, sessions, links, receipts and keys go through
``store.portal``; cameras through ``server.camera_store``; revocation and consent
downgrades through ``server.grants`` (as the admin routes do); the panic button through
``server.portal.panic`` (``server.emergencies``). An owner reaches only their own cameras:
any other id answers 404, exactly as an unknown one.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from rtcc_console.core.models import CameraKind, SharingMode, utcnow
from rtcc_console.server import camera_confirm, web_forms
from rtcc_console.server import camera_store as cams
from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.deps import client_addr
from rtcc_console.server.eventlog import record_event
from rtcc_console.server.grants import end_camera_grants, open_grants, recheck_grant
from rtcc_console.server.passwords import validate_password
from rtcc_console.server.portal import accounts as acc
from rtcc_console.server.portal import panic as panic_service
from rtcc_console.server.portal.mail import send_portal_mail
from rtcc_console.server.portal.probe import ProbeFailed, probe_frame
from rtcc_console.server.portal.sia import sia_context
from rtcc_console.server.security import LoginThrottle
from rtcc_console.server.state import AppState
from rtcc_console.store import confirmations
from rtcc_console.store import portal as store
from rtcc_console.store.portal import Account

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/portal", include_in_schema=False)

KINDS = {
    "home": CameraKind.RESIDENTIAL,
    "business": CameraKind.BUSINESS,
    "school": CameraKind.SCHOOL,
    "other": CameraKind.PUBLIC,
}
KIND_OF = {v.value: k for k, v in KINDS.items()}
SHARING = {
    "request_only": "Register only: answer footage requests",
    "live_always": "Live view always (integrated camera)",
    "live_in_emergency": "Live view only in an emergency (integrated camera)",
}
SAME_ANSWER = (
    "If the address can be used, we sent an e-mail to it. Follow the link in it within "
    "the hour; check your spam folder if it does not arrive."
)


def leaflet_dir() -> Path:
    """Leaflet 1.9.4 from the django-js-lib-leaflet wheel (as the console uses it)."""
    import js_lib_leaflet

    return Path(js_lib_leaflet.__file__).parent / "static" / "js_lib_leaflet"


def mount_portal(app: FastAPI) -> None:
    """Register the pages and their static files (Leaflet and tus-js-client served locally)."""
    app.mount(
        "/portal/static/leaflet", StaticFiles(directory=str(leaflet_dir())), name="portal-leaflet"
    )
    app.mount("/portal/static", StaticFiles(directory=str(HERE / "static")), name="portal-static")
    app.include_router(router)


# --- helpers ---------------------------------------------------------------------------------


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.rtcc
    return state


def _throttle(state: AppState) -> LoginThrottle:
    found = state.extras.get("portal_throttle")
    if not isinstance(found, LoginThrottle):
        s = state.settings
        found = state.extras["portal_throttle"] = LoginThrottle(
            max_failures=s.login_ip_max_failures, window_s=s.login_ip_window_s
        )
    return found


def _session_token(request: Request) -> str | None:
    value = request.cookies.get(acc.SESSION_COOKIE)
    return value if value and len(value) <= 100 else None


def _account(request: Request) -> Account | None:
    token = _session_token(request)
    if token is None:
        return None
    with _state(request).db.read() as session:
        return store.session_account(session, token_hash=acc.digest(token))


def _require(request: Request) -> Account:
    account = _account(request)
    if account is None:
        raise HTTPException(303, headers={"Location": "/portal/sign-in"})
    return account


def _actor(request: Request, account: Account | None) -> Actor:
    name = f"owner:{account.owner_id}" if account else None
    return Actor(username=name, role="owner", client_addr=client_addr(request))


def _csrf_basis(request: Request) -> tuple[str, str | None]:
    """(basis, new pre-session cookie to set or None)."""
    token = _session_token(request)
    if token:
        return token, None
    pre = request.cookies.get(acc.PRE_COOKIE)
    if pre and 20 <= len(pre) <= 100:
        return pre, None
    pre = acc.new_token()
    return pre, pre


def _cookie(
    response: Response, state: AppState, name: str, value: str, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/portal",
        secure=not state.settings.dev_mode,
        httponly=True,
        samesite="lax",
    )


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    state = _state(request)
    basis, new_pre = _csrf_basis(request)
    context.setdefault("account", None)
    tiles = acc.portal_settings(state).tile_url
    response = templates.TemplateResponse(
        request,
        template,
        {"csrf": acc.csrf_for(state, basis), "tile_url": tiles, **context},
        status_code=status,
    )
    tile_origin = ""
    if tiles.startswith(("https://", "http://")):
        scheme, _, rest = tiles.partition("://")
        tile_origin = f" {scheme}://" + rest.split("/", 1)[0].replace(
            "{s}", "*"
        )  # e.g. https://*.tile.example
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:{tile_origin}; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if new_pre:
        _cookie(response, state, acc.PRE_COOKIE, new_pre, None)
    return response


async def _form(request: Request) -> FormData:
    """The posted form, refused (403) without the right CSRF token."""
    return await web_forms.csrf_form(
        request,
        _state(request),
        purpose=acc.CSRF_PURPOSE,
        basis=_session_token(request) or request.cookies.get(acc.PRE_COOKIE),
        max_fields=50,
        max_part_size=64 * 1024,
    )


CsrfForm = Annotated[FormData, Depends(_form)]


def _text(form: FormData, name: str, limit: int = 300) -> str:
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        return ""
    return text[: limit + 1]


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _start_session(
    request: Request, state: AppState, session: Session, account_id: str, url: str
) -> Response:
    token = acc.new_token()
    store.create_session(
        session,
        account_id=account_id,
        token_hash=acc.digest(token),
        ttl_s=acc.portal_settings(state).session_s,
    )
    response = _redirect(url)
    _cookie(response, state, acc.SESSION_COOKIE, token, acc.portal_settings(state).session_s)
    response.delete_cookie(acc.PRE_COOKIE, path="/portal")
    return response


def _send_link(
    request: Request, state: AppState, session: Session, account: Account, purpose: str
) -> None:
    """Queue the verification / sign-in link e-mail in the durable outbox (this transaction)."""
    if purpose == "verify":
        subject, what = "Confirm your e-mail for the camera portal", "confirm your e-mail address"
    else:
        subject, what = "Your sign-in link for the camera portal", "sign in"
    body = (
        f"Hello,\n\nOpen this link to {what} (valid for {acc.portal_settings(state).link_ttl_s // 60} "
        f"minutes, usable once):\n\n{{link}}\n\nIf you did not ask for this, ignore this e-mail.\n\n"
        f"{state.settings.agency_name}\n"
    )
    send_portal_mail(
        session, state, account_id=account.id, subject=subject, body=body, link_purpose=purpose
    )


# --- sign-up, links, sign-in ---------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    return _redirect("/portal/cameras" if _account(request) else "/portal/sign-in")


@router.get("/sign-up", response_class=HTMLResponse)
def sign_up_page(request: Request) -> Response:
    return render(request, "sign_up.html", values={}, errors={})


@router.post("/sign-up", response_class=HTMLResponse)
def sign_up(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    values = {k: _text(form, k) for k in ("name", "kind", "email")}
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    errors: dict[str, str] = {}
    if not values["name"] or len(values["name"]) > 200:
        errors["name"] = (
            "Enter your name or the name of your business or school (up to 200 characters)."
        )
    if values["kind"] not in KINDS:
        errors["kind"] = "Choose home, business, school or other."
    email = values["email"]
    if not (
        3 <= len(email) <= 254
        and email.count("@") == 1
        and "." in email.split("@")[1]
        and not any(c.isspace() for c in email)
    ):
        errors["email"] = "Enter an e-mail address such as name@example.org."
    reason = validate_password(password)
    if reason:
        errors["password"] = reason[0].upper() + reason[1:] + "."
    if errors:
        return render(request, "sign_up.html", status=422, values=values, errors=errors)
    addr = client_addr(request)
    if _throttle(state).retry_after(addr) is not None:
        return render(
            request,
            "message.html",
            status=429,
            title="Too many attempts",
            message="Too many attempts from your network. Try again later.",
        )
    password_hash = state.passwords.hash(password)
    with state.db.write() as session:
        account = store.create_account(
            session,
            name=values["name"],
            kind=KINDS[values["kind"]].value,
            email=email,
            password_hash=password_hash,
        )
        if account is not None:
            _send_link(request, state, session, account, "verify")
            append_audit(
                session,
                actor=_actor(request, account),
                action="portal.sign_up",
                targets={"owner": account.owner_id},
            )
        else:  # known address: the same answer; the owner gets a sign-in link instead
            _throttle(state).failed(addr)
            known = store.account_by_email(session, email=email)
            if known is not None:
                _send_link(request, state, session, known, "signin" if known.verified else "verify")
    return render(request, "message.html", title="Check your e-mail", message=SAME_ANSWER)


@router.get("/link/{token}", response_class=HTMLResponse)
def link_page(token: str, request: Request) -> Response:
    return render(request, "link.html", token=token)


@router.post("/link/{token}", response_class=HTMLResponse)
def use_link(token: str, request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    if len(token) > 100:
        return render(
            request,
            "message.html",
            status=404,
            title="Link not valid",
            message="This link is not valid, was already used or has expired. Ask for a new one.",
        )
    with state.db.write() as session:
        for purpose in ("verify", "signin"):
            account_id = store.consume_link(session, token_hash=acc.digest(token), purpose=purpose)
            if account_id is not None:
                if purpose == "verify":
                    store.mark_verified(session, account_id=account_id)
                store.record_success(session, account_id=account_id)
                account = store.get_account(session, account_id=account_id)
                append_audit(
                    session,
                    actor=_actor(request, account),
                    action=f"portal.link_{purpose}",
                    targets={"account": account_id},
                )
                return _start_session(request, state, session, account_id, "/portal/cameras")
        append_audit(
            session,
            actor=_actor(request, None),
            action="portal.link_refused",
            outcome="denied",
            targets={"token_sha256_prefix": acc.digest(token)[:12]},
        )
    return render(
        request,
        "message.html",
        status=410,
        title="Link not valid",
        message="This link is not valid, was already used or has expired. Ask for a new one.",
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    return render(request, "sign_in.html", values={}, error=None)


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    email = _text(form, "email", 254)
    password = form.get("password")
    password = password if isinstance(password, str) and len(password) <= 1024 else ""
    addr = client_addr(request)
    wrong = "The e-mail or password is wrong, or the account is locked for a while. Try again or e-mail yourself a sign-in link."
    if _throttle(state).retry_after(addr) is not None:
        return render(
            request,
            "sign_in.html",
            status=429,
            values={"email": email},
            error="Too many attempts from your network. Try again later.",
        )
    settings = state.settings
    with state.db.write() as session:
        account = store.account_by_email(session, email=email) if email else None
        now = utcnow()
        ok = state.passwords.verify(account.password_hash if account else None, password)
        locked = (
            account is not None and account.locked_until is not None and account.locked_until > now
        )
        if not ok or locked or account is None or not account.verified:
            _throttle(state).failed(addr)
            if account is not None and not ok and not locked:
                store.record_failure(
                    session,
                    account_id=account.id,
                    threshold=settings.lockout_threshold,
                    lockout_s=settings.lockout_s,
                )
            append_audit(
                session,
                actor=_actor(request, account),
                action="portal.sign_in",
                outcome="denied",
                targets={"account": account.id if account else None},
            )
            session.commit()
            return render(request, "sign_in.html", status=401, values={"email": email}, error=wrong)
        new_hash = (
            state.passwords.hash(password)
            if account.password_hash and state.passwords.needs_rehash(account.password_hash)
            else None
        )
        store.record_success(session, account_id=account.id, new_hash=new_hash)
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.sign_in",
            targets={"account": account.id},
        )
        return _start_session(request, state, session, account.id, "/portal/cameras")


@router.post("/sign-in/link", response_class=HTMLResponse)
def sign_in_link(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    email = _text(form, "email", 254)
    addr = client_addr(request)
    if _throttle(state).retry_after(addr) is not None:
        return render(
            request,
            "message.html",
            status=429,
            title="Too many attempts",
            message="Too many attempts from your network. Try again later.",
        )
    _throttle(state).failed(addr)  # every e-mailed link counts: no mail-bombing through the portal
    with state.db.write() as session:
        account = store.account_by_email(session, email=email) if email else None
        if account is not None:
            _send_link(request, state, session, account, "signin" if account.verified else "verify")
    return render(request, "message.html", title="Check your e-mail", message=SAME_ANSWER)


@router.post("/sign-out", response_class=HTMLResponse)
def sign_out(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    token = _session_token(request)
    if token:
        with state.db.write() as session:
            store.end_session(session, token_hash=acc.digest(token))
    response = _redirect("/portal/sign-in")
    response.delete_cookie(acc.SESSION_COOKIE, path="/portal")
    return response


# --- cameras ---------------------------------------------------------------------------------


def _own_camera(session: Session, account: Account, camera_id: str) -> Any:
    row = cams.get_camera(session, camera_id=camera_id) if len(camera_id) <= 32 else None
    if row is None or row.owner_id != account.owner_id:
        raise HTTPException(404, "no such camera among yours")
    return row


def _camera_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "address": row.address,
        "lat": row.lat,
        "lon": row.lon,
        "kind": KIND_OF.get(row.kind, "other"),
        "sharing_mode": row.sharing_mode,
        "sharing_text": SHARING.get(row.sharing_mode, row.sharing_mode),
        "revoked": bool(row.revoked),
        "heading_deg": row.heading_deg,
        "fov_deg": row.fov_deg,
        "has_stream": bool(row.has_stream),
        **_confirmation_view(row),
    }


def _confirmation_view(row: Any) -> dict[str, Any]:
    """'Last confirmed <date>' and the stale badge of My cameras (server.camera_confirm)."""
    confirmed = row.confirmed_at.date().isoformat() if row.confirmed_at else None
    return {"confirmed_on": confirmed, "stale": row.stale_since is not None}


def _publish(session: Session, row: Any, change: str) -> None:
    record_event(
        session,
        type="camera.changed",
        payload={"camera": cams.camera_public(row), "change": change},
    )


@router.get("/cameras", response_class=HTMLResponse)
def my_cameras(request: Request) -> Response:
    account = _require(request)
    with _state(request).db.read() as session:
        rows = [_camera_view(r) for r in store.owner_cameras(session, owner_id=account.owner_id)]
    return render(request, "cameras.html", account=account, cameras=rows, sharing=SHARING)


def _stream_url(url: str, user: str, password: str) -> str:
    """The URL with the credentials put in (percent-encoded)."""
    if not user:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _read_camera_form(
    form: FormData, *, new: bool
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """(values to re-show, errors by field, validated fields for the store)."""
    v = {
        k: _text(form, k)
        for k in (
            "name",
            "address",
            "lat",
            "lon",
            "kind",
            "sharing_mode",
            "heading_deg",
            "fov_deg",
            "stream_url",
            "stream_user",
        )
    }
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    if not v["name"] or len(v["name"]) > 200:
        errors["name"] = "Give the camera a name (up to 200 characters), e.g. “Front door”."
    if len(v["address"]) > 300:
        errors["address"] = "The address is too long (up to 300 characters)."
    elif not v["address"]:
        errors["address"] = "Enter the camera's street address."
    try:
        lat, lon = float(v["lat"]), float(v["lon"])
        if not (
            math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
        ) or (lat == 0 and lon == 0):
            raise ValueError
        fields["lat"], fields["lon"] = lat, lon
    except ValueError:
        errors["lat"] = (
            "Put the pin on the map, or type latitude and longitude in degrees (e.g. 40.7128, -74.0060)."
        )
    if v["kind"] not in KINDS:
        errors["kind"] = "Choose home, business, school or other."
    if v["sharing_mode"] not in SHARING:
        errors["sharing_mode"] = "Choose what to share."
    for name, lo, hi, text in (
        ("heading_deg", 0, 360, "Heading is 0 to 360 degrees (0 = north), or leave it empty."),
        ("fov_deg", 1, 360, "Field of view is 1 to 360 degrees, or leave it empty."),
    ):
        if v[name]:
            try:
                number = float(v[name])
                if not (math.isfinite(number) and lo <= number <= hi):
                    raise ValueError
                fields[name] = number % 360 if name == "heading_deg" else number
            except ValueError:
                errors[name] = text
        else:
            fields[name] = None
    password = form.get("stream_password")
    password = password if isinstance(password, str) and len(password) <= 200 else ""
    url = v["stream_url"]
    if url:
        scheme = urlsplit(url).scheme.lower() if len(url) <= 2000 else ""
        if scheme not in ("rtsp", "rtsps", "http", "https") or not urlsplit(url).hostname:
            errors["stream_url"] = "Enter the stream address, starting with rtsp:// or http(s)://."
        elif urlsplit(url).username or urlsplit(url).password:
            errors["stream_url"] = (
                "Put the user name and password in their own fields, not in the address."
            )
        else:
            fields["stream_url"] = _stream_url(url, v["stream_user"], password)
    if (
        v["sharing_mode"] in ("live_always", "live_in_emergency")
        and not url
        and (new or form.get("keep_stream") != "1")
    ):
        errors.setdefault("stream_url", "Live sharing needs the camera's stream address.")
    if not errors:
        fields.update(
            name=v["name"],
            address=v["address"],
            kind=KINDS[v["kind"]].value,
            sharing_mode=SharingMode(v["sharing_mode"]).value,
        )
    return v, errors, fields


def _probe(request: Request, form: FormData) -> tuple[str | None, str | None]:
    """(PNG data URI, error) of the 'test connection' button."""
    _, errors, fields = _read_camera_form(form, new=True)
    if "stream_url" in errors or "stream_url" not in fields:
        return None, errors.get("stream_url", "Enter the stream address first.")
    try:
        png = probe_frame(
            fields["stream_url"], timeout_s=acc.portal_settings(_state(request)).probe_timeout_s
        )
    except ProbeFailed as exc:
        return None, f"Connection failed: {exc}."
    return "data:image/png;base64," + base64.b64encode(png).decode(), None


@router.get("/cameras/new", response_class=HTMLResponse)
def new_camera_page(request: Request) -> Response:
    account = _require(request)
    kind = KIND_OF.get(account.owner_kind, "home")
    return render(
        request,
        "camera_form.html",
        account=account,
        camera=None,
        sharing=SHARING,
        values={"kind": kind, "sharing_mode": "request_only"},
        errors={},
    )


def _test_connection_page(request: Request, form: Any, account: Any, *, camera: Any) -> Response:
    """The camera form again, with one frame probed from the stream typed (or why not)."""
    values, _, _ = _read_camera_form(form, new=True)
    frame, error = _probe(request, form)
    errors = {"stream_url": error} if error else {}
    return _camera_form_page(request, account, camera, values, errors, frame=frame)


def _camera_form_page(
    request: Request,
    account: Any,
    camera: Any,
    values: Any,
    errors: Any,
    *,
    status: int = 200,
    frame: Any = None,
) -> Response:
    """The new/edit camera form with the values typed and messages beside the fields."""
    extra = {"frame": frame} if frame is not None else {}
    return render(
        request,
        "camera_form.html",
        status=status,
        account=account,
        camera=camera,
        sharing=SHARING,
        values=values,
        errors=errors,
        **extra,
    )


@router.post("/cameras/new", response_class=HTMLResponse)
def new_camera(request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    if form.get("action") == "test":
        return _test_connection_page(request, form, account, camera=None)
    values, errors, fields = _read_camera_form(form, new=True)
    if errors:
        return _camera_form_page(request, account, None, values, errors, status=422)
    fields.update(
        owner_id=account.owner_id, tier="integrated" if fields.get("stream_url") else "registered"
    )
    with state.db.write() as session:
        row = cams.create_camera(session, fields=fields)
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.camera_create",
            targets={"camera": row.id, "owner": account.owner_id},
        )
        _publish(session, row, "created")
    return _redirect("/portal/cameras?saved=" + row.id)


@router.get("/cameras/{camera_id}/edit", response_class=HTMLResponse)
def edit_camera_page(camera_id: str, request: Request) -> Response:
    account = _require(request)
    with _state(request).db.read() as session:
        camera = _camera_view(_own_camera(session, account, camera_id))
    values = {
        k: ("" if camera[k] is None else camera[k])
        for k in ("name", "address", "lat", "lon", "kind", "sharing_mode", "heading_deg", "fov_deg")
    }
    return render(
        request,
        "camera_form.html",
        account=account,
        camera=camera,
        sharing=SHARING,
        values=values,
        errors={},
    )


def _after_consent_change(session: Session, request: Request, account: Account, row: Any) -> int:
    """End the live views the camera's new consent no longer allows (as the admin PATCH does)."""
    actor = _actor(request, account)
    if row.revoked:
        return end_camera_grants(
            session, camera_id=row.id, actor=actor, reason="Owner revoked access"
        )
    ended = 0
    if row.sharing_mode != "live_always" or row.tier != "integrated":
        for grant in open_grants(session, now=utcnow(), camera_id=row.id):
            if not recheck_grant(
                session, grant=grant, actor=actor, prefix="Owner changed sharing: "
            ):
                ended += 1
    return ended


@router.post("/cameras/{camera_id}/edit", response_class=HTMLResponse)
def edit_camera(camera_id: str, request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    with state.db.write() as session:
        row = _own_camera(session, account, camera_id)
        camera = _camera_view(row)
        if form.get("action") == "test":
            return _test_connection_page(request, form, account, camera=camera)
        values, errors, fields = _read_camera_form(form, new=not row.has_stream)
        if errors:
            return _camera_form_page(request, account, camera, values, errors, status=422)
        if "stream_url" in fields:
            fields["tier"] = "integrated"
        row = cams.update_camera(session, row=row, changes=fields)
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.camera_update",
            targets={"camera": row.id},
            reason="fields: " + ", ".join(sorted(fields)),
        )
        _after_consent_change(session, request, account, row)
        _publish(session, row, "updated")
        camera_confirm.confirm_camera(  # the owner manages it: it is still there
            session,
            camera_id=row.id,
            owner_id=account.owner_id,
            actor=_actor(request, account),
            via="edit",
        )
    return _redirect("/portal/cameras?saved=" + camera_id)


@router.post("/cameras/{camera_id}/sharing", response_class=HTMLResponse)
def change_sharing(camera_id: str, request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    mode = _text(form, "sharing_mode")
    with state.db.write() as session:
        row = _own_camera(session, account, camera_id)
        if mode not in SHARING or (mode != "request_only" and not row.has_stream):
            raise HTTPException(
                422,
                "sharing_mode: live sharing needs the camera's stream address (edit the camera)",
            )
        changes: dict[str, Any] = {"sharing_mode": mode}
        if row.revoked:
            changes.update(revoked=False, revoked_reason=None)
        row = cams.update_camera(session, row=row, changes=changes)
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.sharing_change",
            targets={"camera": row.id, "sharing_mode": mode},
        )
        _after_consent_change(session, request, account, row)
        _publish(session, row, "updated")
        camera_confirm.confirm_camera(  # the owner manages it: it is still there
            session,
            camera_id=row.id,
            owner_id=account.owner_id,
            actor=_actor(request, account),
            via="sharing",
        )
    return _redirect("/portal/cameras?saved=" + camera_id)


@router.post("/cameras/{camera_id}/revoke", response_class=HTMLResponse)
def revoke_camera(camera_id: str, request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    reason = _text(form, "reason", 500)[:500] or "withdrawn by the owner"
    with state.db.write() as session:
        row = _own_camera(session, account, camera_id)
        row = cams.revoke_camera(session, row=row, reason=reason)
        append_audit(
            session,
            actor=_actor(request, account),
            action="registry.revoke",
            targets={"camera": camera_id, "by": "owner"},
            reason=reason,
        )
        end_camera_grants(
            session,
            camera_id=camera_id,
            actor=_actor(request, account),
            reason=f"Owner revoked access: {reason}",
        )
        _publish(session, row, "revoked")
    return _redirect("/portal/cameras?saved=" + camera_id)


@router.post("/cameras/{camera_id}/delete", response_class=HTMLResponse)
def delete_camera(camera_id: str, request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    with state.db.write() as session:
        row = _own_camera(session, account, camera_id)
        end_camera_grants(
            session,
            camera_id=camera_id,
            actor=_actor(request, account),
            reason="Owner removed the camera",
        )
        row = cams.delete_camera(session, row=row)
        append_audit(
            session,
            actor=_actor(request, account),
            action="registry.delete",
            targets={"camera": camera_id, "by": "owner"},
        )
        _publish(session, row, "deleted")
    return _redirect("/portal/cameras")


# --- "still there?": the yearly confirmation (server.camera_confirm) -----------------------


def _confirm_token(raw: str | None) -> str | None:
    """The e-mailed link's token as sent ('' when absent); None when it cannot be one."""
    if not raw:
        return ""
    ok = len(raw) <= 100 and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in raw)
    return raw if ok else None


def _link_gone(request: Request) -> Response:
    return render(
        request,
        "message.html",
        status=410,
        title="This link cannot be used",
        message="The link was already used or has expired. Sign in and press “Still there” "
        "beside the camera on My cameras.",
    )


def _link_of(session: Session, token: str) -> tuple[Account, list[Any]] | None:
    """The account of a usable confirmation link and the cameras it lists, still unanswered."""
    link = confirmations.link_account(session, token_hash=acc.digest(token))
    account = store.get_account(session, account_id=link.account_id) if link else None
    if link is None or account is None:
        return None
    rows = confirmations.link_cameras(session, owner_id=account.owner_id, asked_at=link.asked_at)
    return account, rows


@router.get("/confirm", response_class=HTMLResponse)
def confirm_list_page(request: Request) -> Response:
    """The e-mailed link (``?token=``): the cameras it asks about, each ticked, one button."""
    token = _confirm_token(request.query_params.get("token"))
    if not token:
        return _link_gone(request)
    with _state(request).db.read() as session:
        found = _link_of(session, token)
        if found is None:
            return _link_gone(request)
        cameras = [_camera_view(r) for r in found[1]]
    return render(request, "confirm_list.html", account=None, cameras=cameras, token=token)


@router.post("/confirm", response_class=HTMLResponse)
def confirm_listed(request: Request, form: CsrfForm) -> Response:
    """'Still there' for the ticked cameras of the e-mailed link (used once). A camera the
    link did not list (another owner's, or one of yours it did not ask about): 404, nothing
    written, the link still usable."""
    token = _confirm_token(_text(form, "token", 100))
    if not token:
        return _link_gone(request)
    ticked = [v for v in form.getlist("camera") if isinstance(v, str)]
    state = _state(request)
    with state.db.write() as session:
        found = _link_of(session, token)
        if found is None:
            return _link_gone(request)
        account, rows = found
        listed = {r.id: r for r in rows}
        if any(camera_id not in listed for camera_id in ticked):
            raise HTTPException(404, "no such camera in this e-mail")
        if not ticked:
            cameras = [_camera_view(r) for r in rows]
            return render(
                request,
                "confirm_list.html",
                status=422,
                account=None,
                cameras=cameras,
                token=token,
                error="Tick the cameras that are still there (untick only those that are gone).",
            )
        if (
            store.consume_link(
                session, token_hash=acc.digest(token), purpose=confirmations.LINK_PURPOSE
            )
            is None
        ):
            return _link_gone(request)
        for camera_id in dict.fromkeys(ticked):
            camera_confirm.confirm_camera(
                session,
                camera_id=camera_id,
                owner_id=account.owner_id,
                actor=_actor(request, account),
                via="link",
            )
        names = [listed[camera_id].name for camera_id in dict.fromkeys(ticked)]
    left = len(rows) - len(names)
    return render(
        request,
        "message.html",
        title="Thank you",
        message=(
            ("“" + "”, “".join(names) + "” " + ("is" if len(names) == 1 else "are"))
            + " confirmed for another year."
            + (
                f" {left} camera(s) you unticked stay unconfirmed: sign in and delete a camera "
                "that is gone."
                if left
                else " You can close this page."
            )
        ),
    )


@router.get("/cameras/{camera_id}/confirm", response_class=HTMLResponse)
def confirm_page(camera_id: str, request: Request) -> Response:
    """A signed-in owner's "Still there" for one camera, or an older per-camera link
    (``?token=``; only for a camera the link asked about): one button, nothing changed yet."""
    token = _confirm_token(request.query_params.get("token"))
    if token is None:
        return _link_gone(request)
    signed_in = _require(request) if not token else None
    with _state(request).db.read() as session:
        if token:
            found = _link_of(session, token)
            if found is None:
                return _link_gone(request)
            row = next((r for r in found[1] if r.id == camera_id), None)
            if row is None:
                raise HTTPException(404, "no such camera among yours")
        else:
            assert signed_in is not None
            row = _own_camera(session, signed_in, camera_id)
        camera = _camera_view(row)
    return render(request, "confirm.html", account=signed_in, camera=camera, token=token)


@router.post("/cameras/{camera_id}/confirm", response_class=HTMLResponse)
def confirm_camera(camera_id: str, request: Request, form: CsrfForm) -> Response:
    """'Still there': from My cameras, or an older per-camera link (used once); a camera
    that is not yours, or that the link did not ask about: 404."""
    token = _confirm_token(_text(form, "token", 100))
    if token is None:
        return _link_gone(request)
    state = _state(request)
    with state.db.write() as session:
        if token:
            found = _link_of(session, token)
            if found is None:
                return _link_gone(request)
            account = found[0]
            if camera_id not in {r.id for r in found[1]}:
                raise HTTPException(404, "no such camera among yours")
            if (
                store.consume_link(
                    session, token_hash=acc.digest(token), purpose=confirmations.LINK_PURPOSE
                )
                is None
            ):
                return _link_gone(request)
        else:
            account = _require(request)
        row = _own_camera(session, account, camera_id)
        camera_confirm.confirm_camera(
            session,
            camera_id=row.id,
            owner_id=account.owner_id,
            actor=_actor(request, account),
            via="link" if token else "portal",
        )
    if not token:
        return _redirect("/portal/cameras?confirmed=" + camera_id)
    return render(
        request,
        "message.html",
        title="Thank you",
        message=f"“{row.name}” is confirmed for another year. You can close this page.",
    )


# --- access receipts -----------------------------------------------------------------------


def _page_number(request: Request) -> int:
    text = request.query_params.get("page", "1")
    return int(text) if text.isdigit() and 0 < len(text) <= 6 and int(text) > 0 else 1


@router.get("/receipts", response_class=HTMLResponse)
def receipts(request: Request) -> Response:
    account = _require(request)
    state = _state(request)
    size = acc.portal_settings(state).page_size
    page = _page_number(request)
    with state.db.write() as session:
        views, views_total = store.live_view_receipts(
            session, owner_id=account.owner_id, limit=size, offset=(page - 1) * size
        )
        reqs, reqs_total = store.request_receipts(
            session, owner_id=account.owner_id, limit=size, offset=(page - 1) * size
        )
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.receipts_view",
            targets={"owner": account.owner_id, "page": page},
        )
    pages = max(1, math.ceil(max(views_total, reqs_total) / size))
    return render(
        request,
        "receipts.html",
        account=account,
        views=views,
        requests=reqs,
        page=page,
        pages=pages,
        views_total=views_total,
        requests_total=reqs_total,
    )


@router.get("/receipts.csv")
def receipts_csv(request: Request) -> Response:
    account = _require(request)
    state = _state(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["type", "camera_or_item", "start", "end", "case_or_reason", "status"])
    with state.db.write() as session:
        views, _ = store.live_view_receipts(
            session, owner_id=account.owner_id, limit=100_000, offset=0
        )
        reqs, _ = store.request_receipts(
            session, owner_id=account.owner_id, limit=100_000, offset=0
        )
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.receipts_export",
            targets={"owner": account.owner_id, "rows": len(views) + len(reqs)},
        )
    for v in views:
        writer.writerow(
            _csv_safe(
                [
                    "live_view",
                    v.camera_id,
                    v.started_at.isoformat(),
                    (v.ended_at or v.planned_end).isoformat(),
                    v.reason,
                    "ended" if v.ended_at else "planned end",
                ]
            )
        )
    for r in reqs:
        writer.writerow(
            _csv_safe(
                [
                    "footage_request",
                    r.item_id,
                    r.window_start.isoformat(),
                    r.window_end.isoformat(),
                    " ".join(r.case_numbers),
                    r.state,
                ]
            )
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="access-receipts.csv"',
            "Cache-Control": "no-store",
        },
    )


def _csv_safe(cells: list[str]) -> list[str]:
    """No spreadsheet formulas from free text (CSV injection)."""
    return ["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in cells]


# --- footage request page (reached by the e-mailed link) ---------------------------------------


@router.get("/requests/{token}", response_class=HTMLResponse)
def request_page(token: str, request: Request) -> Response:
    from rtcc_console.server.routes import portal_requests as api

    state = _state(request)
    try:
        view = api.read(token, request, state)
    except HTTPException as exc:
        return render(
            request,
            "message.html",
            status=exc.status_code,
            title="This link cannot be used",
            message=str(exc.detail).capitalize() + ".",
        )
    return render(
        request,
        "request.html",
        token=token,
        view=view,
        answered=request.query_params.get("answered"),
    )


@router.post("/requests/{token}/answer", response_class=HTMLResponse)
def request_answer(token: str, request: Request, form: CsrfForm) -> Response:
    from rtcc_console.server.routes import portal_requests as api

    state = _state(request)
    answer = _text(form, "answer")
    if answer not in ("no_footage", "declined"):
        raise HTTPException(422, "answer: choose 'no footage' or 'decline'")
    note = _text(form, "note", 500)[:500] or None
    try:
        api.answer(token, api.AnswerBody(answer=answer, note=note), request, state)  # type: ignore[arg-type]
    except HTTPException as exc:
        return render(
            request,
            "message.html",
            status=exc.status_code,
            title="The answer was not recorded",
            message=str(exc.detail).capitalize() + ".",
        )
    said = "no footage for that time" if answer == "no_footage" else "declined"
    return render(
        request,
        "message.html",
        title="Thank you: your answer was recorded",
        message=f"Your answer: {said}. The link is now closed; you can see the request in your access receipts.",
    )


# --- panic button and alarm panel keys ---------------------------------------------------------


def _panic_context(session: Session, account: Account) -> dict[str, Any]:
    return {
        "emergencies": panic_service.active_for_owner(session, owner_id=account.owner_id),
        "keys": store.list_site_keys(session, owner_id=account.owner_id),
        "allowed": account.owner_kind in panic_service.PANIC_KINDS,
    }


@router.get("/panic", response_class=HTMLResponse)
def panic_page(request: Request) -> Response:
    account = _require(request)
    with _state(request).db.read() as session:
        context = _panic_context(session, account)
    return render(request, "panic.html", account=account, confirm=False, **context)


@router.post("/panic", response_class=HTMLResponse)
def panic_press(request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    if form.get("confirm") != "yes":  # the no-JS confirmation step
        with state.db.read() as session:
            context = _panic_context(session, account)
        return render(request, "panic.html", account=account, confirm=True, **context)
    details = panic_service.PanicDetails(
        level=4,
        location=_text(form, "location", 200)[:200],
        description=_text(form, "description", 500)[:500],
        source="portal",
    )
    with state.db.write() as session:
        try:
            panic_service.press(
                session,
                owner_id=account.owner_id,
                actor=_actor(request, account),
                details=details,
                duration_s=acc.portal_settings(state).panic_duration_s,
            )
        except panic_service.PanicRefused as exc:
            session.rollback()
            context = _panic_context(session, account)
            return render(
                request,
                "panic.html",
                status=409,
                account=account,
                confirm=False,
                error=str(exc),
                **context,
            )
    return _redirect("/portal/panic")


@router.post("/panic/{emergency_id}/end", response_class=HTMLResponse)
def panic_end(emergency_id: str, request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    with state.db.write() as session:
        ended = panic_service.end_for_owner(
            session,
            owner_id=account.owner_id,
            emergency_id=emergency_id[:40],
            actor=_actor(request, account),
        )
    if ended is None:
        raise HTTPException(404, "no such running emergency of yours")
    return _redirect("/portal/panic")


@router.post("/keys", response_class=HTMLResponse)
def new_key(request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    if account.owner_kind not in panic_service.PANIC_KINDS:
        raise HTTPException(403, "alarm panel keys are for business and school sites")
    with state.db.write() as session:
        key = store.create_site_key(
            session, owner_id=account.owner_id, label=_text(form, "label", 100)[:100]
        )
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.site_key_create",
            targets={"key": key.id, "owner": account.owner_id},
        )
        context = _panic_context(session, account)
    secret = acc.site_key_secret(state, key_id=key.id, nonce=key.nonce)
    return render(
        request,
        "panic.html",
        account=account,
        confirm=False,
        new_key=key,
        new_secret=secret,
        sia=sia_context(state, key_id=key.id, nonce=key.nonce),
        **context,
    )


@router.post("/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(key_id: str, request: Request, form: CsrfForm) -> Response:
    account = _require(request)
    state = _state(request)
    with state.db.write() as session:
        if not store.revoke_site_key(session, owner_id=account.owner_id, key_id=key_id[:40]):
            raise HTTPException(404, "no such key of yours")
        append_audit(
            session,
            actor=_actor(request, account),
            action="portal.site_key_revoke",
            targets={"key": key_id},
        )
    return _redirect("/portal/panic")
