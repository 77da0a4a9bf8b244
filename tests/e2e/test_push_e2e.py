"""Push, not poll, in headless Chromium: with the stream up the map makes no interval polls and a
change still arrives; when the stream is killed the page says so, polls, and reconnects."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import flask
import pytest

from ioc.web import ids, push
from ioc.web.app import create_app
from tests.e2e.conftest import Dashboard, log_in, watch
from tests.webdata import insert_alert

DISABLED = """() => {
  const st = window.store && window.store.getState();
  const path = st && st.paths.strs['%s'];
  if (!path) return null;
  let node = st.layout; for (const k of path) node = node[k];
  return Boolean(node.props.disabled);
}"""


@pytest.fixture(scope="module")
def push_server(dashboard: Dashboard) -> Iterator[tuple[str, Any, list[float]]]:
    """A second server on the e2e city whose Flask app the test can reach (to kill the streams)."""
    from waitress import create_server

    settings = dashboard.stack.settings.model_copy(update={"refresh_seconds": 1.0})
    app = create_app(settings)
    app.server.config[push.CONFIG_MAX_STREAMS] = 4
    ticks: list[float] = []

    @app.server.before_request
    def count_ticks() -> None:  # the map's live callback, as the server receives it
        body = (
            flask.request.get_json(silent=True) if flask.request.path == "/_dash-update-component" else None
        )
        if isinstance(body, dict) and f"{ids.MAP_TICK}.n_intervals" in (body.get("changedPropIds") or []):
            ticks.append(time.monotonic())

    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", app.server, ticks  # type: ignore[union-attr]
    finally:
        push.stop_streams(app.server)
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(5)
        app.server.extensions["ioc"]["live"].stop()
        app.server.extensions["ioc"]["pool"].close()


def test_push_replaces_polling_and_falls_back_when_the_stream_dies(
    push_server: tuple[str, Any, list[float]], dashboard: Dashboard, browser: Any
) -> None:
    base, flask_app, ticks = push_server
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    w = watch(page, base)
    log_in(page, base, "/")
    page.wait_for_function(
        "() => window.iocPush && window.iocPush.up && window.iocPush.events >= 2", timeout=30_000
    )
    page.wait_for_function(f"() => ({DISABLED % ids.MAP_TICK})() === true")

    # With the stream up: one live callback per pushed snapshot, no interval polls beside them.
    e0, n0 = page.evaluate("window.iocPush.events"), len(ticks)
    page.wait_for_timeout(5000)
    e1, n1 = page.evaluate("window.iocPush.events"), len(ticks)
    assert e1 - e0 >= 3  # the refresher ticks every second: a push each time
    assert n1 - n0 <= e1 - e0 + 1, f"{n1 - n0} tick callbacks for {e1 - e0} pushed snapshots"

    # A change arrives through the push: a new alert shows in the map's feed.
    insert_alert(
        dashboard.stack.settings.database_dsn(), "push-e2e", "severe", "new",
        "Ngập sâu phố Tô Hiệu (thử đẩy)", "Deep flooding (push test)", 106.68, 20.85,
    )  # fmt: skip
    page.locator(f"#{ids.MAP_FEED}", has_text="Ngập sâu phố Tô Hiệu").wait_for(timeout=15_000)

    # Kill the streams: the page says it lost the live channel, polls, and reconnects by itself.
    push.stop_streams(flask_app)
    notice = page.locator("#ioc-push-status")
    notice.wait_for(state="visible", timeout=10_000)
    assert "Mất kết nối" in notice.inner_text() and "đang kết nối lại" in notice.inner_text()
    page.wait_for_function(f"() => ({DISABLED % ids.MAP_TICK})() === false", timeout=5_000)
    e2, n2 = page.evaluate("window.iocPush.events"), len(ticks)
    page.wait_for_timeout(4000)
    e3, n3 = page.evaluate("window.iocPush.events"), len(ticks)
    assert e3 == e2 and n3 - n2 >= 2, f"polling fallback: {n3 - n2} polls in 4 s"

    push.resume_streams(flask_app)
    page.wait_for_function("() => window.iocPush.up && window.iocPush.opened >= 2", timeout=20_000)
    notice.wait_for(state="hidden", timeout=5_000)
    page.wait_for_function(f"() => ({DISABLED % ids.MAP_TICK})() === true", timeout=5_000)
    assert not [e for e in w.errors if "ioc_push" in e], w.errors
    assert not w.external
    page.close()
