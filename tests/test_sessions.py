"""Server-side sessions (issue 11, finding 2 and item 3): a kept cookie stops working after logout,
a role change, disabling or deleting the user; idle and absolute timeouts; rotation at login;
minted cookies are worthless; ``ioc user sessions`` / ``ioc user revoke``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dash
import psycopg
import pytest
import typer
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from typer.testing import CliRunner

from ioc import accounts
from ioc.launcher import Stack
from ioc.tickets import store
from ioc.web import auth
from ioc.web.app import create_app
from ioc.web.pages import triage_ids as tid
from ioc.web.snapshot import LiveSnapshot
from tests.test_tickets_store import new
from tests.webclient import PASSWORD, callback_key, login, post_callback

pytestmark = pytest.mark.integration
PHONE = "0912345678"  # the reporter's phone in tests.test_tickets_store.new


@pytest.fixture
def web(stack: Stack) -> Iterator[tuple[dash.Dash, str]]:
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "an", PASSWORD, "triage")
        store.create_ticket(conn, new(1), "intake")
    app = create_app(stack.settings, live_snapshot=LiveSnapshot(stack.settings), start=False)
    yield app, dsn
    app.server.extensions["ioc"]["pool"].close()


def detail(client: Any, app: dash.Dash) -> Any:
    """The triage detail callback for HP-1: triage staff see the reporter's phone unmasked."""
    key = callback_key(app, f"{tid.TRIAGE_DETAIL}.children")
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]} for part in key[2:-2].split("...")]
    body = {"output": key, "outputs": outputs,
            "inputs": [{"id": tid.TRIAGE_SELECTED, "property": "data", "value": "HP-1"},
                       {"id": tid.TRIAGE_VERSION, "property": "data", "value": 0}],
            "state": [], "changedPropIds": [f"{tid.TRIAGE_SELECTED}.data"]}  # fmt: skip
    return post_callback(client, body)


def replay(app: dash.Dash, old: Any) -> Any:
    """A fresh client holding only the cookies an attacker kept from ``old``."""
    c = app.server.test_client()
    for name in (auth.SESSION_COOKIE, auth.CSRF_COOKIE):
        cookie = old.get_cookie(name)
        if cookie is not None:
            c.set_cookie(name, cookie.value)
    return c


def logged_in(app: dash.Dash, user: str = "an") -> Any:
    c = app.server.test_client()
    assert login(c, user, next_path="/triage").status_code == 303
    r = detail(c, app)
    assert r.status_code == 200 and PHONE in r.get_data(as_text=True)
    return c


def test_a_cookie_kept_after_logout_is_dead(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    c = logged_in(app)
    kept = replay(app, c)
    c.post("/logout", data={"csrf_token": c.get_cookie(auth.CSRF_COOKIE).value})  # type: ignore[union-attr]
    r = detail(kept, app)
    assert r.status_code == 401 and PHONE not in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "change",
    [
        lambda conn: accounts.set_role(conn, "an", "display", actor="test"),
        lambda conn: accounts.set_disabled(conn, "an", True, actor="test"),
        lambda conn: accounts.delete_user(conn, "an", actor="test"),
        # Behind the desk's back too: the session is checked against the current row on every request.
        lambda conn: conn.execute("UPDATE users SET role = 'display' WHERE username = 'an'"),
        lambda conn: conn.execute("UPDATE users SET disabled = true WHERE username = 'an'"),
        lambda conn: conn.execute("DELETE FROM users WHERE username = 'an'"),
    ],
    ids=["role", "disable", "delete", "role-sql", "disable-sql", "delete-sql"],
)
def test_role_change_disable_and_delete_end_the_session(web: tuple[dash.Dash, str], change: Any) -> None:
    app, dsn = web
    c = logged_in(app)
    with psycopg.connect(dsn, autocommit=True) as conn:
        change(conn)
    r = detail(c, app)
    assert r.status_code == 401 and PHONE not in r.get_data(as_text=True)
    assert c.get("/triage").status_code == 302
    with psycopg.connect(dsn) as conn:
        live = conn.execute("SELECT count(*) FROM web_sessions WHERE revoked_at IS NULL").fetchone()[0]
    assert live == 0


def test_a_cookie_minted_with_the_secret_key_is_worthless(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    secret = app.server.secret_key
    flask_style = SecureCookieSessionInterface().get_signing_serializer(app.server)
    assert flask_style is not None
    forged_flask = flask_style.dumps({"user": "ghost", "role": "admin", "csrf": "x"})
    forged_anon = URLSafeTimedSerializer(secret, salt="ioc-anonymous-session").dumps(
        {"user": "admin", "role": "admin", "lang": "vi", "csrf": "x"}
    )
    for name, value in ((auth.SESSION_COOKIE, forged_flask), (auth.ANON_COOKIE, forged_anon),
                        (auth.SESSION_COOKIE, "a" * 43)):  # fmt: skip
        c = app.server.test_client()
        c.set_cookie(name, value)
        c.set_cookie(auth.CSRF_COOKIE, "x")
        r = detail(c, app)
        assert r.status_code == 401, name
        assert c.get("/").status_code == 302


def test_idle_and_absolute_timeouts(web: tuple[dash.Dash, str]) -> None:
    app, dsn = web
    c = logged_in(app)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE web_sessions SET last_seen_at = now() - INTERVAL '31 minutes'")
    assert detail(c, app).status_code == 401
    c = logged_in(app)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE web_sessions SET expires_at = now() - INTERVAL '1 second' WHERE revoked_at IS NULL")
    assert detail(c, app).status_code == 401


def test_login_rotates_the_session_id(web: tuple[dash.Dash, str]) -> None:
    app, dsn = web
    c = app.server.test_client()
    c.get("/login")
    assert c.get_cookie(auth.SESSION_COOKIE) is None  # nothing to fixate before login
    login(c, "an")
    first = c.get_cookie(auth.SESSION_COOKIE).value  # type: ignore[union-attr]
    kept = replay(app, c)
    login(c, "an")
    second = c.get_cookie(auth.SESSION_COOKIE).value  # type: ignore[union-attr]
    assert first != second
    assert detail(kept, app).status_code == 401  # the replaced session is revoked
    assert detail(c, app).status_code == 200
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT id_hash, revoked_why FROM web_sessions ORDER BY created_at").fetchall()
    assert [why for _, why in rows] == ["replaced at login", None]
    assert all(first not in h and second not in h for h, _ in rows)  # only hashes are stored


def test_cli_lists_and_revokes_sessions(web: tuple[dash.Dash, str], stack: Stack) -> None:
    from ioc.cli_users import register

    app, dsn = web
    c = logged_in(app)
    cli = typer.Typer()
    register(cli)
    cli.callback()(lambda: None)
    env = {"IOC_DATABASE_URL": dsn}
    out = CliRunner().invoke(cli, ["user", "sessions", "an"], env=env)
    assert out.exit_code == 0 and "an" in out.output and "triage" in out.output and "127.0.0.1" in out.output
    out = CliRunner().invoke(cli, ["user", "revoke", "an"], env=env)
    assert out.exit_code == 0 and "1 session(s) revoked" in out.output
    assert detail(c, app).status_code == 401
    assert "no sessions" in CliRunner().invoke(cli, ["user", "sessions", "an"], env=env).output
    with psycopg.connect(dsn) as conn:
        details = conn.execute("SELECT details FROM audit_log WHERE action = 'user.sessions_revoked'").fetchone()
    assert details is not None and json.dumps(details[0]) == '{"count": 1}'
