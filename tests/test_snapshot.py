"""The live snapshot on a real database: what it reads, and that viewers never cause queries."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from geodata.sites import load_sites
from ioc import accounts
from ioc.launcher import Stack
from ioc.sources import SourceKind
from ioc.web.app import create_app
from ioc.web.parts import queries_on_tick
from ioc.web.snapshot import HISTORY_QUERIES, LIVE_QUERIES, LiveSnapshot
from layers.registry import LAYER_IDS
from tests.webclient import PASSWORD, login, map_refresh
from tests.webdata import city_events, insert_alert, store

pytestmark = pytest.mark.integration


def test_snapshot_reads_the_stored_city(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    now = datetime.now(UTC)
    events = city_events(now=now - timedelta(minutes=2), hours=3, reports=40)
    inserted = store(dsn, events)
    snap_owner = LiveSnapshot(stack.settings, clock=lambda: now)
    with psycopg.connect(dsn, autocommit=True) as conn:
        snap = snap_owner.refresh_once(conn)
    live = snap.live
    n_cams = len(load_sites(SourceKind.CAMERA))
    status = Counter(c.status for c in live.cameras)
    # city_events: camera n is offline when n % 10 == 3, has a flooding detection when n % 10 == 5.
    assert status["offline"] == sum(1 for n in range(n_cams) if n % 10 == 3)
    assert status["incident"] == sum(1 for n in range(n_cams) if n % 10 == 5)
    assert status["online"] + status["offline"] + status["incident"] == n_cams
    assert len(live.traffic) == len(load_sites(SourceKind.TRAFFIC))
    assert sorted({round(t.ratio, 2) for t in live.traffic}) == [0.15, 0.4, 0.65, 0.95]
    assert len(live.air) == len(load_sites(SourceKind.AIR)) and all(a.aqi is not None for a in live.air)
    assert len(live.reports) == 40 and all(r.admin_unit for r in live.reports)
    assert sum(s.accepted for s in snap.ingest) == inserted
    minute = now.replace(second=0, microsecond=0)
    in_window = sum(
        1
        for e in events
        if e.kind is SourceKind.CAMERA and minute - timedelta(minutes=5) <= e.event_time < minute
    )
    assert in_window > 0 and snap.rate("camera") == pytest.approx(in_window / 5)
    assert snap.history[1].cameras and len(snap.history) == 24
    assert live.alerts == ()


def test_snapshot_reads_open_alerts(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    a1 = insert_alert(dsn, "k1", "severe", "new", "Ùn tắc cầu Bính", "Jam on Bính bridge", 106.66, 20.87)
    a2 = insert_alert(dsn, "k2", "minor", "acknowledged", "Camera mất kết nối", "Camera offline")
    insert_alert(dsn, "k3", "minor", "resolved", "Đã xử lý", "Resolved")
    with psycopg.connect(dsn, autocommit=True) as conn:
        snap = LiveSnapshot(stack.settings).refresh_once(conn)
    assert {(a.alert_id, a.acknowledged) for a in snap.live.alerts} == {(a1, False), (a2, True)}


def test_viewers_cause_no_queries_and_ticks_run_a_constant_number(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    store(dsn, city_events(hours=1, reports=10))
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", PASSWORD, "leader")
    owner = LiveSnapshot(stack.settings, history_every=1)
    app = create_app(stack.settings, live_snapshot=owner, start=False)
    per_tick = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for viewers in (1, 8, 24):
                before = owner.queries_total
                owner.refresh_once(conn)
                per_tick.append(owner.queries_total - before)
                clients = [app.server.test_client() for _ in range(viewers)]
                bodies = set()
                for c in clients:
                    login(c, "lan")
                    r = map_refresh(c, app, layer_ids=LAYER_IDS)
                    assert r.status_code == 200
                    bodies.add(json.dumps(r.get_json()["response"]["map-kpi"], sort_keys=True))
                assert len(bodies) == 1  # every viewer got the same picture
                assert owner.queries_total - before == per_tick[-1]  # … and no viewer ran a query
    finally:
        app.server.extensions["ioc"]["pool"].close()
    # history_every=1: every tick also reads history; the desks' parts add a fixed number per tick
    assert per_tick == [LIVE_QUERIES + HISTORY_QUERIES + queries_on_tick(t) for t in range(3)]


def test_unchanged_layers_are_not_resent(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    store(dsn, city_events(hours=1, reports=5))
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", PASSWORD, "leader")
    owner = LiveSnapshot(stack.settings)
    app = create_app(stack.settings, live_snapshot=owner, start=False)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            owner.refresh_once(conn)
            client = app.server.test_client()
            login(client, "lan")
            first = map_refresh(client, app, layer_ids=LAYER_IDS).get_json()["response"]
            seen = first["map-seen"]["data"]
            assert map_refresh(client, app, seen=seen, layer_ids=LAYER_IDS).status_code == 204  # nothing new
            owner.refresh_once(conn)  # same data, new snapshot version
            second = map_refresh(client, app, seen=seen, layer_ids=LAYER_IDS).get_json()["response"]
    finally:
        app.server.extensions["ioc"]["pool"].close()
    first_layers = [k for k in first if k.startswith("{")]
    assert len(first_layers) == len(LAYER_IDS)
    assert not [k for k in second if k.startswith("{")]  # identical layers: no features resent


def test_refresher_wakes_on_ingest_notify(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    slow = stack.settings.model_copy(update={"refresh_seconds": 60.0})  # only NOTIFY can wake it in time
    owner = LiveSnapshot(slow, min_interval=0.1).start()
    try:
        first = owner.wait_for(0, timeout=20)
        assert first.version >= 1 and not first.live.reports
        store(dsn, city_events(now=datetime.now(UTC) - timedelta(minutes=1), hours=0.2, reports=3))
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        snap = first
        while not snap.live.reports and datetime.now(UTC) < deadline:
            snap = owner.wait_for(snap.version, timeout=5)
        assert len(snap.live.reports) == 3
        assert (snap.refreshed_at - first.refreshed_at).total_seconds() < 30
    finally:
        owner.stop()
