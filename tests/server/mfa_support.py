"""Helpers for tests that sign in with a second factor: real TOTP codes from the secret."""

from __future__ import annotations

import time
from typing import Any

import pyotp

API = "/api/v1"


def code_at(secret: str, at: float, offset_steps: int = 0) -> str:
    """The real RFC 6238 code of ``secret`` for the step ``offset_steps`` away from ``at``."""
    return str(pyotp.TOTP(secret).at(int(at) + 30 * offset_steps))


def password_step(client: Any, name: str, password: str) -> dict[str, Any]:
    """POST /auth/login expecting the MFA challenge; returns the 401 body."""
    r = client.post(f"{API}/auth/login", json={"username": name, "password": password})
    assert r.status_code == 401, r.text
    body = r.json()
    assert body["mfa_required"] is True, body
    return body  # type: ignore[no-any-return]


def enrol(
    client: Any, name: str, password: str, *, at: float | None = None
) -> tuple[str, dict[str, str], list[str]]:
    """Sign in as a user who must enrol, enrol with a real code; returns (secret, auth headers,
    recovery codes)."""
    challenge = password_step(client, name, password)
    assert challenge["mfa_enrol"] is True
    r = client.post(f"{API}/auth/mfa/enrol", json={"mfa_token": challenge["mfa_token"]})
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    now = time.time() if at is None else at
    r = client.post(
        f"{API}/auth/mfa", json={"mfa_token": challenge["mfa_token"], "code": code_at(secret, now)}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return secret, {"Authorization": f"Bearer {body['access_token']}"}, body["recovery_codes"]
