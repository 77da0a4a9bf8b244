"""The early-warning sources through the real spine: broker → their consumer groups → PostgreSQL, each
event stored exactly once (duplicates sent again store nothing), bad input dead-lettered with its
reason — a public-order report carrying a personal field among it — and the consumers alive."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ioc.kafka import make_producer
from ioc.services.proc import wait_until
from ioc.sources import SOURCES, SourceKind
from ioc.topics import topic_for
from tests.warningdata import warning_events

pytestmark = pytest.mark.integration
KINDS = ("budget", "public_order", "water", "rain", "soc")


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        out = {k: conn.execute(f"SELECT count(*), count(DISTINCT event_id) FROM {SOURCES[k].table}").fetchone()  # noqa: S608
               for k in KINDS}  # fmt: skip
        out["deadletter"] = conn.execute("SELECT count(*) FROM deadletter").fetchone()
    return {k: int(v[0]) for k, v in out.items()} | {f"{k}:distinct": int(v[1]) for k, v in out.items() if k != "deadletter"}


def test_each_new_source_stores_every_event_once_and_dead_letters_the_bad(stack) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    events = warning_events(now, budget_years=1, po_hours=6, flood_hours=6, soc_hours=6)
    by_kind = {k: [e for e in events if e.kind.value == k] for k in KINDS}
    assert all(by_kind.values()), {k: len(v) for k, v in by_kind.items()}
    prefix = stack.settings.topic_prefix
    producer = make_producer(stack.settings.kafka_bootstrap)
    for e in events:
        producer.send(topic_for(e.kind, prefix), key=e.key(), value=e.to_json())
    for e in events[:300]:  # the same messages again, as a producer retrying would send them
        producer.send(topic_for(e.kind, prefix), key=e.key(), value=e.to_json())
    po = by_kind["public_order"][0]
    personal = json.loads(po.to_json()) | {"event_id": str(uuid.uuid4()), "suspect_name": "Nguyễn Văn A"}
    bad = [
        (SourceKind("public_order"), json.dumps(personal).encode()),
        (SourceKind("budget"), json.loads(by_kind["budget"][0].to_json()) | {"event_id": str(uuid.uuid4()), "amount_vnd": "nhiều"}),
        (SourceKind("water"), json.loads(by_kind["water"][0].to_json()) | {"event_id": str(uuid.uuid4()), "level_m": 99.0}),
        (SourceKind("soc"), json.loads(by_kind["soc"][0].to_json()) | {"event_id": str(uuid.uuid4()), "src_ip": "10.0.0.9"}),
        (SourceKind("rain"), b"{not json"),
    ]  # fmt: skip
    for kind, body in bad:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        producer.send(topic_for(kind, prefix), key=b"x", value=raw)
    producer.flush()
    producer.close()
    stack.start_consumers()
    dsn = stack.settings.database_dsn()
    want = {k: len({e.event_id for e in v}) for k, v in by_kind.items()}
    wait_until(lambda: all(counts(dsn)[k] >= want[k] for k in KINDS) and counts(dsn)["deadletter"] >= len(bad), 180,
               "every new source stored and its bad input dead-lettered")  # fmt: skip
    with psycopg.connect(dsn) as conn:
        topics = [topic_for(SourceKind(k), prefix) for k in KINDS]

        def offsets() -> int:
            return int(conn.execute("SELECT coalesce(sum(next_offset), 0) FROM stream_offsets WHERE topic = ANY(%s)",
                                    (topics,)).fetchone()[0])  # fmt: skip

        # Past every duplicate (the embedded broker's offsets can skip one on a partition: allow one per
        # bad message's partition, the last message there).
        wait_until(lambda: offsets() >= len(events) + 300, 60, "offsets past the duplicates")
        reasons = dict(conn.execute("SELECT kind || '/' || reason_code, field FROM deadletter").fetchall())
        stats = dict(conn.execute("SELECT kind, accepted FROM ingest_stats WHERE kind = ANY(%s)", (list(KINDS),)).fetchall())
        po_units = conn.execute("SELECT count(*) FROM public_order_events WHERE admin_unit IS NULL").fetchone()
    c = counts(dsn)
    for k in KINDS:
        assert c[k] == c[f"{k}:distinct"] == want[k], k  # exactly once
        assert stats[k] == want[k], k
    assert reasons == {"public_order/unknown_field": "suspect_name", "budget/wrong_type": "amount_vnd",
                       "water/out_of_range": "level_m", "soc/unknown_field": "src_ip", "rain/not_json": None}
    assert po_units == (0,)  # each police report carries its unit (from the registry)
    assert "Nguyễn Văn A" not in json.dumps(reasons, ensure_ascii=False)
    # The period a consumer marks late, and the budget's local-day rollup.
    with psycopg.connect(dsn) as conn:
        days = conn.execute("SELECT count(DISTINCT bucket), sum(n) FROM budget_1d").fetchone()
    assert days[1] == want["budget"] and days[0] == len({e.collection_date for e in by_kind["budget"]})
    # The alert service's warm start reads them back as the same typed events.
    from alerts.warnings_history import WARM_WINDOWS, warm_events

    at = datetime.now(UTC)
    with psycopg.connect(dsn) as conn:
        back = warm_events(conn, at)
    # Each source's window (the gauges' hours end at the last high water, which can be a day back: the
    # oldest rain readings then fall outside the rain window and must not come back).
    assert {e.event_id for e in back} == {e.event_id for e in events if e.event_time > at - WARM_WINDOWS[e.kind.value]}
    assert {e.kind.value for e in back} >= set(KINDS) - {"rain"}
    sample = next(e for e in back if e.kind.value == "public_order")
    assert sample == next(e for e in events if e.event_id == sample.event_id)
    assert timedelta(0) <= datetime.now(UTC) - now < timedelta(minutes=10)
