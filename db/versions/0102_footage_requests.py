"""footage_requests: footage requests, owner items, e-mail outbox

* ``footage_requests`` gains what the console sends (case number, offence category, the
  client's idempotency key, area in m², a supervisor's override reason, exclusion counts);
  plain ``ADD COLUMN`` with server defaults, so SQLite needs no table copy (evidence rows
  reference this table);
* ``request_recipients`` (never used in production) is replaced by ``request_items`` (one
  per owner, possibly serving several requests) and ``request_item_links``;
* ``request_state_counts``: items per state of each request, kept with every change;
* ``mail_outbox``: the durable e-mail outbox.

Revision ID: 0102
Revises: 0101
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0102"
down_revision: str | None = "0101"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime
_BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("footage_requests", sa.Column("case_number", sa.String(40), server_default="", nullable=False))
    op.add_column("footage_requests", sa.Column("offence_category", sa.String(60), server_default="", nullable=False))
    op.add_column("footage_requests", sa.Column("client_key", sa.String(64), nullable=True))
    op.add_column("footage_requests", sa.Column("area_m2", sa.Float(), server_default="0", nullable=False))
    op.add_column("footage_requests", sa.Column("override_reason", sa.Text(), nullable=True))
    op.add_column("footage_requests", sa.Column("excluded", sa.JSON(), nullable=True))
    op.create_index(op.f("ix_footage_requests_case_number"), "footage_requests", ["case_number"], unique=False)
    op.create_index("uq_footage_requests_created_by_client_key", "footage_requests", ["created_by", "client_key"],
                    unique=True)

    op.drop_index(op.f("ix_request_recipients_request_id"), table_name="request_recipients")
    op.drop_index(op.f("ix_request_recipients_owner_id"), table_name="request_recipients")
    op.drop_table("request_recipients")

    op.create_table(
        "request_items",
        sa.Column("id", sa.String(48), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=True),
        sa.Column("owner_kind", sa.String(20), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("window_start", _TS(timezone=True), nullable=False),
        sa.Column("window_end", _TS(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("link_nonce", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("due_at", _TS(timezone=True), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("sent_at", _TS(timezone=True), nullable=True),
        sa.Column("opened_at", _TS(timezone=True), nullable=True),
        sa.Column("answered_at", _TS(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("reminders_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("answer_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name=op.f("fk_request_items_owner_id_owners"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_items")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_request_items_token_hash")),
    )
    op.create_index(op.f("ix_request_items_owner_id"), "request_items", ["owner_id"], unique=False)
    op.create_index(op.f("ix_request_items_state"), "request_items", ["state"], unique=False)
    op.create_index(op.f("ix_request_items_due_at"), "request_items", ["due_at"], unique=False)
    op.create_index(op.f("ix_request_items_created_at"), "request_items", ["created_at"], unique=False)

    op.create_table(
        "request_item_links",
        sa.Column("request_id", sa.String(48), nullable=False),
        sa.Column("item_id", sa.String(48), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["footage_requests.id"],
                                name=op.f("fk_request_item_links_request_id_footage_requests"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["request_items.id"],
                                name=op.f("fk_request_item_links_item_id_request_items"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "item_id", name=op.f("pk_request_item_links")),
    )
    op.create_index(op.f("ix_request_item_links_item_id"), "request_item_links", ["item_id"], unique=False)

    op.create_table(
        "request_state_counts",
        sa.Column("request_id", sa.String(48), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["footage_requests.id"],
                                name=op.f("fk_request_state_counts_request_id_footage_requests"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "state", name=op.f("pk_request_state_counts")),
    )

    op.create_table(
        "mail_outbox",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("idem_key", sa.String(120), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("item_id", sa.String(48), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS(timezone=True), nullable=False),
        sa.Column("claimed_until", _TS(timezone=True), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("sent_at", _TS(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["request_items.id"], name=op.f("fk_mail_outbox_item_id_request_items"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_mail_outbox_idem_key")),
    )
    op.create_index(op.f("ix_mail_outbox_item_id"), "mail_outbox", ["item_id"], unique=False)
    op.create_index("ix_mail_outbox_state_id", "mail_outbox", ["state", "id"], unique=False)
    op.create_index(op.f("ix_mail_outbox_next_attempt_at"), "mail_outbox", ["next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("request_state_counts")
    op.drop_table("request_item_links")
    op.drop_table("request_items")
    op.create_table(
        "request_recipients",
        sa.Column("id", _BIGID, autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=48), nullable=False),
        sa.Column("owner_id", sa.String(length=32), nullable=True),
        sa.Column("camera_id", sa.String(length=32), nullable=True),
        sa.Column("upload_token_hash", sa.String(length=128), nullable=True),
        sa.Column("token_expires_at", _TS(timezone=True), nullable=True),
        sa.Column("token_used_at", _TS(timezone=True), nullable=True),
        sa.Column("notified_at", _TS(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name=op.f("fk_request_recipients_camera_id_cameras"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name=op.f("fk_request_recipients_owner_id_owners"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["request_id"], ["footage_requests.id"],
                                name=op.f("fk_request_recipients_request_id_footage_requests"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_recipients")),
        sa.UniqueConstraint("upload_token_hash", name=op.f("uq_request_recipients_upload_token_hash")),
    )
    op.create_index(op.f("ix_request_recipients_owner_id"), "request_recipients", ["owner_id"], unique=False)
    op.create_index(op.f("ix_request_recipients_request_id"), "request_recipients", ["request_id"], unique=False)
    op.drop_index("uq_footage_requests_created_by_client_key", table_name="footage_requests")
    op.drop_index(op.f("ix_footage_requests_case_number"), table_name="footage_requests")
    with op.batch_alter_table("footage_requests") as batch:
        for col in ("excluded", "override_reason", "area_m2", "client_key", "offence_category", "case_number"):
            batch.drop_column(col)
