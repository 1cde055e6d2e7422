"""What a camera looks like, everywhere: the map's markers (``resources/map/rtcc_map.js``,
``camStyle``) and the camera list's icons use these colours, so a green dot means "live
always" in both places. Registered cameras are hollow grey rings; integrated ones are
filled by sharing mode."""

from __future__ import annotations

from rtcc_console.core.models import SharingMode, Tier

REGISTERED = "#a9b4c2"
INTEGRATED = {
    SharingMode.LIVE_ALWAYS: "#35d07f",
    SharingMode.LIVE_IN_EMERGENCY: "#f5b431",
    SharingMode.REQUEST_ONLY: "#4aa3ff",
}


STALE = "#d0d4da"  # a camera its owner did not confirm in time: a dashed ring in this grey


def marker_colour(tier: Tier, mode: SharingMode) -> tuple[str, bool]:
    """``(colour, filled)`` of a camera's marker."""
    if tier is Tier.REGISTERED:
        return REGISTERED, False
    return INTEGRATED[mode], True
