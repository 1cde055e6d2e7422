"""Qt-free client pieces: SSE parsing, the persistent cache, and the access rules per row."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rtcc_console.client.events import SseParser
from rtcc_console.client.nearest import access_for
from rtcc_console.client.registry_cache import RegistryCache, cache_path_for
from rtcc_console.core.models import (
    Camera,
    CameraKind,
    Emergency,
    GeoPoint,
    Role,
    SharingMode,
    Tier,
)
from rtcc_console.core.policy import live_now

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


def test_sse_parser_handles_split_chunks_crlf_and_comments() -> None:
    parser = SseParser()
    out = list(parser.feed(': heartbeat\r\n\r\nid: 7\r\nevent: call.created\r\ndata: {"a"'))
    assert out == []
    out = list(parser.feed(": 1}\r"))
    out += list(parser.feed("\n\r\nevent: replay.truncated\ndata: {}\n\n"))
    assert out == [("7", "call.created", '{"a": 1}'), ("7", "replay.truncated", "{}")]


def test_cache_keeps_newest_call_version_and_survives_reopen(tmp_path: Path) -> None:
    path = cache_path_for(tmp_path, "http://127.0.0.1:8750/")
    assert path == cache_path_for(tmp_path, "http://127.0.0.1:8750")
    cache = RegistryCache(path)
    cache.upsert_call(
        {"id": "c1", "version": 3, "updated_at": "2026-11-21T06:00:00+00:00", "priority": 1}, 41
    )
    cache.upsert_call(
        {"id": "c1", "version": 2, "updated_at": "2026-11-21T05:00:00+00:00", "priority": 5}, 42
    )
    cache.apply_cameras([{"id": "cam-1", "name": "x"}], cursor="17")
    cache.close()
    again = RegistryCache(path)
    assert [c["priority"] for c in again.call_rows()] == [1]
    assert again.last_event_id == 42 and again.cursor == "17"
    assert again.camera_rows() == [{"id": "cam-1", "name": "x"}]
    again.apply_cameras([], deleted=["cam-1"])
    assert again.camera_rows() == []


def _cam(tier: Tier, mode: SharingMode, *, revoked: bool = False) -> Camera:
    return Camera(
        id="cam-1",
        name="Elm front",
        tier=tier,
        location=GeoPoint(32.78, -96.8),
        kind=CameraKind.BUSINESS,
        sharing_mode=mode,
        owner_id="own-1",
        revoked=revoked,
    )


def test_access_live_request_or_nothing_with_reasons() -> None:
    live = access_for(
        Role.ANALYST, _cam(Tier.INTEGRATED, SharingMode.LIVE_ALWAYS), now=NOW, emergencies=()
    )
    assert live[:2] == ("live", "View live now")
    reg = access_for(
        Role.ANALYST, _cam(Tier.REGISTERED, SharingMode.REQUEST_ONLY), now=NOW, emergencies=()
    )
    assert reg[:2] == ("request", "Request footage") and reg[2]
    gone = access_for(
        Role.ANALYST,
        _cam(Tier.INTEGRATED, SharingMode.LIVE_ALWAYS, revoked=True),
        now=NOW,
        emergencies=(),
    )
    assert gone[0] == "none" and gone[2]


def test_live_in_emergency_needs_an_active_emergency() -> None:
    cam = _cam(Tier.INTEGRATED, SharingMode.LIVE_IN_EMERGENCY)
    assert not live_now(cam, [], NOW)
    em = Emergency(
        id="em-1",
        owner_id="own-1",
        camera_ids=frozenset(),
        started_at=NOW,
        ends_at=None,
        reason="fire",
    )
    assert live_now(cam, [em], NOW)
    assert access_for(Role.ANALYST, cam, now=NOW, emergencies=[em])[0] == "live"


def test_replay_truncated_resets_the_dedup_id_so_a_replaced_database_is_followed() -> None:
    from rtcc_console.client.api import ApiClient
    from rtcc_console.client.events import EventStream, ServerEvent

    got: list[ServerEvent] = []
    stream = EventStream(ApiClient("http://127.0.0.1:9"), on_event=got.append, last_event_id=900)
    stream._consume(
        [
            b"id: 899\nevent: call.created\ndata: {}\n\n",  # already seen: skipped
            b'event: replay.truncated\ndata: {"newest_id": 3}\n\n',
            b'id: 4\nevent: call.created\ndata: {"call": {}}\n\n',
        ]
    )
    assert [(e.id, e.type) for e in got] == [(None, "replay.truncated"), (4, "call.created")]
    assert stream.last_event_id == 4


def test_reset_registry_forgets_cameras_and_cursor(tmp_path: Path) -> None:
    cache = RegistryCache(tmp_path / "c.sqlite")
    cache.apply_cameras([{"id": "cam-1"}], cursor="99")
    cache.reset_registry()
    assert cache.camera_rows() == [] and cache.cursor == "0"
