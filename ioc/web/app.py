"""``create_app(settings) -> Dash``: the pages in ``ioc/pages``, vendored assets, logins, live snapshot.

No page layouts or callbacks live here. Pages reach the process-wide snapshot through
:func:`ioc.web.snapshot.live` (inside a request), never through an import of this module.
"""

from __future__ import annotations

from pathlib import Path

import dash
import flask
from dash import dcc, html
from psycopg_pool import ConnectionPool

from ioc.i18n import t
from ioc.settings import Settings
from ioc.web import auth, basemap, ids
from ioc.web.layer_blobs import BLOBS, LAYER_URL_PREFIX
from ioc.web.open311 import register_open311
from ioc.web.snapshot import EXTENSION, LiveSnapshot

HERE = Path(__file__).resolve().parent


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
    )
    snapshot = live_snapshot or LiveSnapshot(settings)
    if start:
        snapshot.start()
    server.extensions[EXTENSION] = {"settings": settings, "pool": pool, "live": snapshot}
    auth.install(server, settings, pool)
    basemap.register(server)  # the offline vector base map, per zoom band
    register_open311(server, settings)  # GeoReport v2 for other city systems (its own key-based auth)

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
        """Liveness plus the refresher's counters (queries per tick stay constant whatever the viewers)."""
        snap = snapshot.current
        return flask.jsonify(
            status="ok" if snap.error is None else "stale",
            snapshot_version=snap.version,
            refreshed_at=snap.refreshed_at.isoformat(),
            ticks=snapshot.ticks_total,
            queries=snapshot.queries_total,
        )

    app.layout = html.Div([dcc.Location(id=ids.URL), dash.page_container])
    # Claim the page callbacks now: Dash collects @callback registrations globally, and a second
    # app built in the same process (tests) must not take this one's.
    with server.app_context():
        app._setup_server()
    return app
