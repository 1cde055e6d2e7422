"""``rtcc server``, ``rtcc user ...`` and ``rtcc audit ...`` subcommands.

Each ``*_main(argv) -> int`` parses its own arguments; settings come from ``RTCC_*``
environment variables, with the command-line options taking precedence.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from rtcc_console.config import ServerSettings

if TYPE_CHECKING:
    from rtcc_console.server.audit_keys import AuditKeyring
    from rtcc_console.server.database import Database


def _out(message: str) -> None:
    sys.stdout.write(message + "\n")


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")


def _settings(**overrides: object) -> ServerSettings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ServerSettings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages = "; ".join(str(e.get("msg", e)) for e in exc.errors())
        raise SystemExit(f"rtcc: invalid settings: {messages}") from None


def server_main(argv: list[str]) -> int:
    """Run the API server (migrates the database to head first)."""
    parser = argparse.ArgumentParser(prog="rtcc server", description="Run the RTCC API server.")
    parser.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=None, help="listen port (default 8750; 0 = any free port)"
    )
    parser.add_argument(
        "--db", default=None, help="SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...)"
    )
    parser.add_argument(
        "--cad-dropdir", type=Path, default=None, help="folder watched for CAD files"
    )
    parser.add_argument(
        "--dev", action="store_true", help="development mode (allows the default secret)"
    )
    parser.add_argument(
        "--tls-certfile", type=Path, default=None, help="PEM certificate: serve HTTPS"
    )
    parser.add_argument(
        "--tls-keyfile", type=Path, default=None, help="PEM private key for --tls-certfile"
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    args = parser.parse_args(argv)
    settings = _settings(
        host=args.host,
        port=args.port,
        db_url=args.db,
        cad_dropdir=args.cad_dropdir,
        dev_mode=True if args.dev else None,
        tls_certfile=args.tls_certfile,
        tls_keyfile=args.tls_keyfile,
    )
    if (settings.tls_certfile is None) != (settings.tls_keyfile is None):
        _err("rtcc server: give both --tls-certfile and --tls-keyfile (or neither)")
        return 2
    import uvicorn

    from rtcc_console.server.app import create_app, install_log_redaction
    from rtcc_console.server.embedded import _http_impl

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_log_redaction()
    tls = settings.tls_certfile is not None
    if not tls and not _is_loopback(settings.host):
        logging.getLogger("rtcc_console.server").warning(
            "serving plain HTTP on %s: bearer tokens and stream credentials cross the network unencrypted; "
            "use --tls-certfile/--tls-keyfile or a TLS-terminating proxy on this host",
            settings.host,
        )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        http=_http_impl(),
        log_config=None,
        timeout_graceful_shutdown=5,
        ws="none",
        ssl_certfile=str(settings.tls_certfile) if tls else None,
        ssl_keyfile=str(settings.tls_keyfile) if tls else None,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("rtcc user: passwords do not match")
    return first


def user_main(argv: list[str]) -> int:
    """Manage staff accounts: ``add NAME --role R --password-stdin``, ``unlock NAME``,
    ``reset-mfa NAME`` (audited; ends the user's sessions and live views)."""
    parser = argparse.ArgumentParser(prog="rtcc user", description="Manage staff accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="create a staff account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["officer", "analyst", "supervisor", "admin"])
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from one line of stdin"
    )
    add.add_argument("--db", default=None)
    unlock = sub.add_parser("unlock", help="clear a login lockout")
    unlock.add_argument("name")
    unlock.add_argument("--db", default=None)
    reset = sub.add_parser(
        "reset-mfa", help="forget a user's second factor (they enrol again at next sign-in)"
    )
    reset.add_argument("name")
    reset.add_argument("--db", default=None)
    passwd = sub.add_parser(
        "passwd", help="set a new password (clears a lockout; signs the user out everywhere)"
    )
    passwd.add_argument("name")
    passwd.add_argument(
        "--password-stdin", action="store_true", help="read the password from one line of stdin"
    )
    passwd.add_argument("--db", default=None)
    for verb, what in (
        ("disable", "disable an account (signs it out and ends its live views)"),
        ("enable", "enable a disabled account"),
    ):
        cmd = sub.add_parser(verb, help=what)
        cmd.add_argument("name")
        cmd.add_argument("--db", default=None)
    set_units = sub.add_parser(
        "set-units", help="set an officer's unit ids (call signs, e.g. 1A23); none clears them"
    )
    set_units.add_argument("name")
    set_units.add_argument("unit_ids", nargs="*")
    set_units.add_argument("--display-name", default=None, help="name shown to analysts")
    set_units.add_argument("--db", default=None)
    args = parser.parse_args(argv)
    settings = _settings(db_url=args.db, dev_mode=True)
    from rtcc_console.core.models import Role
    from rtcc_console.server.audit import Actor, append_audit
    from rtcc_console.server.database import Database
    from rtcc_console.server.passwords import Passwords, validate_password
    from rtcc_console.server.security import (
        create_user,
        get_user,
        normalize_username,
        unlock_user,
        validate_username,
    )
    from rtcc_console.store.migrate import upgrade

    upgrade(settings.db_url)
    db = Database(settings.db_url)
    _audit_keys(settings, db)
    name = normalize_username(args.name)
    actor = Actor(username="cli", role="admin", client_addr="local")
    try:
        if args.command == "add":
            problem = validate_username(name)
            if problem:
                _err(f"rtcc user: {problem}")
                return 2
            password = _read_password(args.password_stdin)
            problem = validate_password(password)
            if problem:
                _err(f"rtcc user: {problem}")
                return 2
            password_hash = Passwords.from_settings(settings).hash(password)
            with db.write() as session:
                if get_user(session, username=name) is not None:
                    _err(f"rtcc user: {name!r} already exists")
                    return 1
                create_user(
                    session, username=name, role=Role(args.role), password_hash=password_hash
                )
                append_audit(
                    session,
                    actor=actor,
                    action="admin.user_add",
                    targets={"user": name},
                    reason=f"role {args.role}",
                )
            _out(f"created {args.role} {name}")
            return 0
        if args.command in ("passwd", "disable", "enable"):
            return _change_user(
                args.command,
                name,
                settings=settings,
                db=db,
                actor=actor,
                password_stdin=getattr(args, "password_stdin", False),
            )
        if args.command == "set-units":  # issue 16: "Send to field" by unit id
            from rtcc_console.server.field_shares import ShareError, set_officer_units

            try:
                with db.write() as session:
                    _name, units = set_officer_units(
                        session,
                        actor=actor,
                        username=name,
                        unit_ids=args.unit_ids,
                        display_name=args.display_name,
                        set_name=args.display_name is not None,
                    )
            except ShareError as exc:
                _err(f"rtcc user: {exc.reason}")
                return 1 if exc.status == 404 else 2
            _out(f"{name}: units {', '.join(units) or 'none'}")
            return 0
        if args.command == "reset-mfa":
            from rtcc_console.server.sessions import end_user_sessions
            from rtcc_console.store.mfa import reset_mfa

            with db.write() as session:
                if not reset_mfa(session, username=name):
                    _err(f"rtcc user: no user {name!r}")
                    return 1
                revoked, ended = end_user_sessions(
                    session, username=name, actor=actor, reason="second factor reset"
                )
                append_audit(
                    session,
                    actor=actor,
                    action="admin.user_reset_mfa",
                    targets={"user": name},
                    reason=f"{revoked} session(s) revoked, {ended} live view(s) ended",
                )
            _out(f"second factor of {name} reset: they enrol again at their next sign-in")
            return 0
        with db.write() as session:
            if not unlock_user(session, username=name):
                _err(f"rtcc user: no user {name!r}")
                return 1
            append_audit(session, actor=actor, action="admin.user_unlock", targets={"user": name})
        _out(f"unlocked {name}")
        return 0
    finally:
        db.dispose()


