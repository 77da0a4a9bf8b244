"""The sink against a real PostgreSQL: one transaction per batch, idempotent, rows the DB refuses isolated."""

from __future__ import annotations

import psycopg
import pytest

from ioc.sources import SourceKind
from ioc.sources.feedback import FeedbackEvent
from streams.sink import TimescaleSink, stored_offsets
from tests.streamutil import valid_events

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("mode", ["copy", "insert"])
def test_flush_is_idempotent_and_stores_offsets(pg_dsn, mode):
    events = [e for e in valid_events(400, seed=3) if e.kind is SourceKind.TRAFFIC]
    with psycopg.connect(pg_dsn) as conn:
        sink = TimescaleSink(conn, "g1", SourceKind.TRAFFIC, mode=mode)
        for i, e in enumerate(events):
            sink.add(e, topic="t", partition=i % 2, offset=i, late=False, admin_unit="u1")
        first = sink.flush()
        for i, e in enumerate(events):  # the same batch again, as after a crash before the offsets moved
            sink.add(e, topic="t", partition=i % 2, offset=i, late=False, admin_unit="u1")
        second = sink.flush()
        assert (first.inserted, first.duplicates) == (len(events), 0)
        assert (second.inserted, second.duplicates) == (0, len(events))
        assert conn.execute("SELECT count(*) FROM traffic_events").fetchone()[0] == len(events)
        assert stored_offsets(conn, "g1", "t") == {0: len(events) - 1, 1: len(events)}
        accepted = conn.execute("SELECT accepted FROM ingest_stats WHERE kind = 'traffic'").fetchone()[0]
        assert accepted == len(events)  # counters count rows stored, not messages seen


def test_row_refused_by_database_is_dead_lettered_and_batch_survives(pg_dsn):
    good = [e for e in valid_events(40, seed=5) if e.kind is SourceKind.FEEDBACK]
    # PostgreSQL text cannot hold NUL: valid JSON, valid event, refused by the database.
    bad = good[0].model_copy(update={"text": "ngập\x00nước", "event_id": good[1].event_id.__class__(int=7)})
    with psycopg.connect(pg_dsn) as conn:
        sink = TimescaleSink(conn, "g2", SourceKind.FEEDBACK)
        for i, e in enumerate([*good[:5], bad, *good[5:]]):
            sink.add(e, topic="fb", partition=0, offset=i, late=False, admin_unit=None)
        with pytest.raises(psycopg.DataError):
            sink.flush()
        result = sink.flush_isolating()
        assert result.inserted == len(good)
        assert [(d.offset, d.rejected.code.value) for d in result.dead_lettered] == [(5, "db_rejected")]
        row = conn.execute('SELECT "offset", reason_code, reason, raw FROM deadletter').fetchone()
        assert row[0] == 5 and row[1] == "db_rejected" and "0x00" in row[2]
        assert FeedbackEvent.model_validate_json(bytes(row[3])).event_id == bad.event_id  # original bytes kept
        assert stored_offsets(conn, "g2", "fb") == {0: len(good) + 1}


@pytest.mark.parametrize("mode", ["copy", "insert"])
def test_event_id_is_stored_once_whatever_its_time_and_a_conflict_is_dead_lettered(pg_dsn, mode):
    """Issue 10: the same event_id sent with event_time 1 s apart was stored twice (key was (id, time))."""
    from datetime import timedelta

    events = [e for e in valid_events(200, seed=11) if e.kind is SourceKind.TRAFFIC]  # 50 events
    moved = [e.model_copy(update={"event_time": e.event_time + timedelta(seconds=1)}) for e in events[:20]]
    same = events[20:30]  # byte-for-byte repeats: plain duplicates
    with psycopg.connect(pg_dsn) as conn:
        sink = TimescaleSink(conn, "g3", SourceKind.TRAFFIC, mode=mode)
        for i, e in enumerate(events):
            sink.add(e, topic="t3", partition=0, offset=i, late=False, admin_unit=None)
        first = sink.flush()
        # Across batches: 20 moved (conflicts), 10 identical (duplicates).
        for i, e in enumerate([*moved, *same], start=len(events)):
            sink.add(e, topic="t3", partition=0, offset=i, late=False, admin_unit=None)
        second = sink.flush()
        # Within one batch: a new id, then the same id again 1 s later, then an identical repeat.
        fresh = [e for e in valid_events(400, seed=12) if e.kind is SourceKind.TRAFFIC][0]
        later = fresh.model_copy(update={"event_time": fresh.event_time + timedelta(seconds=1)})
        for i, e in enumerate([fresh, later, fresh], start=100):
            sink.add(e, topic="t3", partition=0, offset=i, late=False, admin_unit=None)
        third = sink.flush()
        rows, distinct = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM traffic_events").fetchone()
        dead = conn.execute(
            "SELECT reason_code, count(*) FROM deadletter GROUP BY reason_code").fetchall()
        ledger = conn.execute("SELECT count(*) FROM event_ids WHERE kind = 'traffic'").fetchone()[0]
    assert (first.inserted, first.duplicates, len(first.dead_lettered)) == (50, 0, 0)
    assert (second.inserted, second.duplicates, len(second.dead_lettered)) == (0, 10, 20)
    assert {d.rejected.code.value for d in second.dead_lettered} == {"duplicate_conflict"}
    assert (third.inserted, third.duplicates, len(third.dead_lettered)) == (1, 1, 1)
    assert (rows, distinct, ledger) == (51, 51, 51)
    assert dead == [("duplicate_conflict", 21)]
    print(f"\nduplicate ids ({mode}): 50 stored, 20 moved by 1 s → 20 duplicate_conflict, 10 identical → 10"
          f" duplicates; in one batch 1 stored, 1 duplicate, 1 conflict; table {rows} rows / {distinct} ids")


def test_ledger_retention_follows_the_source_retention(pg_dsn):
    from datetime import UTC, datetime, timedelta

    from streams.sink import purge_ledger

    old = datetime.now(UTC) - timedelta(days=91)  # traffic keeps 90 days
    with psycopg.connect(pg_dsn) as conn:
        events = [e for e in valid_events(40, seed=13) if e.kind is SourceKind.TRAFFIC]
        sink = TimescaleSink(conn, "g4", SourceKind.TRAFFIC)
        for i, e in enumerate(events):
            t = old if i < 4 else e.event_time
            sink.add(e.model_copy(update={"event_time": t}), topic="t4", partition=0, offset=i, late=True,
                     admin_unit=None)
        sink.flush()
        assert purge_ledger(conn, SourceKind.TRAFFIC) == 4
        assert purge_ledger(conn, SourceKind.FEEDBACK) == 0  # reports are kept for good: so is their ledger
        assert conn.execute("SELECT count(*) FROM event_ids").fetchone()[0] == len(events) - 4
