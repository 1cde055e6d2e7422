"""field_shares: a call's cameras shared to responding officers

Revision ID: 0107
Revises: 0106
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0107"
down_revision: str | None = "0106"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
