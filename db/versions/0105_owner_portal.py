"""owner_portal: owner accounts, portal sessions, site keys for alarm panels

Revision ID: 0105
Revises: 0104
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0105"
down_revision: str | None = "0104"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
