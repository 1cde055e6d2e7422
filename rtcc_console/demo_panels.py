"""The panels ``rtcc demo --screenshot DIR`` photographs, and how each one's content is checked.

A check reads the widgets' own state: rows in the calls table, the markers the map page
reports having drawn (``rtcc.state``), video in the wall's tiles (pixel spread of each live
tile), a request with its owners' answers in the Requests panel, an item and a clip on a frame
in Evidence, a gathered timeline in the incident review, rows in the audit viewer, chart
series in the dashboard (the wall included when it shows cameras), the emergency banner with
the map drawn beneath it. Each returns (populated, what was seen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtWidgets import QWidget

from rtcc_console.demo_driver import DemoDriver, image_spread

Check = tuple[bool, str]  # populated?, what was seen
MIN_SPREAD = 8.0  # grey-level spread below which a picture is blank (one colour)


class Seen(Protocol):
    """What a check may look at: the window, the map page's last state, the demo driver."""

    window: Any
    map_state: dict[str, Any]
    driver: DemoDriver | None


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    file: str
    docks: tuple[str, ...]  # brought to the front (tabified docks hide their other tabs)
    target: Callable[[Any], QWidget]
    check: Callable[[Seen], Check]  # what the panel shows now
    raise_needed: bool = False  # loads only when shown (audit, review): no early check
    prepare: Callable[[Any], None] | None = None  # what the analyst does first (a button)
    tall: bool = False  # a chart or table beside the map: give it the map's height too


# -- content checks -------------------------------------------------------------------
def check_calls(window: Any) -> Check:
    rows = int(window.call_queue.model.rowCount())
    return rows > 0, f"{rows} calls in the queue"


def check_map(state: dict[str, Any]) -> Check:
    if not state:
        return False, "the map page has not answered"
    cams, calls = int(state.get("cameras") or 0), int(state.get("calls") or 0)
    basemap = int(state.get("vectorDraws") or 0) > 0 or not state.get("noticeShown", True)
    ok = cams > 0 and calls > 0 and basemap
    rings = len(state.get("rings") or [])
    return ok, (
        f"{cams} camera markers, {calls} call markers, {rings} rings, "
        f"basemap {'drawn' if basemap else 'missing'}"
    )


def check_wall(window: Any) -> Check:
    live = 0
    shown = 0
    for tile in window.wall.tiles:
        age = tile.frame_age_s()
        if age is None or age > 5.0:
            continue
        live += 1
        if image_spread(tile.grab().toImage()) > MIN_SPREAD:
            shown += 1
    return shown > 0, f"{live} tiles with fresh frames, {shown} showing a picture"


def check_camera_list(window: Any) -> Check:
    rows = int(window.camera_list.model.rowCount())
    return rows > 0, f"{rows} cameras listed"


def check_main(window: Any, state: dict[str, Any]) -> Check:
    parts = [check_calls(window), check_camera_list(window), check_map(state), check_wall(window)]
    return all(ok for ok, _ in parts), "; ".join(text for _, text in parts)


def check_requests(window: Any, want: str | None = None) -> Check:
    panel = window.requests_panel
    requests = dict(panel.requests)
    if not requests:
        return False, "no footage request listed"
    states: dict[str, int] = {}
    for request in requests.values():
        for item in request.get("items") or []:
            st = str(item.get("state") or "?") if isinstance(item, dict) else "?"
            states[st] = states.get(st, 0) + 1
    text = f"{len(requests)} requests; owner items " + (
        ", ".join(f"{n} {st}" for st, n in sorted(states.items())) or "none"
    )
    if want is not None and want not in requests:
        return False, f"{text}; the demo's request {want} is not listed"
    return True, text


def check_evidence(window: Any, playing: str | None = None) -> Check:
    tab = window.evidence_panel
    rows = int(tab.model.rowCount())
    player = tab.player
    item = getattr(player, "item", None)
    open_clip = player.player is not None and player.shown_index >= 0
    picture = open_clip and image_spread(player.view.grab().toImage()) > MIN_SPREAD
    text = f"{rows} evidence items; player " + (
        f"on frame {player.shown_index} of {item.filename}"
        if open_clip and item is not None
        else "empty"
    )
    if playing is not None and (item is None or item.id != playing):
        return False, f"{text}; the demo's clip {playing} is not in the player"
    return rows > 0 and bool(picture), text


