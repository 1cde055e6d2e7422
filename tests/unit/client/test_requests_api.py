"""client.requests_api without Qt: the pure helpers, and the error mapping over real HTTP
(a loopback ``http.server`` answering as the contract says; the full server is exercised
in tests/gui/test_request_form.py and the end-to-end test)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rtcc_console.client.api import ApiClient, ApiError, Forbidden
from rtcc_console.client.requests_api import (
    QUICK_WINDOWS,
    FootageRequestsApi,
    LimitExceeded,
    RequestDraft,
    area_text,
    item_state_text,
    square_miles,
    window_from_call,
)


def test_area_text_gives_square_metres_and_square_miles() -> None:
    assert area_text(None) == "no area drawn"
    assert area_text(2_589_988.110336) == "2,589,988 m² (1.000 sq mi)"
    assert area_text(12_000) == "12,000 m² (0.0046 sq mi)"
    assert square_miles(0.5 * 2_589_988.110336) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("item", "text"),
    [
        ({"state": "uploaded", "files": 1}, "uploaded (1 file)"),
        ({"state": "uploaded", "files": 3}, "uploaded (3 files)"),
        ({"state": "no_footage"}, "no footage"),
        (
            {"state": "undeliverable", "state_reason": "550 5.1.1 mailbox unavailable"},
            "undeliverable: 550 5.1.1 mailbox unavailable",
        ),
        ({"state": "sent", "state_reason": "ignored"}, "sent"),
        ({"state": "declined", "state_reason": None}, "declined"),
    ],
)
def test_item_state_text(item: dict[str, Any], text: str) -> None:
    assert item_state_text(item) == text


def test_quick_windows_are_relative_to_the_call_and_never_in_the_future() -> None:
    reported = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    late = reported + timedelta(days=1)
    for i, (_label, before, after) in enumerate(QUICK_WINDOWS):
        start, end = window_from_call(reported, i, now=late)
        assert (start, end) == (reported + before, reported + after)
    start, end = window_from_call(reported, 0, now=reported + timedelta(minutes=10))
    assert end == reported + timedelta(minutes=10) and start == reported - timedelta(minutes=30)


def test_draft_body_is_the_contract_body() -> None:
    start = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    area = {"kind": "circle", "center": {"lat": 32.7, "lon": -96.9}, "radius_m": 100}
    draft = RequestDraft(
        case_number=" 26-1 ",
        area=area,
        window_start=start,
        window_end=start + timedelta(hours=1),
        message="m",
        offence_category="theft",
        call_id="call-1",
        override_reason="",
    )
    body = draft.body()
    assert body == {
        "client_key": draft.client_key,
        "case_number": "26-1",
        "offence_category": "theft",
        "call_id": "call-1",
        "area": area,
        "window_start": "2026-11-29T03:00:00+00:00",
        "window_end": "2026-11-29T04:00:00+00:00",
        "message": "m",
        "camera_ids": None,
        "override_reason": None,
    }
    assert 8 <= len(draft.client_key) <= 64
    assert (
        RequestDraft(case_number="x", area=area, window_start=start, window_end=start).client_key
        != draft.client_key
    )


class _Handler(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, Any]] = {}
    seen: list[tuple[str, str, Any]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, body))
        status, payload = self.answers.get(self.path.split("?")[0], (404, {"detail": "not found"}))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def http() -> Iterator[tuple[FootageRequestsApi, type[_Handler]]]:
    _Handler.answers, _Handler.seen = {}, []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    api = ApiClient(f"http://127.0.0.1:{srv.server_address[1]}")
    try:
        yield FootageRequestsApi(api), _Handler
    finally:
        srv.shutdown()
        srv.server_close()


def _draft() -> RequestDraft:
    start = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    return RequestDraft(
        case_number="26-1",
        area={"kind": "circle", "center": {"lat": 1, "lon": 2}, "radius_m": 5},
        window_start=start,
        window_end=start + timedelta(hours=13),
    )


def test_a_named_limit_becomes_limit_exceeded(
    http: tuple[FootageRequestsApi, type[_Handler]],
) -> None:
    api, handler = http
    handler.answers["/api/v1/footage-requests"] = (
        422,
        {
            "detail": {
                "limit": "max_window",
                "message": "window is 13.0 h; the agency allows at most 12.0 h",
                "overridable": True,
            }
        },
    )
    with pytest.raises(LimitExceeded) as err:
        api.create(_draft())
    assert (
        err.value.limit == "max_window" and err.value.overridable and "12.0 h" in err.value.message
    )
    assert handler.seen[-1][2]["case_number"] == "26-1"


def test_other_refusals_keep_their_types(http: tuple[FootageRequestsApi, type[_Handler]]) -> None:
    api, handler = http
    handler.answers["/api/v1/footage-requests"] = (
        422,
        {"detail": [{"loc": ["body", "area"], "msg": "area: polygon crosses itself"}]},
    )
    with pytest.raises(ApiError) as err:
        api.create(_draft())
    assert not isinstance(err.value, LimitExceeded) and "crosses itself" in err.value.detail
    handler.answers["/api/v1/footage-requests"] = (
        403,
        {"detail": "scope=all requires the supervisor role"},
    )
    with pytest.raises(Forbidden):
        api.list_requests(scope="all")
    assert (
        handler.seen[-1][1].startswith("/api/v1/footage-requests?")
        and "scope=all" in handler.seen[-1][1]
    )


def test_list_sends_only_the_filters_given(http: tuple[FootageRequestsApi, type[_Handler]]) -> None:
    api, handler = http
    handler.answers["/api/v1/footage-requests"] = (
        200,
        {"items": [], "total": 0, "limit": 200, "offset": 0},
    )
    assert api.list_requests(case_number=" 26-9 ", state="declined")["total"] == 0
    path = handler.seen[-1][1]
    assert "case_number=26-9" in path and "state=declined" in path and "scope=mine" in path
    api.list_requests()
    assert "case_number" not in handler.seen[-1][1] and "state" not in handler.seen[-1][1]
