"""Logins, server-side sessions, the second factor, password changes and CSRF for the web app.

Sessions live in PostgreSQL (``web_sessions``, see :mod:`ioc.accounts`): the ``ioc_session`` cookie
holds only a random id; each request loads the session with the user's CURRENT role, scope and
status, so logout, a role change, a disabled or deleted account end it at once, and idle and
absolute timeouts are the server's. Before login, the only state (language, the login form's CSRF
token) is a signed cookie that grants nothing. Which page, callback or route a session may reach is
decided by :mod:`ioc.access` in the request hook of :mod:`ioc.web.app`.

Forms carry a CSRF token; Dash's own POSTs carry it in the ``X-CSRFToken`` header, which the Dash
renderer copies from the ``_csrf_token`` cookie we set (double submit, tied to the session).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from psycopg_pool import ConnectionPool

from ioc import accounts
from ioc.access import Principal, Role, home_for, page_allowed
from ioc.accounts import LiveSession, UserError
from ioc.audit import audit
from ioc.crypto import settings_keyring
from ioc.i18n import LANGS, Lang, lang_or_default, t
from ioc.settings import Settings

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads to fill X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
SESSION_COOKIE = "ioc_session"
ANON_COOKIE = "ioc_pre"  # language and the login form's CSRF token before login: grants nothing
ANON_MAX_AGE = 12 * 3600
SECRET_FILE = "web_secret_key"
MIN_SECRET_LENGTH = 32
_PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "example", "placeholder", "secret-key")
# Requests for static files never read a session (no query for each script of a page load).
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
DASH_PAGES = frozenset({"/", "/wall", "/tablet", "/alerts", "/triage", "/admin/users", "/directives", "/directives/new",
                        "/inbox", "/tasks", "/warnings", "/budget", "/public-order", "/floods", "/soc"})


class InsecureSecretKey(RuntimeError):
    """Outside development the web app needs a real ``IOC_SECRET_KEY``."""


def secret_key(settings: Settings) -> bytes:
    """``Settings.secret_key``; in development only, a key generated once under ``data_dir`` (0600).

    Outside development a missing, short or placeholder key stops the app (``.env.example``'s
    placeholder must never reach production)."""
    key = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
    if settings.env != "development":
        if key is None:
            raise InsecureSecretKey("IOC_SECRET_KEY is not set (required when IOC_ENV is not development)")
        if len(key) < MIN_SECRET_LENGTH or any(p in key.lower() for p in _PLACEHOLDERS):
            raise InsecureSecretKey(
                f"IOC_SECRET_KEY is a placeholder or shorter than {MIN_SECRET_LENGTH} characters: "
                "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return key.encode()
    if key is not None:
        return key.encode()
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()


# --- the session object and its store -------------------------------------------------------------


class ServerSession(dict[str, Any], SessionMixin):
    """Flask's ``session``: the data of a server-side session (``live``) or of the anonymous cookie."""

    def __init__(self, data: dict[str, Any] | None = None, live: LiveSession | None = None) -> None:
        super().__init__(data or {})
        self.live = live
        self.modified = False
        self.new_id: str | None = None  # set at login: the cookie to send
        self.ended = False  # set at logout: delete the cookie

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.modified = True
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self.modified = True
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self.modified = True
        return super().pop(key, *default)


