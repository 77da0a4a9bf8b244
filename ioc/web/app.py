"""``create_app(settings) -> Dash``: the pages in ``ioc/pages``, vendored assets, logins, live snapshot.

No page layouts or callbacks live here. Pages reach the process-wide snapshot through
:func:`ioc.web.snapshot.live` (inside a request), never through an import of this module.

Access is decided here, in one request hook, by :func:`ioc.access.decide`: the route of every
request, the page of every Dash page load and the callback of every ``/_dash-update-component``
POST (read from the body's ``output`` before Dash runs anything). A route or callback without a
policy entry is refused. The same hook adds the security headers (CSP with the hashes of Dash's
inline scripts, frame-ancestors, nosniff, Referrer-Policy, HSTS behind TLS).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import dash
import flask
import psycopg
from dash import dcc, html
from dash._pages import _path_to_page  # the router's own lookup: what it renders is what we decide
from psycopg_pool import ConnectionPool, PoolTimeout
from werkzeug.middleware.proxy_fix import ProxyFix

from ioc import health
from ioc.access import PAGE_ROUTER, PAGES, Decision, Principal, Resource, decide, home_for
from ioc.audit import audit
from ioc.i18n import t
from ioc.settings import Settings
from ioc.web import auth, basemap, ids, photos, push
from ioc.web.layer_blobs import BLOBS, LAYER_URL_PREFIX
from ioc.web.open311 import register_open311
from ioc.web.snapshot import EXTENSION, LiveSnapshot
from ioc.web.transparency import register_transparency

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)

# Routes a login that still owes its second factor or a new password may reach, and nothing else.
STAGE_ROUTES = {
    "second_factor": frozenset({"GET /login/totp", "POST /login/totp", "POST /logout", "GET /lang/<code>"}),
    "password_change": frozenset(
        {"GET /account/password", "POST /account/password", "POST /logout", "GET /lang/<code>"}
    ),
}
STAGE_HOME = {"second_factor": "/login/totp", "password_change": "/account/password"}
# Forms that check their own CSRF token field (every other POST needs the X-CSRFToken header).
FORM_ROUTES = frozenset({"POST /login", "POST /login/totp", "POST /logout", "POST /account/password"})
DASH_INDEX_RULES = frozenset({"/", "/<path:path>"})
UPDATE_ROUTE = "POST /_dash-update-component"
HTML_RULES = DASH_INDEX_RULES | {"/account/password", "/login/totp"}  # where a refusal is a redirect


def callback_name(fn: Callable[..., Any]) -> str:
    """A server callback's policy id: ``module.function`` of the Python function Dash wraps."""
    inner = getattr(fn, "__wrapped__", fn)
    return f"{inner.__module__}.{inner.__name__}"


def server_callbacks(app: dash.Dash) -> dict[str, str]:
    """Dash's callback key (the ``output`` a POST names) → policy id, for every server callback."""
    return {key: callback_name(entry["callback"]) for key, entry in app.callback_map.items() if "callback" in entry}


class TrustedProxies:
    """``X-Forwarded-For``/``-Proto`` believed only from the configured proxy addresses; from any
    other client they are removed, so nobody can claim to be another address or to use TLS."""

    _HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
                "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")  # fmt: skip

    def __init__(self, wsgi_app: Callable[..., Any], trusted: Iterable[str]) -> None:
        self.app = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
        self.trusted = frozenset(trusted)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REMOTE_ADDR") in self.trusted:
            return self.fixed(environ, start_response)
        for h in self._HEADERS:
            environ.pop(h, None)
        return self.app(environ, start_response)




