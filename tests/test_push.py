"""The push channel (``GET /live/stream``, ioc/web/push.py) on the real app and a real PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

import psycopg

from ioc import accounts
from ioc.launcher import Stack
from ioc.web import push
from ioc.web.app import create_app
from ioc.web.snapshot import LiveSnapshot
from tests.webclient import login
from tests.webdata import city_events, store


def _events(chunks) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    out = []
    text = "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)
    for block in text.split("\n\n"):
        lines = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
        )
        if "event" in lines:
            out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_stream_needs_a_login_and_pushes_each_new_snapshot(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    store(dsn, city_events(hours=1, reports=5))
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", "mật-khẩu-thử-123", "leader")
    owner = LiveSnapshot(stack.settings)
    app = create_app(stack.settings, live_snapshot=owner, start=False)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            owner.refresh_once(conn)
            anonymous = app.server.test_client()
            assert anonymous.get(push.STREAM_ROUTE).status_code == 401  # through ioc.access: default deny
            client = app.server.test_client()
            login(client, "lan")
            r = client.get(push.STREAM_ROUTE, buffered=False)
            assert r.status_code == 200 and r.mimetype == "text/event-stream"
            body = iter(r.response)
            head = [next(body), next(body)]
            ((kind, hello),) = _events(head)
            assert kind == "hello" and hello["ticks"] == list(push.PUSH_TICKS)
            assert hello["version"] == owner.current.version and hello["layers"]  # every layer's digest once

            # A new batch and a new snapshot: the stream carries its version and only the changed layers.
            store(dsn, city_events(hours=0, reports=3, seed=99))
            threading.Timer(0.2, owner.refresh_once, args=(conn,)).start()
            started = time.monotonic()
            ((kind, ev),) = _events([next(body)])
            assert kind == "snapshot" and ev["version"] == hello["version"] + 1
            assert time.monotonic() - started < 2.0
            assert set(ev["layers"]) < set(hello["layers"]) or ev["layers"] != hello["layers"]
            r.close()
    finally:
        app.server.extensions["ioc"]["pool"].close()


def test_streams_are_limited_stopped_and_released(stack: Stack) -> None:
    dsn = stack.settings.database_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        accounts.add_user(conn, "lan", "mật-khẩu-thử-123", "leader")
    owner = LiveSnapshot(stack.settings)
    app = create_app(stack.settings, live_snapshot=owner, start=False)
    app.server.config[push.CONFIG_MAX_STREAMS] = 1
    try:
        client = app.server.test_client()
        login(client, "lan")
        first = client.get(push.STREAM_ROUTE, buffered=False)
        assert first.status_code == 200
        full = client.get(push.STREAM_ROUTE)
        assert full.status_code == 503 and full.headers["Retry-After"]  # the page polls instead
        first.close()  # closing releases the slot, even before the first event was read
        again = client.get(push.STREAM_ROUTE, buffered=False)
        assert again.status_code == 200
        body = iter(again.response)
        next(body), next(body)
        push.stop_streams(app.server)
        rest = list(body)  # ends within a second, with no "bye" (the page must fall back, not renew)
        assert not [k for k, _ in _events(rest) if k == "bye"]
        again.close()
        assert client.get(push.STREAM_ROUTE).status_code == 503
        push.resume_streams(app.server)
        assert app.server.extensions[push.EXTENSION].open == 0
    finally:
        app.server.extensions["ioc"]["pool"].close()


def test_a_stream_renews_itself_with_a_bye(stack: Stack) -> None:
    owner = LiveSnapshot(stack.settings)  # never refreshed: no new snapshot while the stream is open
    chunks = list(push.events(owner, None, "vi", keepalive=0.2, max_seconds=1.0))
    kinds = [k for k, _ in _events(chunks)]
    assert kinds[0] == "hello" and kinds[-1] == "bye" and "snapshot" not in kinds
    assert any(c.startswith(": keep-alive") for c in chunks)
