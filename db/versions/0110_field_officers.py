"""field: unit ids mapped to officers, share events

Officer accounts carry the unit ids (CAD call signs such as ``1A23``) they answer to, so
an analyst can send a call's cameras to "unit 1A23" as well as to an account; one unit may
map to two officers (a two-person car), one officer may carry several units. Accounts also
get an optional display name (the list an analyst picks from shows it; no e-mail).

Revision ID: 0110
Revises: 0109
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0110"
down_revision: str | None = "0109"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.String(length=100), nullable=True))
    op.create_table(
        "officer_units",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"],
            ["users.username"],
            name=op.f("fk_officer_units_username_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("username", "unit_id", name=op.f("pk_officer_units")),
    )
    op.create_index(op.f("ix_officer_units_unit_id"), "officer_units", ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_officer_units_unit_id"), table_name="officer_units")
    op.drop_table("officer_units")
    op.drop_column("users", "display_name")
