"""Screenshot of the Evidence tab filtered to "truck", the player on a detected moment (offscreen):

    .venv/bin/python scripts/vehicle_screenshots.py [--out docs]

The embedded server with its vault and its vehicle index worker process; three clips made
from Debian's darknet photos are uploaded to one case (a street with a pickup, a car and a
bicycle; a field with horses; a parked street where a pickup drives by); the worker indexes
them; the tab shows the case, the filter is set to "truck", the best moment is chosen and
the player pauses there with the box drawn. Writes console-vehicles.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PASSWORD = "a-password-of-12+chars"


def wait(app: object, pred: Callable[[], bool], timeout_s: float = 120.0, what: str = "") -> None:
    end = time.monotonic() + timeout_s
    while not pred():
        app.processEvents()  # type: ignore[attr-defined]
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    from rtcc_console.ui.app import prepare_environment

    prepare_environment()
    from PySide6.QtWidgets import QApplication

    from rtcc_console.client import vehicles_api
    from rtcc_console.client.api import ApiClient
    from rtcc_console.client.evidence_api import EvidenceApi
    from rtcc_console.config import ServerSettings
    from rtcc_console.server.embedded import EmbeddedServer
    from rtcc_console.sim.darknet_photos import photos_dir
    from rtcc_console.sim.vehicle_clips import Segment, Sprite, read_photo, write_clip
    from rtcc_console.ui import tasks
    from rtcc_console.ui.evidence.tab import EvidenceTab
    from rtcc_console.ui.theme import apply_dark_theme

    tmp = Path(tempfile.mkdtemp(prefix="rtcc-vehicle-shots-"))
    photos = photos_dir()
    dog, horses, giraffe = (
        read_photo(photos / n) for n in ("dog.jpg", "horses.jpg", "giraffe.jpg")
    )
    h, w = dog.shape[:2]
    pickup = dog[int(0.08 * h) : int(0.33 * h), int(0.55 * w) : w]
    size = (960, 540)
    clips = {
        "elm-st-porch.mp4": write_clip(
            tmp / "a.mp4",
            [
                Segment(giraffe, 2, (0, 0, 0.9, 0.9), (0.05, 0.05, 0.9, 0.9)),
                Segment(dog, 6, (0, 0, 0.95, 0.95), (0.05, 0.05, 0.95, 0.95)),
            ],
            size=size,
        ),
        "pasture-gate.mp4": write_clip(
            tmp / "b.mp4", [Segment(horses, 6, (0, 0, 0.9, 0.9), (0.1, 0, 0.9, 0.9))], size=size
        ),
        "field-road.mp4": write_clip(
            tmp / "c.mp4",
            [
                Segment(horses, 3, (0, 0, 1, 1)),
                Segment(
                    horses, 4, (0, 0, 1, 1), sprite=Sprite(pickup, 0.4, (1.1, 0.72), (-0.1, 0.72))
                ),
            ],
            size=size,
        ),
    }
    db_url = "sqlite:///" + str(tmp / "s.sqlite")
    server = EmbeddedServer(
        ServerSettings(
            dev_mode=True,
            port=0,
            db_url=db_url,
            vault_dir=tmp / "vault",
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
        )
    )
    base = server.start()
    server.ensure_user("ana", "analyst", PASSWORD)
    case = "DPD-26-004717"
    try:
        api = ApiClient(base)
        api.login("ana", PASSWORD)
        ev = EvidenceApi(api, tmp / "cache")
        ids = []
        for name, path in clips.items():
            named = path.rename(path.with_name(name))
            ids.append(str(ev.form_upload(named, case_number=case)["evidence_id"]))
        end = time.monotonic() + 180
        while time.monotonic() < end:
            states = [vehicles_api.item_vehicles(api, i).status for i in ids]
            if all(s in ("done", "failed") for s in states):
                break
            time.sleep(0.5)
        print("index states:", states)

        app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_dark_theme(app)  # type: ignore[arg-type]
        tasks.install()
        tab = EvidenceTab(ev)
        tab.resize(1150, 1000)
        tab.show()
        loaded: list[int] = []
        tab.items_loaded.connect(loaded.append)
        tab.show_case(case)
        wait(app, lambda: bool(loaded), what="the case's items")
        vf = tab.vehicle_filter
        assert vf is not None
        results: list[object] = []
        vf.results_changed.connect(results.append)
        vf.set_filter("truck")
        wait(
            app,
            lambda: bool(results) and results[-1].query.vehicle == "truck",
            what="the truck search",
        )  # type: ignore[attr-defined]
        wait(
            app,
            lambda: all(not vf.list.item(i).icon().isNull() for i in range(vf.list.count())),
            20,
            "thumbnails",
        )
        opened: list[str] = []
        tab.player.opened.connect(opened.append)
        vf.choose(0)
        wait(app, lambda: bool(opened), what="the player")
        moment = vf.moments()[0]
        frame_time = min(
            tab.player.player.info.frame_times_s, key=lambda t: abs(t - moment.best_time_s)
        )  # type: ignore[union-attr]
        wait(
            app,
            lambda: (
                tab.player.view.frame is not None
                and tab.player.view.box is not None
                and abs(tab.player.player.info.frame_times_s[tab.player.shown_index] - frame_time)
                < 1e-6
            ),
            30,
            "the moment",
        )  # type: ignore[union-attr]
        wait(
            app,
            lambda: all(i.id in tab.model.thumbs for i in tab.model.items if i.has_thumbnail),
            10,
            "row thumbnails",
        )
        for _ in range(30):
            app.processEvents()
            time.sleep(0.01)
        args.out.mkdir(parents=True, exist_ok=True)
        tab.grab().save(str(args.out / "console-vehicles.png"))
        tab.shutdown()
        print(f"wrote {args.out / 'console-vehicles.png'}; moment {moment}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
