"""Accounts: users, roles and scopes, passwords, login throttling, server-side sessions, TOTP, API keys.

No web here: the launcher, the CLI and the web app use it. Roles and scopes are defined by
:mod:`ioc.access`; this module stores them and builds the :class:`~ioc.access.Principal` of a user
from the database, so every request is judged on the user's CURRENT role, scope and status.

Sessions live in ``web_sessions``: the browser's cookie holds a random id, the table only its
SHA-256. A logout, a role change, a disabled or a deleted account revokes the user's sessions here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, LiteralString

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from werkzeug.security import check_password_hash, generate_password_hash

from ioc.access import SCOPED_ROLES, Principal, Role, Scope
from ioc.audit import audit
from ioc.crypto import Keyring

__all__ = ["Role", "Principal", "Scope"]  # re-exported: callers of the old module keep working

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # scrypt of a megabyte is a denial of service, not a password
# A throwaway hash so that an unknown user costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")
# Words that make a password guessable here whatever the list says.
_LOCAL_WORDS = ("haiphong", "hai phong", "ioc", "matkhau", "mat khau", "admin", "quantri", "123456")


class UserError(ValueError):
    """Invalid user data (the message names the bad value, never a password); ``code`` names the
    broken rule for translated messages (``password.rule.<code>`` in the i18n catalogues)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str | None
    disabled: bool
    password_hash: str = field(repr=False)
    must_change_password: bool = False
    totp_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class UserSummary:
    """A user as the admin page and ``ioc user list`` show it (no secrets)."""

    username: str
    role: str
    display_name: str | None
    disabled: bool
    must_change_password: bool
    has_totp: bool
    created_at: datetime
    last_login_at: datetime | None
    scopes: list[str]
    live_sessions: int


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise UserError(f"unknown role {value!r}: expected one of {[r.value for r in Role]}") from None


def printable(text: str, limit: int = 64) -> str:
    """User input made safe to store and show: control bytes (NUL…) escaped, cut to ``limit``."""
    shown = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return shown[:limit]


# --- password policy ------------------------------------------------------------------------------


