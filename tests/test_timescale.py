"""The TimescaleDB path on a real TimescaleDB: 2.23 in pglite (WASM) under Node, on the wire protocol.

``tests/timescale/serve.mjs`` serves an in-memory TimescaleDB to one client connection at a time, so
every test opens one connection and closes it. That server has no background workers (policies run
through ``CALL run_job``) and COPY crashes it, so rows go in through the sink's ``mode="insert"``.
All tests share one server (started once: 7-20 s on this 2-core machine, depending on load); each
uses its own source ids, so they do not depend on one another's rows or order.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import selectors
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

import psycopg
import pytest
from psycopg import sql

from geodata.registry import sync_sources
from geodata.sites import load_sites
from ioc.db import Flavour, available_migrations, current_flavour, migrate
from ioc.events import Event
from ioc.health import beat
from ioc.services.proc import die_with_parent, free_port
from ioc.sources import SOURCES, SourceKind
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent, Detection, DetectionType, VehicleCounts
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from ioc.sources.traffic import TrafficEvent
from ioc.web import queries
from streams.decode import Reason, Rejected
from streams.sink import DeadLetter, TimescaleSink, stored_offsets
from streams.tables import SPECS

pytestmark = pytest.mark.timescale

SERVER_DIR = Path(__file__).resolve().parent / "timescale"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
START_TIMEOUT = 90.0  # seconds; the WASM start measured 7-20 s on a busy 2-core machine
# The city's four feeds, written by make_event; the early-warning sources have their own test below.
CITY = (SourceKind.CAMERA, SourceKind.TRAFFIC, SourceKind.AIR, SourceKind.FEEDBACK)
ROLLUPS = {k: f"{k.value}_1m" for k in CITY}
TABLES = {k: SPECS[k].table for k in CITY}


# -- the server -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimescaleServer:
    dsn: str
    start_seconds: float


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"node is installed but npm is not; cannot install {SERVER_DIR / 'package.json'}")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=SERVER_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"npm ci in {SERVER_DIR} failed ({done.returncode}): {done.stderr[-2000:]}")


def _wait_ready(proc: subprocess.Popen[str], log: Path, timeout: float) -> str:
    """Wait for the server's "ready <dsn> <ms>" line; return the DSN. Fail with its stderr otherwise."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sel.select(timeout=0.2):
            line = proc.stdout.readline()
            if line.startswith("ready "):
                return line.split()[1]
            if line == "" and proc.poll() is not None:
                break
    proc.kill()
    proc.wait()
    pytest.fail(
        f"TimescaleDB server did not become ready within {timeout:.0f} s "
        f"(exit code {proc.returncode}); stderr: {log.read_text(errors='replace')[-2000:]}"
    )


@pytest.fixture(scope="session")
def timescale() -> Iterator[TimescaleServer]:
    """TimescaleDB under Node, started once per session; skipped only where ``node`` is missing."""
    node = shutil.which("node")
    if node is None:
        reason = "node is not installed: the TimescaleDB tier runs TimescaleDB (pglite) under Node"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    if not (SERVER_DIR / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        _npm_ci()
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="ioc-timescale-", suffix=".log")[1])
    started = time.monotonic()
    with log.open("w") as err:
        # stdin stays open as a lifeline: the server exits when it closes (our exit, even SIGKILL),
        # and die_with_parent covers the same from the kernel's side.
        proc = subprocess.Popen(
            [node, "serve.mjs", str(port)],
            cwd=SERVER_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            preexec_fn=die_with_parent,
        )
    try:
        server = TimescaleServer(_wait_ready(proc, log, START_TIMEOUT), time.monotonic() - started)
        print(f"\nTimescaleDB (pglite) server ready in {server.start_seconds:.1f} s on port {port}")
        yield server
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.unlink(missing_ok=True)


