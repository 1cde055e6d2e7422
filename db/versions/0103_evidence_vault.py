"""evidence_vault: tus uploads, content-addressed evidence, custody

Revision ID: 0103
Revises: 0102
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0103"
down_revision: str | None = "0102"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