@cache
def common_passwords() -> frozenset[str]:
    """The 30 000 most common passwords (zxcvbn's bundled list: no network service)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _fold(text: str) -> str:
    """Lower case without Vietnamese diacritics ("Mật khẩu" → "mat khau")."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def check_password(password: str, username: str | None = None) -> None:
    """Refuse short, overlong and common passwords (and ones built on the user name)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"password too short: {len(password)} characters, need at least {MIN_PASSWORD_LENGTH}", "short"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"password too long: at most {MAX_PASSWORD_LENGTH} characters", "long")
    folded = _fold(password)
    core = re.sub(r"[\W_\d]+$", "", re.sub(r"^[\W_\d]+", "", folded))  # "!!Password2024" → "password"
    common = common_passwords()
    if folded in common or core in common or len(set(folded)) <= 3:
        raise UserError("password is too common: choose a longer phrase of several words", "common")
    squeezed = re.sub(r"[\W_]+", "", folded)
    if username and len(username) >= 3 and _fold(username) in squeezed:
        raise UserError("password must not contain the user name", "username")
    stripped = squeezed
    for w in _LOCAL_WORDS:
        stripped = stripped.replace(w.replace(" ", ""), "")
    if len(re.sub(r"\d+", "", stripped)) < 3:
        raise UserError("password is too easy to guess: a local word and digits are not enough", "common")


def hash_password(password: str, username: str | None = None) -> str:
    check_password(password, username)
    return generate_password_hash(password, method="scrypt")


# --- users ----------------------------------------------------------------------------------------


def _check_username(username: str) -> None:
    if not USERNAME_RE.match(username):
        raise UserError(
            f"invalid username {printable(username)!r}: 2-64 of a-z 0-9 _ . - starting with a letter or digit"
        )


_INSERT_USER: LiteralString = (
    "INSERT INTO users (username, password_hash, role, display_name, must_change_password, password_changed_at)"
    " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (username) DO NOTHING"
)
_UPSERT_USER: LiteralString = (
    "INSERT INTO users (username, password_hash, role, display_name, must_change_password, password_changed_at)"
    " VALUES (%s, %s, %s, %s, %s, now()) ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
    " role = EXCLUDED.role, display_name = EXCLUDED.display_name, disabled = false,"
    " must_change_password = EXCLUDED.must_change_password, password_changed_at = now()"
)


def add_user(
    conn: psycopg.Connection,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    *,
    replace: bool = False,
    actor: str = "system",
    must_change: bool = False,
) -> None:
    """Create (or with ``replace`` update) a user; the password is stored only as a scrypt hash.

    ``must_change``: the password is temporary (someone else chose it): the user must set a new
    one at the first login before anything else."""
    _check_username(username)
    role = parse_role(role).value
    pw_hash = hash_password(password, username)
    with conn.transaction():
        cur = conn.execute(_UPSERT_USER if replace else _INSERT_USER, (username, pw_hash, role, display_name, must_change))
        if cur.rowcount == 0:
            raise UserError(f"user {username!r} already exists")
        if replace:
            revoke_user_sessions(conn, username, "user replaced")
        audit(conn, actor, "user.add" if not replace else "user.set", username,
              {"role": role, "must_change_password": must_change})  # fmt: skip


def get_user(conn: psycopg.Connection, username: str) -> User | None:
    with conn.cursor(row_factory=class_row(User)) as cur:
        return cur.execute(
            "SELECT username, role, display_name, disabled, password_hash, must_change_password, totp_secret"
            " FROM users WHERE username = %s",
            (username,),
        ).fetchone()


def require_user(conn: psycopg.Connection, username: str) -> User:
    user = get_user(conn, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def list_users(conn: psycopg.Connection) -> list[UserSummary]:
    with conn.cursor(row_factory=class_row(UserSummary)) as cur:
        return cur.execute(
            "SELECT u.username, u.role, u.display_name, u.disabled, u.must_change_password,"
            " u.totp_secret IS NOT NULL AS has_totp, u.created_at, u.last_login_at,"
            " coalesce((SELECT array_agg(s.scope_type || ':' || s.scope_code ORDER BY 1) FROM user_scopes s"
            "   WHERE s.username = u.username), '{}') AS scopes,"
            " (SELECT count(*) FROM web_sessions w WHERE w.username = u.username AND w.revoked_at IS NULL"
            "   AND w.expires_at > now())::int AS live_sessions"
            " FROM users u ORDER BY u.username"
        ).fetchall()


def set_role(conn: psycopg.Connection, username: str, role: str, actor: str) -> None:
    """Change a user's role; their sessions end (they log in again with the new role)."""
    new = parse_role(role).value
    with conn.transaction():
        old = require_user(conn, username).role
        conn.execute("UPDATE users SET role = %s WHERE username = %s", (new, username))
        n = revoke_user_sessions(conn, username, f"role changed from {old} to {new}")
        audit(conn, actor, "user.role", username, {"from": old, "to": new, "sessions_revoked": n})


def set_disabled(conn: psycopg.Connection, username: str, disabled: bool, actor: str) -> None:
    with conn.transaction():
        require_user(conn, username)
        conn.execute("UPDATE users SET disabled = %s WHERE username = %s", (disabled, username))
        n = revoke_user_sessions(conn, username, "account disabled") if disabled else 0
        audit(conn, actor, "user.disable" if disabled else "user.enable", username, {"sessions_revoked": n})


def delete_user(conn: psycopg.Connection, username: str, actor: str) -> None:
    """Remove an account (its scopes go with it); its sessions are revoked, the audit trail stays."""
    with conn.transaction():
        require_user(conn, username)
        n = revoke_user_sessions(conn, username, "account deleted")
        conn.execute("DELETE FROM users WHERE username = %s", (username,))
        audit(conn, actor, "user.delete", username, {"sessions_revoked": n})


def set_password(conn: psycopg.Connection, username: str, password: str, actor: str, *,
                 must_change: bool = True) -> None:  # fmt: skip
    """An administrator's reset: the new password is temporary by default; every session ends."""
    pw_hash = hash_password(password, username)
    with conn.transaction():
        require_user(conn, username)
        conn.execute(
            "UPDATE users SET password_hash = %s, must_change_password = %s, password_changed_at = now()"
            " WHERE username = %s",
            (pw_hash, must_change, username),
        )
        n = revoke_user_sessions(conn, username, "password reset")
        audit(conn, actor, "user.password_reset", username, {"must_change_password": must_change,
                                                             "sessions_revoked": n})  # fmt: skip


