"""Keys of the audit trail: HMAC keys for the chain, Ed25519 keys for checkpoints.

The chain's hashes are HMAC-SHA256 under a key that the database never holds, so whoever
can write the database file cannot recompute a valid chain after changing a row. Signed
checkpoints (count + head hash, Ed25519) are published outside the database (an
append-only file and the log), so that cutting rows off the end, or rewriting the whole
chain with a stolen HMAC key, is caught against the latest checkpoint.

Where the keys come from (the server's secret store):

* ``RTCC_AUDIT_KEY_FILE`` set: a JSON keyring (mode 0600) holding every HMAC key and
  signing key by id, and which one is current. ``rtcc audit rotate-key`` adds a new key
  pair and makes it current; old keys stay so that old rows and checkpoints still verify.
* not set: one HMAC key and one signing key derived from ``RTCC_SECRET_KEY`` (HKDF), ids
  ``sk-<fingerprint>``. Rotating means moving to a key file (``rotate-key`` starts it with
  the derived keys, so rows written so far keep verifying).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_HMAC_INFO = b"rtcc audit chain hmac v1"
_SIGN_INFO = b"rtcc audit checkpoint ed25519 v1"


class KeyringError(ValueError):
    """The keyring file is missing a key, unreadable or malformed."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def derive(secret: str, info: bytes) -> bytes:
    """32 bytes derived from the server secret for one purpose (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret.encode("utf-8")
    )


def fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:10]


@dataclass
class AuditKeyring:
    """HMAC keys and checkpoint signing keys by id, with the current one of each."""

    hmac_keys: dict[str, bytes]
    current_hmac: str
    signing_keys: dict[str, bytes]  # Ed25519 private key bytes (32)
    current_signer: str
    source: str = "derived"
    _pub: dict[str, Ed25519PublicKey] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.current_hmac not in self.hmac_keys or self.current_signer not in self.signing_keys:
            raise KeyringError("the keyring's current key is not among its keys")
        for kid, raw in list(self.hmac_keys.items()) + list(self.signing_keys.items()):
            if len(raw) != 32 or not kid or len(kid) > 32:
                raise KeyringError(
                    f"audit key {kid!r}: expected 32 bytes and an id of at most 32 characters"
                )

    # --- chain ------------------------------------------------------------------------

    def mac(self, key_id: str, message: bytes) -> str:
        key = self.hmac_keys.get(key_id)
        if key is None:
            raise KeyringError(f"unknown audit key id {key_id!r}")
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    # --- checkpoints ------------------------------------------------------------------

    def sign(self, message: bytes) -> tuple[str, str]:
        """(signer id, base64 signature) with the current signing key."""
        key = Ed25519PrivateKey.from_private_bytes(self.signing_keys[self.current_signer])
        return self.current_signer, _b64(key.sign(message))

    def public_key(self, signer: str) -> Ed25519PublicKey | None:
        if signer not in self._pub:
            raw = self.signing_keys.get(signer)
            if raw is None:
                return None
            self._pub[signer] = Ed25519PrivateKey.from_private_bytes(raw).public_key()
        return self._pub[signer]

    def public_keys_pem(self) -> dict[str, str]:
        """Each signer's public key (PEM): what an auditor needs to check checkpoints."""
        out: dict[str, str] = {}
        for kid in self.signing_keys:
            pub = self.public_key(kid)
            assert pub is not None
            out[kid] = pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(
                "ascii"
            )
        return out

    def check_signature(self, signer: str, signature: str, message: bytes) -> bool:
        pub = self.public_key(signer)
        if pub is None:
            return False
        try:
            pub.verify(_unb64(signature), message)
        except (InvalidSignature, ValueError):
            return False
        return True

    # --- persistence ------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "current_hmac": self.current_hmac,
            "hmac": {k: _b64(v) for k, v in self.hmac_keys.items()},
            "current_signer": self.current_signer,
            "signers": {k: _b64(v) for k, v in self.signing_keys.items()},
        }

    def with_new_keys(self) -> AuditKeyring:
        """A copy with a fresh HMAC key and signing key made current (old ones kept)."""
        hmac_raw, sign_raw = secrets.token_bytes(32), secrets.token_bytes(32)
        hkid, skid = f"k-{fingerprint(hmac_raw)}", f"s-{fingerprint(sign_raw)}"
        return AuditKeyring(
            hmac_keys={**self.hmac_keys, hkid: hmac_raw},
            current_hmac=hkid,
            signing_keys={**self.signing_keys, skid: sign_raw},
            current_signer=skid,
            source="file",
        )


def derived_keyring(secret: str) -> AuditKeyring:
    hmac_raw, sign_raw = derive(secret, _HMAC_INFO), derive(secret, _SIGN_INFO)
    hkid, skid = f"sk-{fingerprint(hmac_raw)}", f"sk-{fingerprint(sign_raw)}"
    return AuditKeyring({hkid: hmac_raw}, hkid, {skid: sign_raw}, skid, source="derived")


def load_keyring_file(path: Path) -> AuditKeyring:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ring = AuditKeyring(
            hmac_keys={str(k): _unb64(v) for k, v in data["hmac"].items()},
            current_hmac=str(data["current_hmac"]),
            signing_keys={str(k): _unb64(v) for k, v in data["signers"].items()},
            current_signer=str(data["current_signer"]),
            source="file",
        )
    except FileNotFoundError:
        raise KeyringError(
            f"audit key file {path} does not exist (create it with `rtcc audit rotate-key`)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyringError(
            f"audit key file {path} is unreadable or malformed ({type(exc).__name__})"
        ) from None
    return ring


def save_keyring_file(ring: AuditKeyring, path: Path) -> None:
    """Write atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(ring.to_json(), fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def keyring_for(*, secret: str, key_file: Path | None) -> AuditKeyring:
    """The keyring the settings point at: the key file, or keys derived from the secret."""
    return load_keyring_file(key_file) if key_file is not None else derived_keyring(secret)
