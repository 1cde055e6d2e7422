"""Misuse flags: each fires on its seeded pattern and stays quiet over ordinary shifts."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rtcc_console.core.misuse import Entry, Flag, OpenCall, Thresholds, detect, flag_id

CHI = ZoneInfo("America/Chicago")
TH = Thresholds(time_zone="America/Chicago")
DAY0 = datetime(2026, 11, 2, tzinfo=CHI)  # a Monday
# downtown Dallas and cameras around it; "far" cameras 20 km north
CALL_POS = (32.7800, -96.8000)
NEAR = {f"cam-n{i}": (32.7800 + 0.001 * i, -96.8000 + 0.001 * (i % 3)) for i in range(12)}
FAR = {f"cam-f{i}": (32.9600 + 0.001 * i, -96.8000) for i in range(12)}
CAMERAS = {**NEAR, **FAR}


class Trail:
    """Builds entries with increasing ids."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def add(self, at: datetime, user: str, action: str, **kw: object) -> Entry:
        e = Entry(id=len(self.entries) + 1, at=at.astimezone(UTC), user=user, action=action, **kw)  # type: ignore[arg-type]
        self.entries.append(e)
        return e


def ordinary_week(trail: Trail, calls: list[OpenCall], seed: int = 7) -> None:
    """Three analysts, five day shifts 08:00-16:00: calls come in, they view nearby cameras
    with the case number, export a few clips, supervisors look at the trail."""
    rng = random.Random(seed)
    for day in range(5):
        base = DAY0 + timedelta(days=day)
        for hour in range(8, 16):
            opened = base + timedelta(hours=hour, minutes=rng.randint(0, 20))
            call = OpenCall(
                id=f"call-{day}-{hour}",
                lat=CALL_POS[0],
                lon=CALL_POS[1],
                opened_at=opened.astimezone(UTC),
                closed_at=(opened + timedelta(minutes=50)).astimezone(UTC),
            )
            calls.append(call)
        for user in ("ana", "bob", "cy"):
            t = base + timedelta(hours=8, minutes=rng.randint(0, 5))
            trail.add(t, user, "auth.login")
            while t < base + timedelta(hours=15, minutes=50):
                t += timedelta(minutes=rng.randint(4, 15))
                local_hour = t.hour
                if rng.random() < 0.7:
                    cam = rng.choice(sorted(NEAR))
                    trail.add(
                        t,
                        user,
                        "live.grant",
                        camera=cam,
                        reason=f"case 26-{day:02d}{local_hour:02d}{rng.randint(0, 99):02d}",
                    )
                elif rng.random() < 0.5:
                    trail.add(t, user, "call.acknowledged")
                else:
                    trail.add(t, user, "evidence.export_started", items=rng.randint(1, 4))
            trail.add(t + timedelta(minutes=3), user, "auth.logout")
        trail.add(base + timedelta(hours=9), "sue", "auth.login")
        for k in range(6):
            trail.add(
                base + timedelta(hours=9, minutes=5 + k * 50), "sue", "audit.view", reason="{}"
            )
        trail.add(base + timedelta(hours=15), "sue", "auth.logout")


def run(trail: Trail, calls: list[OpenCall], th: Thresholds = TH) -> list[Flag]:
    since = DAY0.astimezone(UTC) - timedelta(days=1)
    until = DAY0.astimezone(UTC) + timedelta(days=6)
    return detect(
        trail.entries, calls=calls, cameras=CAMERAS, thresholds=th, since=since, until=until
    )


def kinds(flags: list[Flag]) -> list[str]:
    return sorted(f.kind for f in flags)


def test_ordinary_shifts_raise_nothing() -> None:
    trail: Trail = Trail()
    calls: list[OpenCall] = []
    ordinary_week(trail, calls)
    assert len(trail.entries) > 500
    assert run(trail, calls) == []


def _week_plus(extra: Callable[[Trail, list[OpenCall]], None]) -> tuple[list[Flag], Trail]:
    trail: Trail = Trail()
    calls: list[OpenCall] = []
    ordinary_week(trail, calls)
    extra(trail, calls)
    return run(trail, calls), trail


def test_live_views_without_reason_are_flagged_per_user_and_day() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=1, hours=10, minutes=2)
        trail.add(t, "bob", "live.grant", camera="cam-n1", reason="")
        trail.add(t + timedelta(minutes=1), "bob", "live.grant", camera="cam-n2", reason="test")
        trail.add(
            t + timedelta(minutes=2),
            "bob",
            "live.grant",
            camera="cam-n3",
            reason="looking at the burglary scene",
        )
        trail.add(
            t + timedelta(minutes=3),
            "bob",
            "live.grant",
            camera="cam-n3",
            reason="",
            outcome="denied",
        )

    flags, trail = _week_plus(pattern)
    assert kinds(flags) == ["no_reason"]
    flag = flags[0]
    assert flag.user == "bob" and len(flag.entry_ids) == 2
    assert "2 live view(s)" in flag.explanation and "without a case number" in flag.explanation
    assert flag.id == flag_id("no_reason", "bob", flag.entry_ids[0])