def change_own_password(conn: psycopg.Connection, username: str, old: str, new: str,
                        keep_session: str | None = None) -> None:  # fmt: skip
    """The user's own change: the old password must match; other sessions end (``keep_session`` stays)."""
    user = require_user(conn, username)
    if not check_password_hash(user.password_hash, old):
        audit(conn, username, "user.password_change_failed", username, {})
        raise UserError("the current password is wrong", "wrong")
    if old == new:
        raise UserError("the new password must differ from the current one", "same")
    pw_hash = hash_password(new, username)
    with conn.transaction():
        conn.execute(
            "UPDATE users SET password_hash = %s, must_change_password = false, password_changed_at = now()"
            " WHERE username = %s",
            (pw_hash, username),
        )
        n = revoke_user_sessions(conn, username, "password changed", except_hash=keep_session)
        audit(conn, username, "user.password_change", username, {"other_sessions_revoked": n})


# --- scopes ---------------------------------------------------------------------------------------


@cache
def _unit_aliases(on: date) -> Mapping[str, frozenset[str]]:
    """Unit code ↔ names of the boundary set in force on ``on`` (codes are unique within a set only)."""
    from geodata.boundaries import boundary_set_for

    out: dict[str, set[str]] = {}
    for u in boundary_set_for(on).leaves():
        names = {u.code, u.full_name, f"{u.kind or ''} {u.name}".strip()}
        for n in names:
            out.setdefault(n, set()).update(names)
    return {k: frozenset(v) for k, v in out.items()}


def expand_units(units: Iterable[str], on: date | None = None) -> frozenset[str]:
    """Each unit with its code and names, so a scope matches tickets (names) and alerts (codes)."""
    table = _unit_aliases(on or datetime.now(UTC).date())
    out: set[str] = set()
    for u in units:
        u = " ".join(u.split())
        out |= table.get(u, frozenset({u}))
    return frozenset(out)


def scope_of(conn: psycopg.Connection, username: str) -> Scope:
    rows = conn.execute(
        "SELECT scope_type, scope_code FROM user_scopes WHERE username = %s ORDER BY 1, 2", (username,)
    ).fetchall()
    return _scope([f"{t}:{c}" for t, c in rows])


def _scope(entries: Iterable[str]) -> Scope:
    sectors = [e.split(":", 1)[1] for e in entries if e.startswith("agency:")]
    units = [e.split(":", 1)[1] for e in entries if e.startswith("ward:")]
    s = Scope.of(sectors, ())
    return Scope(s.sectors, expand_units(units))


def set_scope(conn: psycopg.Connection, username: str, sectors: Iterable[str], units: Iterable[str],
              actor: str) -> None:  # fmt: skip
    """Replace a user's scope: the sectors (agency codes) and admin units (codes or names) they serve."""
    sectors = sorted({s.strip() for s in sectors if s.strip()})
    units = sorted({" ".join(u.split()) for u in units if u.strip()})
    with conn.transaction():
        require_user(conn, username)
        conn.execute("DELETE FROM user_scopes WHERE username = %s", (username,))
        for s in sectors:
            conn.execute("INSERT INTO user_scopes (username, scope_type, scope_code) VALUES (%s, 'agency', %s)",
                         (username, s))  # fmt: skip
        for u in units:
            conn.execute("INSERT INTO user_scopes (username, scope_type, scope_code) VALUES (%s, 'ward', %s)",
                         (username, u))  # fmt: skip
        audit(conn, actor, "user.scope", username, {"sectors": sectors, "units": units})


def principal_for(conn: psycopg.Connection, username: str) -> Principal | None:
    """The user's current role and scope; ``None`` when the account is missing or disabled."""
    row = conn.execute(
        "SELECT role, disabled FROM users WHERE username = %s", (username,)
    ).fetchone()
    if row is None or row[1]:
        return None
    try:
        role = Role(row[0])
    except ValueError:
        return None  # a role this version does not know grants nothing
    return Principal(username, role, scope_of(conn, username))


# --- login throttling -----------------------------------------------------------------------------

THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_DELAY_AFTER, ACCOUNT_LOCK_AFTER = 3, 10  # failures in the window
ADDRESS_DELAY_AFTER, ADDRESS_LOCK_AFTER = 20, 50
MAX_DELAY = timedelta(minutes=5)
LOCK_FOR = timedelta(minutes=15)

LoginStatus = Literal["ok", "bad", "throttled", "locked", "malformed"]


@dataclass(frozen=True)
class LoginOutcome:
    status: LoginStatus
    user: User | None = None
    retry_after: float = 0.0  # seconds, for throttled and locked


