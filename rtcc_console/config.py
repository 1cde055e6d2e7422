"""Typed settings (pydantic-settings). Environment prefix ``RTCC_``.

Nothing is read at import time: the composition root (cli, demo, tests) calls
``ServerSettings()`` / ``ConsoleSettings()`` and passes the object down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_config_dir, user_data_dir
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "rtcc-console"
DEV_SECRET = "dev-insecure-secret-change-me"
DEFAULT_NOTICE = (
    "You are accessing a restricted law enforcement information system. Use is limited to "
    "authorized personnel for official purposes. All activity, including every camera view "
    "and footage request, is logged and audited. Unauthorized use may result in criminal "
    "and civil penalties."
)


def data_dir() -> Path:
    """Per-user data directory (SQLite database, vault, caches)."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Per-user configuration directory (console layout, presets)."""
    return Path(user_config_dir(APP_NAME, appauthor=False))


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'rtcc.sqlite'}"


MfaRole = Literal["officer", "analyst", "supervisor", "admin"]  # officer: field page sign-in
StaffRole = Literal["analyst", "supervisor", "admin"]  # roles that use the console
_MFA_DEFAULT_ROLES: tuple[StaffRole, ...] = ("supervisor", "admin")  # CJIS: privileged staff always


class ServerSettings(BaseSettings):
    """Settings of the rtcc server. A default secret is refused unless ``dev_mode``."""

    model_config = SettingsConfigDict(env_prefix="RTCC_", extra="forbid", env_file=None)

    db_url: str = Field(
        default_factory=default_db_url,
        description="SQLAlchemy URL: sqlite:///... or postgresql+psycopg://...",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET), description="HMAC key for tokens and upload links"
    )
    dev_mode: bool = Field(
        default=False, description="Allows the default secret key; never in production"
    )
    host: str = Field(default="127.0.0.1", description="Listen address")
    port: int = Field(default=8750, ge=0, le=65535, description="Listen port")
    token_ttl_s: int = Field(
        default=8 * 3600, ge=60, le=7 * 24 * 3600, description="Bearer token lifetime"
    )
    lockout_threshold: int = Field(
        default=5, ge=1, le=100, description="Failed logins in a row before lockout"
    )
    lockout_s: int = Field(default=600, ge=10, le=86400, description="Lockout duration")
    login_ip_max_failures: int = Field(
        default=30,
        ge=0,
        le=10_000,
        description="Failed sign-ins per client address per login_ip_window_s before 429 (0 = off)",
    )
    login_ip_window_s: int = Field(
        default=900, ge=10, le=86400, description="Window of the per-address sign-in throttle"
    )
    grant_ttl_s: int = Field(
        default=60, ge=5, le=3600, description="Live grant lifetime before renewal"
    )
    field_share_ttl_s: int = Field(
        default=2 * 3600, ge=60, le=24 * 3600, description="A field share ends after this"
    )
    field_link_ttl_s: int = Field(
        default=900,
        ge=30,
        le=24 * 3600,
        description="A field share's single-use link expires after this",
    )
    system_use_notice: str = Field(
        default=DEFAULT_NOTICE, description="Text shown on the console's sign-in screen"
    )
    vehicle_index: bool = Field(
        default=True,
        description="Index every evidence clip for vehicle types (bicycle/car/motorcycle/bus/truck) in a low-priority worker process",
    )
    vehicle_index_fps: float = Field(
        default=2.0, gt=0, le=15, description="Frames a second the vehicle indexer samples"
    )
    vehicle_index_nice: int = Field(
        default=10, ge=0, le=19, description="os.nice increment of the vehicle index worker process"
    )
    cad_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret for HMAC-signed CAD webhooks"
    )
    cad_dropdir: Path | None = Field(default=None, description="Folder watched for CAD files")
    vault_dir: Path = Field(
        default_factory=lambda: data_dir() / "vault", description="Evidence vault root"
    )
    vault_max_file_bytes: int = Field(
        default=4 * 1024**3,
        ge=1,
        le=1024**4,
        description="Largest evidence file accepted (tus Tus-Max-Size)",
    )
    vault_max_link_files: int = Field(
        default=25, ge=1, le=10_000, description="Files one owner's request link may upload"
    )
    vault_max_link_bytes: int = Field(
        default=10 * 1000**3,
        ge=1,
        le=1024**4,
        description="Bytes one owner's request link may upload in total",
    )
    vault_upload_expiry_s: int = Field(
        default=24 * 3600,
        ge=60,
        le=30 * 86400,
        description="Unfinished uploads are purged after this",
    )
    vault_form_max_bytes: int = Field(
        default=256 * 1024**2,
        ge=1,
        le=4 * 1024**3,
        description="Largest plain form (multipart) upload",
    )
    vault_verify_cache_s: float = Field(
        default=60.0,
        ge=0,
        le=3600,
        description="A full hash check is reused this long for follow-on range reads",
    )
    vault_retention_days: dict[str, int] = Field(
        default_factory=lambda: {"standard": 365, "short": 90, "long": 3650},
        description="Retention categories and their periods in days (items on a case are never purged)",
    )
    event_retention_s: int = Field(
        default=48 * 3600, ge=24 * 3600, description="How long events are kept for replay"
    )
    nearest_k: int = Field(default=10, ge=1, le=200, description="Cameras ranked per call")
    nearest_radius_m: float = Field(
        default=1000.0, gt=0, le=50_000, description="Search radius for a call's cameras"
    )
    time_zone: str = Field(default="America/Chicago", description="Agency time zone for display")
    agency_name: str = Field(
        default="Real-Time Crime Center", description="Agency shown with the system-use notice"
    )
    argon2_time_cost: int = Field(
        default=3, ge=1, le=20, description="argon2id iterations (tests lower it)"
    )
    argon2_memory_kib: int = Field(
        default=65536,
        ge=8,
        le=4 * 1024 * 1024,
        description="argon2id memory in KiB (tests lower it)",
    )
    argon2_parallelism: int = Field(default=4, ge=1, le=16, description="argon2id lanes")
    sse_ping_s: float = Field(
        default=15.0, gt=0, le=300, description="Heartbeat comment interval on the event stream"
    )
    sse_queue_size: int = Field(
        default=20_000,
        ge=10,
        le=200_000,
        description="Events buffered per SSE client before it is dropped (a registry import is one burst)",
    )
    housekeeping_s: float = Field(
        default=1.0, gt=0, le=60, description="How often expired emergencies/grants are checked"
    )
    migrate_on_start: bool = Field(
        default=True, description="Upgrade the database schema to head when the app starts"
    )
    cad_dropdir_rescan_s: float = Field(
        default=5.0, gt=0, le=3600, description="Periodic rescan of the CAD drop folder"
    )
    cad_dropdir_stable_s: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="A dropped file must keep size/mtime this long before it is read",
    )
    media_path_prefix: str = Field(
        default="cam/", description="MediaMTX path prefix; path 'cam/<camera_id>' maps to a camera"
    )
    token_cache_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="How long a verified token is trusted without a database check (0 = always check); revocations invalidate at once",
    )
    tls_certfile: Path | None = Field(
        default=None,
        description="PEM certificate for HTTPS (CJIS: encrypt in transit beyond this host)",
    )
    tls_keyfile: Path | None = Field(default=None, description="PEM private key for HTTPS")
    media_relay_url: str | None = Field(
        default=None,
        description="Media relay base URL (e.g. rtsp://relay:8554); grants then point at cam/<id> on it",
    )
    # security (issue 9): second factor, audit keys and checkpoints
    mfa_required_roles: list[MfaRole] = Field(
        default_factory=lambda: list[MfaRole](_MFA_DEFAULT_ROLES),
        description="Roles that must sign in with a TOTP second factor (CJIS); add analyst (and officer, for the field page's account sign-in) to require it of everyone",
    )
    mfa_issuer: str = Field(
        default="RTCC",
        min_length=1,
        max_length=60,
        description="Issuer shown in authenticator apps",
    )
    mfa_challenge_s: int = Field(
        default=300,
        ge=30,
        le=1800,
        description="How long the step between password and code stays open",
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="Audit keyring (HMAC keys, checkpoint signing keys; outside the database, mode 0600). Unset: keys derived from secret_key",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only file of signed audit checkpoints. Unset: beside the SQLite file; log only on PostgreSQL",
    )
    audit_checkpoint_s: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="How often a signed checkpoint of the audit chain head is published (when it moved)",
    )
    # footage requests (issue 11): agency limits, owner links, reminders, SMTP
    request_max_window_s: int = Field(
        default=12 * 3600, ge=60, le=31 * 86400, description="Longest footage-request time window"
    )
    request_max_area_sq_mi: float = Field(
        default=0.5, gt=0, le=100, description="Largest footage-request area (square miles)"
    )
    request_max_per_case: int = Field(
        default=2, ge=1, le=1000, description="Most footage requests per case number"
    )
    request_dedup_s: int = Field(
        default=24 * 3600,
        ge=0,
        le=30 * 86400,
        description="Requests to the same owner with overlapping windows within this time share one item (0 = off)",
    )
    request_link_ttl_s: int = Field(
        default=10 * 86400, ge=60, le=90 * 86400, description="Lifetime of an owner's request link"
    )
    request_reminders_s: list[int] = Field(
        default_factory=lambda: [24 * 3600, 72 * 3600],
        max_length=10,
        description="Reminders this long after the first e-mail, while unanswered",
    )
    portal_base_url: str = Field(
        default="http://127.0.0.1:8750",
        max_length=300,
        description="Public base URL of the owner portal (links in e-mails)",
    )
    agency_contact_email: str = Field(
        default="rtcc@example.org", max_length=254, description="Agency contact shown to owners"
    )
    agency_contact_phone: str = Field(
        default="", max_length=40, description="Agency phone shown to owners"
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for owner e-mail (None: e-mail stays queued)"
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="SMTP transport security"
    )
    smtp_user: str | None = Field(default=None, description="SMTP user name")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_from: str = Field(
        default="footage-requests@example.org",
        max_length=254,
        description="From address of owner e-mail",
    )
    smtp_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="SMTP connect/command timeout"
    )
    mail_poll_s: float = Field(
        default=2.0, gt=0, le=3600, description="How often the outbox is checked when idle"
    )
    sia_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="TCP port of the SIA DC-09 alarm receiver (None: off); see docs/api/portal.md",
    )
    sia_host: str = Field(
        default="127.0.0.1",
        description="Address the SIA DC-09 receiver listens on (0.0.0.0 for panels on the network)",
    )
    # the yearly "still there?" question to camera owners (issue 12, store.confirmations)
    camera_confirm_interval_s: int = Field(
        default=365 * 86400,
        ge=3600,
        le=10 * 365 * 86400,
        description="Owners are asked to confirm a camera this long after its last confirmation",
    )
    camera_confirm_grace_s: int = Field(
        default=30 * 86400,
        ge=60,
        le=365 * 86400,
        description="A camera not confirmed this long after the question is marked stale",
    )
    camera_confirm_link_ttl_s: int = Field(
        default=60 * 86400,
        ge=300,
        le=365 * 86400,
        description="Lifetime of the e-mailed confirmation link (single use)",
    )
    camera_confirm_sweep_s: float = Field(
        default=3600.0,
        gt=0,
        le=86400,
        description="How often a server looks for cameras to ask about or to mark stale",
    )
    # supervision (issue 14): audit viewer, misuse flags, transparency (docs/api/supervision.md)
    audit_csv_max_rows: int = Field(
        default=1_000_000,
        ge=1,
        le=100_000_000,
        description="Most rows one audit CSV export streams",
    )
    misuse_min_reason_chars: int = Field(
        default=8,
        ge=1,
        le=200,
        description="A live-view reason shorter than this and without digits counts as no reason",
    )
    misuse_window_s: int = Field(
        default=3600,
        ge=60,
        le=7 * 86400,
        description="Window of the many-cameras and many-exports flags",
    )
    misuse_many_cameras: int = Field(
        default=8,
        ge=2,
        le=10_000,
        description="Different cameras opened outside any open call within the window that raise a flag",
    )
    misuse_call_radius_m: float = Field(
        default=1500.0,
        gt=0,
        le=100_000,
        description="A camera this close to an open call counts as serving it",
    )
    misuse_far_m: float = Field(
        default=8000.0,
        gt=0,
        le=500_000,
        description="A live view farther than this from every open call raises a flag",
    )
    misuse_burst_max_s: int = Field(
        default=900,
        ge=1,
        le=86400,
        description="Longest burst of activity that can be an isolated session",
    )
    misuse_quiet_s: int = Field(
        default=6 * 3600,
        ge=60,
        le=30 * 86400,
        description="Inactivity before and after a burst that makes it an isolated session",
    )
    misuse_after_hours_start: str = Field(
        default="23:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Start of after-hours (agency time, HH:MM); equal start and end turn the flag off",
    )
    misuse_after_hours_end: str = Field(
        default="05:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="End of after-hours (agency time, HH:MM)",
    )
    misuse_export_items: int = Field(
        default=50,
        ge=1,
        le=10_000_000,
        description="Items exported by one user within the window that raise a flag",
    )
    transparency_policy_text: str = Field(
        default="",
        max_length=20_000,
        description="The agency's camera program policy, shown on the public transparency page and report",
    )
    transparency_cache_s: float = Field(
        default=600.0,
        ge=0,
        le=86400,
        description="How long the public transparency page's figures are reused",
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> ServerSettings:
        if not self.dev_mode and self.secret_key.get_secret_value() == DEV_SECRET:
            raise ValueError(
                "RTCC_SECRET_KEY is not set: refusing to start with the default secret outside "
                "development mode (set RTCC_SECRET_KEY, or RTCC_DEV_MODE=1 for a local demo)"
            )
        if len(self.secret_key.get_secret_value()) < 16:
            raise ValueError("RTCC_SECRET_KEY must be at least 16 characters")
        return self


class ConsoleSettings(BaseSettings):
    """Settings of the analyst console."""

    model_config = SettingsConfigDict(env_prefix="RTCC_CONSOLE_", extra="forbid", env_file=None)

    server_url: str = Field(
        default="http://127.0.0.1:8750", description="Base URL of the rtcc server"
    )
    idle_lock_s: int = Field(
        default=30 * 60, ge=30, le=24 * 3600, description="Idle time before the screen locks"
    )
    idle_lock_by_role: dict[str, int] = Field(
        default_factory=lambda: {"supervisor": 15 * 60, "admin": 10 * 60},
        description="Idle time before the screen locks, per role (roles not listed use idle_lock_s)",
    )
    tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Basemap tile URL template; the map works without tiles",
    )
    tile_attribution: str = Field(
        default="&copy; OpenStreetMap contributors", description="Basemap attribution"
    )
    basemap: Literal["online", "mbtiles", "vector"] = Field(
        default="online",
        description="Basemap source: 'online' (tile_url), 'mbtiles' (basemap_path, served on loopback) or 'vector' (basemap_path, e.g. `rtcc tiles build --from demo`)",
    )
    basemap_path: Path | None = Field(
        default=None, description="MBTiles or vector basemap file for basemap 'mbtiles' / 'vector'"
    )
    nearest_count: int = Field(
        default=12, ge=1, le=100, description="Cameras listed for the selected call"
    )
    nearest_radius_m: float = Field(
        default=1000.0, gt=0, le=50_000, description="Radius for the camera list"
    )
    cache_dir: Path = Field(
        default_factory=lambda: data_dir() / "console-cache", description="Registry cache + outbox"
    )
    time_zone: str = Field(default="America/Chicago", description="Agency time zone for display")
    alert_sounds: dict[int, str] = Field(
        default_factory=lambda: {1: "urgent", 2: "chime"},
        description="Sound per call priority for new calls ('urgent', 'chime', 'soft'); priorities not listed are silent",
    )
    alert_muted: bool = Field(default=False, description="Start with call alert sounds muted")
    dashboard_roles: list[StaffRole] = Field(
        default_factory=lambda: list(_MFA_DEFAULT_ROLES),
        description="Roles that see the supervisor dashboard; add 'analyst' to show it to analysts (they see their own requests, no audit figures)",
    )
    alert_repeat_s: int = Field(
        default=30,
        ge=5,
        le=3600,
        description="An unacknowledged priority-1 call sounds again after this",
    )
    alert_max_repeats: int = Field(
        default=2,
        ge=0,
        le=10,
        description="How often an unacknowledged call sounds again (never endlessly)",
    )
    queue_hold_s: float = Field(
        default=4.0,
        ge=0,
        le=60,
        description="New calls are held behind a marker while the analyst worked in the queue this recently",
    )
    closed_linger_s: int = Field(
        default=300,
        ge=0,
        le=24 * 3600,
        description="Closed calls stay in the open view this long, greyed, then leave",
    )