def check_review(window: Any) -> Check:
    review = window.review
    if review.status.text().startswith("Gathering"):
        return False, "gathering the incident"
    lanes = sorted({e.lane for e in review.entries})
    return bool(lanes), f"{len(review.entries)} timeline entries in lanes {', '.join(lanes)}"


def review_call(window: Any) -> None:
    """Press Review for the selected call: the timeline as it is now, not as first opened."""
    if window.review.call_box.text().strip():
        window.review.load_button.click()


def check_audit(window: Any) -> Check:
    rows = len(window.audit_viewer.model.rows)
    return rows > 0, f"{rows} audit rows"


def check_dashboard(window: Any) -> Check:
    stats = window.dashboard.stats
    reg, integ = stats.counts()
    sent, answered, _median = stats.request_figures()
    calls = len(stats.calls)
    views = sum(stats.live_views_per_day(days=1, now=datetime.now(UTC))[1])
    live_tiles = sum(1 for t in window.wall.tiles if t.frame_age_s() is not None)
    samples = len(stats.wall)
    wall_ok = live_tiles == 0 or (views > 0 and samples > 0)  # the wall is on the charts
    return calls > 0 and reg > 0 and wall_ok, (
        f"{calls} calls, {reg:,} cameras registered ({integ:,} integrated), "
        f"{sent} requests ({answered} answered), {views} live views today, "
        f"{samples} wall-health samples ({live_tiles} tiles live)"
    )


def check_emergency(window: Any, state: dict[str, Any]) -> Check:
    alert = window.emergency_alert
    items = list(alert.items) if alert.isVisible() else []
    ok_map, map_text = check_map(state)
    lines = "; ".join(i.text for i in items[:2])
    return bool(items) and ok_map, f"{len(items)} emergencies in the banner ({lines}); {map_text}"


def _request_id(shots: Seen) -> str | None:
    """The footage request the demo driver sent (None: no driver, or not sent yet)."""
    return shots.driver.request_id if shots.driver is not None else None


def _playing_id(shots: Seen) -> str | None:
    """The evidence item the demo driver plays."""
    return shots.driver.playing_evidence_id if shots.driver is not None else None


PANELS: tuple[Panel, ...] = (
    Panel(
        "main",
        "console-main.png",
        ("cameras", "wall"),
        lambda w: w,
        lambda s: check_main(s.window, s.map_state),
    ),
    Panel(
        "map", "console-map.png", ("map",), lambda w: w.map_view, lambda s: check_map(s.map_state)
    ),
    Panel("wall", "console-wall.png", ("wall",), lambda w: w.wall, lambda s: check_wall(s.window)),
    Panel(
        "requests",
        "demo-requests.png",
        ("requests",),
        lambda w: w.requests_panel,
        lambda s: check_requests(s.window, _request_id(s)),
    ),
    Panel(
        "evidence",
        "demo-evidence.png",
        ("evidence",),
        lambda w: w.evidence_panel,
        lambda s: check_evidence(s.window, _playing_id(s)),
    ),
    Panel(
        "review",
        "demo-review.png",
        ("review",),
        lambda w: w.review,
        lambda s: check_review(s.window),
        raise_needed=True,
        prepare=review_call,
        tall=True,
    ),
    Panel(
        "audit",
        "demo-audit.png",
        ("audit",),
        lambda w: w.audit_viewer,
        lambda s: check_audit(s.window),
        raise_needed=True,
        tall=True,
    ),
    Panel(
        "dashboard",
        "demo-dashboard.png",
        ("dashboard",),
        lambda w: w.dashboard,
        lambda s: check_dashboard(s.window),
        tall=True,
    ),
    Panel(
        "emergency",
        "console-emergency-alert.png",
        ("cameras", "wall"),
        lambda w: w,
        lambda s: check_emergency(s.window, s.map_state),
    ),
)
