"""field_shares: a call's cameras shared to responding officers

Revision ID: 0107
Revises: 0106
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0107"
down_revision: str | None = "0106"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "field_shares",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("call_id", sa.String(length=48), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("ended_at", _TS, nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("link_hash", sa.String(length=128), nullable=False),
        sa.Column("link_used_at", _TS, nullable=True),
        sa.Column("session_hash", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
            name=op.f("fk_field_shares_call_id_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_shares")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_field_shares_link_hash")),
    )
    op.create_index(op.f("ix_field_shares_call_id"), "field_shares", ["call_id"], unique=False)
    op.create_index(op.f("ix_field_shares_officer"), "field_shares", ["officer"], unique=False)
    op.create_index(
        op.f("ix_field_shares_expires_at"), "field_shares", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_field_shares_session_hash"), "field_shares", ["session_hash"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_field_shares_session_hash"), table_name="field_shares")
    op.drop_index(op.f("ix_field_shares_expires_at"), table_name="field_shares")
    op.drop_index(op.f("ix_field_shares_officer"), table_name="field_shares")
    op.drop_index(op.f("ix_field_shares_call_id"), table_name="field_shares")
    op.drop_table("field_shares")
