"""The field page's account sign-in (issue 16): phone-sized forms that work without JS.

``GET /field`` leads to the officer's list (or to sign-in); ``/field/account/sign-in``
(username + password), ``/field/account/code`` (the TOTP code, or an enrolment when the
agency requires one and the officer has none yet), ``/field/account/shares`` (the
officer's open shares, newest first), ``/field/account/shares/{id}`` (open one: audited,
then the share page ``/field/s/{id}``), ``/field/account/sign-out``. Every form carries a
CSRF token (an HMAC of the session or of a pre-session cookie, as the owner portal does).
The rules are in ``server.field_accounts``; the share page itself in ``routes/field_shares``.
All paths have at least two segments under ``/field`` so that they never meet the
single-use link route ``/field/{link_token}``.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from rtcc_console.core.models import utcnow
from rtcc_console.server import field_accounts as accounts
from rtcc_console.server import web_forms
from rtcc_console.server.deps import client_addr
from rtcc_console.server.field_shares import ShareError
from rtcc_console.server.state import AppState

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent.parent / "resources" / "field"
templates = Jinja2Templates(directory=str(STATIC / "templates"))

SIGN_IN_PATH = "/field/account/sign-in"
SHARES_PATH = "/field/account/shares"
WRONG = (
    "Wrong username or password, or the account is locked after repeated failures "
    "(it unlocks by itself after a while; an administrator can unlock it sooner)."
)
CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.rtcc
    return state


def _session_token(request: Request) -> str | None:
    value = request.cookies.get(accounts.OFFICER_COOKIE)
    return value if value and len(value) <= 200 else None


def _secure(request: Request, state: AppState) -> bool:
    return not state.settings.dev_mode or request.url.scheme == "https"


def _csrf_basis(request: Request) -> tuple[str, str | None]:
    """(basis, new pre-session cookie to set or None)."""
    token = _session_token(request)
    if token:
        return token, None
    pre = request.cookies.get(accounts.PRE_COOKIE)
    if pre and 20 <= len(pre) <= 100:
        return pre, None
    pre = secrets.token_urlsafe(32)
    return pre, pre


def _local(state: AppState, when: datetime) -> str:
    try:
        zone = ZoneInfo(state.settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return when.astimezone(zone).strftime("%H:%M %Z")


def _ago(when: datetime) -> str:
    s = max(0, int((utcnow() - when).total_seconds()))
    if s < 90:
        return f"{s}\u00a0s ago"
    if s < 5400:
        return f"{round(s / 60)}\u00a0min ago"
    return f"{round(s / 3600)}\u00a0h ago"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    state = _state(request)
    basis, new_pre = _csrf_basis(request)
    response = templates.TemplateResponse(
        request,
        template,
        {"csrf": accounts.csrf_for(state, basis), **context},
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if new_pre:
        response.set_cookie(
            accounts.PRE_COOKIE,
            new_pre,
            path="/field/account",
            httponly=True,
            samesite="strict",
            secure=_secure(request, state),
        )
    return response


def _message(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "message.html", status=status, title=title, message=message)


async def _form(request: Request) -> FormData:
    """The posted form, refused (403) without the right CSRF token."""
    return await web_forms.csrf_form(
        request,
        _state(request),
        purpose=accounts.CSRF_PURPOSE,
        basis=_session_token(request) or request.cookies.get(accounts.PRE_COOKIE),
        max_fields=20,
        max_part_size=16 * 1024,
    )


CsrfForm = Annotated[FormData, Depends(_form)]


def _text(form: FormData, name: str, limit: int) -> str:
    """A form field as text; "" when absent, too long, or not text (NUL, lone surrogates)."""
    value = form.get(name)
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return ""
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        return ""
    return value


def _signed_in(request: Request, state: AppState, result: accounts.SignIn) -> Response:
    assert result.token is not None and result.expires_at is not None
    previous = _session_token(request)
    if previous and previous != result.token:  # a new sign-in on this device ends the old one
        accounts.sign_out(
            state, token=previous, addr=client_addr(request), reason="replaced by a new sign-in"
        )
    ttl = max(1, int((result.expires_at - utcnow()).total_seconds()))
    response: Response
    if result.recovery_codes:  # just enrolled: the recovery codes, once, then the list
        response = render(request, "recovery.html", codes=result.recovery_codes)
    else:
        response = RedirectResponse(
            SHARES_PATH, status_code=303, headers={"Cache-Control": "no-store"}
        )
    response.set_cookie(
        accounts.OFFICER_COOKIE,
        result.token,
        max_age=ttl,
        path="/field",
        httponly=True,
        samesite="strict",
        secure=_secure(request, state),
    )
    return response


def _code_page(
    request: Request, result: accounts.SignIn, status: int = 200, error: str | None = None
) -> HTMLResponse:
    enrol = result.enrolment
    qr = (
        "data:image/svg+xml;base64," + base64.b64encode(enrol.qr_svg.encode()).decode("ascii")
        if enrol
        else None
    )
    return render(
        request,
        "code.html",
        status=status,
        mfa_token=result.mfa_token,
        enrolment=enrol,
        qr=qr,
        error=error,
    )


def _refusal(request: Request, result: accounts.SignIn, username: str) -> HTMLResponse:
    if result.outcome == "throttled":
        response = render(
            request,
            "sign_in.html",
            status=429,
            username=username,
            error=f"Too many failed sign-ins from this network. Try again in {result.retry_after_s} s.",
        )
        response.headers["Retry-After"] = str(result.retry_after_s)
        return response
    if result.outcome == "not_officer":
        return render(
            request,
            "sign_in.html",
            status=403,
            username=username,
            error=(
                "This sign-in is for officers' field devices only. Analysts, supervisors and "
                "administrators sign in at the RTCC console."
            ),
        )
    if result.outcome == "locked" and result.locked_until is not None:
        return _message(
            request,
            423,
            "Account locked",
            f"Too many wrong codes: the account is locked until "
            f"{_local(_state(request), result.locked_until)}. An administrator can unlock it sooner.",
        )
    if result.outcome == "gone":
        return render(
            request,
            "sign_in.html",
            status=401,
            username="",
            error="This sign-in step expired or was already used. Sign in again.",
        )
    return render(request, "sign_in.html", status=401, username=username, error=WRONG)


@router.get("/field")
def field_home() -> Response:
    return RedirectResponse(SHARES_PATH, status_code=303)


@router.get("/field/account/field-account.css")
def account_css() -> Response:
    return FileResponse(STATIC / "field-account.css", media_type="text/css")


@router.get(SIGN_IN_PATH, response_class=HTMLResponse)
def sign_in_page(request: Request) -> Response:
    if accounts.officer_of(_state(request), _session_token(request)) is not None:
        return RedirectResponse(SHARES_PATH, status_code=303)
    return render(request, "sign_in.html", username="", error=None)


@router.post(SIGN_IN_PATH, response_class=HTMLResponse)
def sign_in(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    username = _text(form, "username", 200).strip()
    password = _text(form, "password", 1024)
    if not username or not password:
        return render(
            request,
            "sign_in.html",
            status=400,
            username=username,
            error="Enter your username and password.",
        )
    result = accounts.password_step(
        state, username=username, password=password, addr=client_addr(request)
    )
    if result.outcome == "ok":
        return _signed_in(request, state, result)
    if result.outcome == "code_due":
        return _code_page(request, result)
    return _refusal(request, result, username)


@router.post("/field/account/code", response_class=HTMLResponse)
def sign_in_code(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    mfa_token = _text(form, "mfa_token", 200)
    code = _text(form, "code", 64)
    result = accounts.code_step(state, mfa_token=mfa_token, code=code, addr=client_addr(request))
    if result.outcome == "ok":
        return _signed_in(request, state, result)
    if result.outcome == "refused" and result.mfa_token:
        again = accounts.SignIn("code_due", result.username, mfa_token=result.mfa_token)
        return _code_page(
            request, again, status=401, error=f"That code was not accepted ({result.detail})."
        )
    return _refusal(request, result, result.username)


@router.get(SHARES_PATH, response_class=HTMLResponse)
def share_list(request: Request) -> Response:
    state = _state(request)
    officer = accounts.officer_of(state, _session_token(request))
    if officer is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    items = [
        {
            "id": item.id,
            "type": item.call_type,
            "priority": item.priority,
            "address": item.address or "(no address)",
            "reported": _ago(item.reported_at),
            "shared": _ago(item.created_at),
            "by": item.created_by,
            "until": _local(state, item.expires_at),
            "cameras": item.cameras,
            "badge": "EMERGENCY" if item.emergency else f"P{item.priority}",
            "badge_class": "emg" if item.emergency else f"p{item.priority}",
            "started": "emergency" if item.emergency else "call",
        }
        for item in accounts.open_shares(state, officer=officer)
    ]
    return render(request, "shares.html", officer=officer, items=items)


@router.get(SHARES_PATH + "/{share_id}")
def open_share(share_id: str, request: Request) -> Response:
    state = _state(request)
    officer = accounts.officer_of(state, _session_token(request))
    if officer is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    try:
        accounts.open_share(state, officer=officer, share_id=share_id, addr=client_addr(request))
    except ShareError as exc:
        return _message(request, exc.status, "Share not available", exc.reason)
    return RedirectResponse(
        f"/field/s/{share_id}", status_code=303, headers={"Cache-Control": "no-store"}
    )


@router.post("/field/account/sign-out", response_class=HTMLResponse)
def sign_out(request: Request, form: CsrfForm) -> Response:
    state = _state(request)
    token = _session_token(request)
    if token:
        accounts.sign_out(state, token=token, addr=client_addr(request))
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    response.delete_cookie(
        accounts.OFFICER_COOKIE,
        path="/field",
        httponly=True,
        samesite="strict",
        secure=_secure(request, state),
    )
    return response
