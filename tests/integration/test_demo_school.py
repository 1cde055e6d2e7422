"""``rtcc demo``'s school: its portal account signs in with the printed password, and its
alarm panel's signed panic starts an emergency for the school's cameras."""

from __future__ import annotations

import json
import re
from pathlib import Path

import requests

from rtcc_console.config import ServerSettings
from rtcc_console.demo_portal import DEMO_SCHOOL_EMAIL, DemoSchool
from rtcc_console.server.embedded import EmbeddedServer
from rtcc_console.server.eventlog import load_events
from rtcc_console.sim.seed import generate_registry, seed_database


def test_demo_school_signs_in_and_presses_the_panic_button(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    seed_database(db_url, generate_registry(seed=4, n_registered=20, n_integrated=6))
    server = EmbeddedServer(
        ServerSettings(
            dev_mode=True,
            port=0,
            db_url=db_url,
            vault_dir=tmp_path / "vault",
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
        )
    )
    server.start()
    school = DemoSchool(server, first_after_s=3600)
    try:
        school.start()
        web = requests.Session()
        page = web.get(school.portal_url + "sign-in", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = web.post(
            school.portal_url + "sign-in",
            allow_redirects=False,
            timeout=10,
            data={"csrf_token": token, "email": DEMO_SCHOOL_EMAIL, "password": school.password},
        )
        assert r.status_code == 303, r.text
        cameras = web.get(school.portal_url + "cameras", timeout=10)
        assert cameras.status_code == 200 and cameras.text.count('class="card"') == 2
        assert school.press(level=4) and school.presses == 1
        with server.state.db.read() as session:
            panics = [
                json.loads(e.data)
                for e in load_events(session, after=0, limit=10_000)
                if e.type == "emergency.panic"
            ]
        assert (
            panics
            and panics[0]["site"]["kind"] == "school"
            and len(panics[0]["emergency"]["camera_ids"]) == 2
        )
        assert "Emergency running" in web.get(school.portal_url + "panic", timeout=10).text
    finally:
        school.stop()
        server.stop()
