"""simulate → real broker → consumer processes → PostgreSQL: counts per source equal what was sent."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import psycopg
import pytest

from ioc.sources import SourceKind
from simulators.city import City
from simulators.publish import KafkaSender, publish, with_malformed
from simulators.scenario import load_scenario
from simulators.wire import Message

pytestmark = pytest.mark.integration

TABLES = {k: f"{k.value}_events" for k in SourceKind}


def test_simulated_city_is_stored_exactly_per_source(stack) -> None:
    from ioc.services.proc import wait_until

    settings = stack.settings
    city = City(load_scenario("lechan_flood"), seed=5)
    # 25 simulated minutes from inside the flood: ~3 300 events, with 5 % malformed on top.
    begin = city.incidents[0].start + timedelta(minutes=50)
    messages = list(
        with_malformed((Message.of(e) for e in city.events(begin + timedelta(minutes=25), begin)), 0.05, 5)
    )
    sender = KafkaSender(settings.kafka_bootstrap)
    try:
        stats = publish(messages, sender, prefix=settings.topic_prefix, progress=False)
    finally:
        sender.close()
    sent = Counter((m.kind, m.key.decode()) for m in messages if m.reason is None)
    bad = Counter(m.reason for m in messages if m.reason is not None)
    assert sum(sent.values()) == sum(stats.sent.values()) > 3000
    assert set(bad) >= {"not_json", "wrong_type", "missing_field", "out_of_range", "unknown_source",
                        "future_timestamp", "unknown_field"}  # fmt: skip

    stack.start_consumers()
    dsn = settings.database_dsn()
    total = len(messages)

    def stored() -> int:
        with psycopg.connect(dsn) as conn:
            rows = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES.values())
            return rows + conn.execute("SELECT count(*) FROM deadletter").fetchone()[0]

    wait_until(lambda: stored() >= total, 180, f"{total} messages stored or dead-lettered")
    with psycopg.connect(dsn) as conn:
        got = Counter()
        for kind, table in TABLES.items():
            for source_id, n in conn.execute(f"SELECT source_id, count(*) FROM {table} GROUP BY source_id"):
                got[(kind, source_id)] = n
        reasons = Counter(
            dict(conn.execute("SELECT reason_code, count(*) FROM deadletter GROUP BY reason_code"))
        )
    assert got == sent, "every valid event stored once, per source"
    assert reasons == bad, "every malformed message dead-lettered with the expected reason"
