"""Live read models on plain PostgreSQL: rollups through the minute index, ticket KPIs by local day."""

from __future__ import annotations

import psycopg
import pytest

from ioc.sources import SourceKind
from streams.sink import TimescaleSink
from tests.streamutil import valid_events

pytestmark = pytest.mark.integration


def test_rollup_matches_events_and_uses_the_minute_index(pg_dsn):
    events = [e for e in valid_events(2000, seed=9) if e.kind is SourceKind.TRAFFIC]
    with psycopg.connect(pg_dsn) as conn:
        sink = TimescaleSink(conn, "g", SourceKind.TRAFFIC)
        for i, e in enumerate(events):
            sink.add(e, topic="t", partition=0, offset=i, late=False, admin_unit=None)
        sink.flush()
        got = {(sid, round(v, 3)) for sid, v in conn.execute(
            "SELECT source_id, sum(speed_kmh * n) / sum(n) FROM traffic_1m GROUP BY source_id").fetchall()}
        by_source: dict[str, list[float]] = {}
        for e in events:
            by_source.setdefault(e.source_id, []).append(e.speed_kmh)
        # float4 storage: compare at the precision it keeps
        want = {(sid, round(sum(v) / len(v), 3)) for sid, v in by_source.items()}
        assert {s for s, _ in got} == {s for s, _ in want}
        assert all(abs(a - b) < 0.01 for (s1, a), (s2, b) in zip(sorted(got), sorted(want), strict=True))
        conn.execute("ANALYZE traffic_events")
        conn.execute("SET enable_seqscan = off")  # tiny table: make the planner show whether it *can* use the index
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT * FROM traffic_1m WHERE bucket > now() - INTERVAL '15 minutes'").fetchall())
        assert "traffic_events_minute" in plan, plan


def test_ticket_kpis_count_local_today_and_overdue(pg_dsn):
    from datetime import UTC, datetime, timedelta

    from ioc.web.queries import TicketKpis, ticket_kpis

    asof = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 in Hải Phòng; local day began 17:00 UTC on the 22nd
    rows = [  # id, received, first answered, deadline, status
        ("A", asof - timedelta(hours=9), None, asof - timedelta(hours=1), "assigned"),  # today (00:00 local), overdue
        ("B", asof - timedelta(hours=11), asof - timedelta(hours=2), asof + timedelta(days=1), "answered"),  # yesterday
        ("C", asof - timedelta(hours=1), None, asof + timedelta(hours=5), "received"),  # today, in time
        ("D", asof - timedelta(days=3), None, asof - timedelta(days=1), "closed"),  # late but closed: not overdue
    ]
    with psycopg.connect(pg_dsn) as conn:
        for tid, received, answered, deadline, status in rows:
            conn.execute(
                "INSERT INTO tickets (ticket_id, received_at, channel, text, lon, lat, status, deadline,"
                " first_answered_at, version, updated_at) VALUES (%s, %s, 'app', 'x', 106.7, 20.8, %s, %s, %s, 1, %s)",
                (tid, received, status, deadline, answered, received),
            )
        assert ticket_kpis(conn, asof) == TicketKpis(received_today=2, answered_today=1, overdue=1)
