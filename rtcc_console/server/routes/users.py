"""Staff accounts (admin only): list, create, unlock, change (role/disable/password reset).

Hashes never leave the server. Any change to an account revokes its open sessions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rtcc_console.core.models import Role
from rtcc_console.server.audit import append_audit
from rtcc_console.server.deps import RequireAdmin, StateDep, actor_of
from rtcc_console.server.passwords import validate_password
from rtcc_console.server.security import (
    create_user,
    get_user,
    normalize_username,
    public_user,
    unlock_user,
    validate_username,
)
from rtcc_console.server.sessions import end_user_sessions
from rtcc_console.store.users import list_users as list_user_rows

router = APIRouter(prefix="/users", tags=["users"])


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=1024)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = normalize_username(value)
        problem = validate_username(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        problem = validate_password(value)
        if problem:
            raise ValueError(problem)
        return value


class UserUpdate(BaseModel):
    """Admin changes to an account; any change revokes the user's open sessions."""

    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        if value is not None:
            problem = validate_password(value)
            if problem:
                raise ValueError(problem)
        return value


class UserPublic(BaseModel):
    username: str
    role: str
    disabled: bool
    locked_until: str | None
    created_at: str | None
    last_login_at: str | None
    mfa_enabled: bool = False


class UserList(BaseModel):
    items: list[UserPublic]
    total: int
    limit: int
    offset: int


@router.get("", response_model=UserList)
def list_users(admin: RequireAdmin, state: StateDep) -> dict[str, Any]:
    with state.db.read() as session:
        rows = list_user_rows(session)
        items = [public_user(r) for r in rows]
    return {"items": items, "total": len(items), "limit": len(items), "offset": 0}


@router.post("", status_code=201, response_model=UserPublic)
def add_user(body: UserCreate, admin: RequireAdmin, state: StateDep) -> Any:
    password_hash = state.passwords.hash(body.password)
    with state.db.write() as session:
        if get_user(session, username=body.username) is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"username {body.username!r} already exists"
            )
        row = create_user(
            session, username=body.username, role=body.role, password_hash=password_hash
        )
        append_audit(
            session,
            actor=actor_of(admin),
            action="admin.user_add",
            targets={"user": body.username},
            reason=f"role {body.role.value}",
        )
        return public_user(row)


@router.post("/{username}/unlock", response_model=UserPublic)
def unlock(username: str, admin: RequireAdmin, state: StateDep) -> Any:
    name = normalize_username(username)
    with state.db.write() as session:
        if not unlock_user(session, username=name):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {name!r}")
        append_audit(
            session, actor=actor_of(admin), action="admin.user_unlock", targets={"user": name}
        )
        row = get_user(session, username=name)
        session.refresh(row)
        return public_user(row)  # type: ignore[arg-type]


@router.post("/{username}/reset-mfa", response_model=UserPublic)
def reset_second_factor(username: str, admin: RequireAdmin, state: StateDep) -> Any:
    """Forget the user's second factor (lost phone); signs them out everywhere. They enrol
    again at their next sign-in when their role requires MFA."""
    from rtcc_console.store.mfa import reset_mfa

    name = normalize_username(username)
    with state.db.write() as session:
        if not reset_mfa(session, username=name):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {name!r}")
        revoked, ended = end_user_sessions(
            session, username=name, actor=actor_of(admin), reason="second factor reset"
        )
        append_audit(
            session,
            actor=actor_of(admin),
            action="admin.user_reset_mfa",
            targets={"user": name},
            reason=f"{revoked} session(s) revoked, {ended} live view(s) ended",
        )
        row = get_user(session, username=name)
        session.refresh(row)
        result = public_user(row)  # type: ignore[arg-type]
    if state.token_cache is not None:
        state.token_cache.clear()
    return result


@router.patch("/{username}", response_model=UserPublic)
def update_user(username: str, body: UserUpdate, admin: RequireAdmin, state: StateDep) -> Any:
    """Change role, disable/enable, or reset the password; signs the user out everywhere."""
    name = normalize_username(username)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise HTTPException(422, "nothing to change: give role, disabled or password")
    if name == admin.username and (
        changes.get("disabled") or changes.get("role", Role.ADMIN) != Role.ADMIN
    ):
        raise HTTPException(422, "admins cannot disable or demote themselves")
    new_hash = state.passwords.hash(changes["password"]) if "password" in changes else None
    with state.db.write() as session:
        row = get_user(session, username=name)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {name!r}")
        if "role" in changes:
            row.role = changes["role"].value
        if "disabled" in changes:
            row.disabled = changes["disabled"]
        if new_hash:
            row.password_hash = new_hash
            row.failed_logins = 0
            row.locked_until = None
        what = ", ".join(
            f"{k}={v.value if isinstance(v, Role) else v}"
            for k, v in changes.items()
            if k != "password"
        )
        why = (
            "account disabled"
            if changes.get("disabled")
            else ("role changed" if "role" in changes else "account changed")
        )
        revoked, ended = end_user_sessions(
            session, username=name, actor=actor_of(admin), reason=why
        )
        append_audit(
            session,
            actor=actor_of(admin),
            action="admin.user_update",
            targets={"user": name},
            reason=(what + ("; password reset" if new_hash else "")).strip("; ")
            + f"; {revoked} session(s) revoked, {ended} live view(s) ended",
        )
        session.flush()
        result = public_user(row)
    if state.token_cache is not None:
        state.token_cache.clear()
    return result
