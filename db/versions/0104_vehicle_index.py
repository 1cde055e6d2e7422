"""vehicle_index: vehicle-type index of evidence clips

Revision ID: 0104
Revises: 0103
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0104"
down_revision: str | None = "0103"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime(timezone=True)
_LABELS = "label IN ('bicycle', 'car', 'motorcycle', 'bus', 'truck')"


def upgrade() -> None:
    op.create_table(
        "vehicle_index_jobs",
        sa.Column("evidence_id", sa.String(length=48), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("model_runs", sa.Integer(), nullable=False),
        sa.Column("queued_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence_items.id"],
            name=op.f("fk_vehicle_index_jobs_evidence_id_evidence_items"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evidence_id", name=op.f("pk_vehicle_index_jobs")),
    )
    op.create_index(op.f("ix_vehicle_index_jobs_status"), "vehicle_index_jobs", ["status"], unique=False)
    op.create_table(
        "vehicle_sightings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("evidence_id", sa.String(length=48), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("colour", sa.String(length=16), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=False),
        sa.Column("best_time_s", sa.Float(), nullable=False),
        sa.Column("x1", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.Column("x2", sa.Float(), nullable=False),
        sa.Column("y2", sa.Float(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint(_LABELS, name=op.f("ck_vehicle_sightings_vehicle_label")),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence_items.id"],
            name=op.f("fk_vehicle_sightings_evidence_id_evidence_items"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_sightings")),
    )
    op.create_index(op.f("ix_vehicle_sightings_evidence_id"), "vehicle_sightings", ["evidence_id"], unique=False)
    op.create_index(op.f("ix_vehicle_sightings_label"), "vehicle_sightings", ["label"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vehicle_sightings_label"), table_name="vehicle_sightings")
    op.drop_index(op.f("ix_vehicle_sightings_evidence_id"), table_name="vehicle_sightings")
    op.drop_table("vehicle_sightings")
    op.drop_index(op.f("ix_vehicle_index_jobs_status"), table_name="vehicle_index_jobs")
    op.drop_table("vehicle_index_jobs")