def _change_user(
    command: str,
    name: str,
    *,
    settings: ServerSettings,
    db: Database,
    actor: Any,
    password_stdin: bool,
) -> int:
    """``passwd``, ``disable``, ``enable``: as ``PATCH /users/{name}`` does, audited, and the
    user's sessions and live views end (a new password or a disabled account means it)."""
    from rtcc_console.server.audit import append_audit
    from rtcc_console.server.passwords import Passwords, validate_password
    from rtcc_console.server.security import get_user
    from rtcc_console.server.sessions import end_user_sessions

    new_hash = None
    if command == "passwd":
        password = _read_password(password_stdin)
        problem = validate_password(password)
        if problem:
            _err(f"rtcc user: {problem}")
            return 2
        new_hash = Passwords.from_settings(settings).hash(password)
    with db.write() as session:
        row = get_user(session, username=name)
        if row is None:
            _err(f"rtcc user: no user {name!r}")
            return 1
        if new_hash is not None:
            row.password_hash = new_hash
            row.failed_logins = 0
            row.locked_until = None
            why = "password changed"
        else:
            row.disabled = command == "disable"
            why = f"account {command}d"
        revoked, ended = end_user_sessions(session, username=name, actor=actor, reason=why)
        append_audit(
            session,
            actor=actor,
            action=f"admin.user_{command}",
            targets={"user": name},
            reason=f"{why}; {revoked} session(s) revoked, {ended} live view(s) ended",
        )
    _out(f"{name}: {why}")
    return 0


def _audit_keys(settings: ServerSettings, db: Database) -> AuditKeyring:
    from rtcc_console.server.audit_checkpoints import install_audit_keys

    return install_audit_keys(
        secret=settings.secret_key.get_secret_value(),
        key_file=settings.audit_key_file,
        engine=db.engine,
    )


