"""``python -m streams --kind traffic``: one sink consumer, configured from ``IOC_*`` variables."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import timedelta

from ioc.settings import Settings
from ioc.sources import SourceKind
from ioc.topics import DEADLETTER, topic_for
from streams.consumer import ConsumerConfig, SinkConsumer


def config_from_settings(s: Settings, kind: SourceKind) -> ConsumerConfig:
    return ConsumerConfig(
        kind=kind,
        bootstrap=s.kafka_bootstrap or "127.0.0.1:9092",
        dsn=s.database_dsn(),
        # The topic prefix isolates parallel runs (tests) on one broker: their groups must not meet.
        group_id=f"{s.topic_prefix}{s.consumer_group_prefix}.sink.{kind.value}",
        topic=topic_for(kind, s.topic_prefix),
        deadletter_topic=s.topic_prefix + DEADLETTER,
        batch_max_records=s.batch_max_records,
        batch_max_seconds=s.batch_max_seconds,
        future_tolerance=timedelta(seconds=s.future_tolerance_seconds),
        late_after=timedelta(seconds=s.late_after_seconds),
        sink_mode=s.sink_mode,
        max_message_bytes=s.max_message_bytes,
        deadletter_max_bytes=s.deadletter_max_bytes,
        offsets_reliable=s.broker_offsets_reliable,
        heartbeat_seconds=s.heartbeat_seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", required=True, choices=[k.value for k in SourceKind])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    kind = SourceKind(args.kind)
    settings = Settings()
    SinkConsumer(config_from_settings(settings, kind), stop=stop, units_of=_feedback_units(kind)).run()


def _feedback_units(kind: SourceKind):  # type: ignore[no-untyped-def]
    """Citizen reports carry their own position: assign the admin unit with the spatial index."""
    if kind is not SourceKind.FEEDBACK:
        return None
    from geodata.admin import DatedAdminAssigner

    assigner = DatedAdminAssigner()  # the boundary set in force on each report's local date

    def units(events):  # type: ignore[no-untyped-def]
        if not events:
            return []
        pairs = assigner.assign_many([e.lon for e in events], [e.lat for e in events], [e.event_time for e in events])
        return [code for _set_id, code in pairs]

    return units


if __name__ == "__main__":
    main()