def connect(server: TimescaleServer, timeout: float = 20.0) -> psycopg.Connection:
    """The single connection the server allows; autocommit because refresh/run_job refuse transactions.

    The server turns a new client away while it is still releasing the previous one (a few ms after
    that client closed), so a refused attempt is retried until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return psycopg.connect(server.dsn, autocommit=True, connect_timeout=int(timeout))
        except psycopg.OperationalError as exc:
            if "closed the connection unexpectedly" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def migrated(timescale: TimescaleServer) -> list[str]:
    """The schema, applied once; returns the migrations that first run applied."""
    with connect(timescale) as conn:
        return migrate(conn)


# -- events -----------------------------------------------------------------------------------
def make_event(kind: SourceKind, source_id: str, at: datetime, i: int) -> Event:
    """A valid event whose numbers are exact in float32, so averages can be compared closely."""
    common: dict[str, Any] = {"event_id": uuid.uuid4(), "source_id": source_id, "event_time": at}
    if kind is SourceKind.CAMERA:
        dets = (Detection(type=DetectionType.CROWD, confidence=0.25 + (i % 3) * 0.25),) if i % 2 else ()
        return CameraEvent(
            **common, online=i % 5 != 4, counts=VehicleCounts(motorbike=10 + i, car=i % 4), detections=dets
        )
    if kind is SourceKind.TRAFFIC:
        return TrafficEvent(
            **common,
            speed_kmh=20 + (i % 7) * 2.5,
            volume_vph=600 + i * 10,
            occupancy_pct=10 + (i % 5),
            free_flow_kmh=50,
        )
    if kind is SourceKind.AIR:
        return AirEvent(
            **common,
            pm25=30 + (i % 9) * 1.5,
            pm10=55 + i % 4,
            no2=20,
            so2=4 + (i % 2),
            o3=41.5,
            co=900 + i,
            temperature_c=27.5,
            humidity_pct=80,
        )
    return FeedbackEvent(
        **common,
        ticket_id=f"HP-{source_id}-{i}",
        action=FeedbackAction.CREATED if i % 3 else FeedbackAction.UPDATED,
        category="ngap_ung",
        text=f"Phố Cầu Đất ngập sâu sau mưa lớn ({i})",
        lon=106.6833,
        lat=20.8561,
        photo_urls=(f"https://example.invalid/p/{i}.jpg",),
        channel="app",
        reporter_name="Trần Thị Bình",
        reporter_phone="0912 345 678",
    )


def spread(kind: SourceKind, source_id: str, start: datetime, n: int, step: timedelta) -> list[Event]:
    return [make_event(kind, source_id, start + i * step, i) for i in range(n)]


def store(
    conn: psycopg.Connection,
    kind: SourceKind,
    events: Sequence[Event],
    *,
    group: str = "tstest",
    admin_unit: str | None = None,
) -> int:
    """Write events through the product's sink in insert mode; return the number inserted."""
    sink = TimescaleSink(conn, group, kind, mode="insert")
    for off, e in enumerate(events):
        sink.add(
            e,
            topic=f"tstest.{kind.value}",
            partition=off % 2,
            offset=off,
            late=False,
            admin_unit=admin_unit,
        )
    return sink.flush().inserted


def stats(conn: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """(accepted, rejected) per source kind from the live counters."""
    rows = conn.execute("SELECT kind, accepted, rejected FROM ingest_stats").fetchall()
    return {k: (int(a), int(r)) for k, a, r in rows}


def minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


# -- expected 1-minute rollups, computed independently in Python ------------------------------
def expected_rollup(kind: SourceKind, events: Sequence[Event]) -> dict[datetime, dict[str, Any]]:
    """The rollup row per bucket that the ``<kind>_1m`` definition must produce for ``events``."""
    by: dict[datetime, list[Any]] = defaultdict(list)
    for e in events:
        by[minute(e.event_time)].append(e)

    def avg(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    out: dict[datetime, dict[str, Any]] = {}
    for b, es in by.items():
        row: dict[str, Any] = {"n": len(es)}
        if kind is SourceKind.CAMERA:
            row |= {
                "all_online": all(e.online for e in es),
                "vehicles": sum(sum(e.counts.model_dump().values()) for e in es if e.counts),
                "max_confidence": max((d.confidence for e in es for d in e.detections), default=None),
            }
        elif kind is SourceKind.TRAFFIC:
            row |= {
                c: avg([getattr(e, c) for e in es])
                for c in ("speed_kmh", "volume_vph", "occupancy_pct", "free_flow_kmh")
            }
        elif kind is SourceKind.AIR:
            row |= {c: avg([getattr(e, c) for e in es]) for c in ("pm25", "pm10", "no2", "so2", "o3", "co")}
        else:
            row |= {"created": sum(e.action is FeedbackAction.CREATED for e in es)}
        out[b] = row
    return out


def read_rollup(
    conn: psycopg.Connection, relation: sql.Composable, source_id: str, columns: Sequence[str]
) -> dict[datetime, dict[str, Any]]:
    query = sql.SQL("SELECT bucket, {} FROM {} WHERE source_id = %s ORDER BY bucket").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), relation
    )
    with conn.cursor() as cur:
        cur.execute(query, (source_id,))
        return {r[0]: dict(zip(columns, r[1:], strict=True)) for r in cur.fetchall()}


def approx_rows(rows: dict[datetime, dict[str, Any]]) -> dict[datetime, dict[str, Any]]:
    return {
        b: {k: pytest.approx(v, rel=1e-6) if isinstance(v, float) else v for k, v in r.items()}
        for b, r in rows.items()
    }


def materialization(conn: psycopg.Connection, view: str) -> sql.Composable:
    """The hypertable a continuous aggregate materialises into (what a refresh writes)."""
    row = conn.execute(
        "SELECT materialization_hypertable_schema, materialization_hypertable_name"
        " FROM timescaledb_information.continuous_aggregates WHERE view_name = %s",
        (view,),
    ).fetchone()
    assert row is not None, f"no continuous aggregate {view}"
    return sql.Identifier(row[0], row[1])


def refresh(conn: psycopg.Connection, view: str, start: datetime, end: datetime) -> None:
    conn.execute(
        "CALL refresh_continuous_aggregate(%s, %s::timestamptz, %s::timestamptz)", (view, start, end)
    )