class PgSessionInterface(SessionInterface):
    """Sessions read from and written to ``web_sessions`` (through the web app's pool)."""

    def __init__(self, pool: ConnectionPool, settings: Settings, secret: bytes) -> None:
        self.pool = pool
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.anon = URLSafeTimedSerializer(secret, salt="ioc-anonymous-session")

    def open_session(self, app: flask.Flask, request: flask.Request) -> ServerSession:
        if request.path.startswith(STATIC_PREFIXES):
            return ServerSession()
        raw = request.cookies.get(SESSION_COOKIE)
        if raw and len(raw) < 100:
            with self.pool.connection() as conn:
                live = accounts.load_session(conn, raw, idle=self.idle)
            if live is not None:
                return ServerSession(live.data, live)
        return ServerSession(self._anonymous(request.cookies.get(ANON_COOKIE)))

    def _anonymous(self, cookie: str | None) -> dict[str, Any]:
        if not cookie:
            return {}
        try:
            data = self.anon.loads(cookie, max_age=ANON_MAX_AGE)
        except BadSignature:
            return {}
        # Only these keys, whatever a cookie says: the anonymous cookie never carries an identity.
        return {k: data[k] for k in ("lang", "csrf") if isinstance(data, dict) and isinstance(data.get(k), str)}

    def save_session(self, app: flask.Flask, session: SessionMixin, response: flask.Response) -> None:
        if not isinstance(session, ServerSession):
            return
        secure = flask.request.is_secure
        if session.new_id is not None:
            lifetime = session.get("_lifetime_s", 12 * 3600)
            response.set_cookie(SESSION_COOKIE, session.new_id, max_age=int(lifetime), httponly=True,
                                samesite="Lax", secure=secure, path="/")  # fmt: skip
            response.delete_cookie(ANON_COOKIE, path="/")
        elif session.ended:
            response.delete_cookie(SESSION_COOKIE, path="/")
        if session.live is not None and session.modified and not session.ended:
            with self.pool.connection() as conn:
                accounts.save_session_data(conn, session.live.id_hash, dict(session))
        elif session.live is None and session.new_id is None and session.modified:
            data = {k: v for k, v in session.items() if k in ("lang", "csrf")}
            response.set_cookie(ANON_COOKIE, self.anon.dumps(data), max_age=ANON_MAX_AGE, httponly=True,
                                samesite="Lax", secure=secure, path="/")  # fmt: skip
        response.vary.add("Cookie")


def _session() -> ServerSession:
    s = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(s, ServerSession):
        raise RuntimeError("ioc.web.auth.install() sets the session interface")
    return s


# --- helpers valid inside a request ---------------------------------------------------------------


def _live() -> LiveSession | None:
    if not flask.has_request_context():
        return None
    s = flask.session._get_current_object()  # type: ignore[attr-defined]
    return s.live if isinstance(s, ServerSession) else None


def session_stage() -> str | None:
    """``full``, ``password_change`` or ``second_factor`` for a logged-in session, else ``None``."""
    live = _live()
    return None if live is None else live.stage


def session_principal() -> Principal | None:
    """The session's user at any stage (the password and second-factor steps need it)."""
    live = _live()
    return None if live is None else live.principal


def current_principal() -> Principal | None:
    """The logged-in user with their current role and scope, once the login is complete."""
    live = _live()
    return live.principal if live is not None and live.stage == "full" else None


def current_user() -> str | None:
    p = current_principal()
    return None if p is None else p.username


def current_role() -> str | None:
    p = current_principal()
    return None if p is None else p.role.value


def current_lang() -> Lang:
    return lang_or_default(flask.session.get("lang"))


def may_view(role: str, path: str) -> bool:
    """True when ``role`` (city-wide) may open page ``path``: for pages' own belt-and-braces checks."""
    p = current_principal()
    if p is not None and p.role.value == role:
        return page_allowed(p, path)
    try:
        return page_allowed(Principal("?", Role(role)), path)
    except ValueError:
        return False


def csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session["csrf"] = token
    return str(token)


def csrf_ok(sent: str | None) -> bool:
    expected = flask.session.get("csrf")
    return bool(expected and sent and hmac.compare_digest(str(expected), sent))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: ``/wall`` yes, ``//evil.example`` or ``https://…`` no."""
    if not target or len(target) > 2000:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def client_ip() -> str:
    """The client's address (the proxy's X-Forwarded-For only when the proxy is trusted: ioc.web.app)."""
    return flask.request.remote_addr or "?"


# --- the pages (plain HTML: they work before login and without Dash) -------------------------------

