"""The incident review's Field lane (issue 16): one entry per "Send to field" (the officers
shared with at once, the cameras, until when in the agency's time) and one per ending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from rtcc_console.core.incident_timeline import LANES, field_share_entries, merged

T0 = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
CHICAGO = timezone(timedelta(hours=-6))


def share(sid: str, officer: str, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": sid,
        "call_id": "call-1",
        "officer": officer,
        "camera_ids": ["cam-1", "cam-2"],
        "created_by": "ana",
        "created_at": T0.isoformat(),
        "expires_at": (T0 + timedelta(minutes=90)).isoformat(),
        "ended_at": None,
        "end_reason": None,
    }
    body.update(kw)
    return body


def test_one_send_one_entry_with_officers_cameras_and_local_end_time() -> None:
    entries = field_share_entries(
        [share("fs-2", "ofc.lee"), share("fs-1", "ofc.kim")], zone=CHICAGO
    )
    assert [e.title for e in entries] == [
        "Shared to field: officers ofc.kim, ofc.lee; cameras cam-1, cam-2; until 16:30"
    ]
    (e,) = entries
    assert e.lane == "Field" and "Field" in LANES
    assert e.at == T0 and e.end == T0 + timedelta(minutes=90) and e.detail == "by ana"


def test_endings_are_entries_with_their_reason_and_close_the_span() -> None:
    ended = (T0 + timedelta(minutes=5)).isoformat()
    closed = (T0 + timedelta(minutes=20)).isoformat()
    entries = field_share_entries(
        [
            share("fs-1", "ofc.kim", ended_at=ended, end_reason="ended by ana"),
            share("fs-2", "ofc.lee", ended_at=closed, end_reason="call closed"),
            share(
                "fs-3",
                "ofc.ray",
                created_at=(T0 + timedelta(minutes=1)).isoformat(),
                expires_at=(T0 + timedelta(minutes=91)).isoformat(),
                camera_ids=["cam-9"],
                ended_at=closed,
                end_reason="call closed",
            ),
        ]
    )
    titles = [e.title for e in merged(entries)]
    assert titles == [
        "Shared to field: officers ofc.kim, ofc.lee; cameras cam-1, cam-2; until 22:30",
        "Shared to field: officers ofc.ray; cameras cam-9; until 22:31",
        "Field share ended (ended by ana)",
        "Field share ended (call closed)",
    ]
    first = merged(entries)[0]
    assert first.end == T0 + timedelta(minutes=20)  # both ended: the span ends with the last
    last = merged(entries)[-1]
    assert last.detail == "officers ofc.lee, ofc.ray"


def test_malformed_items_are_skipped() -> None:
    assert field_share_entries([share("fs-1", "x", created_at="yesterday"), {"id": 3}]) == []
