"""Every route refuses anonymous callers (401) except the few public ones, and every
admin/supervisor route refuses analysts (403) — enumerated from the app itself, so a
route added later without a guard fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/system/notice"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/media/auth"),  # the media relay; answers 200 only for a valid grant secret
    ("POST", "/api/v1/cad/webhook"),  # HMAC-signed instead of a bearer token
    # the second sign-in step: the single-use mfa_token from a right password is the credential
    ("POST", "/api/v1/auth/mfa"),
    ("POST", "/api/v1/auth/mfa/enrol"),
    ("POST", "/api/v1/auth/mfa/enrol/qr.png"),
    ("POST", "/api/v1/auth/mfa/enrol/qr.svg"),
    # owners answering a footage request: the single-use, expiring link token is the credential
    # (404/410 without a valid one; docs/api/footage-requests.md)
    ("GET", "/api/v1/portal/requests/{link_token}"),
    ("POST", "/api/v1/portal/requests/{link_token}/answer"),
    ("POST", "/api/v1/portal/requests/{link_token}/reminders"),
}
ADMIN_ONLY = {
    "/api/v1/users",
    "/api/v1/users/{username}",
    "/api/v1/users/{username}/unlock",
    "/api/v1/users/{username}/reset-mfa",
    "/api/v1/cameras/import",
    "/api/v1/cameras/export.csv",
    "/api/v1/cameras/export.geojson",
}
SUPERVISOR = {
    "/api/v1/audit",
    "/api/v1/audit.csv",
    "/api/v1/emergencies/{emergency_id}/end",
    "/api/v1/audit/count",
    "/api/v1/audit/verify",
    "/api/v1/audit/verify/{job_id}",
    "/api/v1/audit/flags",
    "/api/v1/audit/flags/{flag_id}/ack",
}


def _routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the app serves, from its OpenAPI description."""
    return [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if path.startswith("/api/v1")
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_private_route_needs_a_token(client: TestClient, app: Any) -> None:
    routes = _routes(app)
    assert len(routes) > 30
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        r = client.request(method, _concrete(path), json={})
        assert r.status_code == 401, (method, path, r.status_code)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_privileged_routes_refuse_lower_roles(
    client: TestClient, app: Any, analyst: dict[str, str], supervisor: dict[str, str]
) -> None:
    checked = 0
    for method, path in _routes(app):
        write_camera = (
            path.startswith("/api/v1/cameras")
            and method in ("POST", "PATCH", "DELETE")
            and not path.endswith(("/live-grants", "/snapshots", "/nearest"))
        )
        if path in ADMIN_ONLY or write_camera:
            for who in (analyst, supervisor):
                r = client.request(method, _concrete(path), headers=who, json={})
                assert r.status_code == 403, (method, path, r.status_code)
            checked += 1
        elif path in SUPERVISOR or (path == "/api/v1/emergencies" and method == "POST"):
            r = client.request(method, _concrete(path), headers=analyst, json={})
            assert r.status_code == 403, (method, path, r.status_code)
            checked += 1
    assert checked >= 12
