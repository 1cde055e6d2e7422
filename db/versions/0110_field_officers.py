"""field: unit ids mapped to officers, share events

Revision ID: 0110
Revises: 0109
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0110"
down_revision: str | None = "0109"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by its owner (see docs/team.md)


def downgrade() -> None:
    pass
