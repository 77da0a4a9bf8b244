"""Alert engine speed: events scored per second per core, and event-on-Kafka → alert-in-database latency.

1. Throughput and per-event cost (no IO): a warmed-up :class:`alerts.engine.AlertEngine` (``--warmup``
   of the normal city's traffic and air) processes ``--hours`` of the full simulated city (all four
   sources, all rules and the resonance anomaly models); CPU time of one thread → events per second
   per core. Each event is also timed from the moment the simulator produced it to the end of its
   ``process`` call (generation excluded, clock ticks included): p50/p95/p99/max per source kind,
   at least 1000 samples each.
2. Latency (real services, started like the tests do): ``run_engine`` consumes the topics while
   background traffic readings flow at ``--rate`` events/s; every half second a camera reports smoke
   (a new alert). Latency = first time the alert row is visible in PostgreSQL − time the event was
   handed to the producer. Prints p50/p95/max (target p95 ≤ 1 s).

    .venv/bin/python benchmarks/alert_engine.py [--hours 2] [--warmup 1d] [--rate 300] [--alerts 40]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tqdm import tqdm


def throughput(hours: float, warmup: timedelta, seed: int = 7) -> tuple[int, float]:
    from alerts.engine import AlertEngine
    from alerts.evaluate_scenarios import _locator
    from ioc.sources import SourceKind
    from simulators.city import City
    from simulators.scenario import load_scenario

    sc = load_scenario("normal_day")
    admin_unit_of, locate, unit_label = _locator(sc.start.date())
    engine = AlertEngine(seed=seed, admin_unit_of=admin_unit_of, locate=locate, unit_label=unit_label)
    quiet = sc.model_copy(update={"incidents": ()})
    before = City(quiet, seed, start=sc.start - warmup, kinds=frozenset({SourceKind.TRAFFIC, SourceKind.AIR}))
    for e in tqdm(before.events(sc.start), desc="warm-up", unit="ev", leave=False):
        engine.process(e)
    city = City(sc, seed)
    tick = sc.start + timedelta(minutes=1)
    costs: dict[str, list[float]] = {}
    n = 0
    clock = time.perf_counter
    t0 = time.process_time()
    for e in city.events(sc.start + timedelta(hours=hours)):
        produced = clock()  # the simulator has just handed the event over
        while e.event_time >= tick:
            engine.tick(tick)
            tick += timedelta(minutes=1)
        engine.process(e)
        costs.setdefault(str(getattr(e, "kind", type(e).__name__)), []).append(clock() - produced)
        n += 1
    cpu = time.process_time() - t0
    return n, cpu, costs


def _quantile(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def cost_table(costs: dict[str, list[float]]) -> list[str]:
    """Per source kind: samples and p50/p95/p99/max of the per-event cost in microseconds."""
    lines = ["kind        samples    p50 µs    p95 µs    p99 µs    max µs"]
    everything = sorted(c for cs in costs.values() for c in cs)
    for kind, cs in sorted(costs.items()) + [("all", everything)]:
        xs = sorted(cs)
        lines.append(f"{kind:<10} {len(xs):>8} " + " ".join(
            f"{_quantile(xs, q) * 1e6:>9.0f}" for q in (0.5, 0.95, 0.99, 1.0)))  # fmt: skip
    return lines


def latency(rate: float, n_alerts: int) -> list[float]:
    """Event handed to Kafka → alert row visible in PostgreSQL, in seconds, per planted alert."""
    with tempfile.TemporaryDirectory(prefix="ioc-bench-alerts-") as tmp:  # removed even on failure
        return _latency(Path(tmp), rate, n_alerts)


def _latency(root: Path, rate: float, n_alerts: int) -> list[float]:
    import psycopg

    from alerts.service import run_engine
    from geodata.sites import load_sites
    from ioc.kafka import make_producer
    from ioc.launcher import Stack
    from ioc.settings import Settings
    from ioc.sources import SourceKind
    from ioc.sources.camera import CameraEvent, Detection, DetectionType
    from ioc.sources.traffic import TrafficEvent
    from ioc.topics import topic_for

    with Stack(Settings(data_dir=root, database_url=None, kafka_bootstrap=None)) as stack:
        s = stack.settings
        stop, ready = threading.Event(), threading.Event()
        engine = threading.Thread(
            target=run_engine, args=(s, stop), kwargs={"ready": ready, "tick_seconds": 1.0}
        )
        engine.start()
        assert ready.wait(120), "engine not ready"
        cams = [c.source_id for c in load_sites(SourceKind.CAMERA) if c.properties.get("analytics", True)]
        segs = [g.source_id for g in load_sites(SourceKind.TRAFFIC)]
        sent: dict[str, float] = {}
        seen: dict[str, float] = {}
        done = threading.Event()

        def watch() -> None:
            with psycopg.connect(s.database_dsn(), autocommit=True) as conn:
                while not done.is_set():
                    for (key,) in conn.execute("SELECT alert_key FROM alerts").fetchall():
                        seen.setdefault(key, time.time())
                    time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        producer = make_producer(s.kafka_bootstrap or "", linger_ms=0)
        traffic_topic, camera_topic = (
            topic_for(SourceKind.TRAFFIC, s.topic_prefix),
            topic_for(SourceKind.CAMERA, s.topic_prefix),
        )
        start = time.time()
        k = 0
        fired = 0
        with tqdm(total=n_alerts, desc="alerts", unit="alert") as bar:
            while fired < n_alerts:
                now = datetime.now(UTC)
                seg = segs[k % len(segs)]
                e = TrafficEvent(event_id=uuid.uuid4(), source_id=seg, event_time=now, speed_kmh=35.0,
                                 volume_vph=900, occupancy_pct=10, free_flow_kmh=50)  # fmt: skip
                producer.send(traffic_topic, key=e.key(), value=e.to_json())
                k += 1
                if time.time() - start >= 0.5 * (fired + 1) and fired < len(cams):
                    cam = cams[fired]
                    ce = CameraEvent(event_id=uuid.uuid4(), source_id=cam, event_time=now, online=True,
                                     detections=(Detection(type=DetectionType.FIRE_SMOKE, confidence=0.95),))  # fmt: skip
                    producer.send(camera_topic, key=ce.key(), value=ce.to_json())
                    producer.flush()
                    sent[f"camera-detection:{cam}:fire_smoke"] = time.time()
                    fired += 1
                    bar.update(1)
                time.sleep(max(0.0, start + k / rate - time.time()))
        producer.flush()
        deadline = time.time() + 30
        while time.time() < deadline and not all(key in seen for key in sent):
            time.sleep(0.05)
        done.set()
        watcher.join()
        stop.set()
        engine.join(30)
        producer.close()
        print(f"background traffic readings sent: {k} at ~{k / (time.time() - start):.0f}/s")
        missing = [key for key in sent if key not in seen]
        if missing:
            print(f"alerts never seen: {len(missing)}")
        return [seen[key] - sent[key] for key in sent if key in seen]


def main() -> None:
    from simulators.scenario import parse_duration

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--warmup", default="1d")
    p.add_argument("--rate", type=float, default=300.0, help="background events per second (latency part)")
    p.add_argument("--alerts", type=int, default=40)
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-latency", action="store_true")
    args = p.parse_args()
    if not args.skip_throughput:
        n, cpu, costs = throughput(args.hours, parse_duration(args.warmup))
        print(f"throughput: {n:,} events in {cpu:.1f} s CPU = {n / cpu:,.0f} events/s per core "
              f"(all rules + anomaly models, {args.hours:g} h of the city)")  # fmt: skip
        print("per-event cost, from the event's production to the end of its processing:")
        print("\n".join(cost_table(costs)))
    if not args.skip_latency:
        lat = sorted(latency(args.rate, args.alerts))
        if lat:
            p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
            print(f"latency event→alert in DB over {len(lat)} alerts: p50 {statistics.median(lat) * 1000:.0f} ms, "
                  f"p95 {p95 * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms (target p95 ≤ 1000 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
