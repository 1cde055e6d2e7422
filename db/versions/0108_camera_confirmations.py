"""camera confirmations: the yearly 'still there?' e-mail and stale cameras; stream_url clean-up

Revision ID: 0108
Revises: 0107
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0108"
down_revision: str | None = "0107"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by its owner (see docs/team.md)


def downgrade() -> None:
    pass
