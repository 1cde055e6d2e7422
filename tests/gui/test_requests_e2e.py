"""Issue 11, "Done when": a call; a geo-fenced request drawn in the console's real map to
three seeded owners (a fourth, whose mail server refuses, and two excluded owners around
them); three e-mails arriving at a real SMTP server (aiosmtpd on loopback), one per owner,
plain and HTML, revealing no other owner; one answer of each kind through the API (an
upload with the real tus client, "no footage", "declined"); and the console's Requests
panel showing each state live from the event stream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtCore import Qt

from rtcc_console.sim.smtp_sink import SmtpSink
from tests.gui.conftest import ConsoleServer
from tests.gui.map_support import evaluate
from tests.gui.requests_support import SPOT, link_token, seed_owner, smtp_settings, text_of

pytestmark = pytest.mark.gui

OWNERS = {
    "own-a": "alice@owners.example",
    "own-b": "bob@owners.example",
    "own-c": "carol@owners.example",
}
REFUSED = "dan@owners.example"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink(refuse={REFUSED}) as s:
        yield s


@pytest.fixture
def server(tmp_path: Path, sink: SmtpSink) -> Iterator[ConsoleServer]:
    srv = ConsoleServer(
        tmp_path, n_registered=20, n_integrated=5, settings_extra=smtp_settings(sink)
    )
    lat, lon = SPOT
    seed_owner(srv, "own-a", email_addr=OWNERS["own-a"], lat=lat + 0.0003, lon=lon)
    seed_owner(
        srv,
        "own-b",
        kind="business",
        email_addr=OWNERS["own-b"],
        lat=lat,
        lon=lon + 0.0004,
        cameras=2,
    )
    seed_owner(srv, "own-c", email_addr=OWNERS["own-c"], lat=lat - 0.0003, lon=lon - 0.0003)
    seed_owner(srv, "own-d", email_addr=REFUSED, lat=lat + 0.0002, lon=lon - 0.0004)
    seed_owner(
        srv, "own-out", email_addr="out@owners.example", lat=lat, lon=lon - 0.0005, accepts=False
    )
    seed_owner(
        srv, "own-far", email_addr="far@owners.example", lat=lat + 0.01, lon=lon
    )  # outside the area
    yield srv
    srv.stop()


def portal(
    server: ConsoleServer, method: str, token: str, suffix: str = "", **kw: Any
) -> requests.Response:
    return requests.request(
        method, f"{server.base}/api/v1/portal/requests/{token}{suffix}", timeout=15, **kw
    )


def test_request_drawn_in_the_console_mailed_answered_and_tracked_live(
    qtbot: Any, server: ConsoleServer, sink: SmtpSink, make_console: Any, tmp_path: Path
) -> None:
    window, api = make_console(server.base)
    reported = datetime.now(UTC) - timedelta(minutes=50)
    call = server.post_call(
        lat=SPOT[0],
        lon=SPOT[1],
        address="400 Quiet Ln, Dallas, TX",
        type_text="Burglary of a motor vehicle",
        reported_at=reported.isoformat(),
    )
    qtbot.waitUntil(lambda: window.call_queue.select_call(call["id"]), timeout=15_000)
    map_view = window.map_view
    qtbot.waitUntil(lambda: map_view.is_ready, timeout=30_000)

    # The analyst opens the form for the selected call and draws a polygon around the block.
    window.footage.new_action.trigger()  # Ctrl+Shift+R
    form = window.footage.form
    assert form.isVisible() and form.seed.call_id == call["id"]
    form.kind_polygon.setChecked(True)
    form.draw_button.click()
    qtbot.waitUntil(
        lambda: evaluate(qtbot, map_view, "rtcc.draw.drawing") == "polygon", timeout=10_000
    )
    d = 0.0012
    for lat, lon in [
        (SPOT[0] - d, SPOT[1] - d),
        (SPOT[0] + d, SPOT[1] - d),
        (SPOT[0] + d, SPOT[1] + d),
        (SPOT[0] - d, SPOT[1] + d),
    ]:
        evaluate(qtbot, map_view, "rtcc.draw.clickAt", lat, lon)
    with qtbot.waitSignal(
        form.preview_shown,
        timeout=20_000,
        check_params_cb=lambda p: p is not None and p["owners_included"] == 4,
    ) as sig:
        evaluate(qtbot, map_view, "rtcc.draw.finish")
    assert form.area is not None and form.area["kind"] == "polygon"
    assert sig.args[0]["excluded"]["opted_out"] == 1
    form.case_edit.setText("26-004711")
    form.quick_buttons[0].click()  # ±30 min around the reported time
    form.activateWindow()  # the form is its own window: its Ctrl+Return is not the main window's
    opened_top: list[bool] = []
    window.open_top_action.triggered.connect(lambda: opened_top.append(True))
    with qtbot.waitSignal(form.request_sent, timeout=20_000) as sent:
        qtbot.keyClick(form.case_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    request = sent.args[0]
    rid = request["id"]
    assert not opened_top
    assert sorted(i["owner_ref"] for i in request["items"]) == ["own-a", "own-b", "own-c", "own-d"]
    panel = window.footage.panel
    qtbot.waitUntil(lambda: panel.row_of(rid) is not None, timeout=10_000)

    # Three e-mails arrive, one per reachable owner; the fourth is refused by its server.
    assert sink.wait_for(3, timeout=30)
    got = sink.messages
    assert len(got) == 3 and sorted(r.rcpt_tos[0] for r in got) == sorted(OWNERS.values())
    tokens: dict[str, str] = {}
    for received in got:
        msg = received.message()
        owner = next(o for o, a in OWNERS.items() if a == received.rcpt_tos[0])
        assert msg.get_body(preferencelist=("plain",)) is not None
        assert msg.get_body(preferencelist=("html",)) is not None
        body = text_of(msg) + str(msg.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
        assert "26-004711" in body or "/portal/requests/" in body
        for other, addr in list(OWNERS.items()) + [("own-d", REFUSED)]:
            if other != owner:
                assert addr not in body and other not in body
        tokens[owner] = link_token(msg)

    def states() -> dict[str, str]:
        return panel.item_states(rid)

    qtbot.waitUntil(
        lambda: all(states().get(o, "").startswith("sent") for o in OWNERS), timeout=20_000
    )
    qtbot.waitUntil(
        lambda: states().get("own-d", "").startswith("undeliverable: 550"), timeout=20_000
    )
    assert REFUSED not in "".join(states().values())  # the console never shows an address

    # own-a opens the link (opened), then uploads a clip with the real tus client (uploaded).
    assert portal(server, "GET", tokens["own-a"]).status_code == 200
    qtbot.waitUntil(lambda: states().get("own-a", "").startswith("opened"), timeout=10_000)
    from tusclient import client as tus_client

    from rtcc_console.sim.clip_file import write_mp4

    clip = write_mp4(
        tmp_path / "porch.mp4",
        name="Porch",
        index=3,
        seconds=2.0,
        size=(320, 180),
        cache_dir=tmp_path,
    )
    tus = tus_client.TusClient(
        f"{server.base}/api/v1/uploads", headers={"Upload-Token": tokens["own-a"]}
    )
    tus.uploader(
        file_path=str(clip),
        chunk_size=1 << 20,
        retries=0,
        metadata={"request_token": tokens["own-a"], "filename": clip.name},
    ).upload()
    qtbot.waitUntil(
        lambda: states().get("own-a", "").startswith("uploaded (1 file)"), timeout=20_000
    )

    # own-b: "no footage for that time"; own-c: declines. Each shows live in the panel.
    r = portal(server, "POST", tokens["own-b"], "/answer", json={"answer": "no_footage"})
    assert r.status_code == 200, r.text
    qtbot.waitUntil(lambda: states().get("own-b", "").startswith("no footage"), timeout=10_000)
    r = portal(
        server, "POST", tokens["own-c"], "/answer", json={"answer": "declined", "note": "privacy"}
    )
    assert r.status_code == 200, r.text
    qtbot.waitUntil(lambda: states().get("own-c", "").startswith("declined"), timeout=10_000)
    # The link was single-use for an answer.
    assert (
        portal(server, "POST", tokens["own-b"], "/answer", json={"answer": "declined"}).status_code
        == 410
    )

    row = panel.row_of(rid)
    assert row is not None and "26-004711" in row.text(0) and row.text(3) == "ana"
    summary = row.text(1)
    assert all(
        s in summary for s in ("1 uploaded", "1 no footage", "1 declined", "1 undeliverable")
    )

    # Double-click shows the request's area on the map with its owners' cameras.
    with qtbot.waitSignal(panel.shown_on_map, timeout=5000):
        panel.tree.itemDoubleClicked.emit(row, 0)
    cams = sum(len(i["camera_ids"]) for i in request["items"])
    qtbot.waitUntil(
        lambda: (
            (evaluate(qtbot, map_view, "rtcc.draw.state")["shown"] or {}).get("cameras") == cams
        ),
        timeout=10_000,
    )

    # The form is a window of its own: locking the console hides it with the data.
    window.footage.new_action.trigger()
    assert form.isVisible()
    window.lock()
    assert not form.isVisible()