def create_app(
    settings: Settings, *, live_snapshot: LiveSnapshot | None = None, start: bool = True
) -> dash.Dash:
    """Build the Dash app. ``start=False`` leaves the refresher stopped (tests drive it by hand)."""
    server = flask.Flask("ioc", static_folder=None)  # no /static route: assets are Dash's
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app = dash.Dash(
        "ioc",  # the package: pages register as ioc.web.pages.<name>, the same as a normal import
        server=server,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        serve_locally=True,
        title=t("app.title", "vi"),
        suppress_callback_exceptions=True,
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="vi">')
    # The push channel's script (assets/ioc_push.js) reads where the stream is and which intervals it replaces.
    app.index_string = app.index_string.replace(
        "{%metas%}", f'{{%metas%}}<meta name="ioc-push" content="{push.STREAM_ROUTE} {",".join(push.PUSH_TICKS)}">'
    )
    pool = ConnectionPool(
        settings.database_dsn(),
        min_size=1,
        max_size=4,
        open=True,
        kwargs={"autocommit": True},
        name="ioc-web",
        timeout=5.0,  # a request waits at most this for a connection: a database outage answers 503 quickly
    )
    snapshot = live_snapshot or LiveSnapshot(settings)
    if start:
        snapshot.start()
    server.extensions[EXTENSION] = {"settings": settings, "pool": pool, "live": snapshot}
    auth.install(server, settings, pool)
    basemap.register(server)  # the offline vector base map, per zoom band
    photos.register(server)  # simulated reports' photos, drawn here (desk roles only)
    install_policy(app, settings, pool)
    register_transparency(server, pool)
    push.register(server, snapshot)  # GET /live/stream: each snapshot's changes to open pages (SSE)
    open311 = register_open311(server, settings)  # GeoReport v2 for other city systems (its own key-based auth)

    @server.get(LAYER_URL_PREFIX + "<digest>.json")
    def layer_blob(digest: str) -> flask.Response:
        """A layer's features by content digest (immutable: cached by the browser for a day)."""
        body = BLOBS.get(digest)
        if body is None:
            return flask.Response(
                '{"error": "unknown layer digest"}', status=404, mimetype="application/json"
            )
        response = flask.Response(body, mimetype="application/json")
        response.headers["Cache-Control"] = "private, max-age=86400, immutable"
        return response

    @server.get("/healthz")
    def healthz() -> flask.Response:
        """Every component and source, judged (``ioc.health``): 200 when ok or degraded, 503 when down.

        Two constant statements on the pool whatever the load; the refresher's counters show that the
        snapshot's queries per tick stay constant whatever the viewers."""
        snap = snapshot.current
        try:
            with pool.connection(timeout=2.0) as conn:
                rep = health.report(conn, settings)
        except (psycopg.Error, PoolTimeout) as exc:
            rep = health.unreachable(settings, type(exc).__name__)
        body = rep.as_json()
        body["snapshot"] = {"version": snap.version, "refreshed_at": snap.refreshed_at.isoformat(),
                            "error": snap.error, "ticks": snapshot.ticks_total, "queries": snapshot.queries_total}
        # The refresher's counters at the top level too, as benchmarks/dashboard_viewers.py reads them.
        body.update(snapshot_version=snap.version, ticks=snapshot.ticks_total, queries=snapshot.queries_total)
        response = flask.jsonify(body)
        response.status_code = 503 if rep.status == "down" else 200
        response.headers["Cache-Control"] = "no-store"
        return response

    _install_db_outage_handlers(server, georeport=False)
    _install_db_outage_handlers(open311, georeport=True)  # the API is its own Flask app under /open311/v2

    app.layout = html.Div([dcc.Location(id=ids.URL), dash.page_container])
    # The navbar's menu button on narrow screens: in the browser only, no request.
    app.clientside_callback(
        "function (n, open) { return n ? !open : open; }",
        dash.Output(ids.NAV_COLLAPSE, "is_open"),
        dash.Input(ids.NAV_TOGGLE, "n_clicks"),
        dash.State(ids.NAV_COLLAPSE, "is_open"),
        prevent_initial_call=True,
    )
    # Claim the page callbacks now: Dash collects @callback registrations globally, and a second
    # app built in the same process (tests) must not take this one's.
    with server.app_context():
        app._setup_server()
    server.wsgi_app = TrustedProxies(server.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    return app


def _json(status: int, message: str) -> flask.Response:
    return flask.Response(json.dumps({"error": message}), status=status, mimetype="application/json")


def install_policy(app: dash.Dash, settings: Settings, pool: ConnectionPool) -> None:
    """The request hook that asks :func:`ioc.access.decide` about every request, and the headers."""
    server = app.server

    def denied(principal: Principal | None, d: Decision, route: str, what: str) -> flask.Response:
        req = flask.request
        rule = req.url_rule.rule if req.url_rule is not None else ""
        wants_page = req.method in ("GET", "HEAD") and rule in HTML_RULES
        if principal is None:
            if wants_page:
                query = req.query_string.decode()
                return flask.redirect("/login?next=" + req.path + ("?" + query if query else ""), code=302)  # type: ignore[return-value]
            return _json(401, "login required")
        with pool.connection() as conn:  # a logged-in user asking for what they may not have
            audit(conn, principal.username, "access.denied", what, {"route": route, "reason": d.reason})
        if wants_page:
            return flask.redirect(home_for(principal), code=302)  # type: ignore[return-value]
        return _json(403, f"not allowed: {d.reason}")

    @server.before_request
    def enforce() -> flask.Response | None:
        req = flask.request
        if req.content_length is not None and req.content_length > settings.max_request_bytes:
            return _json(413, f"request body over {settings.max_request_bytes} bytes")
        if req.url_rule is None or req.method == "OPTIONS":
            return None  # Flask answers 404 / 405 / the Allow header: nothing is served
        method = "GET" if req.method == "HEAD" else req.method
        route = f"{method} {req.url_rule.rule}"
        stage = auth.session_stage()
        principal = auth.current_principal()
        if stage in STAGE_ROUTES:
            if route in STAGE_ROUTES[stage]:
                principal = auth.session_principal()  # the user finishing their login
            elif not decide(None, Resource.route(method, req.url_rule.rule)) or route.endswith(" /login"):
                if method == "GET" and req.url_rule.rule in HTML_RULES:
                    return flask.redirect(STAGE_HOME[stage], code=302)  # type: ignore[return-value]
                return _json(401, f"login incomplete: {stage.replace('_', ' ')} first")
        d = decide(principal, Resource.route(method, req.url_rule.rule))
        if not d:
            return denied(principal, d, route, req.path)
        if method == "POST" and principal is not None and route not in FORM_ROUTES:
            if not auth.csrf_ok(req.headers.get(auth.CSRF_HEADER)):
                return _json(403, "CSRF token missing or wrong")
        if req.url_rule.rule in DASH_INDEX_RULES and req.path in PAGES:
            d = decide(principal, Resource.page(req.path))
            if not d:
                return denied(principal, d, route, req.path)
        if route == UPDATE_ROUTE:
            return check_callback(principal)
        return None

    def check_callback(principal: Principal | None) -> flask.Response | None:
        body = flask.request.get_json(silent=True)  # cached: Dash reads the same parsed body
        if not isinstance(body, dict) or not isinstance(body.get("output"), str):
            return _json(400, "not a Dash callback request")
        entry = app.callback_map.get(body["output"])
        if entry is None or "callback" not in entry:
            d = Decision(False, "unknown callback")
            return denied(principal, d, UPDATE_ROUTE, body["output"][:200])
        name = callback_name(entry["callback"])
        if name == PAGE_ROUTER:
            # The page Dash's router will render, found the way the router finds it.
            page, _ = _path_to_page(app.strip_relative_path(_pathname(body)))
            path = page.get("path") if page else None
            if path is None:
                d = Decision(True, "no such page: Dash renders its 404")
            else:
                d = decide(principal, Resource.page(path))
                if path not in PAGES:
                    d = Decision(False, f"no policy for page {path!r}")
        else:
            d = decide(principal, Resource.callback(name))
        if not d:
            return denied(principal, d, UPDATE_ROUTE, name)
        flask.g.callback = name
        return None

    def _pathname(body: dict[str, Any]) -> str:
        for item in body.get("inputs") or ():
            if isinstance(item, dict) and item.get("id") == "_pages_location" and item.get("property") == "pathname":
                value = item.get("value")
                return value if isinstance(value, str) else "/"
        return "/"

    hashes: dict[tuple[str, ...], str] = {}

    def script_sources() -> str:
        """'self' and the hashes of Dash's inline scripts (the renderer and inline clientside callbacks)."""
        key = tuple(app._inline_scripts) + (app.renderer,)
        if key not in hashes:
            hashes.clear()
            hashes[key] = " ".join(["'self'", *app.csp_hashes()])
        return hashes[key]

    frame_origins = " ".join(settings.frame_ancestors)

    @server.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        req = flask.request
        framed_wall = req.path == "/wall" and bool(frame_origins)
        ancestors = frame_origins if framed_wall else "'none'"
        h = response.headers
        h.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src {script_sources()}; style-src 'self' 'unsafe-inline';"
            " img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self';"
            f" object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}",
        )
        if not framed_wall:
            h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "geolocation=(), camera=(), microphone=()"
        if req.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if req.path.startswith("/_dash-update-component") or response.mimetype == "text/html":
            h.setdefault("Cache-Control", "no-store")
        return response
def _install_db_outage_handlers(app: flask.Flask, *, georeport: bool) -> None:
    """A database outage is a 503 with Retry-After and a clear message (Vietnamese first), never a 500.

    GeoReport v2 clients get its error list; API and callback requests get JSON; pages get HTML."""

    def database_unavailable(exc: Exception) -> flask.Response:
        vi, en = t("db.unavailable", "vi"), t("db.unavailable", "en")
        if georeport:
            lang_en = flask.request.args.get("lang") == "en"
            response = flask.jsonify([{"code": 503, "description": en if lang_en else vi}])
        elif flask.request.path.startswith(("/_dash", "/healthz", "/layers")) or (
                flask.request.accept_mimetypes.best == "application/json"):
            response = flask.jsonify({"error": vi, "error_en": en})
        else:
            response = flask.Response(
                f'<!doctype html><html lang="vi"><meta charset="utf-8"><title>503</title>'
                f'<body style="font-family:sans-serif;padding:2em"><h1>503</h1><p>{vi}</p>'
                f'<p lang="en">{en}</p></body></html>', mimetype="text/html")
        response.status_code = 503
        response.headers["Retry-After"] = "30"
        log.warning("database unavailable for %s %s: %s", flask.request.method, flask.request.path,
                    type(exc).__name__)
        return response

    for cls in (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout):
        app.register_error_handler(cls, database_unavailable)
