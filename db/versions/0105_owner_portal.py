"""owner_portal: owner accounts, portal sessions, e-mailed links, site keys for alarm panels

* ``portal_accounts``: one sign-in per owner (e-mail, argon2id hash, verified, lockout);
* ``portal_sessions`` / ``portal_links``: SHA-256 of the cookie token / e-mailed link only;
* ``site_keys``: alarm panel keys (the key itself is derived from the server secret);
* ``panic_seen``: accepted panic signatures (replay protection).

Revision ID: 0105
Revises: 0104
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0105"
down_revision: str | None = "0104"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "portal_accounts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("verified_at", _TS(timezone=True), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", _TS(timezone=True), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("last_login_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name=op.f("fk_portal_accounts_owner_id_owners"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_accounts")),
        sa.UniqueConstraint("owner_id", name=op.f("uq_portal_accounts_owner_id")),
        sa.UniqueConstraint("email", name=op.f("uq_portal_accounts_email")),
    )
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("expires_at", _TS(timezone=True), nullable=False),
        sa.Column("ended_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["portal_accounts.id"],
                                name=op.f("fk_portal_sessions_account_id_portal_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_sessions")),
    )
    op.create_index(op.f("ix_portal_sessions_account_id"), "portal_sessions", ["account_id"], unique=False)
    op.create_index(op.f("ix_portal_sessions_expires_at"), "portal_sessions", ["expires_at"], unique=False)
    op.create_table(
        "portal_links",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("expires_at", _TS(timezone=True), nullable=False),
        sa.Column("used_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["portal_accounts.id"],
                                name=op.f("fk_portal_links_account_id_portal_accounts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_links")),
    )
    op.create_index(op.f("ix_portal_links_account_id"), "portal_links", ["account_id"], unique=False)
    op.create_index(op.f("ix_portal_links_expires_at"), "portal_links", ["expires_at"], unique=False)
    op.create_table(
        "site_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=False),
        sa.Column("nonce", sa.String(32), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("revoked_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name=op.f("fk_site_keys_owner_id_owners"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_keys")),
    )
    op.create_index(op.f("ix_site_keys_owner_id"), "site_keys", ["owner_id"], unique=False)
    op.create_table(
        "panic_seen",
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("seen_at", _TS(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_panic_seen")),
    )
    op.create_index(op.f("ix_panic_seen_seen_at"), "panic_seen", ["seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_panic_seen_seen_at"), table_name="panic_seen")
    op.drop_table("panic_seen")
    op.drop_index(op.f("ix_site_keys_owner_id"), table_name="site_keys")
    op.drop_table("site_keys")
    op.drop_index(op.f("ix_portal_links_expires_at"), table_name="portal_links")
    op.drop_index(op.f("ix_portal_links_account_id"), table_name="portal_links")
    op.drop_table("portal_links")
    op.drop_index(op.f("ix_portal_sessions_expires_at"), table_name="portal_sessions")
    op.drop_index(op.f("ix_portal_sessions_account_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_table("portal_accounts")
