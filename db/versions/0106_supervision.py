"""supervision: misuse flags and their acknowledgements, dashboard and transparency figures

Revision ID: 0106
Revises: 0105
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0106"
down_revision: str | None = "0105"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
