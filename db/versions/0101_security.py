"""security: multi-factor sign-in, grants tied to sessions, audit checkpoints

* ``users``: the TOTP secret (encrypted), when MFA was enabled, the last accepted time-step;
* ``mfa_recovery_codes``: one-time recovery codes (hashes only);
* ``mfa_challenges``: the single-use step between a correct password and the code;
* ``live_grants.session_jti``: the bearer token (session) that opened the grant, so that
  ending the session ends the grant;
* ``audit_events.key_id``: the HMAC key of the row's hash (NULL for rows written before
  this revision, which keep their plain SHA-256 hash; the triggers forbid rewriting them).

Plain ``ADD COLUMN`` (no batch copy on SQLite): ``audit_events`` keeps its append-only
triggers, which a table copy would drop.

Revision ID: 0101
Revises: 0100
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0101"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime


def upgrade() -> None:
    op.add_column("users", sa.Column("mfa_secret", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("mfa_enabled_at", _TS(timezone=True), nullable=True))
    op.add_column("users", sa.Column("mfa_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "mfa_recovery_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("used_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_mfa_recovery_codes_username_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mfa_recovery_codes")),
    )
    op.create_index(op.f("ix_mfa_recovery_codes_username"), "mfa_recovery_codes", ["username"], unique=False)
    op.create_table(
        "mfa_challenges",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("expires_at", _TS(timezone=True), nullable=False),
        sa.Column("used_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["username"], ["users.username"], name=op.f("fk_mfa_challenges_username_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_mfa_challenges")),
    )
    op.create_index(op.f("ix_mfa_challenges_expires_at"), "mfa_challenges", ["expires_at"], unique=False)
    op.create_index(op.f("ix_mfa_challenges_username"), "mfa_challenges", ["username"], unique=False)
    op.add_column("live_grants", sa.Column("session_jti", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_live_grants_session_jti"), "live_grants", ["session_jti"], unique=False)
    op.add_column("audit_events", sa.Column("key_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops columns natively; audit_events keeps its triggers.
    op.drop_column("audit_events", "key_id")
    op.drop_index(op.f("ix_live_grants_session_jti"), table_name="live_grants")
    op.drop_column("live_grants", "session_jti")
    op.drop_index(op.f("ix_mfa_challenges_username"), table_name="mfa_challenges")
    op.drop_index(op.f("ix_mfa_challenges_expires_at"), table_name="mfa_challenges")
    op.drop_table("mfa_challenges")
    op.drop_index(op.f("ix_mfa_recovery_codes_username"), table_name="mfa_recovery_codes")
    op.drop_table("mfa_recovery_codes")
    op.drop_column("users", "mfa_last_step")
    op.drop_column("users", "mfa_enabled_at")
    op.drop_column("users", "mfa_secret")
