"""Hostile bodies at the edge (server.limits), through the app: every write route of the
OpenAPI list refuses lone surrogates, NUL and deep nesting with a 4xx; small routes refuse
big bodies (declared or chunked) with 413; 422s never echo large input back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.store.schema import CallRow, CameraRow, EventRow
from tests.server.conftest import API, camera_body, count_rows, simple_call

WRITE_METHODS = ("post", "put", "patch", "delete")


def write_operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    ops = [
        (method.upper(), re.sub(r"\{[^}]+\}", "x1", path))
        for path, item in spec["paths"].items()
        for method in item
        if method in WRITE_METHODS
    ]
    assert len(ops) > 20
    return ops


HOSTILE = {
    "lone surrogate": b'{"username": "\\ud800", "password": "\\udfff", "user": "\\ud800", "ip": "1.2.3.4", "path": "x", "name": "\\ud800"}',
    "NUL": b'{"username": "ad\\u0000min", "password": "x", "name": "a\\u0000"}',
    "deep": b"[" * 3000 + b"]" * 3000,  # under every route's limit: the depth check answers
    "deep object": b'{"a":' * 1200 + b"1" + b"}" * 1200,
}


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_every_write_route_refuses_bad_text_and_depth_with_4xx(
    client: TestClient, admin: dict[str, str], shape: str
) -> None:
    before = (
        count_rows(client.app, CallRow),
        count_rows(client.app, CameraRow),
        count_rows(client.app, EventRow),
    )  # type: ignore[attr-defined]
    for method, path in write_operations(client):
        for headers in ({}, admin):
            r = client.request(
                method,
                path,
                content=HOSTILE[shape],
                headers={**headers, "Content-Type": "application/json"},
            )
            assert 400 <= r.status_code < 500, (shape, method, path, r.status_code, r.text[:300])
            if not client.app.state.body_limits.rule_for(method, path).raw:  # type: ignore[attr-defined]
                assert r.status_code == 422 and "body:" in r.json()["detail"], (
                    method,
                    path,
                    r.text[:300],
                )
    after = (
        count_rows(client.app, CallRow),
        count_rows(client.app, CameraRow),
        count_rows(client.app, EventRow),
    )  # type: ignore[attr-defined]
    assert after == before


def test_unauthenticated_login_and_media_hook_name_the_problem(client: TestClient) -> None:
    r = client.post(
        f"{API}/auth/login",
        content=HOSTILE["lone surrogate"],
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "lone surrogate" in r.json()["detail"]
    r = client.post(
        f"{API}/media/auth",
        content=b'{"user": "\\ud800", "ip": "1.2.3.4", "path": "cam", "action": "read"}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "lone surrogate" in r.json()["detail"]


def _chunks(total: int, size: int = 4096) -> Iterator[bytes]:
    yield b"["
    sent = 1
    while sent < total:
        yield b"1," * (size // 2)
        sent += size


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/auth/login", 8 * 1024),
        ("/media/auth", 8 * 1024),
        ("/cameras", 64 * 1024),
        ("/users", 8 * 1024),
        ("/emergencies", 8 * 1024),
        ("/calls", 1_000_000),
    ],
)
def test_bodies_over_the_route_limit_are_413_declared_or_chunked(
    client: TestClient, admin: dict[str, str], path: str, limit: int
) -> None:
    body = b"[" + b"1," * (limit // 2 + 10) + b"1]"
    r = client.post(
        f"{API}{path}", content=body, headers={**admin, "Content-Type": "application/json"}
    )
    assert r.status_code == 413, r.text[:200]
    assert str(limit) in r.json()["detail"]
    r = client.post(
        f"{API}{path}",
        content=_chunks(limit + 10_000),
        headers={**admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 413, r.text[:200]
    assert "content-length" not in {k.lower() for k in r.request.headers}  # it really was chunked
    # Just under the limit is the route's to judge (not a 413).
    ok = client.post(
        f"{API}{path}",
        content=b"[" + b"1," * (limit // 2 - 10) + b"1]",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert ok.status_code != 413


def test_a_bogus_content_length_is_400(client: TestClient) -> None:
    r = client.post(
        f"{API}/auth/login",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "2x"},
    )
    assert r.status_code == 400


def test_validation_errors_never_echo_large_input(
    client: TestClient, admin: dict[str, str]
) -> None:
    huge = "Q" * 60_000
    r = client.post(
        f"{API}/cameras", json=camera_body(name=huge, address=[huge[:100]] * 50), headers=admin
    )
    assert r.status_code == 422
    assert len(r.content) < 2000 and "Q" * 200 not in r.text
    r = client.post(f"{API}/auth/login", json=[list(range(300))] * 5)
    assert r.status_code == 422 and len(r.content) < 2000
    r = client.post(
        f"{API}/cameras",
        json={**camera_body(), **{f"k{i}": "v" * 50 for i in range(400)}},
        headers=admin,
    )
    assert r.status_code == 422
    body = r.json()
    assert (
        len(body["detail"]) == 20 and body["more_errors"] >= 300
    )  # extra keys are refused one by one
    assert len(r.content) < 8000


def test_ordinary_traffic_is_untouched(client: TestClient, analyst: dict[str, str]) -> None:
    call = simple_call(type_text="Caf\u00e9 \U0001f600 disturbance")
    r = client.post(
        f"{API}/calls",
        content=json.dumps(call),
        headers={**analyst, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["call"]["type_text"] == "Caf\u00e9 \U0001f600 disturbance"
    assert client.get(f"{API}/calls", headers=analyst).status_code == 200


def test_signed_webhook_still_verifies_after_the_edge(settings_factory: Any) -> None:
    from fastapi.testclient import TestClient as Client

    from rtcc_console.server.app import create_app
    from rtcc_console.server.routes.webhook import SIGNATURE_HEADER, sign

    app = create_app(settings_factory(cad_webhook_secret="hook-secret-0123456789"))
    with Client(app) as c:
        body = json.dumps(simple_call(incident_id="HOOK-1")).encode()
        r = c.post(
            f"{API}/cad/webhook",
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(body, "hook-secret-0123456789"),
            },
        )
        assert r.status_code == 201, r.text  # the replayed bytes are exactly what was signed
        deep = b"[" * 5000 + b"]" * 5000
        r = c.post(
            f"{API}/cad/webhook",
            content=deep,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(deep, "hook-secret-0123456789"),
            },
        )
        assert r.status_code == 422
