"""Faults during ingest: consumers killed with SIGKILL mid-batch, the database crashed and restarted.

Afterwards no event is lost and none is stored twice: rows == distinct ids == sent, the stored set of
ids is the sent set, the per-source counters and stored offsets agree. Each test prints what it saw.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator

import psycopg
import pytest

from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.sources import SourceKind
from ioc.topics import topic_for
from tests.streamutil import ingested, produce_events, recent_events, stored_event_ids, stored_rows

pytestmark = pytest.mark.integration


@pytest.fixture
def big_batches(stack: Stack) -> Iterator[Stack]:
    """The test stack with batches that fill for up to 1 s, so each stream has several batch transactions."""
    st = Stack(stack.settings.model_copy(update={"batch_max_records": 2500, "batch_max_seconds": 1.0}))
    st.start_services()  # both services are configured: starts nothing, sets up the log directory
    yield st
    st.stop()


def _kind_rows(conn: psycopg.Connection, kind: SourceKind) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {kind.value}_events").fetchone()[0])  # type: ignore[index]


def _kill_inside_transactions(
    st: Stack, conn: psycopg.Connection, kinds: list[SourceKind], totals: Counter, timeout: float
) -> dict[str, tuple[str, int]]:
    """SIGKILL each consumer of ``kinds`` the moment its batch transaction is open after a first stored batch.

    Returns, per kind, where the kill landed and the rows stored at that moment. A consumer not caught
    inside a transaction before the deadline is killed anyway and reported as such.
    """
    dbname = conn.info.dbname
    apps = {f"ioc-sink-{k.value}": k for k in kinds}
    out: dict[str, tuple[str, int]] = {}
    deadline = time.monotonic() + timeout
    while len(out) < len(kinds) and time.monotonic() < deadline:
        busy = conn.execute(
            "SELECT application_name, state FROM pg_stat_activity WHERE datname = %s"
            " AND application_name = ANY(%s) AND xact_start IS NOT NULL AND state <> 'idle'",
            (dbname, list(apps)),
        ).fetchall()
        for app, state in busy:
            kind = apps[app]
            if kind.value in out:
                continue
            rows = _kind_rows(conn, kind)
            if 0 < rows < totals[kind]:
                st.stop_child(f"stream-{kind.value}", signal.SIGKILL)
                out[kind.value] = (f"inside its transaction ({state})", rows)
        time.sleep(0.005)
    for kind in kinds:
        if kind.value not in out:
            st.stop_child(f"stream-{kind.value}", signal.SIGKILL)
            out[kind.value] = ("not caught inside a transaction", _kind_rows(conn, kind))
    return out


def _assert_exactly_once(dsn: str, events: list) -> None:
    ids = stored_event_ids(dsn)
    sent = {e.event_id for e in events}
    dupes = [i for i, c in Counter(ids).items() if c > 1]
    assert not dupes, f"{len(dupes)} events stored twice, e.g. {dupes[:3]}"
    assert len(ids) == len(sent), f"{len(sent) - len(ids)} events lost"
    assert set(ids) == sent
    with psycopg.connect(dsn) as conn:
        stats = dict(conn.execute("SELECT kind, accepted FROM ingest_stats").fetchall())
        dead = conn.execute("SELECT count(*) FROM deadletter").fetchone()[0]  # type: ignore[index]
    fed = {k: n for k, n in stats.items() if n}  # sources these events did not go to stay at 0
    assert fed == dict(Counter(e.kind.value for e in events)), "counters move in the batch transaction"
    assert dead == 0


def _log_count(st: Stack, needle: str) -> int:
    assert st.log_dir is not None
    return sum(p.read_text(errors="replace").count(needle) for p in st.log_dir.glob("stream-*.log"))


def test_consumers_killed_mid_batch_lose_nothing_and_store_nothing_twice(big_batches):
    st = big_batches
    dsn = st.settings.database_dsn()
    events = recent_events(30_000, seed=21)
    produce_events(st.settings.kafka_bootstrap, st.settings.topic_prefix, events)
    per_kind = Counter(e.kind for e in events)
    t0 = time.monotonic()
    st.start_consumers()
    with psycopg.connect(dsn, autocommit=True) as conn:
        fed = [k for k in SourceKind if per_kind[k]]  # the sources these events go to
        killed = _kill_inside_transactions(st, conn, fed, per_kind, timeout=90)
        mid_batch = [k for k, (where, _) in killed.items() if where.startswith("inside")]
        # At least one kill landed inside an open batch transaction, with part of that stream stored.
        assert mid_batch, killed
        assert all(0 < killed[k][1] < per_kind[SourceKind(k)] for k in mid_batch), killed
        for kind in fed:
            st.start_consumer(kind)
        # A second kill of a restarted consumer while it catches up (caught when still in progress).
        again = _kill_inside_transactions(st, conn, [SourceKind.TRAFFIC], per_kind, timeout=30)
        st.start_consumer(SourceKind.TRAFFIC)
        wait_until(lambda: ingested(dsn) >= len(events), 240, f"{len(events)} events ingested")
        # Give a duplicate the chance to appear before counting.
        offsets_done = sum(per_kind.values())
        wait_until(
            lambda: conn.execute("SELECT sum(next_offset) FROM stream_offsets").fetchone()[0] >= offsets_done,
            30,
            "offsets of every message",
        )
    elapsed = time.monotonic() - t0
    _assert_exactly_once(dsn, events)
    assert all(p.poll() is None for p in st.children.values())
    print(
        f"\nSIGKILL test: {len(events)} events; killed (where, rows stored then) {killed};"
        f" traffic killed again {again}; all stored exactly once {elapsed:.1f} s after consumers started"
    )


def test_database_restart_during_ingest_loses_nothing(big_batches, services):
    st = big_batches
    dsn = st.settings.database_dsn()
    pg = services.postgres
    assert pg is not None, "the session's PostgreSQL is embedded"
    events = recent_events(20_000, seed=22)
    produce_events(st.settings.kafka_bootstrap, st.settings.topic_prefix, events)
    st.start_consumers()
    wait_until(lambda: 0 < stored_rows(dsn), 60, "ingest to begin")
    try:
        before = stored_rows(dsn)
        pg.stop(mode="immediate")  # crash-like: no checkpoint, open transactions die
        down_at = time.monotonic()
        time.sleep(2.5)
        alive_while_down = {n: p.poll() is None for n, p in st.children.items()}
        pg.start()
        up_at = time.monotonic()
    finally:
        if not pg.running():  # leave the session's server usable for the tests after this one
            pg.start()
    wait_until(lambda: stored_rows(dsn) > before, 60, "ingest to resume after the restart")
    resumed_at = time.monotonic()
    wait_until(lambda: ingested(dsn) >= len(events), 240, f"{len(events)} events ingested")
    done_at = time.monotonic()
    assert all(alive_while_down.values()), alive_while_down
    assert all(p.poll() is None for p in st.children.values()), "consumers survive the database restart"
    _assert_exactly_once(dsn, events)
    with psycopg.connect(dsn) as conn:
        offsets = dict(
            conn.execute("SELECT topic, sum(next_offset) FROM stream_offsets GROUP BY topic").fetchall()
        )
    assert offsets == {
        topic_for(k, st.settings.topic_prefix): n for k, n in Counter(e.kind for e in events).items()
    }
    retries = _log_count(st, "flush failed") + _log_count(st, "database unavailable")
    assert retries > 0, "the consumers saw the outage and retried"
    print(
        f"\nDB restart test: {len(events)} events, {before} stored before the crash; database down"
        f" {up_at - down_at:.1f} s; {retries} retries logged; ingest resumed {resumed_at - up_at:.1f} s after"
        f" the restart; all stored exactly once {done_at - up_at:.1f} s after the restart"
    )
