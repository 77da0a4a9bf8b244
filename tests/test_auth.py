"""Logins, roles, CSRF, throttling, the password policy, the first admin, TOTP and the audit trail,
through the real Flask server on a real database (issue 11, items 3 and 4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dash
import psycopg
import pyotp
import pytest
import typer
from pydantic import SecretStr
from typer.testing import CliRunner

from ioc import accounts
from ioc.access import Principal, Role, page_allowed
from ioc.crypto import settings_keyring
from ioc.launcher import Stack
from ioc.web import auth
from ioc.web.app import create_app
from ioc.web.snapshot import LiveSnapshot
from layers.registry import LAYER_IDS
from tests.webclient import PASSWORD, csrf_from_form, login, map_refresh

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("ngắn!", "short"),
        ("password", "short"),
        ("Password2024!", "common"),
        ("iloveyou1234", "common"),
        ("haiphong2024!", "common"),
        ("matkhau123456", "common"),
        ("aaaaaaaaaaaaaaaa", "common"),
        ("lan-lan-lan-2026-x", "username"),
    ],
)
def test_password_policy_rejects_short_common_and_guessable(password: str, code: str) -> None:
    with pytest.raises(accounts.UserError) as err:
        accounts.hash_password(password, "lan")
    assert err.value.code == code


def test_password_hashing_accepts_a_phrase() -> None:
    h = accounts.hash_password("đủ-dài-rồi-đó-nhé")
    assert h.startswith("scrypt:") and "đủ-dài" not in h
    assert len(accounts.common_passwords()) >= 30_000 and "123456" in accounts.common_passwords()


@pytest.mark.parametrize(
    ("role", "path", "ok"),
    [
        ("leader", "/", True),
        ("operator", "/tablet", True),
        ("admin", "/wall", True),
        ("display", "/wall", True),
        ("display", "/", False),
        ("display", "/tablet", False),
        ("display", "/alerts", False),
        ("finance", "/triage", False),
        ("ward", "/wall", False),
        ("triage", "/admin/users", False),
        ("admin", "/admin/users", True),
    ],
)
def test_page_access_by_role(role: str, path: str, ok: bool) -> None:
    assert page_allowed(Principal("x", Role(role)), path) is ok
    assert auth.may_view(role, path) is ok
    assert auth.may_view("hacker", path) is False


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/wall", "/wall"),
        ("/tablet?x=1", "/tablet?x=1"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
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


def _audit(dsn: str, like: str) -> list[tuple[str, str, dict]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT actor, action, details FROM audit_log WHERE action LIKE %s ORDER BY id", (like,)
        ).fetchall()


@pytest.mark.integration
def test_unauthenticated_requests_go_to_login(web: tuple[dash.Dash, str]) -> None:
    app, _ = web
    client = app.server.test_client()
    for path in ("/", "/wall", "/tablet?x=1", "/admin/users"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=" + path.split("?")[0])
    for path in ("/_dash-layout", "/_dash-dependencies", "/_reload-hash", "/layers/abc.json"):
        assert client.get(path).status_code == 401, path
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/assets/10_ioc.css").status_code == 200  # static assets stay public
    assert client.get("/transparency").status_code == 200  # published, de-identified: public
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
    rows = [(a, b) for a, b, _ in _audit(dsn, "login%")]
    assert rows == [("lan", "login.failed"), ("lan", "login")]
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT password_hash FROM users WHERE username = 'lan'").fetchone()
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
    for path in ("/tablet", "/", "/alerts", "/triage"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/wall", path
    # Posting the map's callback by hand is refused before Dash runs it.
    r = map_refresh(client, app, layer_ids=LAYER_IDS)
    assert r.status_code == 403 and "display not allowed" in r.get_data(as_text=True)


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
def test_fifty_wrong_passwords_lock_the_account_and_the_right_one_is_refused(web: tuple[dash.Dash, str]) -> None:
    app, dsn = web
    client = app.server.test_client()
    statuses = [login(client, "lan", f"wrong-password-{i}").status_code for i in range(50)]
    assert statuses[:3] == [401, 401, 401]  # then a growing delay: refused without checking
    assert set(statuses[3:]) == {429}
    r = login(client, "lan")  # the right password, at once: still locked
    assert r.status_code == 429 and "tạm khóa" in r.get_data(as_text=True)
    assert int(r.headers["Retry-After"]) > 60
    actions = [a for _, a, _ in _audit(dsn, "login%")]
    assert actions.count("login.failed") == 3 and "login.throttled" in actions and "login.locked" in actions
    assert "login" not in actions
    # Fifty failures from one address lock that address for every account, too.
    assert login(app.server.test_client(), "tuong", next_path="/wall").status_code == 429


@pytest.mark.integration
def test_per_address_throttle_spans_accounts(web: tuple[dash.Dash, str]) -> None:
    app, dsn = web
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(accounts.ADDRESS_LOCK_AFTER):  # one guess per made-up account, one address
            accounts.login_attempt(conn, f"user{i:03d}", "x", "203.0.113.9")
        out = accounts.login_attempt(conn, "lan", PASSWORD, "203.0.113.9")
        other = accounts.login_attempt(conn, "lan", PASSWORD, "198.51.100.7")
    assert out.status == "locked" and other.status == "ok"


@pytest.mark.integration
@pytest.mark.parametrize("username", ["lan\x00", "a" * 300, "Lan Nguyễn", "../etc/passwd", "x"])
def test_malformed_usernames_get_400_and_an_audit_row(web: tuple[dash.Dash, str], username: str) -> None:
    app, dsn = web
    client = app.server.test_client()
    r = login(client, username, "whatever-password")
    assert r.status_code == 400 and "không hợp lệ" in r.get_data(as_text=True)
    (row,) = _audit(dsn, "login.malformed")
    assert row[0] == "?" and "\x00" not in row[2]["username"] and len(row[2]["username"]) <= 64


@pytest.mark.integration
def test_the_first_admin_must_set_a_new_password(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM users")
        path = accounts.ensure_initial_admin(conn, stack.settings.data_dir)
    assert path is not None and path.stat().st_mode & 0o777 == 0o600
    initial = path.read_text().strip()
    app = create_app(stack.settings, live_snapshot=LiveSnapshot(stack.settings), start=False)
    try:
        c = app.server.test_client()
        r = login(c, "admin", initial, next_path="/admin/users")
        assert r.status_code == 303 and r.headers["Location"] == "/account/password"
        for path_ in ("/", "/admin/users", "/alerts"):
            r = c.get(path_)
            assert r.status_code == 302 and r.headers["Location"] == "/account/password", path_
        assert c.get("/_dash-layout").status_code == 401
        page = c.get("/account/password").get_data(as_text=True)
        assert "mật khẩu tạm thời" in page
        token = csrf_from_form(page)
        weak = {"current": initial, "new": "password1234", "repeat": "password1234", "csrf_token": token}
        r = c.post("/account/password", data=weak)
        assert r.status_code == 400 and "phổ biến" in r.get_data(as_text=True)
        good = {"current": initial, "new": "một-câu-mật-khẩu-dài", "repeat": "một-câu-mật-khẩu-dài",
                "csrf_token": token}  # fmt: skip
        r = c.post("/account/password", data=good)
        assert r.status_code == 303 and r.headers["Location"] == "/"
        assert c.get("/admin/users").status_code == 200
        with psycopg.connect(dsn) as conn:
            user = accounts.require_user(conn, "admin")
        assert not user.must_change_password
        assert [a for _, a, _ in _audit(dsn, "user.password%")] == ["user.password_change"]
    finally:
        app.server.extensions["ioc"]["pool"].close()


@pytest.mark.integration
def test_totp_second_factor_for_a_leader(web: tuple[dash.Dash, str], stack: Stack) -> None:
    app, dsn = web
    ring = settings_keyring(stack.settings)
    with psycopg.connect(dsn, autocommit=True) as conn:
        uri = accounts.enrol_totp(conn, ring, "lan", actor="test")
        with pytest.raises(accounts.UserError, match="second factor is for"):
            accounts.enrol_totp(conn, ring, "tuong", actor="test")
        stored = conn.execute("SELECT totp_secret FROM users WHERE username = 'lan'").fetchone()[0]
    secret = pyotp.parse_uri(uri).secret
    assert secret not in stored and stored.startswith("pd1:")  # encrypted at rest
    c = app.server.test_client()
    r = login(c, "lan", next_path="/tablet")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login/totp")
    assert c.get("/tablet").headers["Location"] == "/login/totp"
    assert c.post("/_dash-update-component", json={"output": "x"}).status_code == 401
    page = c.get("/login/totp").get_data(as_text=True)
    token = csrf_from_form(page)
    assert c.post("/login/totp", data={"code": "000000", "csrf_token": token, "next": "/tablet"}).status_code == 401
    r = c.post("/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token, "next": "/tablet"})
    assert r.status_code == 303 and r.headers["Location"] == "/tablet"
    assert c.get("/tablet").status_code == 200
    assert [a for _, a, _ in _audit(dsn, "login.totp%")] == ["login.totp_failed", "login.totp"]


@pytest.mark.parametrize(
    "key", [None, "change-me-to-a-long-random-string", "short-key", "x" * 40 + "placeholder"]
)
def test_production_refuses_a_missing_or_placeholder_secret_key(tmp_path: Path, key: str | None) -> None:
    from ioc.settings import Settings

    s = Settings(env="production", data_dir=tmp_path, secret_key=SecretStr(key) if key else None)
    with pytest.raises(auth.InsecureSecretKey):
        auth.secret_key(s)
    good = Settings(env="production", data_dir=tmp_path, secret_key=SecretStr("k" * 8 + "9f3Qz1-real-random-value-xx"))
    assert len(auth.secret_key(good)) >= 32


def test_env_example_ships_no_usable_secret() -> None:
    values = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line and
        not line.startswith("#")
    )  # fmt: skip
    from ioc.settings import Settings

    with pytest.raises(auth.InsecureSecretKey):
        auth.secret_key(Settings(env="production", secret_key=SecretStr(values["IOC_SECRET_KEY"])))


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
    weak = {**env, "IOC_NEW_USER_PASSWORD": "password123"}
    r = CliRunner().invoke(app, ["user", "add", "x2", "--role", "leader"], env=weak)
    assert r.exit_code == 2 and "password" in r.output
    r = CliRunner().invoke(app, ["user", "add", "phuong1", "--role", "ward", "--unit", "Phường Lê Chân"], env=env)
    assert r.exit_code == 0, r.output
    with psycopg.connect(stack.settings.database_dsn()) as conn:
        assert accounts.authenticate(conn, "hoa", PASSWORD) is not None
        assert accounts.authenticate(conn, "hoa", "wrong-password") is None
        p = accounts.principal_for(conn, "phuong1")
    assert p is not None and p.role is Role.WARD and "Phường Lê Chân" in p.scope.units


def test_csrf_token_is_read_from_the_form() -> None:
    assert csrf_from_form('<input type="hidden" name="csrf_token" value="abc">') == "abc"


def test_login_outcome_delays_grow_and_lock() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert accounts._wait(2, now, now, 3, 10) == ("", 0.0)
    assert accounts._wait(3, now, now, 3, 10) == ("throttled", 1.0)
    assert accounts._wait(6, now, now, 3, 10) == ("throttled", 8.0)
    assert accounts._wait(10, now, now, 3, 10)[0] == "locked"


@pytest.mark.integration
def test_required_second_factor_refuses_an_unenrolled_admin(stack: Stack) -> None:
    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        accounts.add_user(conn, "quantri", PASSWORD, "admin")
        accounts.add_user(conn, "vanhanh", PASSWORD, "operator")
    settings = stack.settings.model_copy(update={"totp_required_roles": ("admin", "leader")})
    app = create_app(settings, live_snapshot=LiveSnapshot(settings), start=False)
    try:
        r = login(app.server.test_client(), "quantri")
        assert r.status_code == 403 and "hai lớp" in r.get_data(as_text=True)
        assert login(app.server.test_client(), "vanhanh").status_code == 303  # not a required role
    finally:
        app.server.extensions["ioc"]["pool"].close()