def _wait(failures: int, last: datetime | None, now: datetime, delay_after: int, lock_after: int) -> tuple[str, float]:
    """("locked"|"throttled"|"", seconds to wait) for ``failures`` in the window, the last at ``last``."""
    if last is None or failures < delay_after:
        return "", 0.0
    if failures >= lock_after:
        left = (last + LOCK_FOR - now).total_seconds()
        return ("locked", left) if left > 0 else ("", 0.0)
    delay = min(timedelta(seconds=2 ** (failures - delay_after)), MAX_DELAY)
    left = (last + delay - now).total_seconds()
    return ("throttled", left) if left > 0 else ("", 0.0)


_FAILURES_BY_USER: LiteralString = (
    "SELECT count(*), max(at) FROM login_attempts WHERE username = %(v)s AND NOT ok AND at > %(since)s"
    " AND at > coalesce((SELECT max(at) FROM login_attempts WHERE username = %(v)s AND ok), '-infinity')"
)
_FAILURES_BY_ADDRESS: LiteralString = (
    "SELECT count(*), max(at) FROM login_attempts WHERE ip = %(v)s AND NOT ok AND at > %(since)s"
    " AND at > coalesce((SELECT max(at) FROM login_attempts WHERE ip = %(v)s AND ok), '-infinity')"
)


def login_attempt(conn: psycopg.Connection, username: str, password: str, ip: str,
                  now: datetime | None = None) -> LoginOutcome:  # fmt: skip
    """One login try, throttled per account and per client address, recorded and audited.

    Refused tries (wrong password, throttled, locked, malformed name) all count as failures, so
    hammering a locked account keeps it locked. Malformed user names never reach a query on ``users``."""
    now = now or datetime.now(UTC)
    shown = printable(username)
    since = now - THROTTLE_WINDOW
    with conn.transaction():
        # Serialise tries for one account, so parallel guesses cannot slip past the count.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('login:' || %s))", (shown,))
        n_ip, last_ip = conn.execute(_FAILURES_BY_ADDRESS, {"v": ip, "since": since}).fetchone()  # type: ignore[misc]
        n_user, last_user = conn.execute(_FAILURES_BY_USER, {"v": shown, "since": since}).fetchone()  # type: ignore[misc]
        state_u, wait_u = _wait(n_user, last_user, now, ACCOUNT_DELAY_AFTER, ACCOUNT_LOCK_AFTER)
        state_a, wait_a = _wait(n_ip, last_ip, now, ADDRESS_DELAY_AFTER, ADDRESS_LOCK_AFTER)
        outcome: LoginOutcome
        if not USERNAME_RE.match(username):
            outcome = LoginOutcome("malformed")
        elif state_u or state_a:
            status: LoginStatus = "locked" if "locked" in (state_u, state_a) else "throttled"
            outcome = LoginOutcome(status, retry_after=max(wait_u, wait_a))
        else:
            outcome = _check(conn, username, password, now)
        conn.execute("INSERT INTO login_attempts (at, username, ip, ok) VALUES (%s, %s, %s, %s)",
                     (now, shown, ip, outcome.status == "ok"))  # fmt: skip
        action = {"ok": "login", "bad": "login.failed", "throttled": "login.throttled",
                  "locked": "login.locked", "malformed": "login.malformed"}[outcome.status]  # fmt: skip
        details: dict[str, Any] = {"ip": ip}
        if outcome.retry_after:
            details["retry_after_s"] = round(outcome.retry_after, 1)
        if outcome.status == "malformed":
            details["username"] = shown
        audit(conn, shown if outcome.status != "malformed" else "?", action, None, details)
    return outcome


def _check(conn: psycopg.Connection, username: str, password: str, now: datetime) -> LoginOutcome:
    user = get_user(conn, username)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
    if user is None or not ok or user.disabled:
        return LoginOutcome("bad")
    conn.execute("UPDATE users SET last_login_at = %s WHERE username = %s", (now, username))
    return LoginOutcome("ok", user)


def authenticate(conn: psycopg.Connection, username: str, password: str) -> User | None:
    """The user when the password matches and the account is enabled, else None (no throttling:
    for the CLI and tests; the web login goes through :func:`login_attempt`)."""
    user = get_user(conn, username) if USERNAME_RE.match(username) else None
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or user.disabled:
        return None
    return user


# --- server-side sessions -------------------------------------------------------------------------

SessionStage = Literal["full", "password_change", "second_factor"]


