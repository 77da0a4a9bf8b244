"""Transport and headers (issue 11, item 9): CSP without 'unsafe-inline' for scripts (Dash's inline
scripts by hash), framing, nosniff, Referrer-Policy, HSTS and Secure cookies only behind TLS from a
trusted proxy, and bodies over the limit refused before they are read."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ioc import accounts
from ioc.launcher import Stack
from ioc.web.app import create_app
from ioc.web.snapshot import LiveSnapshot
from tests.webclient import PASSWORD, login

pytestmark = pytest.mark.integration
PROXY = "10.9.8.7"  # the configured reverse proxy (never contacted: only its address is compared)


@pytest.fixture
def app(stack: Stack) -> Iterator[Any]:
    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        accounts.add_user(conn, "lan", PASSWORD, "leader")
    settings = stack.settings.model_copy(update={
        "trusted_proxies": (PROXY,), "frame_ancestors": ("https://ioc.haiphong.gov.vn",), "max_request_bytes": 50_000,
    })  # fmt: skip
    a = create_app(settings, live_snapshot=LiveSnapshot(settings), start=False)
    yield a
    a.server.extensions["ioc"]["pool"].close()


def _inline_scripts(html: str) -> list[str]:
    out = []
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # Dash's IE notice sits in a conditional comment
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        if "src=" in attrs or "application/json" in attrs or not body.strip():
            continue
        out.append(body)
    return out


def test_csp_allows_dash_inline_scripts_by_hash_only(app: Any) -> None:
    c = app.server.test_client()
    login(c, "lan")
    r = c.get("/")
    csp = r.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)  # type: ignore[union-attr]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    scripts = _inline_scripts(r.get_data(as_text=True))
    assert scripts, "Dash's index has its renderer inline"
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP: no HSTS


def test_the_wall_may_be_framed_by_configured_origins_only(app: Any) -> None:
    r = app.server.test_client().get("/wall")  # a redirect to the login, with the headers all the same
    assert "frame-ancestors https://ioc.haiphong.gov.vn" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    r = app.server.test_client().get("/login")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"] and r.headers["X-Frame-Options"] == "DENY"


def test_hsts_and_secure_cookies_behind_a_trusted_tls_proxy(app: Any, pg_dsn: str) -> None:
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.50"}
    c = app.server.test_client()
    c.environ_base["REMOTE_ADDR"] = PROXY
    page = c.get("/login", headers=tls)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": "lan", "password": PASSWORD, "csrf_token": token, "next": "/"}, headers=tls)
    cookies = r.headers.getlist("Set-Cookie")
    assert r.status_code == 303 and cookies and all("Secure" in x and "HttpOnly" in x for x in cookies if "ioc_session" in x)
    with psycopg.connect(pg_dsn) as conn:
        ip = conn.execute("SELECT ip FROM login_attempts ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert ip == "203.0.113.50"  # the client's address as the trusted proxy reports it


def test_forwarded_headers_from_anyone_else_are_ignored(app: Any, pg_dsn: str) -> None:
    c = app.server.test_client()
    c.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.99"}
    page = c.get("/login", headers=forged)
    assert "Strict-Transport-Security" not in page.headers
    login(c, "lan", "sai-mat-khau-roi")
    with psycopg.connect(pg_dsn) as conn:
        ip = conn.execute("SELECT ip FROM login_attempts ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert ip == "198.51.100.1"  # nobody dodges the per-address throttle by claiming another address


def test_bodies_over_the_limit_are_refused_before_parsing(app: Any) -> None:
    c = app.server.test_client()
    login(c, "lan")
    token = c.get_cookie("_csrf_token").value  # type: ignore[union-attr]
    r = c.post("/_dash-update-component", data=b"{" + b" " * 60_000 + b"}", content_type="application/json",
               headers={"X-CSRFToken": token})  # fmt: skip
    assert r.status_code == 413
    r = app.server.test_client().post("/login", data={"username": "x" * 60_000})
    assert r.status_code == 413
