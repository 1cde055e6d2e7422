"""The status bar clock: agency time zone with its UTC offset, ticking."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.qtbot import QtBot

from rtcc_console.ui.console_status import ConsoleStatusBar


def test_clock_shows_agency_zone_and_offset_across_dst(qtbot: QtBot) -> None:
    bar = ConsoleStatusBar("America/Chicago")
    qtbot.addWidget(bar)
    assert bar.clock_text(datetime(2026, 1, 15, 18, 5, 9, tzinfo=UTC)) == "12:05:09 CST (UTC-06:00)"
    assert bar.clock_text(datetime(2026, 7, 15, 18, 5, 9, tzinfo=UTC)) == "13:05:09 CDT (UTC-05:00)"
    india = ConsoleStatusBar("Asia/Kolkata")
    qtbot.addWidget(india)
    assert (
        india.clock_text(datetime(2026, 1, 15, 18, 5, 9, tzinfo=UTC)) == "23:35:09 IST (UTC+05:30)"
    )


def test_clock_ticks(qtbot: QtBot) -> None:
    times = iter([datetime(2026, 3, 1, 12, 0, s, tzinfo=UTC) for s in range(60)])
    bar = ConsoleStatusBar("UTC", now=lambda: next(times))
    qtbot.addWidget(bar)
    first = bar.clock_label.text()
    assert first.startswith("12:00:00 UTC (UTC+00:00)")
    qtbot.waitUntil(lambda: bar.clock_label.text() != first, timeout=3000)
    assert bar.clock_label.text().startswith("12:00:01")