_HEAD = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} – {{ t('app.short', lang) }}</title>
<link rel="stylesheet" href="/assets/00_bootstrap.min.css"><link rel="stylesheet" href="/assets/10_ioc.css">
</head><body class="ioc-login">
<main class="card shadow-sm ioc-login-card"><div class="card-body p-4">
<h1 class="h4 mb-1">{{ t('app.short', lang) }}</h1>
<p class="text-muted small mb-4">{{ title }}</p>
{% if error %}<div class="alert alert-danger" role="alert" id="login-error">{{ error }}</div>{% endif %}
{% if notice %}<div class="alert alert-info" role="status" id="login-notice">{{ notice }}</div>{% endif %}
"""
_FOOT = """<p class="mt-3 mb-0 text-end"><a href="/lang/{{ other }}?next={{ here | urlencode }}">{{ t('lang.switch', lang) }}</a></p>
</div></main></body></html>"""

_LOGIN = _HEAD + """<form method="post" action="/login" id="login-form">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
<div class="mb-3"><label class="form-label" for="username">{{ t('login.username', lang) }}</label>
<input class="form-control form-control-lg" id="username" name="username" autocomplete="username" maxlength="64" required autofocus></div>
<div class="mb-4"><label class="form-label" for="password">{{ t('login.password', lang) }}</label>
<input class="form-control form-control-lg" id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary btn-lg w-100" type="submit" id="login-submit">{{ t('login.submit', lang) }}</button>
</form>""" + _FOOT

_TOTP = _HEAD + """<form method="post" action="/login/totp" id="totp-form">
<input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
<div class="mb-4"><label class="form-label" for="code">{{ t('totp.code', lang) }}</label>
<input class="form-control form-control-lg" id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus></div>
<button class="btn btn-primary btn-lg w-100" type="submit" id="totp-submit">{{ t('totp.submit', lang) }}</button>
</form>""" + _FOOT

_PASSWORD = _HEAD + """<form method="post" action="/account/password" id="password-form">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<div class="mb-3"><label class="form-label" for="current">{{ t('password.current', lang) }}</label>
<input class="form-control" id="current" name="current" type="password" autocomplete="current-password" required autofocus></div>
<div class="mb-3"><label class="form-label" for="new">{{ t('password.new', lang) }}</label>
<input class="form-control" id="new" name="new" type="password" autocomplete="new-password" minlength="12" required></div>
<div class="mb-4"><label class="form-label" for="repeat">{{ t('password.repeat', lang) }}</label>
<input class="form-control" id="repeat" name="repeat" type="password" autocomplete="new-password" minlength="12" required></div>
<button class="btn btn-primary w-100" type="submit" id="password-submit">{{ t('password.submit', lang) }}</button>
</form>
{% if not forced %}<p class="mt-3 mb-0"><a href="/" id="password-back">{{ t('password.back', lang) }}</a></p>{% endif %}
<form method="post" action="/logout" class="mt-2"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<button class="btn btn-link p-0" type="submit">{{ t('nav.logout', lang) }}</button></form>""" + _FOOT


def render(template: str, title_key: str, *, error: str | None = None, notice: str | None = None,
           status: int = 200, **extra: Any) -> flask.Response:  # fmt: skip
    lang = current_lang()
    html = flask.render_template_string(
        template, t=t, lang=lang, title=t(title_key, lang), error=error, notice=notice, csrf=csrf_token(),
        next=safe_next(flask.request.values.get("next")), other="en" if lang == "vi" else "vi",
        here=flask.request.full_path.rstrip("?"), **extra,
    )  # fmt: skip
    resp = flask.Response(html, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def password_rule_message(exc: UserError, lang: Lang) -> str:
    key = f"password.rule.{exc.code}" if exc.code else None
    try:
        return t(key, lang) if key else str(exc)
    except KeyError:
        return str(exc)


def install(server: flask.Flask, settings: Settings, pool: ConnectionPool) -> None:
    """Secret key, server-side sessions, and the ``/login``, ``/login/totp``, ``/logout``,
    ``/account/password`` and ``/lang`` routes (access to everything is decided in ioc.web.app)."""
    key = secret_key(settings)
    server.secret_key = key
    server.session_interface = PgSessionInterface(pool, settings, key)
    ring = settings_keyring(settings)
    totp_roles = frozenset(settings.totp_required_roles)

    def lifetime(role: str) -> timedelta:
        hours = settings.session_absolute_hours_display if role == Role.DISPLAY else settings.session_absolute_hours
        return timedelta(hours=hours)

    def start(user: accounts.User, stage: accounts.SessionStage, conn: Any) -> None:
        """A fresh session id for ``user`` (rotation): the old session, if any, is revoked."""
        s = _session()
        if s.live is not None:
            accounts.revoke_session(conn, s.live.id_hash, "replaced at login")
        lang = current_lang()
        life = lifetime(user.role)
        data = {"lang": lang, "csrf": secrets.token_urlsafe(32)}
        s.new_id = accounts.create_session(conn, user, ip=client_ip(), user_agent=flask.request.user_agent.string,
                                           stage=stage, lifetime=life, data=data)  # fmt: skip
        dict.clear(s)
        dict.update(s, data)
        s["_lifetime_s"] = life.total_seconds()
        s.live = None  # this request stays anonymous; the next one loads the new session
        s.modified = False

    def after_login(user: accounts.User, next_path: str) -> flask.Response:
        stage: accounts.SessionStage = "full"
        if user.totp_secret is not None:
            stage = "second_factor"
        elif user.must_change_password:
            stage = "password_change"
        with pool.connection() as conn:
            start(user, stage, conn)
        if stage == "second_factor":
            return flask.redirect("/login/totp?next=" + next_path, code=303)  # type: ignore[return-value]
        if stage == "password_change":
            return flask.redirect("/account/password", code=303)  # type: ignore[return-value]
        return flask.redirect(landing(user, next_path), code=303)  # type: ignore[return-value]

    def landing(user: accounts.User, next_path: str) -> str:
        p = Principal(user.username, Role(user.role))
        # "/" is the login form's default: the user's own home page (the cockpit for a leader) instead.
        target = safe_next(next_path if next_path != "/" else None, home_for(p))
        path = target.split("?")[0]
        return target if path not in DASH_PAGES or page_allowed(p, path) else home_for(p)

    @server.get("/login")
    def login_form() -> flask.Response:
        return render(_LOGIN, "login.title")

    @server.post("/login")
    def login_submit() -> flask.Response:
        form = flask.request.form
        lang = current_lang()
        if not csrf_ok(form.get("csrf_token")):
            return render(_LOGIN, "login.title", error=t("login.csrf", lang), status=400)
        username = (form.get("username") or "").strip().lower()
        with pool.connection() as conn:
            out = accounts.login_attempt(conn, username, form.get("password") or "", client_ip())
        if out.status == "malformed":
            return render(_LOGIN, "login.title", error=t("login.malformed", lang), status=400)
        if out.status in ("throttled", "locked"):
            wait = max(1, int(out.retry_after + 0.999))
            msg = (t("login.locked", lang, minutes=max(1, round(wait / 60))) if out.status == "locked"
                   else t("login.throttled", lang, seconds=wait))  # fmt: skip
            resp = render(_LOGIN, "login.title", error=msg, status=429)
            resp.headers["Retry-After"] = str(wait)
            return resp
        if out.status != "ok" or out.user is None:
            return render(_LOGIN, "login.title", error=t("login.failed", lang), status=401)
        if out.user.role in totp_roles and out.user.totp_secret is None:
            return render(_LOGIN, "login.title", error=t("login.totp_required", lang), status=403)
        return after_login(out.user, form.get("next") or "")

    @server.get("/login/totp")
    def totp_form() -> flask.Response:
        if session_stage() != "second_factor":
            return flask.redirect("/login", code=303)  # type: ignore[return-value]
        return render(_TOTP, "totp.title")

    @server.post("/login/totp")
    def totp_submit() -> flask.Response:
        lang = current_lang()
        s = _session()
        if s.live is None or s.live.stage != "second_factor":
            return flask.redirect("/login", code=303)  # type: ignore[return-value]
        if not csrf_ok(flask.request.form.get("csrf_token")):
            return render(_TOTP, "totp.title", error=t("login.csrf", lang), status=400)
        username = s.live.principal.username
        with pool.connection() as conn:
            user = accounts.require_user(conn, username)
            ok = accounts.verify_totp(ring, user, flask.request.form.get("code") or "")
            audit(conn, username, "login.totp" if ok else "login.totp_failed", None, {"ip": client_ip()})
            if not ok:
                fails = int(s.get("totp_fails", 0)) + 1
                if fails >= 5:  # five wrong codes end the login: the password must be typed again
                    accounts.revoke_session(conn, s.live.id_hash, "second factor failed 5 times")
                    s.ended = True
                    return flask.redirect("/login", code=303)  # type: ignore[return-value]
                s["totp_fails"] = fails
                return render(_TOTP, "totp.title", error=t("totp.failed", lang), status=401)
            stage: accounts.SessionStage = "password_change" if user.must_change_password else "full"
            start(user, stage, conn)  # a new id once the second factor is proven
        if stage == "password_change":
            return flask.redirect("/account/password", code=303)  # type: ignore[return-value]
        return flask.redirect(landing(user, flask.request.form.get("next") or ""), code=303)  # type: ignore[return-value]

    @server.get("/account/password")
    def password_form() -> flask.Response:
        forced = session_stage() == "password_change"
        return render(_PASSWORD, "password.title", forced=forced,
                      notice=t("password.forced", current_lang()) if forced else None)  # fmt: skip

    @server.post("/account/password")
    def password_submit() -> flask.Response:
        lang = current_lang()
        s = _session()
        if s.live is None:  # the request hook lets only logged-in sessions here
            return flask.redirect("/login", code=303)  # type: ignore[return-value]
        forced = s.live.stage == "password_change"
        form = flask.request.form
        if not csrf_ok(form.get("csrf_token")):
            return render(_PASSWORD, "password.title", forced=forced, error=t("login.csrf", lang), status=400)
        new, repeat = form.get("new") or "", form.get("repeat") or ""
        if new != repeat:
            return render(_PASSWORD, "password.title", forced=forced, error=t("password.mismatch", lang), status=400)
        username = s.live.principal.username
        try:
            with pool.connection() as conn:
                accounts.change_own_password(conn, username, form.get("current") or "", new)
                user = accounts.require_user(conn, username)
                start(user, "full", conn)  # every other session ended; this one gets a new id
        except UserError as exc:
            reason = password_rule_message(exc, lang)
            return render(_PASSWORD, "password.title", forced=forced,
                          error=t("password.error", lang, reason=reason), status=400)  # fmt: skip
        if forced:
            return flask.redirect(landing(user, ""), code=303)  # type: ignore[return-value]
        return render(_PASSWORD, "password.title", forced=False, notice=t("password.done", lang))

    @server.post("/logout")
    def logout() -> flask.Response:
        if not csrf_ok(flask.request.form.get("csrf_token")):
            return flask.Response("CSRF token missing or wrong", status=403)
        s = _session()
        lang = current_lang()
        if s.live is not None:
            with pool.connection() as conn:
                accounts.revoke_session(conn, s.live.id_hash, "logout")
                audit(conn, s.live.principal.username, "logout", None, {"ip": client_ip()})
            s.live = None
            s.ended = True
        dict.clear(s)
        s["lang"] = lang
        return flask.redirect("/login", code=303)  # type: ignore[return-value]

    @server.get("/lang/<code>")
    def switch_language(code: str) -> flask.Response:
        if code not in LANGS:
            return flask.Response(f"unknown language {code!r}", status=404)
        flask.session["lang"] = code
        return flask.redirect(safe_next(flask.request.args.get("next")), code=303)  # type: ignore[return-value]

    @server.after_request
    def csrf_cookie(response: flask.Response) -> flask.Response:
        s = flask.session._get_current_object()  # type: ignore[attr-defined]
        token = s.get("csrf") if isinstance(s, ServerSession) and (s.live is not None or s.new_id) else None
        if token and flask.request.cookies.get(CSRF_COOKIE) != token:
            response.set_cookie(CSRF_COOKIE, token, samesite="Lax", httponly=False,
                                secure=flask.request.is_secure, path="/")  # fmt: skip
        return response
