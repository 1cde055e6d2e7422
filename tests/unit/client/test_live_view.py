"""The wall's server service (grants, snapshot audit, presets on ``ApiClient``) against a
stand-in HTTP server: routes, bearer token, error mapping, the client's 401 listeners. No Qt."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rtcc_console.client.api import ApiClient
from rtcc_console.client.grants import GrantDenied, GrantServiceUnavailable
from rtcc_console.client.live_view import ServerGrantService


class StandIn:
    """Answers each (method, path) with a canned (status, body) and records requests."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, Any]] = {}
        self.seen: list[dict[str, Any]] = []

        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                stand_in.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body,
                        "auth": self.headers.get("Authorization"),
                    }
                )
                status, answer = stand_in.routes.get(
                    (self.command, self.path), (404, {"detail": "no route"})
                )
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    s = StandIn()
    yield s
    s.server.shutdown()
    s.server.server_close()


def service_for(url: str, token: str, **kwargs: Any) -> ServerGrantService:
    api = ApiClient(url)
    api._token = token  # signed in (the stand-in only records the bearer)
    return ServerGrantService(api, **kwargs)


GRANT = {
    "id": "lg-1",
    "camera_id": "cam-001",
    "stream_url": "rtsp://u:p@10.0.0.5/live",
    "substream_url": None,
    "expires_at": "2026-11-21T05:30:00+00:00",
    "ttl_s": 60,
}


def test_acquire_posts_the_reason_with_the_token_and_parses_the_grant(stand_in: StandIn) -> None:
    stand_in.routes[("POST", "/api/v1/cameras/cam-001/live-grants")] = (201, GRANT)
    grant = service_for(stand_in.url, "tok-1").acquire("cam-001", "case 26-1")
    assert grant.id == "lg-1" and grant.stream_url.startswith("rtsp://") and grant.ttl_s == 60
    assert grant.expires_at == datetime(2026, 11, 21, 5, 30, tzinfo=UTC)
    assert stand_in.seen[0]["body"] == {"reason": "case 26-1"}
    assert stand_in.seen[0]["auth"] == "Bearer tok-1"


def test_a_403_becomes_grant_denied_with_the_policy_reason(stand_in: StandIn) -> None:
    stand_in.routes[("POST", "/api/v1/cameras/cam-001/live-grants")] = (
        403,
        {"detail": "owner shares only in emergencies"},
    )
    with pytest.raises(GrantDenied, match="only in emergencies"):
        service_for(stand_in.url, "t").acquire("cam-001", "case 1")


def test_a_410_renewal_is_a_denial_and_release_delete_is_sent(stand_in: StandIn) -> None:
    stand_in.routes[("POST", "/api/v1/live-grants/lg-1/renew")] = (
        410,
        {"detail": "consent withdrawn"},
    )
    stand_in.routes[("DELETE", "/api/v1/live-grants/lg-1")] = (204, None)
    api = ApiClient(stand_in.url)
    api._token = "stale-token"
    service = ServerGrantService(api)
    api._token = "fresh-token"  # re-login: the service sends whatever the client holds now
    with pytest.raises(GrantDenied, match="consent withdrawn"):
        service.renew("lg-1")
    service.release("lg-1")
    assert (
        stand_in.seen[-1]["method"] == "DELETE"
        and stand_in.seen[-1]["auth"] == "Bearer fresh-token"
    )


def test_snapshot_audit_and_presets_use_the_contract_routes(stand_in: StandIn) -> None:
    stand_in.routes[("POST", "/api/v1/cameras/cam-001/snapshots")] = (201, {})
    stand_in.routes[("PUT", "/api/v1/me/presets/Elm%20corridor")] = (200, {})
    stand_in.routes[("GET", "/api/v1/me/presets")] = (
        200,
        {"items": [{"name": "Elm corridor", "layout": {"layout": "2x2"}}]},
    )
    service = service_for(stand_in.url, "t")
    taken = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    service.record_snapshot("cam-001", "lg-1", "ab" * 32, taken, "case 1")
    assert stand_in.seen[0]["body"] == {
        "grant_id": "lg-1",
        "taken_at": "2026-11-21T06:00:00+00:00",
        "sha256": "ab" * 32,
        "reason": "case 1",
    }
    service.save_preset("Elm corridor", {"layout": "2x2"})
    assert stand_in.seen[1]["body"] == {"layout": {"layout": "2x2"}}
    assert service.load_presets() == {"Elm corridor": {"layout": "2x2"}}


def test_server_errors_and_no_server_are_unavailable_not_denied(stand_in: StandIn) -> None:
    stand_in.routes[("GET", "/api/v1/me/presets")] = (503, {"detail": "db down"})
    with pytest.raises(GrantServiceUnavailable):
        service_for(stand_in.url, "t").load_presets()
    with pytest.raises(GrantServiceUnavailable):
        service_for("http://127.0.0.1:9", "t", timeout_s=1).load_presets()


def test_the_console_api_client_adapter_shares_its_token_and_hears_401(stand_in: StandIn) -> None:
    unauthorized: list[int] = []
    api = ApiClient(stand_in.url)
    api._token = "console-token"
    api.add_unauthorized_listener(lambda: unauthorized.append(1))

    stand_in.routes[("DELETE", "/api/v1/me/presets/x")] = (401, {"detail": "token expired"})
    stand_in.routes[("DELETE", "/api/v1/me/presets/gone")] = (404, {"detail": "no preset"})
    service = ServerGrantService(api)
    service.delete_preset("gone")  # already absent: nothing to report
    with pytest.raises(GrantDenied, match="token expired") as refused:
        service.delete_preset("x")
    assert refused.value.status == 401
    assert stand_in.seen[-1]["auth"] == "Bearer console-token"
    assert len(unauthorized) == 1
