"""Plain PostgreSQL rollups: right numbers, and the live window is read through the index, not a scan."""

from __future__ import annotations

import psycopg
import pytest

from ioc.events import SourceKind
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
