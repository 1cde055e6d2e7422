"""footage_requests: footage requests, owner items, e-mail outbox

Revision ID: 0102
Revises: 0101
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0102"
down_revision: str | None = "0101"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
