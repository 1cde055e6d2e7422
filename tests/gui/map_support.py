"""Helpers for the map tests: a MapView with failing tiles, synchronous page queries."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from rtcc_console.core.models import (
    CallStatus,
    Camera,
    CameraKind,
    DispatchCall,
    GeoPoint,
    SharingMode,
    Tier,
)

# Nothing listens on port 9 of the loopback: every tile fails at once, as offline.
DEAD_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"
DALLAS = (32.7767, -96.7970)


def evaluate(qtbot: Any, view: Any, function: str, *args: Any, timeout: int = 10_000) -> Any:
    """Call ``function(*args)`` in the page and wait for its result."""
    box: list[Any] = []
    view.evaluate(function, box.append, *args)
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    return box[0]


def state(qtbot: Any, view: Any) -> dict[str, Any]:
    result = evaluate(qtbot, view, "rtcc.state")
    assert isinstance(result, dict)
    return result


def wait_state(qtbot: Any, view: Any, predicate: Any, timeout: int = 10_000) -> dict[str, Any]:
    """Poll the page state until ``predicate(state)`` holds; return that state."""
    last: dict[str, Any] = {}

    def check() -> bool:
        last.update(state(qtbot, view))
        return bool(predicate(last))

    qtbot.waitUntil(check, timeout=timeout)
    return last


def camera(
    i: int,
    lat: float,
    lon: float,
    *,
    tier: Tier = Tier.REGISTERED,
    mode: SharingMode = SharingMode.REQUEST_ONLY,
    kind: CameraKind = CameraKind.RESIDENTIAL,
    heading: float | None = None,
    revoked: bool = False,
) -> Camera:
    return Camera(
        id=f"cam-{i}",
        name=f"Camera {i}",
        tier=tier,
        location=GeoPoint(lat, lon),
        kind=kind,
        sharing_mode=mode,
        heading_deg=heading,
        fov_deg=70.0 if heading is not None else None,
        range_m=40.0 if heading is not None else None,
        revoked=revoked,
    )


def many_cameras(n: int, seed: int = 7) -> list[Camera]:
    """``n`` cameras scattered over Dallas, every tier/mode/kind mixed, some with headings."""
    rng = random.Random(seed)
    tiers = [Tier.REGISTERED] * 8 + [Tier.INTEGRATED] * 2
    return [
        camera(
            i,
            DALLAS[0] + rng.uniform(-0.15, 0.15),
            DALLAS[1] + rng.uniform(-0.2, 0.2),
            tier=rng.choice(tiers),
            mode=rng.choice(list(SharingMode)),
            kind=rng.choice(list(CameraKind)),
            heading=rng.uniform(0, 360) if rng.random() < 0.5 else None,
        )
        for i in range(n)
    ]


def call(
    cid: str,
    lat: float,
    lon: float,
    *,
    priority: int = 1,
    status: CallStatus = CallStatus.PENDING,
    address: str = "1500 Marilla St",
) -> DispatchCall:
    now = datetime.now(UTC)
    return DispatchCall(
        id=cid,
        incident_id=f"inc-{cid}",
        type_code="ROB",
        type_text="Robbery",
        priority=priority,
        status=status,
        reported_at=now,
        updated_at=now,
        location=GeoPoint(lat, lon),
        address=address,
    )
