"""Screenshots of the footage-request drawing tools and the Requests panel (offscreen):

    .venv/bin/python scripts/request_screenshots.py [--out docs]

A real run: the embedded server with a seeded registry and a real SMTP sink, owners around
a call, the console's own map page. The three drawing tools (circle around the call,
polygon, corridor along a path) are drawn in the map with the same page calls the mouse
triggers, each grabbed with its area label, next to the request form and its preview
(docs/console-request-draw.png). Then requests are sent, owners answer through the API
(upload with tuspy, no footage, decline; one address refused by the mail server), and the
Requests panel is grabbed (docs/console-requests.png).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

PASSWORD = "a-password-of-12+chars"
SPOT = (32.7801, -96.8001)


def wait(app: Any, pred: Callable[[], bool], timeout_s: float = 30.0) -> None:
    end = time.monotonic() + timeout_s
    while not pred():
        app.processEvents()
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for the console")
        time.sleep(0.01)


def settle(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def evaluate(app: Any, view: Any, fn: str, *args: Any) -> Any:
    box: list[Any] = []
    view.evaluate(fn, box.append, *args)
    wait(app, lambda: bool(box), 10)
    return box[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    from rtcc_console.ui.app import prepare_environment

    prepare_environment()
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
    from PySide6.QtWidgets import QApplication
    from tusclient import client as tus_client

    from rtcc_console.client.api import ApiClient
    from rtcc_console.config import ConsoleSettings, ServerSettings
    from rtcc_console.core.models import Camera, CameraKind, GeoPoint, Owner, SharingMode, Tier
    from rtcc_console.server.embedded import EmbeddedServer
    from rtcc_console.sim.clip_file import write_mp4
    from rtcc_console.sim.seed import generate_registry, seed_database
    from rtcc_console.sim.smtp_sink import SmtpSink
    from rtcc_console.store.cameras import save_camera
    from rtcc_console.store.owners import save_owner
    from rtcc_console.ui.app import build_console

    tmp = Path(tempfile.mkdtemp(prefix="rtcc-request-shots-"))
    smtp = SmtpSink(refuse={"d.owner@example.org"}).start()
    db_url = "sqlite:///" + str(tmp / "s.sqlite")
    seed_database(db_url, generate_registry(seed=3, n_registered=900, n_integrated=120))
    server = EmbeddedServer(
        ServerSettings(
            dev_mode=True,
            port=0,
            db_url=db_url,
            vault_dir=tmp / "vault",
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_security="none",
            mail_poll_s=0.2,
            request_reminders_s=[6],  # unanswered items turn overdue within the run
        )
    )
    base = server.start()
    server.ensure_user("ana", "analyst", PASSWORD)
    api_url = f"{base}/api/v1"
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        analyst = ApiClient(base)
        analyst.login("ana", PASSWORD)
        staff = analyst.auth_headers()
        owners = [
            ("own-9001", "residential", "a.owner@example.org", 0.0004, 0.0),
            ("own-9002", "business", "b.owner@example.org", 0.0, 0.0005),
            ("own-9003", "residential", "c.owner@example.org", -0.0004, -0.0003),
            ("own-9004", "school", "d.owner@example.org", 0.0003, -0.0005),
            ("own-9005", "residential", "e.owner@example.org", -0.0002, 0.0006),
        ]
        for oid, kind, mail, dlat, dlon in owners:
            with server.state.db.write() as session:
                save_owner(
                    session, owner=Owner(id=oid, name=oid, kind=CameraKind(kind), email=mail)
                )
                save_camera(
                    session,
                    camera=Camera(
                        id=f"cam-{oid}",
                        name=f"{oid} front",
                        tier=Tier.REGISTERED,
                        kind=CameraKind(kind),
                        location=GeoPoint(SPOT[0] + dlat, SPOT[1] + dlon),
                        sharing_mode=SharingMode.REQUEST_ONLY,
                        address="Elm St",
                        owner_id=oid,
                    ),
                )
        now = datetime.now(UTC)
        call = requests.post(
            f"{api_url}/calls",
            headers=staff,
            timeout=10,
            json={
                "format": "simple",
                "incident_id": "DPD-26-004711",
                "type_code": "BMV",
                "type_text": "Burglary of a motor vehicle",
                "priority": 2,
                "status": "pending",
                "lat": SPOT[0],
                "lon": SPOT[1],
                "address": "1200 Elm St, Dallas, TX",
                "reported_at": (now - timedelta(minutes=40)).isoformat(),
                "updated_at": now.isoformat(),
            },
        ).json()["call"]

        api = ApiClient(base)
        user = api.login("ana", PASSWORD)
        settings = ConsoleSettings(
            server_url=base, cache_dir=tmp / "cache", time_zone="America/Chicago"
        )
        window = build_console(settings, api, user=user, settings_file=tmp / "console.ini")
        window.resize(1600, 960)
        window.show()
        wait(app, lambda: window.call_queue.select_call(call["id"]), 30)
        mv = window.map_view
        wait(app, lambda: mv.is_ready, 30)
        window.footage.new_request()
        form = window.footage.form
        form.case_edit.setText("DPD-26-004711")
        previews: list[Any] = []
        form.preview_shown.connect(previews.append)

        def grab_map(title: str) -> QPixmap:
            settle(app, 0.8)
            pix = mv.grab()
            p = QPainter(pix)
            p.fillRect(0, pix.height() - 30, pix.width(), 30, QColor(11, 15, 20, 220))
            p.setPen(QColor("#f5d48a"))
            p.setFont(QFont("DejaVu Sans", 11, QFont.Weight.Bold))
            p.drawText(12, pix.height() - 10, title)
            p.end()
            return pix

        mv.resize(620, 520)
        wait(app, lambda: form.area is not None, 15)  # the circle around the call, drawn at once
        evaluate(app, mv, "rtcc.map.setView", [SPOT[0], SPOT[1]], 17)
        shots = [grab_map("Circle around the call (radius 150 m), centre and radius handles")]
        form.kind_polygon.setChecked(True)
        form.draw_button.click()
        wait(app, lambda: evaluate(app, mv, "rtcc.draw.drawing") == "polygon")
        for dlat, dlon in [
            (-0.0009, -0.0011),
            (0.0010, -0.0012),
            (0.0012, 0.0006),
            (0.0001, 0.0013),
            (-0.0010, 0.0008),
        ]:
            evaluate(app, mv, "rtcc.draw.clickAt", SPOT[0] + dlat, SPOT[1] + dlon)
        evaluate(app, mv, "rtcc.draw.finish")
        shots.append(grab_map("Polygon with vertex handles"))
        form.kind_corridor.setChecked(True)
        form.width_spin.setValue(50)
        form.draw_button.click()
        wait(app, lambda: evaluate(app, mv, "rtcc.draw.drawing") == "corridor")
        for dlat, dlon in [
            (-0.0014, -0.0016),
            (-0.0003, -0.0004),
            (0.0002, 0.0009),
            (0.0013, 0.0014),
        ]:
            evaluate(app, mv, "rtcc.draw.clickAt", SPOT[0] + dlat, SPOT[1] + dlon)
        evaluate(app, mv, "rtcc.draw.finish")
        shots.append(grab_map("Corridor along a path, 50 m wide"))
        # back to the polygon for the form's preview
        form.kind_polygon.setChecked(True)
        form.set_area(
            {
                "kind": "polygon",
                "points": [
                    {"lat": SPOT[0] + a, "lon": SPOT[1] + b}
                    for a, b in [
                        (-0.0009, -0.0011),
                        (0.0010, -0.0012),
                        (0.0012, 0.0006),
                        (0.0001, 0.0013),
                        (-0.0010, 0.0008),
                    ]
                ],
            }
        )
        wait(
            app,
            lambda: (
                bool(previews)
                and previews[-1] is not None
                and form.area is not None
                and form.area["kind"] == "polygon"
            ),
            20,
        )
        settle(app, 0.5)
        form.resize(620, form.sizeHint().height())
        settle(app, 0.3)
        form_pix = form.grab()
        w = shots[0].width() * 2 + 30
        h = shots[0].height() * 2 + 30
        sheet = QPixmap(
            max(w, shots[0].width() + form_pix.width() + 30),
            max(h, shots[0].height() + form_pix.height() + 30),
        )
        sheet.fill(QColor("#0b0f14"))
        p = QPainter(sheet)
        p.drawPixmap(QPoint(10, 10), shots[0])
        p.drawPixmap(QPoint(20 + shots[0].width(), 10), shots[1])
        p.drawPixmap(QPoint(10, 20 + shots[0].height()), shots[2])
        p.drawPixmap(QPoint(20 + shots[0].width(), 20 + shots[0].height()), form_pix)
        p.end()
        args.out.mkdir(parents=True, exist_ok=True)
        sheet.save(str(args.out / "console-request-draw.png"))

        # Send, mail, answers; then the panel.
        sent: list[Any] = []
        form.request_sent.connect(sent.append)
        form.send()
        wait(app, lambda: bool(sent), 20)
        rid = sent[0]["id"]
        assert smtp.wait_for(4, timeout=30)
        tokens = []
        for received in smtp.messages:
            body = received.message().get_body(preferencelist=("plain",))
            m = re.search(
                r"/portal/requests/([A-Za-z0-9_-]{20,})", body.get_content() if body else ""
            )
            if m:
                tokens.append(m.group(1))
        requests.get(f"{api_url}/portal/requests/{tokens[0]}", timeout=10)
        clip = write_mp4(
            tmp / "porch.mp4", name="Porch", index=5, seconds=2.0, size=(320, 180), cache_dir=tmp
        )
        tus = tus_client.TusClient(f"{api_url}/uploads", headers={"Upload-Token": tokens[0]})
        tus.uploader(
            file_path=str(clip),
            chunk_size=1 << 20,
            retries=0,
            metadata={"request_token": tokens[0], "filename": clip.name},
        ).upload()
        requests.post(
            f"{api_url}/portal/requests/{tokens[1]}/answer",
            json={"answer": "no_footage"},
            timeout=10,
        )
        requests.post(
            f"{api_url}/portal/requests/{tokens[2]}/answer", json={"answer": "declined"}, timeout=10
        )
        requests.get(f"{api_url}/portal/requests/{tokens[3]}", timeout=10)
        # a second, older-looking request for another case on a corridor
        form2 = window.footage.form
        window.footage.new_request()
        form2.case_edit.setText("DPD-26-004689")
        form2.set_area(
            {
                "kind": "corridor",
                "width_m": 40,
                "points": [
                    {"lat": SPOT[0] - 0.0004, "lon": SPOT[1] - 0.0006},
                    {"lat": SPOT[0] + 0.0004, "lon": SPOT[1] + 0.0007},
                ],
            }
        )
        wait(app, lambda: form2.area is not None and form2.area["kind"] == "corridor", 10)
        sent.clear()
        form2.send()
        wait(app, lambda: bool(sent), 20)
        panel = window.footage.panel

        def done() -> bool:
            st = " ".join(panel.item_states(rid).values())
            return all(
                s in st for s in ("uploaded", "no footage", "declined", "opened", "undeliverable")
            )

        wait(app, done, 30)
        settle(app, 6.5)  # past the reminder offset: the unanswered items are overdue now
        panel.reload()
        wait(app, lambda: "overdue" in panel.status_label.text(), 20)
        dock = window.docks["requests"]
        dock.setFloating(True)  # a fixed size for the picture, whatever the dock layout
        dock.resize(940, 540)
        dock.show()
        settle(app, 0.5)
        panel.tree.setColumnWidth(0, 190)
        settle(app, 0.3)
        panel.grab().save(str(args.out / "console-requests.png"))
        print(
            f"wrote {args.out / 'console-request-draw.png'} and {args.out / 'console-requests.png'}"
        )
        window.close()
    finally:
        server.stop()
        smtp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
