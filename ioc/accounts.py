"""Accounts: users, roles and password hashes (no web here: the launcher, the CLI and the web app use it)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import psycopg
from psycopg.rows import class_row
from werkzeug.security import check_password_hash, generate_password_hash

from ioc.audit import audit

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 8
# A throwaway hash so that an unknown user costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class Role(StrEnum):
    LEADER = "leader"
    OPERATOR = "operator"
    TRIAGE = "triage"
    ADMIN = "admin"
    DISPLAY = "display"  # the video wall's account: /wall only


class UserError(ValueError):
    """Invalid user data (the message names the bad value)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str | None
    disabled: bool
    password_hash: str


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise UserError(f"unknown role {value!r}: expected one of {[r.value for r in Role]}") from None


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"password too short: {len(password)} characters, need at least {MIN_PASSWORD_LENGTH}"
        )
    return generate_password_hash(password, method="scrypt")


def add_user(
    conn: psycopg.Connection,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    *,
    replace: bool = False,
) -> None:
    """Create (or with ``replace`` update) a user; the password is stored only as a scrypt hash."""
    if not USERNAME_RE.match(username):
        raise UserError(
            f"invalid username {username!r}: 2-64 of a-z 0-9 _ . - starting with a letter or digit"
        )
    role = parse_role(role).value
    pw_hash = hash_password(password)
    conflict = (
        "ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,"
        " display_name = EXCLUDED.display_name, disabled = false"
        if replace
        else "ON CONFLICT (username) DO NOTHING"
    )
    with conn.transaction():
        cur = conn.execute(
            "INSERT INTO users (username, password_hash, role, display_name) VALUES (%s, %s, %s, %s) "
            + conflict,
            (username, pw_hash, role, display_name),
        )
        if cur.rowcount == 0:
            raise UserError(f"user {username!r} already exists")
        audit(conn, "system", "user.add" if not replace else "user.set", username, {"role": role})


def get_user(conn: psycopg.Connection, username: str) -> User | None:
    with conn.cursor(row_factory=class_row(User)) as cur:
        return cur.execute(
            "SELECT username, role, display_name, disabled, password_hash FROM users WHERE username = %s",
            (username,),
        ).fetchone()


def authenticate(conn: psycopg.Connection, username: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled, else None."""
    user = get_user(conn, username) if USERNAME_RE.match(username) else None
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or user.disabled:
        return None
    conn.execute("UPDATE users SET last_login_at = now() WHERE username = %s", (username,))
    return user


# --- API keys for other city systems (Open311 clients): only a SHA-256 of each key is kept ----------


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(conn: psycopg.Connection, name: str) -> str:
    """A new random key for client ``name``; only its SHA-256 is stored."""
    if not name.strip():
        raise ValueError("an API key needs a client name")
    key = secrets.token_urlsafe(24)
    conn.execute("INSERT INTO open311_api_keys (key_sha256, name) VALUES (%s, %s)", (_sha(key), name.strip()))
    return key


def client_for_key(conn: psycopg.Connection, key: str | None) -> str | None:
    """The client name of an enabled key, else ``None``."""
    if not key:
        return None
    row = conn.execute(
        "SELECT name FROM open311_api_keys WHERE key_sha256 = %s AND NOT disabled", (_sha(key),)
    ).fetchone()
    return None if row is None else str(row[0])
