"""Logins, page access, signed sessions and CSRF for the web app (accounts live in ``ioc.accounts``).

Nobody sees the dashboard without logging in: a ``before_request`` guard on the Flask server sends
page requests to ``/login`` and answers Dash's JSON endpoints with 401. Sessions are Flask's signed
cookies (secret from ``Settings.secret_key``, else generated once and kept under ``data_dir``).
Forms carry a CSRF token; Dash's own POSTs carry it in the ``X-CSRFToken`` header, which the Dash
renderer copies from the ``_csrf_token`` cookie we set (double submit, tied to the session).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import flask
from psycopg_pool import ConnectionPool

from ioc.accounts import Role, authenticate
from ioc.audit import audit
from ioc.i18n import LANGS, Lang, lang_or_default, t
from ioc.settings import Settings

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads to fill X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
SECRET_FILE = "web_secret_key"
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/login", "/lang/", "/healthz")


# Pages each role may open; None means every page.
PAGE_ACCESS: dict[Role, frozenset[str] | None] = {
    Role.LEADER: None,
    Role.OPERATOR: None,
    Role.TRIAGE: None,
    Role.ADMIN: None,
    Role.DISPLAY: frozenset({"/wall"}),
}
DASH_PAGES = frozenset({"/", "/wall", "/tablet", "/alerts", "/triage", "/transparency"})


def may_view(role: str, path: str) -> bool:
    """True when ``role`` may open page ``path`` (unknown roles see nothing)."""
    try:
        allowed = PAGE_ACCESS[Role(role)]
    except ValueError:
        return False
    return allowed is None or path in allowed


def home_for(role: str) -> str:
    return "/wall" if role == Role.DISPLAY else "/"


def secret_key(settings: Settings) -> bytes:
    """``Settings.secret_key``, else a random key generated once and kept in ``data_dir`` (mode 0600)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()


# --- session helpers (valid inside a request) -----------------------------------------------------


def current_user() -> str | None:
    return flask.session.get("user")


def current_role() -> str | None:
    return flask.session.get("role")


def current_lang() -> Lang:
    return lang_or_default(flask.session.get("lang"))


def csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session["csrf"] = token
    return str(token)


def _csrf_ok(sent: str | None) -> bool:
    expected = flask.session.get("csrf")
    return bool(expected and sent and hmac.compare_digest(str(expected), sent))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: ``/wall`` yes, ``//evil.example`` or ``https://…`` no."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


# --- the Flask side -------------------------------------------------------------------------------

_LOGIN_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t('login.title', lang) }} – {{ t('app.short', lang) }}</title>
<link rel="stylesheet" href="/assets/00_bootstrap.min.css"><link rel="stylesheet" href="/assets/10_ioc.css">
</head><body class="ioc-login">
<main class="card shadow-sm ioc-login-card"><div class="card-body p-4">
<h1 class="h4 mb-1">{{ t('app.short', lang) }}</h1>
<p class="text-muted small mb-4">{{ t('app.title', lang) }}</p>
{% if error %}<div class="alert alert-danger" role="alert" id="login-error">{{ error }}</div>{% endif %}
<form method="post" action="/login" id="login-form">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
<div class="mb-3"><label class="form-label" for="username">{{ t('login.username', lang) }}</label>
<input class="form-control form-control-lg" id="username" name="username" autocomplete="username" required autofocus></div>
<div class="mb-4"><label class="form-label" for="password">{{ t('login.password', lang) }}</label>
<input class="form-control form-control-lg" id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary btn-lg w-100" type="submit" id="login-submit">{{ t('login.submit', lang) }}</button>
</form>
<p class="mt-3 mb-0 text-end"><a href="/lang/{{ other }}?next={{ ('/login?next=' + next) | urlencode }}">{{ t('lang.switch', lang) }}</a></p>
</div></main></body></html>"""


def install(server: flask.Flask, settings: Settings, pool: ConnectionPool) -> None:
    """Secret key, cookie policy, the login guard and the ``/login``, ``/logout``, ``/lang`` routes."""
    server.secret_key = secret_key(settings)
    server.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="ioc_session",
    )

    def render_login(error: str | None = None, status: int = 200) -> flask.Response:
        lang = current_lang()
        html = flask.render_template_string(
            _LOGIN_PAGE,
            t=t,
            lang=lang,
            error=error,
            csrf=csrf_token(),
            next=safe_next(flask.request.values.get("next")),
            other="en" if lang == "vi" else "vi",
        )
        return flask.Response(html, status=status, mimetype="text/html")

    @server.before_request
    def guard() -> flask.Response | None:
        path = flask.request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        role = current_role()
        if role is None:
            if path.startswith("/_dash") or flask.request.method != "GET":
                return flask.Response('{"error": "login required"}', status=401, mimetype="application/json")
            query = flask.request.query_string.decode()
            return flask.redirect(
                "/login?next=" + flask.request.path + ("?" + query if query else ""), code=302
            )
        if flask.request.method == "POST" and not path.startswith("/logout"):
            if not _csrf_ok(flask.request.headers.get(CSRF_HEADER)):
                return flask.Response(
                    '{"error": "CSRF token missing or wrong"}', status=403, mimetype="application/json"
                )
        if path in DASH_PAGES and not may_view(role, path):
            return flask.redirect(home_for(role), code=302)
        return None

    @server.after_request
    def csrf_cookie(response: flask.Response) -> flask.Response:
        token = flask.session.get("csrf")
        if token and flask.request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, samesite="Lax", httponly=False)
        return response

    @server.get("/login")
    def login_form() -> flask.Response:
        return render_login()

    @server.post("/login")
    def login_submit() -> flask.Response:
        form = flask.request.form
        if not _csrf_ok(form.get("csrf_token")):
            return render_login(t("login.csrf", current_lang()), status=400)
        username = (form.get("username") or "").strip().lower()
        with pool.connection() as conn:
            user = authenticate(conn, username, form.get("password") or "")
            audit(
                conn,
                username or "?",
                "login" if user else "login.failed",
                None,
                {"ip": flask.request.remote_addr},
            )
        if user is None:
            return render_login(t("login.failed", current_lang()), status=401)
        lang = current_lang()
        flask.session.clear()  # a fresh session (and CSRF token) after login: no fixation
        flask.session.update(user=user.username, role=user.role, lang=lang, csrf=secrets.token_urlsafe(32))
        target = safe_next(form.get("next"), home_for(user.role))
        if target.split("?")[0] in DASH_PAGES and not may_view(user.role, target.split("?")[0]):
            target = home_for(user.role)
        return flask.redirect(target, code=303)  # type: ignore[return-value]

    @server.post("/logout")
    def logout() -> flask.Response:
        if not _csrf_ok(flask.request.form.get("csrf_token")):
            return flask.Response("CSRF token missing or wrong", status=403)
        user = current_user()
        if user:
            with pool.connection() as conn:
                audit(conn, user, "logout", None, {})
        lang = current_lang()
        flask.session.clear()
        flask.session["lang"] = lang
        return flask.redirect("/login", code=303)  # type: ignore[return-value]

    @server.get("/lang/<code>")
    def switch_language(code: str) -> flask.Response:
        if code not in LANGS:
            return flask.Response(f"unknown language {code!r}", status=404)
        flask.session["lang"] = code
        return flask.redirect(safe_next(flask.request.args.get("next")), code=303)  # type: ignore[return-value]