# -- tests ------------------------------------------------------------------------------------
def test_migrate_builds_the_timescale_schema(timescale: TimescaleServer, migrated: list[str]) -> None:
    wanted = [
        f"{m.version:03d}_{m.name}" for m in available_migrations() if m.flavour in (None, Flavour.TIMESCALE)
    ]
    # Then each declared source's table and rollup, generated from its declaration (ioc.sources.ddl).
    parts = [f"source {k}:{p}" for k, s in SOURCES.items() for p in ("table", "rollup") if p == "table" or s.rollup]
    assert migrated == wanted + parts
    assert "source camera:rollup" in migrated
    with connect(timescale) as conn:
        assert current_flavour(conn) is Flavour.TIMESCALE
        recorded = conn.execute("SELECT version, flavour FROM schema_migrations ORDER BY version").fetchall()
        assert recorded == [(int(n[:3]), "timescale") for n in wanted]
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()

        hyper = dict(
            conn.execute(
                "SELECT h.hypertable_name, d.column_name FROM timescaledb_information.hypertables h"
                " JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)"
            ).fetchall()
        )
        assert hyper == {s.table: "event_time" for s in SOURCES.values()}  # every declared source

        caggs = dict(
            conn.execute(
                "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
            ).fetchall()
        )
        rollups = {s.rollup.name for s in SOURCES.values() if s.rollup}
        assert caggs == {v: False for v in rollups}  # every declared rollup, with real-time aggregation

        jobs = conn.execute(
            "SELECT proc_name, coalesce(hypertable_name, ''), config FROM timescaledb_information.jobs"
            " WHERE proc_name LIKE 'policy_%%' AND proc_name <> 'policy_job_stat_history_retention'"
        ).fetchall()
        by_proc: dict[str, dict[str, Any]] = defaultdict(dict)
        for proc, target, config in jobs:
            by_proc[proc][target] = config
        assert set(by_proc["policy_refresh_continuous_aggregate"]) == rollups
        compressed = {s.table: s.storage.compress_after for s in SOURCES.values() if s.storage.compress_after}
        assert {t: c["compress_after"] for t, c in by_proc["policy_compression"].items()} == compressed
        assert {k: compressed[k] for k in ("camera_events", "traffic_events", "air_events")} == {
            "camera_events": "7 days", "traffic_events": "7 days", "air_events": "30 days"}
        # Citizen reports and budget revenue are records: no retention on feedback_events, budget_events.
        retained = {s.table: s.storage.retain for s in SOURCES.values() if s.storage.retain}
        assert {t: c["drop_after"] for t, c in by_proc["policy_retention"].items()} == retained
        assert "feedback_events" not in retained and "budget_events" not in retained
        assert {k: retained[k] for k in ("camera_events", "traffic_events", "air_events")} == {
            "camera_events": "90 days", "traffic_events": "90 days", "air_events": "365 days"}

        segment = conn.execute(
            "SELECT DISTINCT hypertable_name FROM timescaledb_information.compression_settings"
            " WHERE attname = 'source_id' AND segmentby_column_index = 1"
        ).fetchall()
        assert {r[0] for r in segment} == set(compressed)

        assert migrate(conn) == []  # a second start applies nothing
        # Statements run in autocommit, so a crash can leave a source's schema half applied and
        # unrecorded: applying it again over itself must succeed (idempotent on real TimescaleDB).
        jobs_sql = "SELECT count(*) FROM timescaledb_information.jobs"
        jobs_before = conn.execute(jobs_sql).fetchone()
        conn.execute("DELETE FROM source_kinds")
        assert migrate(conn) == parts
        assert conn.execute(jobs_sql).fetchone() == jobs_before  # no policy added twice
        # A changed rollup declaration rebuilds the continuous aggregate (drop, create, policy again).
        conn.execute("UPDATE source_kinds SET rollup_fp = 'changed' WHERE kind = 'air'")
        assert migrate(conn) == ["source air:rollup"]
        assert conn.execute(jobs_sql).fetchone() == jobs_before
        assert conn.execute(
            "SELECT materialized_only FROM timescaledb_information.continuous_aggregates WHERE view_name = 'air_1m'"
        ).fetchone() == (False,)


