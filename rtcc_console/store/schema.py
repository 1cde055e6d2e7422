"""The database schema of the whole system (SQLAlchemy 2.x declarative).

One module, so that Alembic autogenerate sees every table and the migration history has a
single source of truth. Types are portable between SQLite (the embedded default) and
PostgreSQL: ``JSON`` rather than ``JSONB``, aware UTC timestamps through
:class:`~rtcc_console.store.types.UTCDateTime`. PostgreSQL-only extras (the PostGIS
``cameras.geog`` column, its trigger and the ``camera_change_seq`` sequence) are created by
the migrations and are deliberately *not* part of this metadata.

Credentials rule: ``cameras.stream_url`` / ``substream_url`` hold redacted URLs only; the
full URLs live in ``camera_secrets`` and nowhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rtcc_console.core.models import utcnow
from rtcc_console.store.types import BigIntPK, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Name of the global camera change counter (a SEQUENCE on PostgreSQL, a row of
# ``sequence_counters`` on SQLite). See ``store.changeseq``.
CAMERA_CHANGE_SEQ = "camera_change_seq"


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


# --- registry ---------------------------------------------------------------------------


class OwnerRow(Base):
    __tablename__ = "owners"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "own-00042"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    accepts_requests: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CameraRow(Base):
    """The public camera record: safe to show to any analyst (no credentials)."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # "cam-000123"
    name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    sharing_mode: Mapped[str] = mapped_column(String(24))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("owners.id", ondelete="SET NULL"), index=True
    )
    heading_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float | None] = mapped_column(Float)
    range_m: Mapped[float | None] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    has_stream: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    stream_url: Mapped[str | None] = mapped_column(Text)  # redacted only
    substream_url: Mapped[str | None] = mapped_column(Text)  # redacted only
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True, unique=True)
    # 0108 (issue 12): the yearly "still there?" question (store.confirmations). NULL
    # ``confirmed_at`` = not tracked (never asked); ``confirm_asked_at`` = this cycle's
    # question went out; ``stale_since`` = not confirmed within the grace time.
    confirmed_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    confirm_asked_at: Mapped[datetime | None]
    stale_since: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_cameras_lat_lon", "lat", "lon"),
        # the sweep's two questions: not asked yet + confirmed before X; not stale + asked before X
        Index("ix_cameras_confirm_due", "confirm_asked_at", "confirmed_at"),
        Index("ix_cameras_confirm_stale", "stale_since", "confirm_asked_at"),
        Index("ix_cameras_tier_kind", "tier", "kind"),
    )


class CameraSecretRow(Base):
    """Full stream URLs (with credentials). Only the server's grant path reads this."""

    __tablename__ = "camera_secrets"

    camera_id: Mapped[str] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    stream_url_full: Mapped[str | None] = mapped_column(Text)
    substream_url_full: Mapped[str | None] = mapped_column(Text)


class SequenceCounterRow(Base):
    """Portable counters (used on SQLite, where there is no SEQUENCE)."""

    __tablename__ = "sequence_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class EmergencyRow(Base):
    __tablename__ = "emergencies"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("owners.id", ondelete="SET NULL"))
    camera_ids: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(64))
    # 0111: a panic's site name/kind, AVS-01 level, location, description, source (null: declared)
    panic: Mapped[dict[str, Any] | None]


# --- owner portal (0105, issue 12) ----------------------------------------------------------


class PortalAccountRow(Base):
    """An owner's portal sign-in (one per owner); e-mail kept lower-case."""

    __tablename__ = "portal_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "pa-…"
    owner_id: Mapped[str] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    verified_at: Mapped[datetime | None]
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class PortalSessionRow(Base):
    """A portal session: the cookie's opaque token is never stored, only its SHA-256."""

    __tablename__ = "portal_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class PortalLinkRow(Base):
    """A single-use, expiring e-mailed link (verify the address, sign in); SHA-256 only."""

    __tablename__ = "portal_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))  # verify | signin
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class SiteKeyRow(Base):
    """An alarm panel's signing key for ``POST /panic``: the key is HMAC(server secret, id,
    nonce), so it is never stored; revoked keys stay for the audit trail."""

    __tablename__ = "site_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "sk-…"
    owner_id: Mapped[str] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    nonce: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class PanicSeenRow(Base):
    """Signatures already accepted by ``POST /panic`` (replay protection), pruned by age."""

    __tablename__ = "panic_seen"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(40))
    seen_at: Mapped[datetime] = mapped_column(index=True)