def session_hash(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    username: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_why: str | None
    ip: str | None
    user_agent: str | None
    role_at_login: str
    stage: str
    data: dict[str, Any]


@dataclass(frozen=True)
class LiveSession:
    """A valid session with the user's current principal (read on every request)."""

    id_hash: str
    stage: SessionStage
    data: dict[str, Any]
    principal: Principal
    display_name: str | None
    last_seen_at: datetime


def create_session(conn: psycopg.Connection, user: User, *, ip: str | None, user_agent: str | None,
                   stage: SessionStage, lifetime: timedelta, data: Mapping[str, Any]) -> str:  # fmt: skip
    """A new session (a new random id: rotation at every login); returns the id for the cookie."""
    raw = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO web_sessions (id_hash, username, expires_at, ip, user_agent, role_at_login, stage, data)"
        " VALUES (%s, %s, now() + %s, %s, %s, %s, %s, %s)",
        (session_hash(raw), user.username, lifetime, ip, (user_agent or "")[:300], user.role, stage, Jsonb(dict(data))),
    )
    return raw


_LOAD = (
    "SELECT s.id_hash, s.username, s.stage, s.data, s.last_seen_at, s.role_at_login, u.role, u.disabled,"
    " u.display_name, coalesce((SELECT array_agg(c.scope_type || ':' || c.scope_code) FROM user_scopes c"
    "   WHERE c.username = s.username), '{}')"
    " FROM web_sessions s LEFT JOIN users u ON u.username = s.username"
    " WHERE s.id_hash = %(h)s AND s.revoked_at IS NULL AND s.expires_at > now()"
    " AND s.last_seen_at > now() - %(idle)s"
)


def load_session(conn: psycopg.Connection, raw_id: str, *, idle: timedelta,
                 touch_after: timedelta = timedelta(seconds=30)) -> LiveSession | None:  # fmt: skip
    """The session for a cookie id, or ``None`` if it is unknown, revoked, expired, idle too long, or
    its user is gone, disabled or no longer has the role it logged in with (then it is revoked)."""
    h = session_hash(raw_id)
    row = conn.execute(_LOAD, {"h": h, "idle": idle}).fetchone()
    if row is None:
        return None
    _, username, stage, data, last_seen, role_at_login, role, disabled, display_name, scopes = row
    why = ("account deleted" if role is None else "account disabled" if disabled
           else "role changed" if role != role_at_login else None)  # fmt: skip
    if why is None:
        try:
            role_enum = Role(role)
        except ValueError:
            why = f"unknown role {role!r}"
    if why is not None:
        revoke_session(conn, h, why)
        return None
    now = datetime.now(UTC)
    if now - last_seen > touch_after:  # idle time counts in half-minutes: not one write per request
        conn.execute("UPDATE web_sessions SET last_seen_at = now() WHERE id_hash = %s", (h,))
        last_seen = now
    principal = Principal(username, role_enum, _scope(scopes))
    return LiveSession(h, stage, dict(data), principal, display_name, last_seen)


def save_session_data(conn: psycopg.Connection, id_hash: str, data: Mapping[str, Any],
                      stage: SessionStage | None = None) -> None:  # fmt: skip
    conn.execute(
        "UPDATE web_sessions SET data = %s, stage = coalesce(%s, stage) WHERE id_hash = %s AND revoked_at IS NULL",
        (Jsonb(dict(data)), stage, id_hash),
    )


def revoke_session(conn: psycopg.Connection, id_hash: str, why: str) -> bool:
    cur = conn.execute(
        "UPDATE web_sessions SET revoked_at = now(), revoked_why = %s WHERE id_hash = %s AND revoked_at IS NULL",
        (why, id_hash),
    )
    return cur.rowcount > 0


def revoke_user_sessions(conn: psycopg.Connection, username: str, why: str, *,
                         except_hash: str | None = None) -> int:  # fmt: skip
    cur = conn.execute(
        "UPDATE web_sessions SET revoked_at = now(), revoked_why = %s"
        " WHERE username = %s AND revoked_at IS NULL AND id_hash IS DISTINCT FROM %s",
        (why, username, except_hash),
    )
    return cur.rowcount


