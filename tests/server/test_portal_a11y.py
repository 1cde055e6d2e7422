"""Portal accessibility checks that need no browser: every visible form field of every page
has a label (for= its id) or sits inside a labelled fieldset, one h1 per page, the language
is set; the colour pairs of portal.css pass WCAG AA (4.5:1 text, 3:1 focus ring)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.server.app import create_app
from rtcc_console.sim.smtp_sink import SmtpSink
from tests.server.conftest import make_settings
from tests.server.portal_support import Portal, register, sign_up

CSS = (
    Path(__file__).resolve().parents[2]
    / "rtcc_console"
    / "server"
    / "portal"
    / "static"
    / "portal.css"
)


class Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.h1 = 0
        self.lang: str | None = None
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.labels.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.fields.append({**a, "_wrapped": "1" if self._label_depth else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth -= 1


@pytest.fixture
def owner(db_url: str) -> Iterator[tuple[Portal, str]]:
    with SmtpSink() as sink:
        app = create_app(
            make_settings(db_url, smtp_host=sink.host, smtp_port=sink.port, smtp_security="none")
        )
        with TestClient(app):
            p = Portal(app)
            sign_up(p, sink, email="a11y@x.example", kind="school")
            yield p, register(p)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_field_has_a_label(owner: Any) -> None:
    p, cid = owner
    anon = Portal(p.client.app)
    pages = [anon.get("/portal/sign-up"), anon.get("/portal/sign-in")] + [
        p.get(path)
        for path in (
            "/portal/cameras",
            "/portal/cameras/new",
            f"/portal/cameras/{cid}/edit",
            "/portal/receipts",
            "/portal/panic",
        )
    ]
    for page in pages:
        assert page.status_code == 200
        parsed = Fields()
        parsed.feed(page.text)
        assert parsed.lang == "en" and parsed.h1 == 1, page.url
        assert parsed.fields or str(page.url).endswith("/receipts"), page.url
        for field in parsed.fields:
            labelled = (
                field.get("id") in parsed.labels or field.get("_wrapped") or field.get("aria-label")
            )
            assert labelled, (page.url, field)


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(
    ("fg", "bg", "minimum"),
    [
        ("#1a1a1a", "#ffffff", 4.5),  # body text
        ("#0b5394", "#ffffff", 4.5),  # links, secondary buttons
        ("#ffffff", "#0b5394", 4.5),  # primary buttons
        ("#ffffff", "#0b3a66", 4.5),  # header
        ("#a1001c", "#ffffff", 4.5),  # errors, warn buttons
        ("#a1001c", "#fdf0f2", 4.5),  # error banner
        ("#ffffff", "#a1001c", 4.5),  # panic button
        ("#4a4a4a", "#ffffff", 4.5),  # hints
        ("#1a1a1a", "#eef4fa", 4.5),  # notices
        ("#1a1a1a", "#ffd23f", 3.0),  # focus ring against its halo
        ("#555555", "#ffffff", 3.0),  # field borders (non-text)
    ],
)
def test_colour_pairs_pass_wcag_aa(fg: str, bg: str, minimum: float) -> None:
    css = CSS.read_text()
    assert fg in css and bg in css  # the pair is the stylesheet's, not made up here
    assert contrast(fg, bg) >= minimum, (fg, bg, round(contrast(fg, bg), 2))


def test_focus_is_visible_and_hidden_is_honoured() -> None:
    css = CSS.read_text()
    assert re.search(r":focus-visible[^{]*\{[^}]*outline: 3px solid", css)
    assert "[hidden] { display: none !important; }" in css
    assert "@media (max-width: 30rem)" in css  # phone layout
