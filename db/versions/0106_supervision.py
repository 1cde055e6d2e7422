"""supervision: misuse flags and their acknowledgements, dashboard and transparency figures

* ``audit_events``: (username, id) and (action, id) indexes, and expression indexes on the
  camera / call / case targets, so that a filtered newest-first page is an index range scan;
* ``audit_verify_jobs``: chain verification runs and their progress;
* ``misuse_flags``: raised misuse flags and their acknowledgements.

Revision ID: 0106
Revises: 0105
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0106"
down_revision: str | None = "0105"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime
_TARGETS = ("camera", "call", "case")


def _target_expr(key: str) -> str:
    """Must match store.audit_log.target_expr exactly (the planner compares expressions)."""
    if op.get_bind().dialect.name == "postgresql":
        return f"(targets ->> '{key}')"
    return f"json_extract(targets, '$.{key}')"


def upgrade() -> None:
    op.create_index("ix_audit_events_username_id", "audit_events", ["username", "id"], unique=False)
    op.create_index("ix_audit_events_action_id", "audit_events", ["action", "id"], unique=False)
    for key in _TARGETS:
        op.execute(f"CREATE INDEX ix_audit_events_{key}_id ON audit_events ({_target_expr(key)}, id)")
    op.create_table(
        "audit_verify_jobs",
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("started_at", _TS(timezone=True), nullable=False),
        sa.Column("finished_at", _TS(timezone=True), nullable=True),
        sa.Column("checked", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("broken_id", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verify_jobs")),
    )
    op.create_index(op.f("ix_audit_verify_jobs_status"), "audit_verify_jobs", ["status"], unique=False)
    op.create_table(
        "misuse_flags",
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("first_at", _TS(timezone=True), nullable=False),
        sa.Column("last_at", _TS(timezone=True), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("raised_at", _TS(timezone=True), nullable=False),
        sa.Column("ack_by", sa.String(64), nullable=True),
        sa.Column("ack_at", _TS(timezone=True), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_misuse_flags")),
    )
    op.create_index(op.f("ix_misuse_flags_kind"), "misuse_flags", ["kind"], unique=False)
    op.create_index(op.f("ix_misuse_flags_first_at"), "misuse_flags", ["first_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_misuse_flags_first_at"), table_name="misuse_flags")
    op.drop_index(op.f("ix_misuse_flags_kind"), table_name="misuse_flags")
    op.drop_table("misuse_flags")
    op.drop_index(op.f("ix_audit_verify_jobs_status"), table_name="audit_verify_jobs")
    op.drop_table("audit_verify_jobs")
    for key in _TARGETS:
        op.execute(f"DROP INDEX ix_audit_events_{key}_id")
    op.drop_index("ix_audit_events_action_id", table_name="audit_events")
    op.drop_index("ix_audit_events_username_id", table_name="audit_events")
