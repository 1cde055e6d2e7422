"""field_shares: a share may belong to an emergency instead of a call

An emergency with no call (a school's or business's panic button) can be sent to the
responding officers too: ``emergency_id`` (nullable, FK to ``emergencies``), ``call_id``
becomes nullable, and a CHECK keeps exactly one of the two set.

Revision ID: 0112
Revises: 0111
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0112"
down_revision: str | None = "0111"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ONE_SUBJECT = "(call_id IS NULL) <> (emergency_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("field_shares") as batch:
        batch.add_column(sa.Column("emergency_id", sa.String(length=40), nullable=True))
        batch.alter_column("call_id", existing_type=sa.String(length=48), nullable=True)
        batch.create_foreign_key(
            op.f("fk_field_shares_emergency_id_emergencies"),
            "emergencies",
            ["emergency_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_field_shares_emergency_id"), ["emergency_id"], unique=False)
        batch.create_check_constraint(op.f("ck_field_shares_one_subject"), ONE_SUBJECT)


def downgrade() -> None:
    op.execute("DELETE FROM field_shares WHERE call_id IS NULL")
    with op.batch_alter_table("field_shares") as batch:
        batch.drop_constraint(op.f("ck_field_shares_one_subject"), type_="check")
        batch.drop_index(op.f("ix_field_shares_emergency_id"))
        batch.drop_constraint(op.f("fk_field_shares_emergency_id_emergencies"), type_="foreignkey")
        batch.drop_column("emergency_id")
        batch.alter_column("call_id", existing_type=sa.String(length=48), nullable=False)
