"""Shared set-up of the footage-request tests: a small registry around one call."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
from rtcc_console.store.cameras import save_camera
from rtcc_console.store.owners import save_owner

CENTER = (32.7800, -96.8000)
NOW = datetime.now(UTC)

# owner id -> (email, accepts_requests, kind, [(camera id, dlat, dlon, tier, revoked)])
REGISTRY: dict[
    str, tuple[str | None, bool, CameraKind, list[tuple[str, float, float, Tier, bool]]]
] = {
    "own-a": (
        "alice.owner@example.org",
        True,
        CameraKind.BUSINESS,
        [
            ("cam-a1", 0.0001, 0.0001, Tier.REGISTERED, False),
            ("cam-a2", -0.0002, 0.0, Tier.REGISTERED, False),
        ],
    ),
    "own-b": (
        "bob.owner@example.org",
        True,
        CameraKind.RESIDENTIAL,
        [("cam-b1", 0.0003, -0.0002, Tier.REGISTERED, False)],
    ),
    "own-c": (
        "carol.school@example.org",
        True,
        CameraKind.SCHOOL,
        [("cam-c1", -0.0003, 0.0003, Tier.INTEGRATED, False)],
    ),
    "own-d": (
        "dave.optout@example.org",
        False,
        CameraKind.RESIDENTIAL,
        [
            ("cam-d1", 0.0002, 0.0002, Tier.REGISTERED, False),
            ("cam-d2", 0.0, -0.0003, Tier.INTEGRATED, False),
        ],
    ),
    "own-e": (
        "erin.revoked@example.org",
        True,
        CameraKind.BUSINESS,
        [("cam-e1", -0.0001, -0.0001, Tier.REGISTERED, True)],
    ),
    "own-f": (
        None,
        True,
        CameraKind.RESIDENTIAL,
        [("cam-f1", 0.0004, 0.0, Tier.REGISTERED, False)],
    ),
    "own-g": (
        "gina.far@example.org",
        True,
        CameraKind.BUSINESS,
        [("cam-g1", 0.02, 0.02, Tier.REGISTERED, False)],
    ),
}
INCLUDED = {"own-a", "own-b", "own-c"}
EMAILS = {oid: spec[0] for oid, spec in REGISTRY.items() if spec[0]}


def seed_registry(app: Any) -> None:
    with app.state.rtcc.db.write() as session:
        for owner_id, (mail, accepts, kind, cams) in REGISTRY.items():
            save_owner(
                session,
                owner=Owner(
                    id=owner_id,
                    name=f"Owner {owner_id[-1].upper()}",
                    kind=kind,
                    email=mail,
                    phone="+1 214 555 0100",
                    accepts_requests=accepts,
                ),
            )
            for cam_id, dlat, dlon, tier, revoked in cams:
                mode = (
                    SharingMode.LIVE_ALWAYS if tier is Tier.INTEGRATED else SharingMode.REQUEST_ONLY
                )
                save_camera(
                    session,
                    camera=Camera(
                        id=cam_id,
                        name=f"Camera {cam_id}",
                        tier=tier,
                        location=GeoPoint(CENTER[0] + dlat, CENTER[1] + dlon),
                        kind=kind,
                        sharing_mode=mode,
                        address=f"{cam_id} Elm St",
                        owner_id=owner_id,
                        revoked=revoked,
                    ),
                )


def circle(radius_m: float = 150.0) -> dict[str, Any]:
    return {"kind": "circle", "center": {"lat": CENTER[0], "lon": CENTER[1]}, "radius_m": radius_m}


def body(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "client_key": f"key-{time.monotonic_ns()}",
        "case_number": "26-001234",
        "offence_category": "theft_from_auto",
        "call_id": None,
        "area": circle(),
        "window_start": (NOW - timedelta(hours=5)).isoformat(),
        "window_end": (NOW - timedelta(hours=4)).isoformat(),
        "message": "Thefts from autos on this block around 3 a.m. Can you check your cameras?",
    }
    out.update(over)
    return out


def wait_until(
    predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