def test_sink_insert_mode_stores_every_kind_once(timescale: TimescaleServer, migrated: list[str]) -> None:
    start = datetime.now(UTC) - timedelta(minutes=20)
    sizes = {SourceKind.CAMERA: 120, SourceKind.TRAFFIC: 1200, SourceKind.AIR: 90, SourceKind.FEEDBACK: 60}
    with connect(timescale) as conn:
        before = stats(conn)
        for kind, n in sizes.items():
            src = f"ts-sink-{kind.value}"
            events = spread(kind, src, start, n, timedelta(seconds=1))
            topic = f"tstest.sink.{kind.value}"
            bad = DeadLetter(
                topic,
                0,
                n,
                src.encode(),
                b'{"speed_kmh": "fast"}',
                Rejected(Reason.WRONG_TYPE, "speed_kmh='fast': not a number", "speed_kmh"),
            )
            for attempt in (1, 2):  # the second pass replays the same messages, as after a crash
                sink = TimescaleSink(conn, "tstest-sink", kind, mode="insert")
                for off, e in enumerate(events):
                    sink.add(
                        e, topic=topic, partition=off % 2, offset=off, late=off < 3, admin_unit="Lê Chân"
                    )
                sink.add_rejected(bad)
                res = sink.flush()
                if attempt == 1:
                    assert (res.inserted, res.duplicates, len(res.dead_lettered), res.late) == (n, 0, 1, 3)
                    assert res.newest == events[-1].event_time
                else:
                    assert (res.inserted, res.duplicates, res.dead_lettered, res.late) == (0, n, [], 0)
            table = sql.Identifier(TABLES[kind])
            count = conn.execute(
                sql.SQL(
                    "SELECT count(*), count(DISTINCT event_id), count(*) FILTER (WHERE late)"
                    " FROM {} WHERE source_id = %s"
                ).format(table),
                (src,),
            ).fetchone()
            assert count == (n, n, 3)
            assert conn.execute("SELECT count(*) FROM deadletter WHERE topic = %s", (topic,)).fetchone() == (
                1,
            )
            # Offsets: the next one to read per partition, stored in the same transaction as the rows.
            # n is even: events 0..n-1 alternate partitions 0/1, the dead letter is offset n on partition 0.
            assert stored_offsets(conn, "tstest-sink", topic) == {0: n + 1, 1: n}
        after = stats(conn)
        for kind, n in sizes.items():
            a0, r0 = before[kind.value]
            assert after[kind.value] == (a0 + n, r0 + 1), kind

        # One row read back whole: Vietnamese text, arrays and personal data (stored encrypted) survive.
        from ioc.crypto import default_keyring

        fb = conn.execute(
            "SELECT text, photo_urls, reporter_name, channel, admin_unit FROM feedback_events"
            " WHERE source_id = 'ts-sink-feedback' AND ticket_id = 'HP-ts-sink-feedback-7'"
        ).fetchone()
        assert fb is not None and fb[2].startswith("pd1:")
        fb = (*fb[:2], default_keyring().decrypt(fb[2], "feedback_events.reporter_name"), *fb[3:])
        assert fb == (
            "Phố Cầu Đất ngập sâu sau mưa lớn (7)",
            ["https://example.invalid/p/7.jpg"],
            "Trần Thị Bình",
            "app",
            "Lê Chân",
        )
        cam = conn.execute(
            "SELECT counts, vehicles, top_detection, top_confidence FROM camera_events"
            " WHERE source_id = 'ts-sink-camera' ORDER BY event_time LIMIT 2"
        ).fetchall()
        assert cam[0] == (
            {"motorbike": 10, "car": 0, "bus": 0, "truck": 0, "container": 0, "bicycle": 0},
            10,
            None,
            None,
        )
        assert cam[1][1:] == (12, "crowd", 0.5)


@pytest.mark.parametrize("kind", CITY, ids=lambda k: k.value)
def test_rollups_after_refresh_and_in_real_time(
    timescale: TimescaleServer, migrated: list[str], kind: SourceKind
) -> None:
    view = ROLLUPS[kind]
    src = f"ts-rollup-{kind.value}-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    old_start = minute(now - timedelta(hours=2)) + timedelta(seconds=3)
    old = spread(kind, src, old_start, 30, timedelta(seconds=7))  # 30 events over 4 minutes
    want = expected_rollup(kind, old)
    columns = list(next(iter(want.values())))
    with connect(timescale) as conn:
        assert store(conn, kind, old) == len(old)
        mat = materialization(conn, view)
        assert read_rollup(conn, mat, src, columns) == {}  # nothing materialised before a refresh

        refresh(conn, view, now - timedelta(hours=3), now - timedelta(hours=1))
        assert read_rollup(conn, mat, src, columns) == approx_rows(want)
        assert read_rollup(conn, sql.Identifier(view), src, columns) == approx_rows(want)

        # A late event in a materialised minute is invisible until the next refresh picks it up.
        late = make_event(kind, src, old_start + timedelta(seconds=20), 99)
        assert store(conn, kind, [late]) == 1
        assert read_rollup(conn, sql.Identifier(view), src, columns) == approx_rows(want)
        refresh(conn, view, now - timedelta(hours=3), now - timedelta(hours=1))
        want = expected_rollup(kind, [*old, late])
        assert read_rollup(conn, sql.Identifier(view), src, columns) == approx_rows(want)

        # Real-time aggregation: minutes after the watermark come from the raw table, unrefreshed.
        fresh_events = spread(
            kind, src, datetime.now(UTC) - timedelta(seconds=5), 6, timedelta(milliseconds=500)
        )
        assert store(conn, kind, fresh_events) == len(fresh_events)
        fresh = expected_rollup(kind, fresh_events)
        got = read_rollup(conn, sql.Identifier(view), src, columns)
        assert got == approx_rows(want | fresh)
        assert read_rollup(conn, mat, src, columns) == approx_rows(want)  # still not materialised


def _job(conn: psycopg.Connection, proc: str, target: str) -> int:
    row = conn.execute(
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s AND hypertable_name = %s",
        (proc, target),
    ).fetchone()
    assert row is not None, f"no {proc} job on {target}"
    return int(row[0])


