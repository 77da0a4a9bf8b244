"""``python -m streams --kind traffic [--workers N]``: sink consumers, configured from ``IOC_*`` variables.

With ``--workers N`` the process runs one consumer itself and N-1 more in child processes, all
members of the kind's one consumer group: the topic's partitions are shared among them
(partition-parallel; more workers than partitions leaves the extra ones idle). Each keeps its own
database connection and stores its partitions' offsets with its batches, so exactly-once holds per
partition as with one process. A signal stops them all; a worker that dies stops the others too,
so the supervisor restarts the whole set.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import signal
import sys
import threading
from datetime import timedelta

from ioc.settings import Settings
from ioc.sources import SourceKind
from ioc.topics import DEADLETTER, topic_for
from streams.consumer import ConsumerConfig
from streams.worker import serve


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
    parser.add_argument("--workers", type=int, default=1, help="consumer processes in the group (default 1)")
    args = parser.parse_args()
    if args.workers <= 1:
        serve(args.kind)
        return
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited sockets or threads
    workers = [
        ctx.Process(target=serve, args=(args.kind,), name=f"sink-{args.kind}-{i}", daemon=True)
        for i in range(1, args.workers)
    ]
    for w in workers:
        w.start()
    stopping = threading.Event()
    threading.Thread(target=_watch, args=(workers, stopping), daemon=True).start()
    try:
        serve(args.kind)
    finally:
        stopping.set()
        for w in workers:
            if w.is_alive():
                w.terminate()  # SIGTERM: each worker flushes its batch and stops
        for w in workers:
            w.join(30)
    sys.exit(1 if any(w.exitcode for w in workers) else 0)


def _watch(workers: list[multiprocessing.process.BaseProcess], stopping: threading.Event) -> None:
    """A worker that exits on its own stops this process (and so the set) for a clean restart."""
    while all(w.is_alive() for w in workers):
        if stopping.wait(0.5):
            return
    if not stopping.is_set():
        logging.getLogger(__name__).error("a consumer worker exited; stopping the others")
        os.kill(os.getpid(), signal.SIGTERM)


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
