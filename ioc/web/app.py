"""``create_app(settings) -> Dash``: the pages in ``ioc/pages``, vendored assets, logins, live snapshot.

No page layouts or callbacks live here. Pages reach the process-wide snapshot through
:func:`ioc.web.snapshot.live` (inside a request), never through an import of this module.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dash
import flask
import psycopg
from dash import dcc, html
from psycopg_pool import ConnectionPool, PoolTimeout

from ioc import health
from ioc.i18n import t
from ioc.settings import Settings
from ioc.web import auth, ids
from ioc.web.layer_blobs import BLOBS, LAYER_URL_PREFIX
from ioc.web.open311 import register_open311
from ioc.web.snapshot import EXTENSION, LiveSnapshot

HERE = Path(__file__).resolve().parent
log = logging.getLogger(__name__)


def create_app(
    settings: Settings, *, live_snapshot: LiveSnapshot | None = None, start: bool = True
) -> dash.Dash:
    """Build the Dash app. ``start=False`` leaves the refresher stopped (tests drive it by hand)."""
    server = flask.Flask("ioc")
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
    # Claim the page callbacks now: Dash collects @callback registrations globally, and a second
    # app built in the same process (tests) must not take this one's.
    with server.app_context():
        app._setup_server()
    return app


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
