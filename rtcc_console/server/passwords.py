"""Password hashing (argon2id) with constant-time behaviour for unknown users.

The hasher's cost comes from settings so that tests can use a cheap parameter set while
production keeps argon2-cffi's recommended defaults. A dummy hash made with the same
parameters is verified when a username does not exist, so a login for an unknown user
takes as long as one for a real user with a wrong password (no user enumeration by timing).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rtcc_console.config import ServerSettings


@dataclass
class Passwords:
    """argon2id hashing, verification and rehash checks for staff passwords."""

    hasher: PasswordHasher
    _dummy_hash: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._dummy_hash = self.hasher.hash("rtcc-dummy-password-for-timing")

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> Passwords:
        return cls(
            PasswordHasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
                type=Type.ID,
            )
        )

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a missing hash is checked against the dummy."""
        try:
            return (
                self.hasher.verify(stored_hash or self._dummy_hash, password)
                and stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


def validate_password(password: str) -> str | None:
    """A human reason why ``password`` is unacceptable for a staff account, or None."""
    if len(password) < 12:
        return "password must be at least 12 characters"
    if len(password) > 1024:
        return "password must be at most 1024 characters"
    if password.strip() != password or not password.strip():
        return "password must not start or end with whitespace"
    return None
