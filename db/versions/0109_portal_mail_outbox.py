"""portal e-mails through the durable outbox; portal session pruning

``mail_outbox`` carries portal mail too: ``item_id`` becomes optional and a portal row names
its recipient by ``account_id`` (the address is still read at send time, never copied), with
its ``subject``, ``body`` (``{link}`` placeholder) and, for a single-use link, the random
``link_nonce`` the token is derived from (HMAC with the server secret) and the ``link_path``.
Body and nonce are blanked once the row is sent, failed or cancelled. ``kind`` is
``initial | reminder`` for footage requests and ``portal`` for portal mail.

Revision ID: 0109
Revises: 0108
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0109"
down_revision: str | None = "0108"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.alter_column("item_id", existing_type=sa.String(48), nullable=True)
        batch.add_column(sa.Column("account_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(200), nullable=True))
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("link_nonce", sa.String(64), nullable=True))
        batch.add_column(sa.Column("link_path", sa.String(200), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_mail_outbox_account_id_portal_accounts"),
            "portal_accounts",
            ["account_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(batch.f("ix_mail_outbox_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM mail_outbox WHERE item_id IS NULL")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_index(batch.f("ix_mail_outbox_account_id"))
        batch.drop_constraint(
            batch.f("fk_mail_outbox_account_id_portal_accounts"), type_="foreignkey"
        )
        batch.drop_column("link_path")
        batch.drop_column("link_nonce")
        batch.drop_column("body")
        batch.drop_column("subject")
        batch.drop_column("account_id")
        batch.alter_column("item_id", existing_type=sa.String(48), nullable=False)