# --- dispatch calls ---------------------------------------------------------------------


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # "call-…"
    incident_id: Mapped[str] = mapped_column(String(200), unique=True)
    type_code: Mapped[str] = mapped_column(String(40))
    type_text: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40), default="other")
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    uncertainty_m: Mapped[float | None] = mapped_column(Float)
    reported_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(20), default="cad")
    version: Mapped[int] = mapped_column(Integer, default=1)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallUpdateRow(Base):
    """Every CAD message received for a call; (incident_id, updated_at) is idempotency."""

    __tablename__ = "call_updates"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(20), default="cad")
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("incident_id", "updated_at", name="uq_call_updates_incident_updated"),
    )


# --- staff, auth, audit -----------------------------------------------------------------


class UserRow(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Second factor (TOTP): the shared secret, encrypted with a key derived from the server
    # secret; set but not enabled while enrolment is pending. ``mfa_last_step`` is the
    # RFC 6238 time-step of the last accepted code (a code is never accepted twice).
    mfa_secret: Mapped[str | None] = mapped_column(Text)
    mfa_enabled_at: Mapped[datetime | None]
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str | None] = mapped_column(String(100))  # shown to analysts (0110)


class OfficerUnitRow(Base):
    """A unit id (CAD call sign such as ``1A23``) an officer account answers to (issue 16):
    an analyst may send a call to a unit; one unit may map to two officers."""

    __tablename__ = "officer_units"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class AuthTokenRow(Base):
    __tablename__ = "auth_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class MfaRecoveryCodeRow(Base):
    """One-time recovery codes of a user's second factor (SHA-256 of the code only)."""

    __tablename__ = "mfa_recovery_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class MfaChallengeRow(Base):
    """A short-lived, single-use step between a correct password and the second factor."""

    __tablename__ = "mfa_challenges"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))  # "login" | "enrol"
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class AuditEventRow(Base):
    """Append-only, hash-chained audit trail (triggers forbid UPDATE/DELETE)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64), index=True)
    targets: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str | None] = mapped_column(
        String(32)
    )  # HMAC key of ``hash``; None = plain SHA-256 (before 0101)

    # 0106 (issue 14): newest-first filtered pages (keyset on id). The JSON target lookups
    # (camera, call, case) have expression indexes made by the migration only (store.audit_log).
    __table_args__ = (
        Index("ix_audit_events_username_id", "username", "id"),
        Index("ix_audit_events_action_id", "action", "id"),
    )


class LiveGrantRow(Base):
    __tablename__ = "live_grants"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    emergency_id: Mapped[str | None] = mapped_column(
        ForeignKey("emergencies.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str | None] = mapped_column(String(128), index=True)
    session_jti: Mapped[str | None] = mapped_column(
        String(64), index=True
    )  # the auth token that opened it


class EventRow(Base):
    """Server-sent event replay log; ``id`` is the SSE event id."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UserPresetRow(Base):
    __tablename__ = "user_presets"

    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    layout: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- footage requests and evidence ------------------------------------------------------


class FootageRequestRow(Base):
    __tablename__ = "footage_requests"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    call_id: Mapped[str | None] = mapped_column(
        ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    geofence: Mapped[dict[str, Any]]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    # 0102: the request as the console sends it (geofence holds the area object)
    case_number: Mapped[str] = mapped_column(String(40), server_default="", default="", index=True)
    offence_category: Mapped[str] = mapped_column(String(60), server_default="", default="")
    client_key: Mapped[str | None] = mapped_column(String(64))
    area_m2: Mapped[float] = mapped_column(Float, server_default="0", default=0.0)
    override_reason: Mapped[str | None] = mapped_column(Text)
    excluded: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("uq_footage_requests_created_by_client_key", "created_by", "client_key", unique=True),
    )


