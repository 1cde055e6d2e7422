"""vehicle_index: vehicle-type index of evidence clips

Revision ID: 0104
Revises: 0103
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0104"
down_revision: str | None = "0103"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
