"""evidence_vault: tus uploads, content-addressed evidence, custody

Revision ID: 0103
Revises: 0102
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0103"
down_revision: str | None = "0102"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime(timezone=True)
_NEW_ITEM_COLUMNS = (
    "sha512", "kind", "media", "clock_offset_s", "owner_kind", "request_item_id", "window_start", "window_end",
    "retention", "integrity", "verified_at", "derived_from", "thumb_path", "browser_path", "browser_sha256", "purged_at",
)  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sha512", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="video", nullable=False))
        batch_op.add_column(sa.Column("media", sa.JSON(), server_default="{}", nullable=False))
        batch_op.add_column(sa.Column("clock_offset_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("owner_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("request_item_id", sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column("window_start", _TS, nullable=True))
        batch_op.add_column(sa.Column("window_end", _TS, nullable=True))
        batch_op.add_column(sa.Column("retention", sa.String(length=20), server_default="standard", nullable=False))
        batch_op.add_column(sa.Column("integrity", sa.String(length=12), server_default="ok", nullable=False))
        batch_op.add_column(sa.Column("verified_at", _TS, nullable=True))
        batch_op.add_column(sa.Column("derived_from", sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column("thumb_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("browser_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("browser_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("purged_at", _TS, nullable=True))
        batch_op.create_index(batch_op.f("ix_evidence_items_request_item_id"), ["request_item_id"], unique=False)

    op.create_table(
        "evidence_cases",
        sa.Column("evidence_id", sa.String(length=48), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("attached_at", _TS, nullable=False),
        sa.Column("attached_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence_items.id"], name=op.f("fk_evidence_cases_evidence_id_evidence_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("evidence_id", "case_number", name=op.f("pk_evidence_cases")),
    )
    with op.batch_alter_table("evidence_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_cases_case_number"), ["case_number"], unique=False)

    op.create_table(
        "vault_uploads",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("username", sa.String(length=200), nullable=True),
        sa.Column("link_item_id", sa.String(length=48), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("evidence_id", sa.String(length=48), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_uploads")),
    )
    with op.batch_alter_table("vault_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vault_uploads_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_vault_uploads_link_item_id"), ["link_item_id"], unique=False)

    op.create_table(
        "case_exports",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.Column("bytes_done", sa.BigInteger(), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_exports")),
    )
    with op.batch_alter_table("case_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_exports_case_number"), ["case_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_exports_case_number"))
    op.drop_table("case_exports")
    with op.batch_alter_table("vault_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vault_uploads_link_item_id"))
        batch_op.drop_index(batch_op.f("ix_vault_uploads_expires_at"))
    op.drop_table("vault_uploads")
    with op.batch_alter_table("evidence_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_cases_case_number"))
    op.drop_table("evidence_cases")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_items_request_item_id"))
        for name in reversed(_NEW_ITEM_COLUMNS):
            batch_op.drop_column(name)