class RequestItemRow(Base):
    """What one owner is asked; one item may serve several requests (request_item_links).

    The owner's link token is never stored: it is an HMAC of (id, link_nonce) with the
    server's secret, so reminders can carry the same link; only its SHA-256 is kept for
    lookup.
    """

    __tablename__ = "request_items"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)  # "fri-…"
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("owners.id", ondelete="SET NULL"), index=True
    )
    owner_kind: Mapped[str] = mapped_column(String(20))
    camera_ids: Mapped[list[Any]] = mapped_column(default=list)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), index=True)
    state_reason: Mapped[str | None] = mapped_column(Text)
    files: Mapped[int] = mapped_column(Integer, default=0)
    link_nonce: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    reminders_opt_out: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    answer_note: Mapped[str | None] = mapped_column(Text)


class RequestItemLinkRow(Base):
    """Which requests an item serves (the first link is the request that created it)."""

    __tablename__ = "request_item_links"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("footage_requests.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("request_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RequestStateCountRow(Base):
    """Items per state of each request, kept with every state change (events read these
    instead of counting a big request's items on every update)."""

    __tablename__ = "request_state_counts"

    request_id: Mapped[str] = mapped_column(
        ForeignKey("footage_requests.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class MailOutboxRow(Base):
    """Durable e-mail outbox: written in the transaction that makes the need, sent after.

    ``idem_key`` makes enqueueing idempotent; ``message_id`` is fixed at enqueue time so a
    re-send after a crash carries the same Message-ID. The recipient address is looked up
    from the owner (request items) or the portal account (portal mail, ``kind="portal"``) at
    send time; it is never copied here. A portal row's ``body`` and ``link_nonce`` (the link
    token is HMAC(secret, nonce), never stored) are blanked once the row is settled.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    idem_key: Mapped[str] = mapped_column(String(120), unique=True)
    message_id: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str | None] = mapped_column(
        ForeignKey("request_items.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # initial | reminder | portal
    account_id: Mapped[str | None] = mapped_column(  # portal mail's recipient (0109)
        ForeignKey("portal_accounts.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    link_nonce: Mapped[str | None] = mapped_column(String(64))
    link_path: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # pending | sending | sent | failed | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    # the sender walks pending rows in id order and stops after one batch
    __table_args__ = (Index("ix_mail_outbox_state_id", "state", "id"),)


class EvidenceItemRow(Base):
    __tablename__ = "evidence_items"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("footage_requests.id", ondelete="SET NULL"), index=True
    )
    camera_id: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(48), index=True)
    uploaded_by: Mapped[str | None] = mapped_column(String(200))
    # evidence vault (0103): see docs/api/vault.md
    sha512: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), server_default="video", default="video")
    media: Mapped[dict[str, Any]] = mapped_column(default=dict)
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    owner_kind: Mapped[str | None] = mapped_column(String(20))
    request_item_id: Mapped[str | None] = mapped_column(String(48), index=True)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    retention: Mapped[str] = mapped_column(
        String(20), server_default="standard", default="standard"
    )
    integrity: Mapped[str] = mapped_column(String(12), server_default="ok", default="ok")
    verified_at: Mapped[datetime | None]
    derived_from: Mapped[str | None] = mapped_column(String(48))
    thumb_path: Mapped[str | None] = mapped_column(Text)
    browser_path: Mapped[str | None] = mapped_column(Text)
    browser_sha256: Mapped[str | None] = mapped_column(String(64))
    purged_at: Mapped[datetime | None]


class EvidenceCaseRow(Base):
    """An evidence item attached to a case (never purged automatically while attached)."""

    __tablename__ = "evidence_cases"

    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="CASCADE"), primary_key=True
    )
    case_number: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    attached_at: Mapped[datetime]
    attached_by: Mapped[str] = mapped_column(String(200))


class VaultUploadRow(Base):
    """A tus upload in progress (its bytes: ``<vault>/uploads/<id>.part``; offset = file size)."""

    __tablename__ = "vault_uploads"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    length: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(200))
    link_item_id: Mapped[str | None] = mapped_column(String(48), index=True)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="receiving")
    evidence_id: Mapped[str | None] = mapped_column(String(48))
    error: Mapped[str | None] = mapped_column(Text)


class CaseExportRow(Base):
    """A case export job (BagIt package in zip or tar)."""

    __tablename__ = "case_exports"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    path: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)


class CustodyEntryRow(Base):
    """Chain of custody: hash-chained entries per evidence item."""

    __tablename__ = "custody_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


# --- vehicle index of evidence (0104, issue 17) --------------------------------------------
# Only five labels can ever be stored: the CHECK below is the database's half of the promise
# "vehicles only, never people or faces" (rtcc_console.vision drops everything else first).
VEHICLE_LABELS_SQL = "label IN ('bicycle', 'car', 'motorcycle', 'bus', 'truck')"


class VehicleIndexJobRow(Base):
    """The vehicle index state of one evidence item (no row yet = pending)."""

    __tablename__ = "vehicle_index_jobs"

    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(
        String(12), index=True
    )  # pending | running | done | failed | skipped
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    model: Mapped[str] = mapped_column(String(80), default="")
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    sampled: Mapped[int] = mapped_column(Integer, default=0)
    model_runs: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class VehicleSightingRow(Base):
    """One class seen in one clip over a time range: a candidate for a person to verify."""

    __tablename__ = "vehicle_sightings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(16), index=True)
    colour: Mapped[str] = mapped_column(String(16))
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    best_score: Mapped[float] = mapped_column(Float)
    best_time_s: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (CheckConstraint(VEHICLE_LABELS_SQL, name="vehicle_label"),)


# --- supervision (0106, issue 14) ---------------------------------------------------------


class AuditVerifyJobRow(Base):
    """A chain verification run and its progress (any server process answers its status)."""

    __tablename__ = "audit_verify_jobs"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(12), index=True
    )  # running | intact | broken | failed
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    checked: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    broken_id: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str | None] = mapped_column(Text)


class MisuseFlagRow(Base):
    """A misuse pattern found in the trail (core.misuse), kept once raised, with its acknowledgement."""

    __tablename__ = "misuse_flags"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    first_at: Mapped[datetime] = mapped_column(index=True)
    last_at: Mapped[datetime]
    entry_ids: Mapped[list[Any]] = mapped_column(default=list)
    explanation: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    ack_by: Mapped[str | None] = mapped_column(String(64))
    ack_at: Mapped[datetime | None]
    ack_note: Mapped[str | None] = mapped_column(Text)


class FieldShareRow(Base):
    """A call's cameras shared to one responding officer (issue 16): a single-use link that
    becomes a session cookie; ended by the analyst, the call closing, or ``expires_at``."""

    __tablename__ = "field_shares"
    # 0112: a share belongs to a call or (an emergency with no call) to an emergency
    __table_args__ = (
        CheckConstraint("(call_id IS NULL) <> (emergency_id IS NULL)", name="one_subject"),
    )

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    call_id: Mapped[str | None] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    emergency_id: Mapped[str | None] = mapped_column(
        ForeignKey("emergencies.id", ondelete="CASCADE"), index=True
    )
    officer: Mapped[str] = mapped_column(String(64), index=True)
    camera_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    link_hash: Mapped[str] = mapped_column(String(128), unique=True)
    link_used_at: Mapped[datetime | None]
    session_hash: Mapped[str | None] = mapped_column(String(128), index=True)


metadata = Base.metadata