def list_sessions(conn: psycopg.Connection, username: str | None = None, *,
                  live_only: bool = True) -> list[SessionRow]:  # fmt: skip
    with conn.cursor(row_factory=class_row(SessionRow)) as cur:
        return cur.execute(
            "SELECT id_hash, username, created_at, last_seen_at, expires_at, revoked_at, revoked_why, ip,"
            " user_agent, role_at_login, stage, data FROM web_sessions"
            " WHERE (%(u)s::text IS NULL OR username = %(u)s)"
            " AND (NOT %(live)s OR (revoked_at IS NULL AND expires_at > now()))"
            " ORDER BY created_at DESC LIMIT 1000",
            {"u": username, "live": live_only},
        ).fetchall()


# --- TOTP second factor (optional, for admin and leader accounts) ---------------------------------

TOTP_ROLES = frozenset({Role.ADMIN, Role.LEADER, Role.STANDING_OFFICE})


def enrol_totp(conn: psycopg.Connection, ring: Keyring, username: str, actor: str) -> str:
    """Give ``username`` a new TOTP secret (stored encrypted); returns the otpauth:// URI to scan."""
    import pyotp

    user = require_user(conn, username)
    if parse_role(user.role) not in TOTP_ROLES:
        raise UserError(f"a second factor is for {sorted(r.value for r in TOTP_ROLES)}, not {user.role!r}")
    secret = pyotp.random_base32()
    with conn.transaction():
        conn.execute("UPDATE users SET totp_secret = %s WHERE username = %s",
                     (ring.encrypt(secret, "users.totp_secret:" + username), username))  # fmt: skip
        revoke_user_sessions(conn, username, "second factor enrolled")
        audit(conn, actor, "user.totp_enrol", username, {})
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="IOC Hai Phong")


def disable_totp(conn: psycopg.Connection, username: str, actor: str) -> None:
    with conn.transaction():
        require_user(conn, username)
        conn.execute("UPDATE users SET totp_secret = NULL WHERE username = %s", (username,))
        audit(conn, actor, "user.totp_disable", username, {})


def verify_totp(ring: Keyring, user: User, code: str, at: datetime | None = None) -> bool:
    import pyotp

    if user.totp_secret is None or not re.fullmatch(r"\d{6}", code.strip()):
        return False
    secret = ring.decrypt(user.totp_secret, "users.totp_secret:" + user.username)
    return bool(pyotp.TOTP(secret).verify(code.strip(), for_time=at, valid_window=1))


# --- the first administrator ----------------------------------------------------------------------


def ensure_initial_admin(conn: psycopg.Connection, data_dir: Path) -> Path | None:
    """On a database with no users, create ``admin`` with a random temporary password kept in a
    0600 file; the first login must set a new one. There is no default password."""
    if conn.execute("SELECT EXISTS (SELECT 1 FROM users)").fetchone()[0]:  # type: ignore[index]
        return None
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    add_user(conn, "admin", password, Role.ADMIN.value, "Quản trị viên", must_change=True)
    conn.commit()
    path = Path(data_dir) / "initial-admin-password"
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return path


def scoped_role_needs_scope(role: Role, scope: Scope) -> bool:
    """True when a department or ward account has no scope yet (it would see nothing)."""
    return role in SCOPED_ROLES and scope.city_wide


# --- API keys for other city systems (Open311 clients): only a SHA-256 of each key is kept ----------


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class ApiClient:
    name: str
    principal: Principal


def create_api_key(conn: psycopg.Connection, name: str, role: str = Role.TRIAGE.value,
                   sectors: Iterable[str] = (), units: Iterable[str] = ()) -> str:  # fmt: skip
    """A new random key for client ``name``, bound to a role and a scope; only its SHA-256 is stored."""
    if not name.strip():
        raise ValueError("an API key needs a client name")
    r = parse_role(role)
    scopes = [f"agency:{s}" for s in sectors] + [f"ward:{u}" for u in units]
    key = secrets.token_urlsafe(24)
    conn.execute(
        "INSERT INTO open311_api_keys (key_sha256, name, role, scopes) VALUES (%s, %s, %s, %s)",
        (_sha(key), name.strip(), r.value, scopes),
    )
    return key


def client_for_key(conn: psycopg.Connection, key: str | None) -> ApiClient | None:
    """The client of an enabled key (with its role and scope), else ``None``."""
    if not key or len(key) > 200:
        return None
    row = conn.execute(
        "SELECT name, role, scopes FROM open311_api_keys WHERE key_sha256 = %s AND NOT disabled", (_sha(key),)
    ).fetchone()
    if row is None:
        return None
    try:
        role = Role(row[1])
    except ValueError:
        return None
    return ApiClient(str(row[0]), Principal("api:" + str(row[0]), role, _scope(row[2])))
