"""security: multi-factor sign-in, grants tied to sessions, audit checkpoints

Revision ID: 0101
Revises: 0100
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0101"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
