"""The console's camera list for a call and the server's ``GET /calls/{id}`` agree.

Both run ``core.ranking.ranked_for_call``: the server over its in-memory registry, the
console over the index it builds from the registry feed (``GET /cameras``). Same call,
same registry, same k and radius: the same cameras in the same order with the same scores,
including the top-up with the best of a tier missing from the top k.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.client.convert import camera_from_json
from rtcc_console.client.nearest import options_for
from rtcc_console.config import ConsoleSettings, ServerSettings
from rtcc_console.core.index import CameraIndex
from rtcc_console.core.models import GeoPoint, Role
from tests.server.conftest import API, camera_body, simple_call

CONSOLE = ConsoleSettings()


@pytest.fixture
def settings(settings_factory: Callable[..., ServerSettings]) -> ServerSettings:
    return settings_factory(
        nearest_k=CONSOLE.nearest_count, nearest_radius_m=CONSOLE.nearest_radius_m
    )


def _register(
    client: TestClient, admin: dict[str, str], *, integrated_near: int, registered_far: int
) -> None:
    rng = random.Random(8)
    for i in range(integrated_near):  # integrated cameras crowd the scene...
        body = camera_body(
            id=f"cam-i{i:02d}",
            lat=32.7801 + rng.uniform(-8e-4, 8e-4),
            lon=-96.8001 + rng.uniform(-8e-4, 8e-4),
            heading_deg=rng.choice([None, rng.uniform(0, 360)]),
            range_m=rng.choice([None, 40.0, 120.0]),
            sharing_mode=rng.choice(["live_always", "live_in_emergency"]),
        )
        assert client.post(f"{API}/cameras", headers=admin, json=body).status_code == 201
    for i in range(registered_far):  # ...registered ones are all farther away
        body = camera_body(
            id=f"cam-r{i:02d}",
            tier="registered",
            sharing_mode="request_only",
            stream_url=None,
            lat=32.7830 + rng.uniform(0, 2e-3),
            lon=-96.8001 + rng.uniform(-2e-3, 2e-3),
            kind="residential",
            heading_deg=rng.uniform(0, 360),
        )
        assert client.post(f"{API}/cameras", headers=admin, json=body).status_code == 201


def _console_list(client: TestClient, admin: dict[str, str], point: GeoPoint) -> list[Any]:
    feed = client.get(f"{API}/cameras", headers=admin, params={"since": "0", "limit": 5000}).json()
    index = CameraIndex.from_cameras(camera_from_json(c) for c in feed["items"])
    return options_for(
        index,
        point,
        k=CONSOLE.nearest_count,
        radius_m=CONSOLE.nearest_radius_m,
        role=Role.ANALYST,
        now=datetime.now(UTC),
    )


@pytest.mark.parametrize("registered_far", [0, 6])
def test_console_list_and_call_detail_agree(
    client: TestClient, admin: dict[str, str], analyst: dict[str, str], registered_far: int
) -> None:
    _register(client, admin, integrated_near=40, registered_far=registered_far)
    call = client.post(f"{API}/calls", headers=analyst, json=simple_call()).json()["call"]
    served = client.get(f"{API}/calls/{call['id']}", headers=analyst).json()["cameras"]
    local = _console_list(client, admin, GeoPoint(call["lat"], call["lon"]))

    assert [o.camera.id for o in local] == [c["camera"]["id"] for c in served]
    assert [round(o.score, 4) for o in local] == [c["score"] for c in served]
    assert [o.explanation for o in local] == [c["explanation"] for c in served]
    tiers = [c["camera"]["tier"] for c in served]
    if registered_far:  # none in the top k: the best 3 registered are added after them
        assert tiers[: CONSOLE.nearest_count] == ["integrated"] * CONSOLE.nearest_count
        assert tiers[CONSOLE.nearest_count :] == ["registered"] * 3
    else:
        assert set(tiers) == {"integrated"} and len(tiers) == CONSOLE.nearest_count
