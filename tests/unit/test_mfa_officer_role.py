"""Agencies may require a second factor of officers (issue 16: the field page's account
sign-in); the console-only settings still take staff roles only."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rtcc_console.config import ConsoleSettings, ServerSettings
from rtcc_console.server.mfa import required_for


def test_officer_may_be_required_to_use_mfa() -> None:
    settings = ServerSettings(mfa_required_roles=["officer", "supervisor", "admin"])
    assert required_for("officer", list(settings.mfa_required_roles))
    assert not required_for("analyst", list(settings.mfa_required_roles))
    assert not required_for("officer", list(ServerSettings().mfa_required_roles))  # default


def test_unknown_roles_are_still_refused() -> None:
    with pytest.raises(ValidationError):
        ServerSettings(mfa_required_roles=["chief"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):  # officers never use the console's dashboard
        ConsoleSettings(dashboard_roles=["officer"])  # type: ignore[list-item]
