"""emergencies: the structured panic details on the emergency itself

A panic-button emergency (portal button, alarm panel over ``POST /panic``, SIA DC-09
receiver) keeps what the console's banner shows as fields: site name and kind, the TMA
AVS-01 alarm level, where inside the site, the description and the source. A JSON column,
null for emergencies declared by a supervisor and for rows written before this revision
(the console then reads the reason text, as before).

Revision ID: 0111
Revises: 0110
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0111"
down_revision: str | None = "0110"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("emergencies", sa.Column("panic", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("emergencies", "panic")
