"""Stale cameras (not confirmed by their owner in time) stay ranked, but a fresh camera of
the same score and distance comes first; the wire format carries the flag to the console."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from rtcc_console.client.convert import camera_from_json
from rtcc_console.core.models import Camera, CameraKind, GeoPoint, SharingMode, Tier
from rtcc_console.core.ranking import rank_candidates

SCENE = GeoPoint(32.78, -96.80)


def _cam(cid: str, *, stale: bool = False) -> Camera:
    return Camera(
        id=cid,
        name=cid,
        tier=Tier.REGISTERED,
        location=GeoPoint(32.7805, -96.80),
        kind=CameraKind.RESIDENTIAL,
        sharing_mode=SharingMode.REQUEST_ONLY,
        stale=stale,
    )


def test_a_stale_camera_ranks_after_a_fresh_one_at_the_same_distance() -> None:
    stale, fresh = _cam("cam-a", stale=True), _cam("cam-b")
    ranked = rank_candidates(SCENE, [(stale, 55.6, 0.0), (fresh, 55.6, 0.0)])
    assert [r.camera.id for r in ranked] == ["cam-b", "cam-a"]  # the id alone would say a, b
    assert ranked[0].score == ranked[1].score
    # nearer wins over fresher, and stale cameras are never dropped
    ranked = rank_candidates(SCENE, [(stale, 40.0, 0.0), (fresh, 55.6, 0.0)])
    assert [r.camera.id for r in ranked] == ["cam-a", "cam-b"]
    assert [
        r.camera.id for r in rank_candidates(SCENE, [(replace(fresh, stale=True), 9.0, 0.0)])
    ] == ["cam-b"]


def test_the_wire_format_carries_stale_and_confirmed_at() -> None:
    base = {"id": "cam-1", "tier": "registered", "lat": 32.78, "lon": -96.8}
    cam = camera_from_json(
        {**base, "stale": True, "confirmed_at": "2025-10-01T08:00:00+00:00", "stale_since": "x"}
    )
    assert cam.stale and cam.confirmed_at == datetime(2025, 10, 1, 8, tzinfo=UTC)
    old_server = camera_from_json(base)  # an older server sends neither: not stale
    assert not old_server.stale and old_server.confirmed_at is None
