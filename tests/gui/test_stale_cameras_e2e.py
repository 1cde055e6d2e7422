"""End to end against the real server over loopback HTTP: a camera of the selected call's
list that the server's sweep marks stale reaches the console through the event stream (the
map's marker turns dashed, the list says "Not confirmed since"), and the owner's
confirmation clears it again."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from rtcc_console.core.models import utcnow
from rtcc_console.server.audit import Actor
from rtcc_console.server.camera_confirm import confirm_camera, sweep_pass
from rtcc_console.sim.seed import generate_registry
from rtcc_console.store import confirmations
from rtcc_console.store.schema import CameraRow
from rtcc_console.ui.camera_list import COL_BECAUSE
from tests.gui.conftest import ConsoleServer
from tests.gui.map_support import evaluate

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_a_camera_going_stale_and_confirmed_reaches_the_map_and_the_list(
    qtbot: Any, console_server: ConsoleServer, make_console: Any
) -> None:
    window, _api = make_console(console_server.base)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 280, timeout=15000)
    # the seed's ~2 % of cameras that start stale arrive marked
    seeded = generate_registry(seed=1, n_registered=200, n_integrated=80).stale_ids
    index = window.live.index
    marked = {i for i in index.camera_ids() if getattr(index.get(i), "stale", False)}
    assert marked == set(seeded) and seeded
    call = console_server.post_call()
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=10000)
    qtbot.waitUntil(lambda: window.camera_list.model.rowCount() > 0, timeout=5000)
    options = window.camera_list.model.options()
    target = next(o.camera for o in options if o.camera.owner_id and not o.camera.stale)
    assert not target.stale

    state = console_server.embedded.state
    now = utcnow()
    with state.db.write() as s:
        confirmations.set_cycle(
            s,
            camera_id=target.id,
            confirmed_at=now - timedelta(days=400),
            confirm_asked_at=now - timedelta(days=31),
        )
    assert sweep_pass(state).stale == [target.id]

    def row_of(camera_id: str) -> int | None:
        ids = [o.camera.id for o in window.camera_list.model.options()]
        return ids.index(camera_id) if camera_id in ids else None

    qtbot.waitUntil(
        lambda: bool(getattr(window.live.index.get(target.id), "stale", False)), timeout=10000
    )
    qtbot.waitUntil(lambda: row_of(target.id) is not None, timeout=5000)
    qtbot.waitUntil(
        lambda: str(
            window.camera_list.model.index(row_of(target.id), COL_BECAUSE).data()
        ).startswith("Not confirmed since "),
        timeout=5000,
    )
    qtbot.waitUntil(
        lambda: bool(
            (evaluate(qtbot, window.map_view, "rtcc.cameraStyle", target.id) or {}).get("dashArray")
        ),
        timeout=10000,
    )
    tip = evaluate(qtbot, window.map_view, "rtcc.cameraTip", target.id)
    assert "not confirmed since " in tip

    with state.db.write() as s:
        row = s.get(CameraRow, target.id)
        assert row is not None and row.owner_id
        assert confirm_camera(
            s,
            camera_id=target.id,
            owner_id=row.owner_id,
            actor=Actor(username=f"owner:{row.owner_id}", role="owner"),
            via="portal",
        )
    qtbot.waitUntil(lambda: window.live.index.get(target.id).stale is False, timeout=10000)  # type: ignore[union-attr]
    qtbot.waitUntil(
        lambda: (
            (evaluate(qtbot, window.map_view, "rtcc.cameraStyle", target.id) or {}).get("dashArray")
            is None
        ),
        timeout=10000,
    )
    row = row_of(target.id)
    assert row is not None
    assert not str(window.camera_list.model.index(row, COL_BECAUSE).data()).startswith(
        "Not confirmed"
    )


def test_the_seeded_stale_cameras_are_grey_dashed_around_a_call(
    qtbot: Any, console_server: ConsoleServer, make_console: Any, tmp_path: Any
) -> None:
    """The demo's seed: a call placed beside a seeded stale camera ranks it, and the map draws
    it dashed with its tooltip; screenshot ``docs/console-map-seeded-stale.png`` with
    RTCC_DOCS_SCREENSHOTS=1 (else a temporary file)."""
    registry = generate_registry(seed=1, n_registered=200, n_integrated=80)

    def alone(cam: Any) -> bool:  # no other camera drawn on top of it
        return all(
            abs(o.location.lat - cam.location.lat) + abs(o.location.lon - cam.location.lon) > 0.0005
            for o in registry.cameras
            if o.id != cam.id
        )

    stale = next(c for c in registry.cameras if c.stale and alone(c))
    window, _api = make_console(console_server.base)
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.map_view.width() > 700, timeout=5000)
    qtbot.waitUntil(lambda: window.live.link.value == "connected", timeout=15000)
    qtbot.waitUntil(lambda: len(window.live.index.camera_ids()) == 280, timeout=15000)
    call = console_server.post_call(
        lat=stale.location.lat + 0.0012, lon=stale.location.lon + 0.0012
    )
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=10000)
    qtbot.waitUntil(
        lambda: stale.id in [o.camera.id for o in window.camera_list.model.options()],
        timeout=10000,
    )
    qtbot.waitUntil(
        lambda: bool(
            (evaluate(qtbot, window.map_view, "rtcc.cameraStyle", stale.id) or {}).get("dashArray")
        ),
        timeout=10000,
    )
    fresh = next(o.camera.id for o in window.camera_list.model.options() if not o.camera.stale)
    assert (evaluate(qtbot, window.map_view, "rtcc.cameraStyle", fresh) or {}).get(
        "dashArray"
    ) is None
    assert "not confirmed since " in evaluate(qtbot, window.map_view, "rtcc.cameraTip", stale.id)
    docs = os.environ.get("RTCC_DOCS_SCREENSHOTS") == "1"
    target = (
        Path(__file__).parents[2] / "docs" if docs else Path(tmp_path)
    ) / "console-map-seeded-stale.png"
    assert window.map_view.grab().save(str(target))