def _chunks(conn: psycopg.Connection, table: str, at: datetime) -> list[tuple[str, bool]]:
    """(chunk name, is compressed) of the chunks of ``table`` holding time ``at``."""
    return conn.execute(
        "SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = %s"
        " AND range_start <= %s AND range_end > %s",
        (table, at, at),
    ).fetchall()


def test_policies_run_through_run_job(timescale: TimescaleServer, migrated: list[str]) -> None:
    now = datetime.now(UTC)
    ancient, week_old, recent = (
        now - timedelta(days=100),
        now - timedelta(days=10),
        minute(now - timedelta(minutes=20)),
    )
    src = f"ts-policy-{uuid.uuid4().hex[:6]}"
    kind, table = SourceKind.TRAFFIC, "traffic_events"
    with connect(timescale) as conn:
        events = [
            make_event(kind, src, ancient, 1),
            make_event(kind, src, week_old, 2),
            *spread(kind, src, recent, 12, timedelta(seconds=10)),
        ]
        # One transaction per age, as a transaction invalidates the rollup from its oldest to its newest row.
        assert (
            store(conn, kind, events[:1]) + store(conn, kind, events[1:2]) + store(conn, kind, events[2:])
            == 14
        )
        assert _chunks(conn, table, ancient) and _chunks(conn, table, week_old)[0][1] is False

        conn.execute("CALL run_job(%s)", (_job(conn, "policy_retention", table),))
        assert _chunks(conn, table, ancient) == []  # the chunk older than 90 days is dropped
        times = [
            r[0]
            for r in conn.execute(
                "SELECT event_time FROM traffic_events WHERE source_id = %s ORDER BY event_time", (src,)
            ).fetchall()
        ]
        assert times == [e.event_time for e in events[1:]]

        conn.execute("CALL run_job(%s)", (_job(conn, "policy_compression", table),))
        assert _chunks(conn, table, week_old)[0][1] is True  # older than 7 days: compressed
        assert _chunks(conn, table, recent)[0][1] is False
        speed = conn.execute(
            "SELECT speed_kmh FROM traffic_events WHERE source_id = %s AND event_time = %s", (src, week_old)
        ).fetchone()
        assert speed == (pytest.approx(events[1].speed_kmh),)  # still readable, same value

        # Bring every rollup up to 5 minutes before the recent rows, as the every-minute policy would have:
        # a refresh policy works one bucket per batch by default (buckets_per_batch = 1), so a never
        # refreshed day is 1 440 batches, ~12 s per rollup in WASM; the steady state is a few minutes.
        for view in ROLLUPS.values():
            refresh(conn, view, now - timedelta(days=1, hours=1), recent - timedelta(minutes=5))
        mat = materialization(conn, "traffic_1m")
        assert read_rollup(conn, mat, src, ["n"]) == {}
        conn.execute("CALL run_job(%s)", (_job(conn, "policy_refresh_continuous_aggregate", "traffic_1m"),))
        # The policy window is the last day: the recent minutes are materialised, the compressed one is not.
        assert read_rollup(conn, mat, src, ["n"]) == {
            b: {"n": r["n"]} for b, r in expected_rollup(kind, events[2:]).items()
        }

        # Every other policy job runs through run_job without error too.
        others = conn.execute(
            "SELECT job_id FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY job_id"
        ).fetchall()
        assert len(others) >= 10  # 4 refresh, 3 compression, 3 retention policies
        for (job_id,) in others:
            conn.execute("CALL run_job(%s)", (job_id,))


# -- the dashboard's query functions ----------------------------------------------------------
def query_functions() -> dict[str, Callable[..., Any]]:
    """Every public function of ``ioc.web.queries`` (its ``__all__`` when it declares one)."""
    names = getattr(queries, "__all__", None) or [
        n for n, f in vars(queries).items() if inspect.isfunction(f) and f.__module__ == queries.__name__
    ]
    return {
        n: getattr(queries, n)
        for n in names
        if not n.startswith("_") and inspect.isfunction(getattr(queries, n))
    }


def call_args(fn: Callable[..., Any], conn: psycopg.Connection, asof: datetime) -> dict[str, Any]:
    """Arguments for a query function: the connection and ``asof`` by type; defaults for the rest."""
    hints = get_type_hints(fn)
    out: dict[str, Any] = {}
    for name, p in inspect.signature(fn).parameters.items():
        if hints.get(name) is psycopg.Connection:
            out[name] = conn
        elif hints.get(name) is datetime:
            out[name] = asof
        elif p.default is inspect.Parameter.empty:
            pytest.fail(
                f"test_timescale cannot call queries.{fn.__name__}: no value for {name}: {hints.get(name)}"
            )
    return out


