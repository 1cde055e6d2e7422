"""The audit chain cannot be rewritten: keyed hashes, signed checkpoints, key rotation.

The attacker here has the database (triggers dropped, rows changed, every hash after the
change recomputed, rows cut off the end) but neither the key file nor the checkpoint file.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from rtcc_console.config import ServerSettings
from rtcc_console.server.app import create_app
from rtcc_console.server.audit import Actor, append_audit, compute_hash, walk_chain
from rtcc_console.server.audit_checkpoints import read_checkpoints, verify_trail
from rtcc_console.server.audit_keys import (
    AuditKeyring,
    derived_keyring,
    load_keyring_file,
    save_keyring_file,
)
from rtcc_console.server.background import checkpoint_pass
from rtcc_console.server.cli import audit_main
from rtcc_console.store.schema import AuditEventRow


@pytest.fixture
def cp_file(tmp_path: Path) -> Path:
    return tmp_path / "checkpoints" / "audit.jsonl"


@pytest.fixture
def audit_app(settings_factory: Callable[..., ServerSettings], cp_file: Path) -> Iterator[Any]:
    app = create_app(settings_factory(audit_checkpoint_file=cp_file, audit_checkpoint_s=3600))
    with TestClient(app):
        yield app


def _rows(app: Any, n: int, tag: str = "r") -> None:
    with app.state.rtcc.db.write() as s:
        for i in range(n):
            append_audit(
                s,
                actor=Actor("ana", "analyst", "10.0.0.1"),
                action="test.row",
                targets={"camera": f"c{i}"},
                reason=f"{tag}{i}",
            )


def _drop_triggers(app: Any) -> None:
    db = app.state.rtcc.db
    with db.engine.begin() as conn:
        if db.is_postgres:
            conn.execute(text("DROP TRIGGER audit_events_append_only ON audit_events"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def _rewrite(app: Any, *, change_id: int, keyring: AuditKeyring | None = None) -> None:
    """Change one reason and recompute every hash from the start: plain SHA-256 without
    ``keyring`` (marking rows unkeyed), HMAC with a stolen ``keyring``."""
    _drop_triggers(app)
    db = app.state.rtcc.db
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET reason = 'nothing happened' WHERE id = :i"),
            {"i": change_id},
        )
    with db.read() as s:
        rows = s.query(AuditEventRow).order_by(AuditEventRow.id).all()
        prev = "0" * 64
        updates = []
        for r in rows:
            kid = keyring.current_hmac if keyring is not None else None
            h = compute_hash(
                id=r.id,
                at=r.at,
                username=r.username,
                role=r.role,
                action=r.action,
                targets=dict(r.targets),
                reason=r.reason,
                outcome=r.outcome,
                client_addr=r.client_addr,
                prev_hash=prev,
                key_id=kid,
                keyring=keyring,
            )
            updates.append({"i": r.id, "p": prev, "h": h, "k": kid})
            prev = h
    with db.engine.begin() as conn:
        for u in updates:
            conn.execute(
                text(
                    "UPDATE audit_events SET prev_hash = :p, hash = :h, key_id = :k WHERE id = :i"
                ),
                u,
            )


def _verify(app: Any, cp_file: Path) -> Any:
    with app.state.rtcc.db.read() as s:
        return verify_trail(
            s, ring=app.state.rtcc.extras["audit_keyring"], checkpoints_path=cp_file
        )


def test_rows_are_hmac_keyed_and_the_key_is_not_in_the_database(
    audit_app: Any, tmp_path: Path
) -> None:
    _rows(audit_app, 3)
    ring = audit_app.state.rtcc.extras["audit_keyring"]
    with audit_app.state.rtcc.db.read() as s:
        rows = s.query(AuditEventRow).order_by(AuditEventRow.id).all()
        assert rows and {r.key_id for r in rows} == {ring.current_hmac}
        r = rows[-1]
        plain = compute_hash(
            id=r.id,
            at=r.at,
            username=r.username,
            role=r.role,
            action=r.action,
            targets=dict(r.targets),
            reason=r.reason,
            outcome=r.outcome,
            client_addr=r.client_addr,
            prev_hash=r.prev_hash,
        )
        assert r.hash != plain  # not recomputable without the key
        assert walk_chain(s, keyring=ring).broken_id is None
    url = audit_app.state.rtcc.db.engine.url
    if url.get_backend_name() == "sqlite":
        raw = Path(url.database).read_bytes()
        key = ring.hmac_keys[ring.current_hmac]
        assert key not in raw and key.hex().encode() not in raw


def test_full_plain_rewrite_after_shutdown_is_caught(
    settings_factory: Callable[..., ServerSettings],
    cp_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The attacker redoes the whole chain as pre-key "legacy" SHA-256 rows, so that the
    walk alone finds nothing; the checkpoint the server signed when it stopped does."""
    app = create_app(settings_factory(audit_checkpoint_file=cp_file, audit_checkpoint_s=3600))
    with TestClient(app):
        _rows(app, 6)
    assert read_checkpoints(cp_file)[0][-1].count >= 6  # published at shutdown
    _rewrite(app, change_id=3)
    with app.state.rtcc.db.read() as s:
        assert walk_chain(s, keyring=app.state.rtcc.extras["audit_keyring"]).broken_id is None
    report = _verify(app, cp_file)
    assert not report.ok and any(p.startswith("rewritten") for p in report.problems)
    assert (
        audit_main(
            ["verify", "--db", str(app.state.rtcc.settings.db_url), "--checkpoints", str(cp_file)]
        )
        == 1
    )
    assert "rewritten" in capsys.readouterr().err


