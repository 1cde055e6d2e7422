"""Screenshots of the Evidence tab and the player from a real run (offscreen):

    .venv/bin/python scripts/evidence_screenshots.py [--out docs]

The embedded server with its vault and a real SMTP sink; a call, a footage request whose
owners upload through tuspy (with stated camera clock offsets), a wall-style staff upload,
one stored file changed on disk and re-verified (an integrity failure); then the tab shows
the case and the player sits on a frame. Writes console-evidence.png and console-player.png.
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

import requests

PASSWORD = "a-password-of-12+chars"
CENTER = (32.7801, -96.8001)


def wait(app: object, pred: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    end = time.monotonic() + timeout_s
    while not pred():
        app.processEvents()  # type: ignore[attr-defined]
        if time.monotonic() > end:
            raise SystemExit(
                f"timed out waiting for the console ({what}): {getattr(app, '_why', '')}"
            )
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument(
        "--narrow", type=Path, default=None, help="also grab the tab at dock width here"
    )
    args = parser.parse_args(argv)
    from rtcc_console.ui.app import prepare_environment

    prepare_environment()
    from PySide6.QtWidgets import QApplication
    from tusclient import client as tus_client

    from rtcc_console.client.api import ApiClient
    from rtcc_console.client.evidence_api import EvidenceApi
    from rtcc_console.config import ServerSettings
    from rtcc_console.server.embedded import EmbeddedServer
    from rtcc_console.sim.clip_file import write_mp4
    from rtcc_console.sim.seed import generate_registry, seed_database
    from rtcc_console.sim.smtp_sink import SmtpSink
    from rtcc_console.ui import tasks
    from rtcc_console.ui.evidence.tab import EvidenceTab
    from rtcc_console.ui.theme import apply_dark_theme

    tmp = Path(tempfile.mkdtemp(prefix="rtcc-evidence-shots-"))
    smtp = SmtpSink().start()
    db_url = "sqlite:///" + str(tmp / "s.sqlite")
    seed_database(db_url, generate_registry(seed=1, n_registered=400, n_integrated=60))
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
        )
    )
    base = server.start()
    server.ensure_user("ana", "analyst", PASSWORD)
    api_url = f"{base}/api/v1"
    try:
        api = ApiClient(base)
        api.login("ana", PASSWORD)
        staff = api.auth_headers()
        now = datetime.now(UTC)
        call = requests.post(
            f"{api_url}/calls",
            headers=staff,
            timeout=10,
            json={
                "format": "simple",
                "incident_id": "DPD-26-004711",
                "type_code": "BURG",
                "type_text": "Burglary of a vehicle",
                "priority": 2,
                "status": "pending",
                "lat": CENTER[0],
                "lon": CENTER[1],
                "address": "1200 Elm St, Dallas, TX",
                "reported_at": now.isoformat(),
                "updated_at": now.isoformat(),
            },
        ).json()["call"]
        case = "DPD-26-004711"
        r = requests.post(
            f"{api_url}/footage-requests",
            headers=staff,
            timeout=20,
            json={
                "client_key": "shots-0001",
                "case_number": case,
                "offence_category": "burglary",
                "call_id": call["id"],
                "area": {
                    "kind": "circle",
                    "center": {"lat": CENTER[0], "lon": CENTER[1]},
                    "radius_m": 500,
                },
                "window_start": (now - timedelta(hours=1)).isoformat(),
                "window_end": now.isoformat(),
                "message": "Please send video of Elm St between these times.",
            },
        )
        r.raise_for_status()
        tokens: list[str] = []
        end = time.monotonic() + 30
        while len(tokens) < 3 and time.monotonic() < end:
            tokens = []
            for received in list(smtp.messages):
                body = received.message().get_body(preferencelist=("plain", "html"))
                m = re.search(
                    r"/portal/requests/([A-Za-z0-9_-]{20,})", body.get_content() if body else ""
                )
                if m and m.group(1) not in tokens:
                    tokens.append(m.group(1))
            time.sleep(0.2)
        names = ["Porch camera", "Garage east", "Shop front"]
        offsets = ["90", "0", "-42.5"]
        for i, token in enumerate(tokens[:3]):
            # the camera's clock is off by the offset the owner states: it stamped true + offset
            stamp = now - timedelta(minutes=40 - 7 * i) + timedelta(seconds=float(offsets[i]))
            clip = write_mp4(
                tmp / f"{names[i].lower().replace(' ', '-')}.mp4",
                name=names[i],
                index=20 + i,
                seconds=6.0,
                size=(640, 360),
                cache_dir=tmp,
                start_time=stamp,
            )
            page = requests.get(f"{api_url}/portal/requests/{token}", timeout=10).json()
            cameras = [c["id"] for c in page.get("cameras", [])]
            meta = {"request_token": token, "filename": clip.name, "clock_offset_s": offsets[i]}
            if cameras:
                meta["camera_id"] = cameras[0]
            tus = tus_client.TusClient(f"{api_url}/uploads", headers={"Upload-Token": token})
            tus.uploader(file_path=str(clip), chunk_size=1 << 20, retries=0, metadata=meta).upload()
        ev = EvidenceApi(api, tmp / "cache")
        wall_clip = write_mp4(
            tmp / "cam-000031_20261129T180501Z.mp4",
            name="Wall tile 3",
            index=31,
            seconds=4.0,
            size=(640, 360),
            cache_dir=tmp,
            start_time=now,
        )
        ev.form_upload(wall_clip, case_number=case, call_id=call["id"], camera_id="cam-000031")
        items = ev.list_items(case_number=case)
        victim = next(
            i for i in items if i.filename == "garage-east.mp4"
        )  # changed behind the vault's back
        for blob in (tmp / "vault").rglob(f"*{victim.sha256}*"):
            if blob.is_file() and blob.suffix not in (".jpg", ".json"):
                blob.chmod(0o644)
                raw = bytearray(blob.read_bytes())
                raw[len(raw) // 2] ^= 0xFF
                blob.write_bytes(bytes(raw))
        ev.verify(victim.id)

        app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_dark_theme(app)  # type: ignore[arg-type]
        tasks.install()
        from zoneinfo import ZoneInfo

        tab = EvidenceTab(ev, zone=ZoneInfo("America/Chicago"))
        tab.resize(1150, 900)
        tab.show()
        loaded: list[int] = []
        tab.items_loaded.connect(loaded.append)
        tab.show_case(case)
        wait(app, lambda: bool(loaded), what="step 1")
        first = next(i for i in tab.model.items if i.clock_offset_s > 0)  # shows the correction
        opened: list[str] = []
        tab.player.opened.connect(opened.append)
        tab.select_evidence(first.id)
        tab.player.open_failed.connect(lambda text: setattr(app, "_why", text))
        wait(app, lambda: bool(opened), what="step 2")
        tab.player.seek_index(47)
        wait(app, lambda: tab.player.shown_index == 47, what="step 3")
        wait(
            app,
            lambda: all(i.id in tab.model.thumbs for i in tab.model.items if i.has_thumbnail),
            10,
            what="step 4",
        )
        for _ in range(20):
            app.processEvents()
        args.out.mkdir(parents=True, exist_ok=True)
        tab.grab().save(str(args.out / "console-evidence.png"))
        if args.narrow is not None:
            tab.resize(660, 900)
            for _ in range(50):
                app.processEvents()
                time.sleep(0.01)
            tab.grab().save(str(args.narrow))
            tab.resize(1150, 900)
        tab.splitter.setSizes([150, 750])  # the player large, the list small
        wait(
            app,
            lambda: (
                tab.player.view.frame is not None
                and tab.player.view.frame.index == 47
                and (tab.player.view.frame.width, tab.player.view.frame.height)
                == tab.player._out_size()
            ),
        )
        tab.player.grab().save(str(args.out / "console-player.png"))
        tab.shutdown()
        print(f"wrote {args.out / 'console-evidence.png'} and {args.out / 'console-player.png'}")
    finally:
        server.stop()
        smtp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
