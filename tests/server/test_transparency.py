"""Transparency report and public page: the right monthly figures, charts as images, the
no-facial-recognition statement, and no personal data anywhere in the HTML, the PDF text or
the JSON (every seeded name, e-mail, address and case number is searched for)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rtcc_console.server.audit import Actor, append_audit
from rtcc_console.server.transparency import report_main
from rtcc_console.store.schema import (
    CameraRow,
    CaseExportRow,
    EmergencyRow,
    FootageRequestRow,
    LiveGrantRow,
    MisuseFlagRow,
    OwnerRow,
    RequestItemRow,
)

OWNERS = [
    ("Margarethe Quillfeather", "mq.private@example.net"),
    ("Bartholomew Ostrowski", "bart.ostro@example.org"),
    ("Sunnyvale Day School", "office@sunnyvaleday.example"),
]
ADDRESSES = ["4417 Wrenfield Lane", "902 Calloway Boulevard", "7 Juniper Hollow Court"]
CASES = ["26-0451973", "26-0888214"]
STAFF = ["ofc.zimmerwald", "analyst.penhaligon"]
CALL_ADDR = "1288 Marchbanks Street"


def at(month: int, day: int = 14, hour: int = 15) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def seed(app: Any) -> None:
    with app.state.rtcc.db.write() as s:
        for i, (name, email) in enumerate(OWNERS):
            s.add(
                OwnerRow(
                    id=f"own-{i}",
                    name=name,
                    kind="business",
                    email=email,
                    phone="+1 214 555 0199",
                    created_at=at(1),
                )
            )
        s.flush()
        for i in range(
            6
        ):  # 4 registered (Jan), 2 integrated (Feb); one registered revoked in March
            s.add(
                CameraRow(
                    id=f"cam-{i}",
                    name=f"{ADDRESSES[i % 3]} porch",
                    tier="integrated" if i >= 4 else "registered",
                    kind="business",
                    sharing_mode="live_always" if i >= 4 else "request_only",
                    lat=32.78,
                    lon=-96.8,
                    address=ADDRESSES[i % 3],
                    owner_id=f"own-{i % 3}",
                    created_at=at(1 if i < 4 else 2),
                    updated_at=at(3) if i == 0 else at(1),
                    revoked=i == 0,
                    change_seq=i + 1,
                )
            )
        s.flush()
        s.add(
            FootageRequestRow(
                id="req-1",
                geofence={},
                window_start=at(2),
                window_end=at(2, hour=16),
                created_by=STAFF[0],
                created_at=at(2),
                case_number=CASES[0],
                message=f"Burglary at {CALL_ADDR}",
            )
        )
        states = ["uploaded", "uploaded", "no_footage", "declined", "expired", "sent"]
        for i, state in enumerate(states):
            s.add(
                RequestItemRow(
                    id=f"fri-{i}",
                    owner_id=f"own-{i % 3}",
                    owner_kind="business",
                    camera_ids=[f"cam-{i % 4}"],
                    window_start=at(2),
                    window_end=at(2, hour=16),
                    state=state,
                    files=1,
                    link_nonce=f"n{i}",
                    token_hash=f"h{i}",
                    due_at=at(2, day=24),
                    created_at=at(2),
                    sent_at=at(2),
                    answered_at=at(2, day=16) if state not in ("expired", "sent") else None,
                    answer_note=f"call {OWNERS[0][1]}",
                )
            )
        for i in range(3):  # live views in March: 30 min each
            s.add(
                LiveGrantRow(
                    id=f"grant-{i}",
                    camera_id="cam-4",
                    username=STAFF[1],
                    reason=f"case {CASES[1]}",
                    issued_at=at(3, hour=10 + i),
                    expires_at=at(3, hour=10 + i) + timedelta(minutes=30),
                    ended_at=at(3, hour=10 + i) + timedelta(minutes=30),
                )
            )
        s.add(
            EmergencyRow(
                id="emg-1",
                owner_id="own-2",
                camera_ids=["cam-5"],
                started_at=at(3),
                reason=f"Panic (site key): {OWNERS[2][0]}, AVS-01 2, at {ADDRESSES[2]}",
            )
        )
        s.add(
            EmergencyRow(
                id="emg-2",
                camera_ids=["cam-4"],
                started_at=at(3, day=20),
                reason="declared",
                created_by=STAFF[0],
            )
        )
        s.add(
            CaseExportRow(
                id="exp-1",
                case_number=CASES[0],
                format="zip",
                status="done",
                created_by=STAFF[0],
                created_at=at(3),
            )
        )
        s.add(
            MisuseFlagRow(
                id="flag-1",
                kind="no_reason",
                username=STAFF[1],
                first_at=at(3),
                last_at=at(3),
                entry_ids=[1],
                explanation=f"{STAFF[1]} opened a view",
                raised_at=at(3),
                ack_by=STAFF[0],
                ack_at=at(3, day=15),
                ack_note=f"talked to {STAFF[1]}",
            )
        )
        append_audit(
            s,
            actor=Actor(STAFF[0], "supervisor"),
            action="registry.export",
            reason=OWNERS[1][1],
            at=at(3),
        )


SECRETS = (
    [n for n, _ in OWNERS]
    + [e for _, e in OWNERS]
    + ADDRESSES
    + CASES
    + STAFF
    + [CALL_ADDR, "555 0199"]
)


def assert_clean(text: str, where: str) -> None:
    lowered = text.lower()
    for secret in SECRETS:
        assert secret.lower() not in lowered, f"{secret!r} found in {where}"
        for part in re.split(r"[ .@]", secret):  # surnames, street names, mailbox names alone
            if (
                len(part) >= 6
                and not part.isdigit()
                and part.lower() not in {"school", "boulevard", "example"}
            ):
                assert part.lower() not in lowered, f"{part!r} (of {secret!r}) found in {where}"


def test_report_figures_and_no_personal_data(
    client: TestClient, app: Any, settings: Any, tmp_path: Path
) -> None:
    seed(app)
    out = tmp_path / "report.html"
    env_tz = settings.time_zone
    assert env_tz  # figures are bucketed in the agency's zone; the seeded times sit mid-month
    code = report_main(
        [
            "--from",
            "2026-01-01",
            "--to",
            "2026-04-01",
            "--out",
            str(out),
            "--pdf",
            "--db",
            settings.db_url,
        ]
    )
    assert code == 0
    html = out.read_text("utf-8")
    assert "No facial recognition is used" in html
    assert html.count("data:image/png;base64,") == 4
    rows = re.findall(r"<tr>(<td>2026-\d\d</td>.*?)</tr>", html)
    cells = [re.findall(r"<td>([^<]*)</td>", r) for r in rows]
    assert [c[0] for c in cells] == ["2026-01", "2026-02", "2026-03"] * 2  # two tables
    jan, feb, mar = cells[:3]
    # registered, integrated, new, revoked
    assert (
        jan[1:5] == ["4", "0", "4", "0"]
        and feb[1:5] == ["4", "2", "2", "0"]
        and mar[1:5] == ["3", "2", "0", "1"]
    )
    # footage requests, owners asked, footage, no footage, declined, expired
    assert feb[5:11] == ["1", "6", "2", "1", "1", "1"]
    # live views, hours, emergencies, panic presses, exports, flags, reviewed
    assert cells[5][1:8] == ["3", "1.5", "2", "1", "2", "1", "1"]
    assert "365 days" in html
    assert_clean(html, "the HTML report")

    from pypdf import PdfReader

    pdf_text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "report.pdf").pages)
    assert "No facial recognition is used" in pdf_text.replace("\n", " ")
    assert "2026-03" in pdf_text
    assert_clean(pdf_text, "the PDF report")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_public_page_needs_no_sign_in_is_cached_and_clean(client: TestClient, app: Any) -> None:
    app.state.rtcc.settings.transparency_policy_text = (
        "Cameras are used only for <b>crimes</b> & emergencies."
    )
    seed(app)
    r = client.get("/transparency")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "max-age=600" in r.headers["cache-control"]
    assert "No facial recognition is used" in r.text and "data:image/png;base64," in r.text
    assert "&lt;b&gt;crimes&lt;/b&gt; &amp; emergencies" in r.text  # policy text escaped
    assert_clean(r.text, "the public page")
    figures = client.get("/transparency.json").json()
    assert (
        figures["facial_recognition"] is False and len(figures["months"]) == 12
    )  # this month and the 11 before
    assert_clean(str(figures), "the public JSON")
    with app.state.rtcc.db.write() as s:  # a new camera does not show until the cache expires
        s.add(
            CameraRow(
                id="cam-new",
                name="x",
                tier="integrated",
                kind="business",
                sharing_mode="live_always",
                lat=32.7,
                lon=-96.8,
                change_seq=99,
            )
        )
    assert client.get("/transparency.json").json()["now"] == figures["now"]
    app.state.rtcc.extras.pop("transparency")
    assert (
        client.get("/transparency.json").json()["now"]["integrated"]
        == figures["now"]["integrated"] + 1
    )


def test_report_cli_rejects_bad_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["--from", "2026-13-01", "--to", "2027-01-01"],
        ["--from", "2026-02-01", "--to", "2026-01-01"],
    ):
        with pytest.raises(SystemExit) as exc:
            report_main([*argv, "--out", str(tmp_path / "r.html")])
        assert exc.value.code == 2
    assert not (tmp_path / "r.html").exists()


def test_report_cli_without_a_database_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    out = tmp_path / "r.html"
    assert (
        report_main(
            [
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
                "--out",
                str(out),
                "--db",
                f"sqlite:///{tmp_path / 'missing.sqlite'}",
            ]
        )
        == 2
    )
    assert not (tmp_path / "missing.sqlite").exists()
    sqlite3.connect(tmp_path / "empty.sqlite").close()
    assert (
        report_main(
            [
                "--from",
                "2026-01-01",
                "--to",
                "2026-02-01",
                "--out",
                str(out),
                "--db",
                f"sqlite:///{tmp_path / 'empty.sqlite'}",
            ]
        )
        == 2
    )
    assert "rtcc db upgrade" in capsys.readouterr().err and not out.exists()