def test_rewrite_after_a_checkpoint_is_caught_even_with_the_stolen_key(
    audit_app: Any, cp_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _rows(audit_app, 6)
    checkpoint_pass(audit_app.state.rtcc)
    assert _verify(audit_app, cp_file).ok
    _rewrite(audit_app, change_id=3, keyring=audit_app.state.rtcc.extras["audit_keyring"])
    report = _verify(audit_app, cp_file)
    assert report.chain.broken_id is None  # the stolen key recomputes a chain that walks...
    assert not report.ok and any(
        p.startswith("rewritten") for p in report.problems
    )  # ...but not the checkpoint
    assert (
        audit_main(
            [
                "verify",
                "--db",
                str(audit_app.state.rtcc.settings.db_url),
                "--checkpoints",
                str(cp_file),
            ]
        )
        == 1
    )
    assert "rewritten" in capsys.readouterr().err


def test_rewrite_with_plain_hashes_after_a_checkpoint_is_caught(
    audit_app: Any, cp_file: Path
) -> None:
    _rows(audit_app, 6)
    checkpoint_pass(audit_app.state.rtcc)
    _rewrite(audit_app, change_id=2)
    report = _verify(audit_app, cp_file)
    assert not report.ok and any("rewritten" in p for p in report.problems)


def test_changing_one_row_without_the_key_names_it(audit_app: Any, cp_file: Path) -> None:
    _rows(audit_app, 6)
    _drop_triggers(audit_app)
    with audit_app.state.rtcc.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET reason = 'x', key_id = NULL WHERE id = 5"))
    report = _verify(audit_app, cp_file)
    assert report.chain.broken_id == 5 and "unkeyed" in (report.chain.problem or "")


def test_truncation_is_caught_against_the_latest_checkpoint(
    audit_app: Any, cp_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _rows(audit_app, 8)
    checkpoint_pass(audit_app.state.rtcc)
    count = read_checkpoints(cp_file)[0][-1].count
    _drop_triggers(audit_app)
    with audit_app.state.rtcc.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id > :n"), {"n": count - 3})
    report = _verify(audit_app, cp_file)
    assert report.chain.broken_id is None  # what is left is a perfect prefix...
    assert not report.ok and report.problems[0].startswith("truncated")  # ...of a longer chain
    assert (
        f"covers {count} events" in report.problems[0]
        and f"holds {count - 3}" in report.problems[0]
    )
    db_url = str(audit_app.state.rtcc.settings.db_url)
    assert audit_main(["verify", "--db", db_url, "--checkpoints", str(cp_file)]) == 1
    assert "truncated" in capsys.readouterr().err


def test_forged_or_reordered_checkpoint_lines_are_refused(audit_app: Any, cp_file: Path) -> None:
    _rows(audit_app, 4)
    checkpoint_pass(audit_app.state.rtcc)
    good = json.loads(cp_file.read_text().splitlines()[-1])
    forged = dict(
        good, count=good["count"] - 2, head_id=good["head_id"] - 2
    )  # "there were fewer events"
    with cp_file.open("a") as fh:
        fh.write(json.dumps(forged) + "\n")
        fh.write("{not json\n")
    report = _verify(audit_app, cp_file)
    assert any("signature does not verify" in p for p in report.problems)
    assert any("malformed" in p for p in report.problems)


def test_server_publishes_checkpoints_to_file_and_log(
    settings_factory: Callable[..., ServerSettings], cp_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rtcc_console.audit.checkpoint")
    app = create_app(settings_factory(audit_checkpoint_file=cp_file, audit_checkpoint_s=0.1))
    with TestClient(app) as client:
        _rows(app, 3)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (
            cp_file.exists()
            and read_checkpoints(cp_file)[0][-1:]
            and read_checkpoints(cp_file)[0][-1].count >= 3
        ):
            client.get("/api/v1/health")
        assert read_checkpoints(cp_file)[0][-1].count >= 3
    cps, problems = read_checkpoints(cp_file)
    assert not problems
    counts = [c.count for c in cps]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)  # only when the head moved
    assert any(c.line() in r.getMessage() for c in cps for r in caplog.records)
    with app.state.rtcc.db.read() as s:
        assert verify_trail(
            s, ring=app.state.rtcc.extras["audit_keyring"], checkpoints_path=cp_file
        ).ok


def test_key_rotation_keeps_old_rows_verifiable(
    settings_factory: Callable[..., ServerSettings],
    cp_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_file = tmp_path / "secrets" / "audit-keys.json"
    base = settings_factory(audit_checkpoint_file=cp_file, audit_checkpoint_s=3600)
    db_url = str(base.db_url)
    app1 = create_app(base)
    with TestClient(app1):
        _rows(app1, 3, "before")
        checkpoint_pass(app1.state.rtcc)
    old_kid = app1.state.rtcc.extras["audit_keyring"].current_hmac
    assert old_kid.startswith("sk-")  # derived from the server secret
    assert audit_main(["rotate-key", "--key-file", str(key_file)]) == 0
    assert key_file.stat().st_mode & 0o077 == 0  # owner only
    ring = load_keyring_file(key_file)
    assert ring.current_hmac != old_kid and old_kid in ring.hmac_keys
    app2 = create_app(
        settings_factory(
            audit_checkpoint_file=cp_file, audit_checkpoint_s=3600, audit_key_file=key_file
        )
    )
    with TestClient(app2):
        _rows(app2, 3, "after")
        checkpoint_pass(app2.state.rtcc)
    with app2.state.rtcc.db.read() as s:
        kids = [
            r.key_id
            for r in s.query(AuditEventRow)
            .filter(AuditEventRow.action == "test.row")
            .order_by(AuditEventRow.id)
        ]
    assert kids == [old_kid] * 3 + [ring.current_hmac] * 3
    capsys.readouterr()
    args = ["verify", "--db", db_url, "--checkpoints", str(cp_file), "--key-file", str(key_file)]
    assert audit_main(args) == 0
    assert "intact: 6 events" in capsys.readouterr().out
    signers = {c.signer for c in read_checkpoints(cp_file)[0]}
    assert signers == {app1.state.rtcc.extras["audit_keyring"].current_signer, ring.current_signer}
    # a second rotation keeps both older keys
    assert audit_main(["rotate-key", "--key-file", str(key_file)]) == 0
    assert len(load_keyring_file(key_file).hmac_keys) == 3
    assert audit_main(args) == 0
    # dropping an old key makes its rows (and its checkpoints) unverifiable: keys must be kept
    pruned = load_keyring_file(key_file)
    stripped = AuditKeyring(
        {k: v for k, v in pruned.hmac_keys.items() if k != old_kid},
        pruned.current_hmac,
        pruned.signing_keys,
        pruned.current_signer,
    )
    save_keyring_file(stripped, key_file)
    capsys.readouterr()
    assert audit_main(args) == 1
    assert "not in the keyring" in capsys.readouterr().err
    # the derived keyring alone cannot verify rows written under the file's key
    assert derived_keyring("x" * 32).current_hmac != old_kid


def test_missing_key_file_is_a_clear_error(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        audit_main(
            ["verify", "--db", str(settings.db_url), "--key-file", str(tmp_path / "nope.json")]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_cli_checkpoint_and_public_keys(
    audit_app: Any, cp_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    _rows(audit_app, 2)
    db_url = str(audit_app.state.rtcc.settings.db_url)
    capsys.readouterr()
    assert audit_main(["checkpoint", "--db", db_url, "--checkpoints", str(cp_file)]) == 0
    printed = capsys.readouterr().out  # "checkpoint: N events, head H -> FILE"
    count = int(printed.split("checkpoint: ")[1].split(" events")[0])
    cps = [
        c for c in read_checkpoints(cp_file)[0] if c.count == count
    ]  # the server may add its own lines
    assert count >= 2 and cps
    assert audit_main(["public-keys"]) == 0
    pem = capsys.readouterr().out
    ring = audit_app.state.rtcc.extras["audit_keyring"]
    assert f"# signer {ring.current_signer} (current)" in pem
    key = load_pem_public_key(pem[pem.index("-----BEGIN") :].encode())
    key.verify(__import__("base64").b64decode(cps[-1].sig), cps[-1].message())  # type: ignore[union-attr]
    assert "PRIVATE" not in pem
