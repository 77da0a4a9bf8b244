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