def type_errors(value: Any, hint: Any, where: str) -> list[str]:
    """Where ``value`` does not match ``hint`` (dataclasses field by field; bool is not an int here)."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return []
    if origin in (Union, UnionType):
        if any(not type_errors(value, a, where) for a in args):
            return []
        return [f"{where}={value!r} ({type(value).__name__}) is not {hint}"]
    if hint is type(None):
        return [] if value is None else [f"{where}={value!r} is not None"]
    if origin in (list, tuple, dict):
        if not isinstance(value, origin):
            return [f"{where} is {type(value).__name__}, not {origin.__name__}"]
        if origin is list and args:
            return [e for i, v in enumerate(value) for e in type_errors(v, args[0], f"{where}[{i}]")]
        if origin is dict and args:
            return [
                e
                for k, v in value.items()
                for e in type_errors(k, args[0], f"{where} key") + type_errors(v, args[1], f"{where}[{k!r}]")
            ]
        return []
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            return [f"{where} is {type(value).__name__}, not {hint.__name__}"]
        fields = get_type_hints(hint)
        return [
            e
            for f in dataclasses.fields(hint)
            for e in type_errors(getattr(value, f.name), fields[f.name], f"{where}.{f.name}")
        ]
    if hint is int and isinstance(value, bool):
        return [f"{where}={value!r} is bool, not int"]
    if isinstance(hint, type) and not isinstance(value, hint):
        return [f"{where}={value!r} is {type(value).__name__}, not {hint.__name__}"]
    return []


@dataclass(frozen=True)
class QueryData:
    """What the query tests loaded: events per kind for one registered site each, alerts, and ``asof``."""

    asof: datetime
    events: dict[SourceKind, list[Event]]
    sites: dict[SourceKind, str]
    open_alert: uuid.UUID
    resolved_alert: uuid.UUID


def _alert(conn: psycopg.Connection, state: str, at: datetime) -> uuid.UUID:
    aid = uuid.uuid4()
    conn.execute(
        "INSERT INTO alerts (alert_id, alert_key, rule_id, alert_class, severity, state, title_vi, title_en,"
        " source_id, lon, lat, value, agency_code, agency_vi, agency_en, created_at, updated_at, last_seen)"
        " VALUES (%s, %s, 'ts-test', 'traffic', 'severe', %s, 'Ùn tắc nghiêm trọng', 'Severe congestion',"
        " 'seg-caubinh-n', 106.68, 20.86, 8.5, 'CSGT', 'Cảnh sát giao thông', 'Traffic police', %s, %s, %s)",
        (aid, f"ts-test:{aid}", state, at, at, at),
    )
    return aid


@pytest.fixture(scope="session")
def query_data(timescale: TimescaleServer, migrated: list[str]) -> QueryData:
    """Three hours of every kind for one registered site each: materialised, plus a real-time minute."""
    now = datetime.now(UTC)
    start = minute(now - timedelta(hours=3)) + timedelta(seconds=7)
    sites = {k: load_sites(k)[0].source_id for k in CITY}
    events = {k: spread(k, sites[k], start, 180, timedelta(minutes=1)) for k in CITY}
    # Citizen reports: three events per ticket (created, then two updates), as the app sends them.
    events[SourceKind.FEEDBACK] = [
        e.model_copy(
            update={
                "ticket_id": f"HP-TS-{i // 3}",
                "action": FeedbackAction.CREATED if i % 3 == 0 else FeedbackAction.UPDATED,
            }
        )
        for i, e in enumerate(events[SourceKind.FEEDBACK])
    ]
    with connect(timescale) as conn:
        sync_sources(conn, [s for k in SourceKind for s in load_sites(k)])
        for k, es in events.items():
            assert store(conn, k, es, group="tstest-queries", admin_unit="Ngô Quyền") == len(es)
        # Materialise everything up to this minute (rows below an earlier test's watermark would
        # otherwise stay invisible until a refresh, as TimescaleDB intends), then add rows at or
        # after the new watermark, which the rollups serve in real time.
        for view in ROLLUPS.values():
            refresh(conn, view, now - timedelta(days=1), minute(now))
        fresh_start = max(datetime.now(UTC) - timedelta(seconds=1), minute(now))
        for k in CITY:
            fresh = spread(k, sites[k], fresh_start, 3, timedelta(milliseconds=250))
            assert store(conn, k, fresh, group="tstest-queries", admin_unit="Ngô Quyền") == 3
            events[k] += fresh
        # A consumer's heartbeat, written as the supervisor's children write theirs (the health page reads it).
        beat(conn, "consumer:camera", "consumer", pid=os.getpid(), detail={"lag": 0})
        asof = datetime.now(UTC)
        return QueryData(asof, events, sites, _alert(conn, "new", asof), _alert(conn, "resolved", asof))


QUERY_FUNCTIONS = query_functions()


@pytest.mark.parametrize("name", sorted(QUERY_FUNCTIONS))
def test_query_function_returns_typed_rows(
    timescale: TimescaleServer, query_data: QueryData, name: str
) -> None:
    fn = QUERY_FUNCTIONS[name]
    returns = get_type_hints(fn).get("return")
    assert returns is not None, f"queries.{name} declares no return type"
    with connect(timescale) as conn:
        result = fn(**call_args(fn, conn, query_data.asof))
    assert type_errors(result, returns, name) == []
    if get_origin(returns) is list:
        assert result, f"queries.{name} returned no rows although every source has data"


def _by_hour(events: Sequence[Event]) -> dict[datetime, list[Event]]:
    out: dict[datetime, list[Event]] = defaultdict(list)
    for e in events:
        out[e.event_time.replace(minute=0, second=0, microsecond=0)].append(e)
    return out


def test_query_values_match_the_events(timescale: TimescaleServer, query_data: QueryData) -> None:
    """Spot values for the loaded sites, computed from the events themselves."""
    d, asof = query_data, query_data.asof
    cam, tra, air = (d.events[k] for k in (SourceKind.CAMERA, SourceKind.TRAFFIC, SourceKind.AIR))
    with connect(timescale) as conn:
        srcs = {s.source_id: s for s in queries.sources(conn)}
        assert set(srcs) == {s.source_id for k in SourceKind for s in load_sites(k)}
        assert srcs[d.sites[SourceKind.AIR]].kind == "air" and srcs[d.sites[SourceKind.AIR]].geometry

        last_cam = expected_rollup(SourceKind.CAMERA, cam)[minute(cam[-1].event_time)]
        row = next(r for r in queries.camera_latest(conn, asof) if r.source_id == d.sites[SourceKind.CAMERA])
        assert (row.bucket, row.vehicles, row.all_online) == (
            minute(cam[-1].event_time),
            last_cam["vehicles"],
            last_cam["all_online"],
        )

        last_tra = expected_rollup(SourceKind.TRAFFIC, tra)[minute(tra[-1].event_time)]
        row = next(
            r for r in queries.traffic_latest(conn, asof) if r.source_id == d.sites[SourceKind.TRAFFIC]
        )
        assert (row.bucket, row.speed_kmh, row.occupancy_pct) == (
            minute(tra[-1].event_time),
            pytest.approx(last_tra["speed_kmh"]),
            pytest.approx(last_tra["occupancy_pct"]),
        )

        hourly = {
            r.bucket: r
            for r in queries.traffic_hourly(conn, asof)
            if r.source_id == d.sites[SourceKind.TRAFFIC]
        }
        want = {h: sum(e.speed_kmh for e in es) / len(es) for h, es in _by_hour(tra).items()}
        assert {h: r.speed_kmh for h, r in hourly.items()} == {h: pytest.approx(v) for h, v in want.items()}

        hourly_cam = {
            r.bucket: r.vehicles
            for r in queries.camera_hourly(conn, asof)
            if r.source_id == d.sites[SourceKind.CAMERA]
        }
        assert hourly_cam == {
            h: sum(sum(e.counts.model_dump().values()) for e in es if e.counts)
            for h, es in _by_hour(cam).items()
        }

        air_rows = {
            r.hour: r.pm25 for r in queries.air_hourly(conn, asof) if r.source_id == d.sites[SourceKind.AIR]
        }
        assert air_rows == {
            h: pytest.approx(sum(e.pm25 for e in es) / len(es)) for h, es in _by_hour(air).items()
        }

        reports = {r.ticket_id: r for r in queries.reports(conn, asof) if r.ticket_id.startswith("HP-TS-")}
        fb = d.events[SourceKind.FEEDBACK]
        assert set(reports) == {e.ticket_id for e in fb if e.ticket_id.startswith("HP-TS-")}
        first = reports["HP-TS-0"]
        assert (first.created_at, first.updated_at, first.action, first.admin_unit) == (
            fb[0].event_time,
            fb[2].event_time,
            "updated",
            "Ngô Quyền",
        )

        stats = {s.kind: s for s in queries.ingest_stats(conn)}
        assert set(stats) == {k.value for k in SourceKind}
        assert all(stats[k.value].accepted >= len(d.events[k]) for k in CITY)

        alert_ids = {a.alert_id for a in queries.open_alerts(conn)}
        assert str(d.open_alert) in alert_ids and str(d.resolved_alert) not in alert_ids


# -- the early warnings (issue 13): their tables, rollups, migrations and read models ------------------
def test_warning_sources_rollups_and_read_models_on_timescale(timescale: TimescaleServer, migrated: list[str]) -> None:
    """Budget, public order, water, rain and SOC rows through the sink; their rollups (the budget's in
    local days) after a refresh; every query of ``ioc.warnings`` typed; incidents and overlays tables."""
    from zoneinfo import ZoneInfo

    from geodata import overlays
    from ioc import warnings as w
    from tests.warningdata import warning_events

    assert {"070_warning_alerts", "071_map_overlays"} <= {m.split(" ")[0] for m in migrated}
    now = datetime.now(UTC)
    events = warning_events(now, budget_years=2, po_hours=6, flood_hours=6, soc_hours=24)
    sites = {s.source_id: s for k in SourceKind for s in load_sites(k)}
    with connect(timescale) as conn:
        sync_sources(conn, [s for k in SourceKind for s in load_sites(k)])
        for kind in (SourceKind("budget"), SourceKind("public_order"), SourceKind("water"), SourceKind("rain"),
                     SourceKind("soc")):  # fmt: skip
            es = [e for e in events if e.kind is kind]
            sink = TimescaleSink(conn, "tstest-warnings", kind, mode="insert")
            for off, e in enumerate(es):
                site = sites.get(e.source_id)
                sink.add(e, topic=f"tstest.w.{kind.value}", partition=0, offset=off, late=False,
                         admin_unit=site.properties.get("admin_unit") if site else None)
            assert sink.flush().inserted == len(es), kind
        for view in ("budget_1d", "public_order_1h", "water_1m", "rain_1m", "soc_1h"):
            refresh(conn, view, now - timedelta(days=800), now - timedelta(hours=1))
        # A treasury day is a local day: buckets start at 00:00 in Hải Phòng.
        buckets = conn.execute("SELECT bucket, count(*), sum(n) FROM budget_1d GROUP BY bucket ORDER BY bucket DESC"
                               " LIMIT 3").fetchall()  # fmt: skip
        assert buckets and all(b.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).hour == 0 for b, _, _ in buckets)
        assert all((lines, n) == (8, 8) for _, lines, n in buckets), buckets  # eight revenue lines, one report each
        readers = {
            "budget_days": w.budget_days, "public_order_units": w.public_order_units,
            "public_order_hourly": w.public_order_hourly, "water_levels": w.water_levels, "rain_totals": w.rain_totals,
            "flood_signals": w.flood_signals, "flood_area_views": w.flood_area_views, "soc_open": w.soc_open,
            "soc_days": w.soc_days,
        }  # fmt: skip
        results = {}
        for name, fn in readers.items():
            results[name] = out = fn(conn, now)
            assert type_errors(out, get_type_hints(fn)["return"], name) == []
        assert results["budget_days"] and results["water_levels"] and results["soc_open"]
        assert sum(u.incidents for u in results["public_order_units"]) == sum(
            sum(h.counts[:5]) for h in results["public_order_hourly"] if h.hour >= now - timedelta(hours=24))
        assert type_errors(w.warning_alerts(conn), get_type_hints(w.warning_alerts)["return"], "alerts") == []
        sim = overlays.import_simulation(conn, {"type": "FeatureCollection", "features": [{"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.68, 20.85]}, "properties": {}}]}, name="ts",
            scenario_time=now, author="pglite", source="t")  # fmt: skip
        assert [s.layer_id for s in w.simulation_views(conn)][:1] == [str(sim.layer_id)]
        assert conn.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


def test_event_id_stored_once_on_the_hypertable_whatever_its_time(
    timescale: TimescaleServer, migrated: list[str]
) -> None:
    """The hypertable keeps (event_id, event_time) as its key (TimescaleDB requires the time column in
    it); the plain ledger ``event_ids`` makes the id unique per source across chunks."""
    from streams.sink import purge_ledger

    start = datetime.now(UTC) - timedelta(hours=3)
    src = "ts-dupe-traffic"
    events = spread(SourceKind.TRAFFIC, src, start, 30, timedelta(seconds=1))
    topic = "tstest.dupes"
    with connect(timescale) as conn:
        assert conn.execute(
            "SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'event_ids'"
        ).fetchone() == (0,)
        sink = TimescaleSink(conn, "tstest-dupes", SourceKind.TRAFFIC, mode="insert")
        for off, e in enumerate(events):
            sink.add(e, topic=topic, partition=0, offset=off, late=False, admin_unit=None)
        first = sink.flush()
        # The same ids 1 s later (same chunk) and 2 days earlier (another chunk), then exact repeats.
        later = [e.model_copy(update={"event_time": e.event_time + timedelta(seconds=1)}) for e in events[:10]]
        other_chunk = [e.model_copy(update={"event_time": e.event_time - timedelta(days=2)}) for e in events[10:20]]
        for off, e in enumerate([*later, *other_chunk, *events[20:]], start=len(events)):
            sink.add(e, topic=topic, partition=0, offset=off, late=False, admin_unit=None)
        second = sink.flush()
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT event_id) FROM traffic_events WHERE source_id = %s", (src,)
        ).fetchone()
        dead = conn.execute(
            "SELECT reason_code, count(*) FROM deadletter WHERE topic = %s GROUP BY 1", (topic,)
        ).fetchall()
        ledger_rows = conn.execute(
            "SELECT count(*) FROM event_ids WHERE event_id = ANY(%s)", ([e.event_id for e in events],)
        ).fetchone()
        assert (first.inserted, first.duplicates, len(first.dead_lettered)) == (30, 0, 0)
        assert (second.inserted, second.duplicates, len(second.dead_lettered)) == (0, 10, 20)
        assert rows == (30, 30)
        assert dead == [("duplicate_conflict", 20)]
        assert ledger_rows == (30,)
        purge_ledger(conn, SourceKind.TRAFFIC)  # other tests' rows may be older than the 90-day retention
        assert conn.execute(
            "SELECT count(*) FROM event_ids WHERE event_id = ANY(%s)", ([e.event_id for e in events],)
        ).fetchone() == (30,), "ids within the retention are kept"
    print(f"\nTimescaleDB duplicate ids: 30 stored; 10 moved 1 s and 10 moved 2 days (another chunk) → 20"
          f" duplicate_conflict; 10 repeats → 10 duplicates; hypertable {rows[0]} rows, {rows[1]} ids")
