"""Application-level encryption of personal data (AES-256-GCM), with key ids so keys can rotate.

A value is stored as ``pd1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``; the column's name is
bound in as associated data, so a ciphertext copied into another column does not decrypt. The
keyring comes from ``IOC_PERSONAL_DATA_KEY`` (``kid:base64key[,kid:base64key…]``, the first one
encrypts, the others still decrypt), or for the embedded default from a key generated once into
``<data dir>/personal-data-key`` (mode 0600). Keys are never logged (``repr`` hides them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ioc.settings import Settings

PREFIX = "pd1:"
KEY_FILE = "personal-data-key"
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class CryptoError(ValueError):
    """A key or a ciphertext that cannot be used (never carries the plaintext)."""


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True)
class Keyring:
    """Keys by id; ``current`` encrypts, every key decrypts."""

    keys: Mapping[str, bytes] = field(repr=False)
    current: str

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise CryptoError(f"current key id {self.current!r} is not in the keyring")
        for kid, key in self.keys.items():
            if not _KID_RE.match(kid):
                raise CryptoError(f"bad key id {kid!r}: 1-16 of A-Z a-z 0-9 _ -")
            if len(key) != 32:
                raise CryptoError(f"key {kid!r} is {len(key)} bytes, AES-256 needs 32")

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """``kid:base64key[,kid:base64key…]`` (the first encrypts)."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            kid, sep, b64 = part.partition(":")
            if not sep:
                raise CryptoError("a personal-data key is written kid:base64key")
            try:
                keys[kid] = _b64d(b64)
            except ValueError:
                raise CryptoError(f"key {kid!r} is not base64") from None
            order.append(kid)
        if not order:
            raise CryptoError("empty personal-data keyring")
        return cls(keys, order[0])

    @staticmethod
    def generate_spec(kid: str = "k1") -> str:
        return f"{kid}:{_b64e(secrets.token_bytes(32))}"

    def encrypt(self, plaintext: str, context: str, *, seed: bytes | None = None) -> str:
        """The envelope of ``plaintext``, bound to ``context`` (the column or field name).

        With ``seed`` (an event id) the nonce is derived from the key, the seed, the context and the
        plaintext (a synthetic IV): the same event always serialises to the same bytes, and two
        different plaintexts never share a nonce. Without it the nonce is random."""
        key = self.keys[self.current]
        if seed is None:
            nonce = os.urandom(12)
        else:
            nonce_key = hmac.new(key, b"pd1 nonce key", hashlib.sha256).digest()  # not the AES key itself
            msg = seed + b"\0" + context.encode() + b"\0" + plaintext.encode()
            nonce = hmac.new(nonce_key, msg, hashlib.sha256).digest()[:12]
        ct = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}{self.current}:{_b64e(nonce + ct)}"

    def decrypt(self, token: str, context: str) -> str:
        if not is_encrypted(token):
            raise CryptoError(f"not an encrypted value (context {context!r})")
        kid, _, body = token[len(PREFIX) :].partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise CryptoError(f"unknown key id {kid!r} (context {context!r})")
        raw = _b64d(body)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError):
            raise CryptoError(f"ciphertext does not decrypt with key {kid!r} (context {context!r})") from None


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_opt(ring: Keyring, value: str | None, context: str) -> str | None:
    return None if value is None else ring.encrypt(value, context)


def decrypt_opt(ring: Keyring, value: str | None, context: str) -> str | None:
    """Plain values (rows written before encryption) are returned as they are."""
    if value is None or not is_encrypted(value):
        return value
    return ring.decrypt(value, context)


def key_file(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE


def ensure_key_file(data_dir: Path) -> Path:
    """The embedded default: a key generated once into ``<data dir>/personal-data-key`` (0600).

    Published with ``link()``, which fails if the file exists: processes starting together agree
    on one key (a second key would make the first one's rows unreadable)."""
    path = key_file(data_dir)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(Keyring.generate_spec() + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won: use its key
    finally:
        tmp.unlink()
    return path


@cache
def _ring_from(spec: str) -> Keyring:
    return Keyring.parse(spec)


def keyring_for(spec: str | None, data_dir: Path) -> Keyring:
    """The keyring from the configured spec, else from the data directory's key file (made once)."""
    if spec:
        return _ring_from(spec)
    return _ring_from(ensure_key_file(data_dir).read_text().strip())


def settings_keyring(settings: Settings) -> Keyring:
    """The keyring the settings name (``personal_data_key``, else the key file in ``data_dir``)."""
    key = settings.personal_data_key
    return keyring_for(key.get_secret_value() if key is not None else None, Path(settings.data_dir))


@cache
def default_keyring() -> Keyring:
    """The keyring of this process's environment (``IOC_PERSONAL_DATA_KEY`` / ``IOC_DATA_DIR``),
    read once: the sinks, the ticket store and the feedback event's wire form share it."""
    return settings_keyring(Settings())
