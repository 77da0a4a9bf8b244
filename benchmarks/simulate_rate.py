"""Simulator rates and headroom: events per source per simulated hour at 1×, and the largest speed factor.

    python -m benchmarks.simulate_rate [--hours 24] [--sample-hours 2] [--publish/--no-publish]

1. Runs ``quiet_day`` (a working day) for ``--hours`` and prints events per simulated hour per
   source kind and per individual source (the rates at 1×), plus the busiest hour.
2. Measures generating + serialising throughput (events/s) over the busiest part of the day and
   turns it into a speed factor: throughput / events per simulated second.
3. With ``--publish``: the same through kafka-python into a real broker (``IOC_KAFKA_BOOTSTRAP``, or
   the embedded tansu broker started here), then checks the factor is sustained by a paced run
   at that speed and reports how late the last message was.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

import typer
from tqdm import tqdm

from ioc.settings import Settings
from ioc.sources import SourceKind
from simulators.city import City
from simulators.publish import KafkaSender, MemorySender, publish
from simulators.scenario import load_scenario
from simulators.wire import Message

BUSY_START = datetime.fromisoformat("2026-03-10T07:00:00+07:00")


def rates(hours: int) -> tuple[Counter, float]:
    sc = load_scenario("quiet_day")
    city = City(sc, seed=7)
    per_kind: Counter = Counter()
    per_hour: Counter = Counter()
    for e in tqdm(
        city.events(city.start + timedelta(hours=hours)), desc=f"quiet_day {hours} h", unit=" events"
    ):
        per_kind[e.kind] += 1
        per_hour[e.event_time.replace(minute=0, second=0)] += 1
    print(f"== events per simulated hour at 1× (quiet_day, {hours} h, seed 7) ==")
    counts = {k: 0 for k in SourceKind}
    from geodata.sites import known_source_ids

    ids = known_source_ids()
    for kind in SourceKind:
        counts[kind] = per_kind[kind]
        n_sources = len(ids[kind])
        print(f"  {kind.value:<9} {per_kind[kind] / hours:>9,.1f} /h   ({n_sources} sources, "
              f"{per_kind[kind] / hours / n_sources:,.1f} /h each)")  # fmt: skip
    total = sum(per_kind.values()) / hours
    print(
        f"  {'total':<9} {total:>9,.1f} /h   = {total / 3600:.2f} events/s; busiest hour {max(per_hour.values()):,}"
    )
    return per_kind, total / 3600


def throughput(sample_hours: float, send=None, prefix: str = "") -> tuple[int, float]:
    """Events generated + serialised (+ sent) per wall second over a busy sample, as fast as possible."""
    city = City(load_scenario("quiet_day"), seed=7, start=BUSY_START)
    end = city.start + timedelta(hours=sample_hours)
    sender = send or MemorySender()
    began = time.perf_counter()
    stats = publish((Message.of(e) for e in city.events(end)), sender, prefix=prefix, progress=False)
    if hasattr(sender, "producer"):
        sender.producer.flush()
    wall = time.perf_counter() - began
    if isinstance(sender, MemorySender):
        sender.sent.clear()
    return stats.total, wall


def replay_throughput(sample_hours: float) -> float:
    """Events/s of ``ioc replay`` on a recording of the busy sample, without pacing or broker."""
    import tempfile
    from pathlib import Path

    from simulators.replay import read_jsonl

    city = City(load_scenario("quiet_day"), seed=7, start=BUSY_START)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "busy.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for e in city.events(city.start + timedelta(hours=sample_hours)):
                fh.write(Message.of(e).to_record() + "\n")
        began = time.perf_counter()
        stats = publish(read_jsonl(path), MemorySender(), progress=False)
        return stats.total / (time.perf_counter() - began)


def paced(speed: float, seconds: float, send, prefix: str) -> float:
    """Run at ``speed`` for about ``seconds`` of wall time; return how late the last message was (s)."""
    city = City(load_scenario("quiet_day"), seed=8, start=BUSY_START)
    end = city.start + timedelta(seconds=seconds * speed)
    began = time.monotonic()
    stats = publish(
        (Message.of(e) for e in city.events(end)), send, prefix=prefix, speed=speed, progress=False
    )
    if stats.first is None or stats.last is None:
        return 0.0
    due = (stats.last - stats.first).total_seconds() / speed
    return time.monotonic() - began - due


def main(
    hours: int = typer.Option(24, help="Simulated hours for the rate table."),
    sample_hours: float = typer.Option(1.0, help="Simulated hours in the throughput sample (from 07:00)."),
    publish_to_broker: bool = typer.Option(
        True, "--publish/--no-publish", help="Also measure through a broker."
    ),
) -> None:
    _, per_second = rates(hours)
    # The sample starts at 07:00 on a working day: the rush hour is the hardest hour to keep up with.
    n, wall = throughput(sample_hours)
    busy_rate = n / (sample_hours * 3600)
    print("== generate + serialise (no broker) ==")
    print(f"  {n:,} events in {wall:.2f} s = {n / wall:,.0f} events/s")
    print(f"  max speed ≈ {n / wall / busy_rate:,.0f}× in the rush hour ({busy_rate:.2f} events/s at 1×), "
          f"≈ {n / wall / per_second:,.0f}× on the daily average")  # fmt: skip
    replay_rate = replay_throughput(sample_hours)
    print("== replay a JSONL recording (read + validate + send to memory) ==")
    print(f"  {replay_rate:,.0f} events/s → max replay speed ≈ {replay_rate / busy_rate:,.0f}× (rush hour)")
    if not publish_to_broker:
        return
    broker = None
    bootstrap = Settings().kafka_bootstrap
    if not bootstrap:
        from ioc.services import TansuBroker

        broker = TansuBroker()
        broker.start()
        bootstrap = broker.bootstrap
    try:
        from ioc.kafka import ensure_topics

        prefix = f"bench{int(time.time())}."
        ensure_topics(bootstrap, 3, prefix)
        sender = KafkaSender(bootstrap)
        n, wall = throughput(sample_hours, sender, prefix)
        top = n / wall / busy_rate
        print(f"== generate + serialise + publish (kafka-python, acks=all, {bootstrap}) ==")
        print(
            f"  {n:,} events in {wall:.2f} s = {n / wall:,.0f} events/s → max speed ≈ {top:,.0f}× (rush hour)"
        )
        speed = round(0.9 * top, -1)
        late = paced(speed, 20, sender, prefix)
        print(f"  paced check at {speed:,.0f}× for 20 s: last message {late * 1000:,.0f} ms behind schedule")
        sender.close()
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    typer.run(main)
