"""Logins, roles, CSRF and the audit trail, through the real Flask server on a real database."""

from __future__ import annotations

from collections.abc import Iterator

import dash
import psycopg
import pytest
import typer
from typer.testing import CliRunner

from ioc import accounts
from ioc.launcher import Stack
from ioc.web import auth
from ioc.web.app import create_app
from ioc.web.snapshot import LiveSnapshot
from layers.registry import LAYER_IDS
from tests.webclient import PASSWORD, csrf_from_form, login, map_refresh


def test_password_hashing_and_policy() -> None:
    h = accounts.hash_password("đủ-dài-rồi")
    assert h.startswith("scrypt:") and "đủ-dài-rồi" not in h
    with pytest.raises(accounts.UserError, match="too short: 5"):
        accounts.hash_password("ngắn!")


@pytest.mark.parametrize(
    ("role", "path", "ok"),
    [
        ("leader", "/", True),
        ("operator", "/tablet", True),
        ("admin", "/wall", True),
        ("display", "/wall", True),
        ("display", "/", False),
        ("display", "/tablet", False),
        ("hacker", "/wall", False),
    ],
)
def test_page_access_by_role(role: str, path: str, ok: bool) -> None:
    assert auth.may_view(role, path) is ok


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/wall", "/wall"),
        ("/tablet?x=1", "/tablet?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_safe_next(target: str | None, safe: str) -> None:
    assert auth.safe_next(target) == safe


@pytest.fixture
def web(stack: Stack) -> Iterator[tuple[dash.Dash, str]]:
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", PASSWORD, "leader", "Nguyễn Thị Lan")
        accounts.add_user(conn, "tuong", PASSWORD, "display")
    snap = LiveSnapshot(stack.settings)
    app = create_app(stack.settings, live_snapshot=snap, start=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        snap.refresh_once(conn)
    yield app, dsn
    app.server.extensions["ioc"]["pool"].close()


@pytest.mark.integration
def test_unauthenticated_requests_go_to_login(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    client = app.server.test_client()
    for path in ("/", "/wall", "/tablet?x=1"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=" + path.split("?")[0])
    assert client.get("/_dash-layout").status_code == 401
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/assets/10_ioc.css").status_code == 200  # static assets stay public
    login_page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in login_page and 'name="csrf_token"' in login_page


@pytest.mark.integration
def test_login_checks_csrf_and_password_and_audits(web: tuple[dash.Dash, str]) -> None:
    app, dsn = web
    client = app.server.test_client()
    client.get("/login")
    r = client.post("/login", data={"username": "lan", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400 and "hết hạn" in r.get_data(as_text=True)
    r = login(client, "lan", "sai-mat-khau")
    assert r.status_code == 401 and "Sai tên đăng nhập" in r.get_data(as_text=True)
    r = login(client, "lan", next_path="/tablet")
    assert r.status_code == 303 and r.headers["Location"] == "/tablet"
    assert client.get("/tablet").status_code == 200
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT actor, action FROM audit_log WHERE action LIKE 'login%%' ORDER BY id"
        ).fetchall()
        stored = conn.execute("SELECT password_hash FROM users WHERE username = 'lan'").fetchone()
    assert rows == [("lan", "login.failed"), ("lan", "login")]
    assert stored is not None and PASSWORD not in stored[0]


@pytest.mark.integration
def test_dash_posts_need_the_session_csrf_header(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    client = app.server.test_client()
    login(client, "lan")
    assert map_refresh(client, app, layer_ids=LAYER_IDS, csrf="wrong").status_code == 403
    ok = map_refresh(client, app, layer_ids=LAYER_IDS)
    assert ok.status_code == 200, ok.get_data(as_text=True)[:500]


@pytest.mark.integration
def test_display_account_only_sees_the_wall(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    client = app.server.test_client()
    r = login(client, "tuong", next_path="/")
    assert r.headers["Location"] == "/wall"
    assert client.get("/wall").status_code == 200
    r = client.get("/tablet")
    assert r.status_code == 302 and r.headers["Location"] == "/wall"


@pytest.mark.integration
def test_language_is_per_session(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    en, vi = app.server.test_client(), app.server.test_client()
    en.get("/lang/en?next=/login")
    assert "Log in" in en.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in vi.get("/login").get_data(as_text=True)
    login(en, "lan")
    assert en.get("/lang/fr").status_code == 404


@pytest.mark.integration
def test_logout_needs_csrf_and_ends_the_session(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    client = app.server.test_client()
    login(client, "lan")
    assert client.post("/logout", data={"csrf_token": "nope"}).status_code == 403
    token = client.get_cookie("_csrf_token").value  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 302


@pytest.mark.integration
def test_cli_user_add(stack: Stack) -> None:
    from ioc.cli_users import register

    app = typer.Typer()
    register(app)
    app.callback()(lambda: None)
    env = {"IOC_DATABASE_URL": stack.settings.database_dsn(), "IOC_NEW_USER_PASSWORD": PASSWORD}
    r = CliRunner().invoke(app, ["user", "add", "hoa", "--role", "triage"], env=env)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["user", "add", "hoa", "--role", "triage"], env=env)
    assert r.exit_code == 2 and "already exists" in r.output
    r = CliRunner().invoke(app, ["user", "add", "Bad Name", "--role", "leader"], env=env)
    assert r.exit_code == 2 and "'Bad Name'" in r.output
    r = CliRunner().invoke(app, ["user", "add", "x1", "--role", "king"], env=env)
    assert r.exit_code != 0 and "king" in r.output
    with psycopg.connect(stack.settings.database_dsn()) as conn:
        assert accounts.authenticate(conn, "hoa", PASSWORD) is not None
        assert accounts.authenticate(conn, "hoa", "wrong-password") is None


def test_csrf_token_is_read_from_the_form() -> None:
    assert csrf_from_form('<input type="hidden" name="csrf_token" value="abc">') == "abc"
