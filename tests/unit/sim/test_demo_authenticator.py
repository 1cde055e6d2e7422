"""The demo supervisor's authenticator: every code is one the server's TOTP check accepts,
each for a later time step than the last (the server never accepts a step twice)."""

from __future__ import annotations

import pyotp
import pytest

from rtcc_console.demo_env import DemoAuthenticator
from rtcc_console.server.mfa import matching_step


def test_codes_are_accepted_and_of_ever_later_steps() -> None:
    auth = DemoAuthenticator("demo-sergeant", "pw")
    auth.secret = pyotp.random_base32()
    steps = [matching_step(auth.secret, auth.code()) for _ in range(3)]
    assert None not in steps
    assert steps == sorted(steps) and len(set(steps)) == 3


def test_no_code_before_enrolment() -> None:
    with pytest.raises(RuntimeError, match="enrolled"):
        DemoAuthenticator("demo-sergeant", "pw").code()
