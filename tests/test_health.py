"""Health that tells the truth: /healthz and `ioc status` judge every component and source; the wall,
map and tablet show the age of the data they draw; a database outage is a 503, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ioc import health
from ioc.services.proc import wait_until
from ioc.settings import Settings
from ioc.sources import SourceKind


def test_components_and_sources_are_judged():
    ok = health.judge("stream-air", "process", "running", 0, None, {}, 1.0, 30)
    failed = health.judge("stream-air", "process", "failed", 5, "killed by SIGKILL", {}, 1.0, 30)
    silent = health.judge("consumer:air", "consumer", "running", 0, None, {}, 45.0, 30)
    retrying = health.judge("engine:alerts", "engine", "running", 0, None, {"problem": "1 update refused"}, 1.0, 30)
    stopped = health.judge("simulator", "process", "stopped", 0, None, {}, 900.0, 30)
    restarting = health.judge("web", "process", "restarting", 1, "exit 1", {}, 1.0, 30)
    assert (ok.status, failed.status, silent.status, retrying.status) == ("ok", "down", "down", "degraded")
    assert (stopped.status, restarting.status) == ("ok", "degraded")  # stopped on purpose is no fault
    assert "killed by SIGKILL" in failed.why and "45" in silent.why
    s = Settings(freshness_overrides={"camera": (60, 120)})
    assert health.thresholds("camera", s) == (60.0, 120.0)
    assert health.thresholds("traffic", s) == (180.0, 600.0)  # its declaration (ioc/sources/traffic.py)
    assert [health.feed_of(a, 60, 120) for a in (None, 10, 90, 200)] == ["never", "live", "late", "silent"]
    late = health.FeedHealth("camera", "late", None, 90, 60, 120)
    assert health.overall([ok], [late]) == "degraded" and health.overall([ok, failed], []) == "down"
    assert health.overall([ok], []) == "ok"


@pytest.mark.integration
def test_sources_stopped_are_visible_on_healthz_the_wall_and_in_the_camera_count(stack):
    """Issue 10: with every source stopped the wall still said 'Cập nhật' just now and 73/73 cameras online."""
    from ioc.web import components
    from ioc.web.app import create_app
    from ioc.web.snapshot import LiveSnapshot
    from tests.streamutil import ingested, produce_events, valid_events

    s = stack.settings
    stopped_at = datetime.now(UTC) - timedelta(minutes=12)  # every source silent for 12 minutes
    events = valid_events(800, seed=61, start=stopped_at - timedelta(seconds=80))
    produce_events(s.kafka_bootstrap or "", s.topic_prefix, events)
    stack.start_consumers()
    wait_until(lambda: ingested(s.database_dsn()) >= len(events), 90, "events stored")
    owner = LiveSnapshot(s)
    with psycopg.connect(s.database_dsn(), autocommit=True) as conn:
        snap = owner.refresh_once(conn)
    feeds = {f.kind: f.feed for f in snap.feeds}
    k = components.kpis(snap, snap.live)
    strip = json.dumps(components.feed_strip(snap, "vi").to_plotly_json(), default=str, ensure_ascii=False)
    app = create_app(s, live_snapshot=owner, start=False)
    from ioc.web.pages.wall import panel_thresholds, panel_time  # pages register once an app exists

    try:
        resp = app.server.test_client().get("/healthz")
        body = resp.get_json()
    finally:
        app.server.extensions["ioc"]["pool"].close()
    old = ("camera", "traffic", "air", "feedback")
    assert {k: feeds[k] for k in old} == {"camera": "silent", "traffic": "silent", "air": "live", "feedback": "live"}
    assert all(f == "never" for k, f in feeds.items() if k not in old)  # declared sources with no data yet
    assert k.cameras_total > 0 and k.cameras_online == 0, "online comes from each camera's own heartbeat"
    assert "mất tín hiệu" in strip and "Camera" in strip
    at = panel_time(snap, "traffic")
    assert at is not None and at < snap.refreshed_at - timedelta(minutes=11)  # the data's age, not the refresh
    assert panel_thresholds(snap, "traffic", 86_400) == (180.0, 600.0)
    assert resp.status_code == 200 and body["status"] == "degraded"
    assert {k: v["feed"] for k, v in body["sources"].items()} == feeds
    assert body["components"]["postgres"]["status"] == "ok"
    assert set(body["components"]) >= {f"consumer:{k.value}" for k in SourceKind}
    print(f"\nsources stopped 12 min: feeds {feeds}; cameras online {k.cameras_online}/{k.cameras_total};"
          f" /healthz {resp.status_code} {body['status']}")


@pytest.mark.integration
def test_database_outage_is_503_with_retry_after_and_the_snapshot_keeps_its_data_marked_stale(stack, services):
    from ioc.web.app import create_app
    from ioc.web.snapshot import LiveSnapshot

    pg = services.postgres
    assert pg is not None
    owner = LiveSnapshot(stack.settings)
    app = create_app(stack.settings, live_snapshot=owner, start=True)
    client = app.server.test_client()
    try:
        wait_until(lambda: owner.current.error is None and owner.current.version > 0, 30, "a first snapshot")
        before = owner.current
        assert client.get("/healthz").status_code == 200
        pg.stop(mode="immediate")
        try:
            down = client.get("/healthz")
            api = client.get("/open311/v2/requests.json")
            wait_until(lambda: owner.current.error is not None, 30, "the snapshot marked stale")
            stale = owner.current
        finally:
            pg.start()
        wait_until(lambda: client.get("/healthz").status_code == 200, 60, "healthy again")
    finally:
        owner.stop()
        app.server.extensions["ioc"]["pool"].close()
    assert down.status_code == 503 and down.get_json()["status"] == "down"
    assert down.get_json()["components"]["postgres"]["status"] == "down"
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert "Mất kết nối cơ sở dữ liệu" in api.get_json()[0]["description"] or "Database" in api.get_json()[0][
        "description"]
    assert stale.live is before.live or stale.live.asof == before.live.asof  # the last data, kept
    print(f"\ndatabase outage: /healthz {down.status_code}, Open311 {api.status_code} Retry-After"
          f" {api.headers['Retry-After']}; snapshot kept version {before.version}'s data marked {stale.error}")


@pytest.mark.integration
def test_ioc_status_prints_the_report_in_vietnamese_and_english(stack, monkeypatch):
    from typer.testing import CliRunner

    from ioc import health as h
    from ioc.cli import app

    with psycopg.connect(stack.settings.database_dsn(), autocommit=True) as conn:
        h.beat(conn, "stream-air", "process", state="failed", restarts=5, last_exit="killed by SIGKILL")
    monkeypatch.setenv("IOC_DATABASE_URL", stack.settings.database_dsn())
    monkeypatch.setenv("IOC_KAFKA_BOOTSTRAP", stack.settings.kafka_bootstrap or "")
    runner = CliRunner()
    vi = runner.invoke(app, ["status"])
    en = runner.invoke(app, ["status", "--lang", "en"])
    one = runner.invoke(app, ["status", "--component", "stream-air"])
    js = runner.invoke(app, ["status", "--json"])
    assert vi.exit_code == 1 and "Tình trạng hệ thống: ngừng hoạt động" in vi.output and "+07:00" in vi.output
    assert en.exit_code == 1 and "System health: down" in en.output and "killed by SIGKILL" in en.output
    assert one.exit_code == 1 and "stream-air: down" in one.output
    assert json.loads(js.output)["components"]["stream-air"]["restarts"] == 5
