"""The signed-in user's named wall layouts (``/api/v1/me/presets``)."""

from __future__ import annotations

from typing import Any

from rtcc_console.client.api import ApiClient
from rtcc_console.client.grants import GRANT_TIMEOUT_S, GrantDenied, call_or_refuse, segment


class PresetsApi:
    """Load, save and delete presets; failures map like grants (the wall falls back to
    workstation-only presets when the server is unavailable)."""

    def __init__(self, api: ApiClient, *, timeout_s: float = GRANT_TIMEOUT_S) -> None:
        self._api = api
        self._timeout_s = timeout_s

    def load_presets(self) -> dict[str, dict[str, Any]]:
        """name -> layout."""
        items = (
            call_or_refuse(self._api, "GET", "/me/presets", timeout_s=self._timeout_s)
            .json()
            .get("items", [])
        )
        return {str(item["name"]): dict(item.get("layout") or {}) for item in items}

    def save_preset(self, name: str, layout: dict[str, Any]) -> None:
        call_or_refuse(
            self._api,
            "PUT",
            f"/me/presets/{segment(name)}",
            json={"layout": layout},
            timeout_s=self._timeout_s,
        )

    def delete_preset(self, name: str) -> None:
        """Delete; a preset already absent on the server is not an error."""
        try:
            call_or_refuse(
                self._api, "DELETE", f"/me/presets/{segment(name)}", timeout_s=self._timeout_s
            )
        except GrantDenied as exc:
            if exc.status != 404:
                raise
