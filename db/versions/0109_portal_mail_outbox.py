"""portal e-mails through the durable outbox; portal session pruning

Revision ID: 0109
Revises: 0108
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0109"
down_revision: str | None = "0108"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by its owner (see docs/team.md)


def downgrade() -> None:
    pass
