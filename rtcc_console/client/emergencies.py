"""Emergency calls the console makes besides the event stream (docs/api/portal.md)."""

from __future__ import annotations

from urllib.parse import quote

from rtcc_console.client.api import ApiClient


def acknowledge_emergency(api: ApiClient, emergency_id: str) -> None:
    """Record (audit) that this user saw the emergency alert."""
    api.request("POST", f"/emergencies/{quote(emergency_id, safe='')}/acknowledge")
