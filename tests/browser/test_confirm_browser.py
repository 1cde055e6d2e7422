"""The yearly confirmation in Chromium against a running server (uvicorn) and a real SMTP
sink: a camera its owner left unanswered turns stale through the server's own sweep, My
cameras shows the badge and "Last confirmed"; the e-mailed link opens the confirm page in a
browser that is not signed in, and "Still there" there clears the stale mark. Screenshot:
``docs/portal-my-cameras-stale.png`` and ``docs/portal-confirm-link.png`` (with
RTCC_DOCS_SCREENSHOTS=1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from rtcc_console.core.models import utcnow
from rtcc_console.sim.smtp_sink import SmtpSink
from tests.browser.conftest import NEEDS_CHROMIUM, running_server, wait
from tests.browser.test_portal_browser import events, fill, shot
from tests.server.portal_support import PW

pytestmark = NEEDS_CHROMIUM
EMAIL = "owner@corner-shop.example"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Any, str, SmtpSink]]:
    with (
        SmtpSink() as sink,
        running_server(tmp_path, "portal.sqlite", sink=sink, camera_confirm_sweep_s=0.3) as (
            embedded,
            base,
        ),
    ):
        yield embedded, base, sink


def _owner_with_cameras(embedded: Any) -> tuple[str, str, str]:
    """A verified owner with three cameras: one asked a month ago (no answer), two due now
    (one e-mail asks about both)."""
    from rtcc_console.server import camera_store
    from rtcc_console.store import confirmations, portal

    state = embedded.state
    now = utcnow()
    with state.db.write() as s:
        account = portal.create_account(
            s,
            name="Corner Shop",
            kind="business",
            email=EMAIL,
            password_hash=state.passwords.hash(PW),
        )
        assert account is not None
        portal.mark_verified(s, account_id=account.id)
        ids = []
        for name, lat in (
            ("Back door", 40.7131),
            ("Front window", 40.7128),
            ("Loading bay", 40.7125),
        ):
            row = camera_store.create_camera(
                s,
                fields={
                    "name": name,
                    "tier": "registered",
                    "kind": "business",
                    "sharing_mode": "request_only",
                    "lat": lat,
                    "lon": -74.006,
                    "address": "12 Market St",
                    "owner_id": account.owner_id,
                },
            )
            ids.append(row.id)
        confirmations.set_cycle(
            s,
            camera_id=ids[0],
            confirmed_at=now - timedelta(days=400),
            confirm_asked_at=now - timedelta(days=35),
        )
        confirmations.set_cycle(s, camera_id=ids[1], confirmed_at=now - timedelta(days=366))
        confirmations.set_cycle(s, camera_id=ids[2], confirmed_at=now - timedelta(days=370))
    return ids[0], ids[1], ids[2]


def test_stale_camera_on_my_cameras_and_the_emailed_link(server: Any, chromium: Any) -> None:
    from selenium.webdriver.common.by import By

    embedded, base, sink = server
    stale_id, due_id, gone_id = _owner_with_cameras(embedded)
    wait(lambda: events(embedded, "camera.stale"), what="the sweep marks the camera stale")
    d = chromium
    d.get(f"{base}/portal/sign-in")
    fill(d, "email", EMAIL)
    fill(d, "password", PW)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
    wait(lambda: d.current_url.endswith("/portal/cameras"), what="signed in")
    badge = d.find_element(By.ID, f"stale-{stale_id}")
    assert badge.is_displayed() and "Not confirmed" in badge.text
    assert not d.find_elements(By.ID, f"stale-{due_id}")
    card = d.find_element(By.ID, f"camera-{stale_id}").text
    assert re.search(r"Last confirmed \d{4}-\d{2}-\d{2}", card) and "Still there" in card
    shot(d, "my-cameras-stale")

    # the two cameras due now were e-mailed in ONE message; its link works in a browser that
    # is not signed in, lists both ticked, and the owner unticks the one that is gone
    def link() -> str | None:
        for m in list(sink.messages):
            body = m.message().get_body(preferencelist=("plain",))
            found = re.search(
                r"https?://\S+/confirm\?token=\S+", body.get_content() if body else ""
            )
            if EMAIL in m.rcpt_tos and found:
                return found.group(0)
        return None

    url = str(wait(link, what="the confirmation e-mail"))
    assert "/portal/confirm?token=" in url
    assert (
        len([m for m in list(sink.messages) if "still there" in str(m.message()["Subject"])]) == 1
    )
    d.delete_all_cookies()
    d.get(url)
    assert "2 cameras" in d.find_element(By.TAG_NAME, "h1").text
    boxes = d.find_elements(By.CSS_SELECTOR, "input[type=checkbox][name=camera]")
    assert sorted(b.get_attribute("value") for b in boxes) == sorted([due_id, gone_id])
    assert all(b.is_selected() for b in boxes)
    d.find_element(By.CSS_SELECTOR, f"input[name=camera][value='{gone_id}']").click()
    shot(d, "confirm-link")
    d.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait(lambda: "Thank you" in d.page_source, what="confirmed")
    assert "Front window" in d.page_source and "1 camera(s) you unticked" in d.page_source
    d.get(url)
    wait(lambda: "cannot be used" in d.page_source, what="the link works once")

    # signed in again: "Still there" clears the stale mark
    d.get(f"{base}/portal/sign-in")
    fill(d, "email", EMAIL)
    fill(d, "password", PW)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
    wait(lambda: d.current_url.endswith("/portal/cameras"), what="signed in again")
    d.find_element(By.CSS_SELECTOR, f"#camera-{stale_id} .confirm button").click()
    wait(lambda: "confirmed for another year" in d.page_source, what="still there")
    assert not d.find_elements(By.ID, f"stale-{stale_id}")
    assert [e["camera_id"] for e in events(embedded, "camera.confirmed")] == [due_id, stale_id]