def test_many_cameras_outside_any_open_call() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=2, hours=18)  # evening: no call open
        for i in range(9):
            trail.add(
                t + timedelta(minutes=3 * i),
                "cy",
                "live.grant",
                camera=f"cam-n{i}",
                reason=f"case 26-1000{i}",
            )

    flags, _ = _week_plus(pattern)
    assert kinds(flags) == ["many_cameras"]
    assert (
        flags[0].user == "cy"
        and len(flags[0].entry_ids) == 9
        and "9 different cameras" in flags[0].explanation
    )


def test_many_cameras_is_quiet_when_the_cameras_serve_an_open_call() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=2, hours=18)
        calls.append(
            OpenCall(
                id="call-evening", lat=CALL_POS[0], lon=CALL_POS[1], opened_at=t.astimezone(UTC)
            )
        )
        for i in range(9):
            trail.add(
                t + timedelta(minutes=3 * i),
                "cy",
                "live.grant",
                camera=f"cam-n{i}",
                reason=f"case 26-1000{i}",
            )

    flags, _ = _week_plus(pattern)
    assert flags == []


def test_views_far_from_every_open_call_but_not_in_an_emergency() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=3, hours=11, minutes=30)
        trail.add(t, "ana", "live.grant", camera="cam-f4", reason="case 26-0031199")
        trail.add(
            t + timedelta(minutes=1),
            "ana",
            "live.grant",
            camera="cam-f5",
            reason="panic at the school",
            emergency="emg-1",
        )

    flags, trail = _week_plus(pattern)
    assert kinds(flags) == ["far_from_calls"]
    assert flags[0].entry_ids == (len(trail.entries) - 1,) and "cam-f4" in flags[0].explanation
    assert "km from the nearest open call" in flags[0].explanation


def test_isolated_session_in_the_night() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(
            days=5, hours=13
        )  # Saturday afternoon: nobody else's shift, nothing for a day
        trail.add(t, "bob", "auth.login")
        trail.add(t + timedelta(minutes=2), "bob", "call.acknowledged")
        trail.add(t + timedelta(minutes=6), "bob", "auth.logout")

    flags, _ = _week_plus(pattern)
    assert kinds(flags) == ["isolated_session"]
    assert (
        flags[0].user == "bob"
        and len(flags[0].entry_ids) == 3
        and "about 6 minute(s)" in flags[0].explanation
    )


def test_after_hours_access_in_agency_time() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=1, hours=23, minutes=40)  # Tuesday night, Chicago
        trail.add(t, "ana", "auth.login")
        trail.add(t + timedelta(minutes=30), "ana", "evidence.played")
        trail.add(
            t + timedelta(hours=4), "ana", "registry.export"
        )  # 03:40 the next morning: the same night
        trail.add(t + timedelta(hours=6), "ana", "auth.logout")

    flags, _ = _week_plus(pattern)
    assert kinds(flags) == ["after_hours"]
    assert len(flags[0].entry_ids) == 2 and "night of 2026-11-03" in flags[0].explanation
    off = Thresholds(
        time_zone="America/Chicago", after_hours_start=time(1, 0), after_hours_end=time(1, 0)
    )
    trail: Trail = Trail()
    calls: list[OpenCall] = []
    ordinary_week(trail, calls)
    pattern(trail, calls)
    assert "after_hours" not in kinds(run(trail, calls, off))  # equal start and end: off


def test_exports_of_many_items() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=4, hours=14)
        for i in range(3):
            trail.add(t + timedelta(minutes=10 * i), "cy", "evidence.export_started", items=25)

    flags, _ = _week_plus(pattern)
    assert kinds(flags) == ["many_exports"]
    assert (
        flags[0].user == "cy"
        and "exported" in flags[0].explanation
        and len(flags[0].entry_ids) >= 2
    )


def test_thresholds_move_the_line() -> None:
    def pattern(trail: Trail, calls: list[OpenCall]) -> None:
        t = DAY0 + timedelta(days=2, hours=18)
        for i in range(5):
            trail.add(
                t + timedelta(minutes=3 * i),
                "cy",
                "live.grant",
                camera=f"cam-n{i}",
                reason=f"case 26-1000{i}",
            )

    trail: Trail = Trail()
    calls: list[OpenCall] = []
    ordinary_week(trail, calls)
    pattern(trail, calls)
    assert run(trail, calls) == []
    assert kinds(run(trail, calls, Thresholds(time_zone="America/Chicago", many_cameras=5))) == [
        "many_cameras"
    ]


def test_flag_ids_are_stable_across_scans() -> None:
    trail: Trail = Trail()
    calls: list[OpenCall] = []
    ordinary_week(trail, calls)
    trail.add(DAY0 + timedelta(days=1, hours=10), "bob", "live.grant", camera="cam-n1", reason="")
    assert [f.id for f in run(trail, calls)] == [f.id for f in run(trail, calls)]
