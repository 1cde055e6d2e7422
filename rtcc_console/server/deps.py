"""FastAPI dependencies: the app's state, the database, the caller and role checks.

Routes declare what they need with the ``Annotated`` aliases at the bottom
(``DbDep``, ``CurrentUser``, ``RequireSupervisor``...). Role checks live here and only
here: 401 when the token is missing, unknown, expired or revoked; 403 when the role is
below the route's minimum.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from rtcc_console.config import ServerSettings
from rtcc_console.core.models import Role
from rtcc_console.server.audit import Actor
from rtcc_console.server.database import Database
from rtcc_console.server.security import Principal, resolve_token
from rtcc_console.server.state import AppState

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


# Dependencies that do no I/O are ``async def`` so FastAPI runs them on the event loop
# instead of hopping to the thread pool for each one.


async def get_state(request: Request) -> AppState:
    return request.app.state.rtcc  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    return request.app.state.rtcc.db  # type: ignore[no-any-return]


async def get_settings(request: Request) -> ServerSettings:
    return request.app.state.rtcc.settings  # type: ignore[no-any-return]


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_token(request: Request, *, allow_query: bool = False) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_query:
        token = request.query_params.get("access_token")
        if token:
            return token
    return None


async def _authenticate(request: Request, token: str | None) -> Principal:
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "not authenticated: bearer token required", _UNAUTHORIZED
        )
    state: AppState = request.app.state.rtcc
    db = state.db
    cache = state.token_cache
    principal = cache.get(token) if cache is not None else None
    if principal is None:
        if db.backend == "sqlite":
            principal = _resolve(db, token)  # one indexed local lookup: cheaper than a thread hop
        else:
            principal = await run_in_threadpool(_resolve, db, token)
        if principal is not None and cache is not None:
            cache.put(principal)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "token is invalid, expired or revoked", _UNAUTHORIZED
        )
    if principal.role is Role.OFFICER:
        # Officer accounts open only the field page of a share made for them (routes/field_shares.py).
        await run_in_threadpool(_audit_denied, request, principal, Role.ANALYST)
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "officer accounts may open only field shares"
        )
    return Principal(
        username=principal.username,
        role=principal.role,
        jti=principal.jti,
        expires_at=principal.expires_at,
        client_addr=client_addr(request),
    )


def _resolve(db: Database, token: str) -> Principal | None:
    with db.engine.connect() as conn:
        return resolve_token(conn, token=token)


async def current_user(request: Request) -> Principal:
    return await _authenticate(request, bearer_token(request))


async def current_user_or_query(request: Request) -> Principal:
    """Like :func:`current_user` but also accepts ``?access_token=`` (SSE clients)."""
    return await _authenticate(request, bearer_token(request, allow_query=True))


def _require(minimum: Role):  # type: ignore[no-untyped-def]
    async def check(
        request: Request, user: Annotated[Principal, Depends(current_user)]
    ) -> Principal:
        if not user.role.at_least(minimum):
            await run_in_threadpool(_audit_denied, request, user, minimum)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires the {minimum.value} role")
        return user

    check.__name__ = f"require_{minimum.value}"
    return check


def _audit_denied(request: Request, user: Principal, minimum: Role) -> None:
    """A signed-in user tried something above their role: worth a row in the audit trail."""
    from rtcc_console.server.audit import append_audit

    with request.app.state.rtcc.db.write() as session:
        append_audit(
            session,
            actor=actor_of(user),
            action="access.denied",
            outcome="denied",
            targets={"route": f"{request.method} {request.url.path}"[:200]},
            reason=f"requires {minimum.value}",
        )


def actor_of(user: Principal) -> Actor:
    return Actor(username=user.username, role=user.role.value, client_addr=user.client_addr)


def anonymous_actor(request: Request, username: str | None = None) -> Actor:
    return Actor(username=username, role=None, client_addr=client_addr(request))


StateDep = Annotated[AppState, Depends(get_state)]
DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
CurrentUser = Annotated[Principal, Depends(current_user)]
StreamUser = Annotated[Principal, Depends(current_user_or_query)]
RequireAnalyst = Annotated[Principal, Depends(_require(Role.ANALYST))]
RequireSupervisor = Annotated[Principal, Depends(_require(Role.SUPERVISOR))]
RequireAdmin = Annotated[Principal, Depends(_require(Role.ADMIN))]