def audit_main(argv: list[str]) -> int:
    """``rtcc audit verify|checkpoint|rotate-key|public-keys``.

    ``verify``: 0 when the keyed chain is intact and agrees with every signed checkpoint,
    1 naming the first bad row / the truncation / the forged checkpoint, 2 when the trail
    or its keys cannot be read (no database, not migrated, key file missing).
    """
    parser = argparse.ArgumentParser(prog="rtcc audit", description="Audit trail tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser(
        "verify", help="check the keyed hash chain against the signed checkpoints"
    )
    checkpoint = sub.add_parser(
        "checkpoint", help="sign and publish a checkpoint of the chain head now"
    )
    rotate = sub.add_parser(
        "rotate-key", help="add a new HMAC + signing key to the key file and make them current"
    )
    public = sub.add_parser(
        "public-keys", help="print the checkpoint signing public keys (PEM) for an auditor"
    )
    for p in (verify, checkpoint, rotate, public):
        p.add_argument("--db", default=None)
        p.add_argument(
            "--key-file",
            type=Path,
            default=None,
            help="audit keyring (default RTCC_AUDIT_KEY_FILE, else derived from RTCC_SECRET_KEY)",
        )
    for p in (verify, checkpoint):
        p.add_argument(
            "--checkpoints",
            type=Path,
            default=None,
            help="checkpoint file (default RTCC_AUDIT_CHECKPOINT_FILE, else beside the SQLite file)",
        )
    args = parser.parse_args(argv)
    settings = _settings(
        db_url=args.db,
        dev_mode=True,
        audit_key_file=args.key_file,
        audit_checkpoint_file=getattr(args, "checkpoints", None),
    )
    from rtcc_console.server.audit_keys import KeyringError

    if args.command in ("rotate-key", "public-keys"):
        return _audit_keys_command(args.command, settings)
    from sqlalchemy.exc import SQLAlchemyError

    from rtcc_console.server.audit import row_at
    from rtcc_console.server.audit_checkpoints import (
        checkpoint_path,
        publish_checkpoint,
        verify_trail,
    )
    from rtcc_console.server.database import Database
    from rtcc_console.store.db import normalize_url

    url = normalize_url(settings.db_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database
        and not Path(url.database).expanduser().exists()
    ):
        _err(f"rtcc audit: no database at {url.database}")
        return 2
    cp_path = checkpoint_path(db_url=settings.db_url, configured=settings.audit_checkpoint_file)
    db = Database(settings.db_url)
    try:
        ring = _audit_keys(settings, db)
        with db.read() as session:
            if args.command == "checkpoint":
                cp = publish_checkpoint(session, ring=ring, path=cp_path)
                assert cp is not None
                _out(
                    f"checkpoint: {cp.count} events, head {cp.head_id} -> {cp_path or '(log only)'}"
                )
                return 0
            report = verify_trail(session, ring=ring, checkpoints_path=cp_path)
            broken = report.chain.broken_id
            row = row_at(session, id=broken) if broken is not None else None
            detail = (
                f" ({row.at.isoformat()} {row.action} by {row.username})" if row is not None else ""
            )
    except KeyringError as exc:
        _err(f"rtcc audit: {exc}")
        return 2
    except SQLAlchemyError as exc:
        _err(
            f"rtcc audit: cannot read the audit trail ({type(exc).__name__}: {str(exc).splitlines()[0]})"
        )
        return 2
    finally:
        db.dispose()
    if broken is not None:
        _err(f"audit chain BROKEN at event id {broken}{detail}: {report.chain.problem}")
    for problem in report.problems:
        _err(f"audit trail: {problem}")
    if not report.ok:
        return 1
    if report.latest is None:
        _err(
            f"warning: no signed checkpoint to check against ({cp_path or 'no checkpoint file configured'}): "
            "truncation cannot be detected"
        )
        _out(f"audit chain intact: {report.chain.count} events verified")
    else:
        _out(
            f"audit chain intact: {report.chain.count} events verified; agrees with {report.checkpoints} signed "
            f"checkpoint(s), the latest of {report.latest.at} ({report.latest.count} events)"
        )
    return 0


def _audit_keys_command(command: str, settings: ServerSettings) -> int:
    from rtcc_console.server.audit_keys import (
        KeyringError,
        derived_keyring,
        load_keyring_file,
        save_keyring_file,
    )

    path = settings.audit_key_file
    try:
        if command == "public-keys":
            ring = (
                load_keyring_file(path)
                if path is not None
                else derived_keyring(settings.secret_key.get_secret_value())
            )
            for kid, pem in ring.public_keys_pem().items():
                _out(
                    f"# signer {kid}{' (current)' if kid == ring.current_signer else ''}\n{pem.rstrip()}"
                )
            return 0
        if path is None:
            _err(
                "rtcc audit rotate-key: give --key-file (or RTCC_AUDIT_KEY_FILE): the keyring lives in that file"
            )
            return 2
        # A new key file starts with the keys derived from the secret, so that every row and
        # checkpoint written so far keeps verifying after the switch.
        old = (
            load_keyring_file(path)
            if path.exists()
            else derived_keyring(settings.secret_key.get_secret_value())
        )
        new = old.with_new_keys()
        save_keyring_file(new, path)
    except (KeyringError, OSError) as exc:
        _err(f"rtcc audit: {exc}")
        return 2
    _out(
        f"audit keys rotated in {path}: HMAC key {new.current_hmac}, signer {new.current_signer} are current; "
        f"{len(new.hmac_keys) - 1} older HMAC key(s) kept for verification. Restart the server with "
        f"RTCC_AUDIT_KEY_FILE={path}."
    )
    return 0
