"""Ingest benchmark: the real consumers end to end vs. naive and batched loops vs. raw COPY.

    python benchmarks/ingest.py [--events 200000] [--workers 1] [--naive-events 5000] [--producers 2]

Starts its own stack through ``ioc.launcher.Stack`` (embedded PostgreSQL + tansu in a temporary data
directory, removed at the end, secrets first, even on failure), and measures in one run:

1. live, the target's figure: the consumers (``python -m streams --kind K --workers W``, one group
   per kind) are running and have their partitions; N valid events (the four kinds in equal
   shares) are produced by several producer processes; wall-clock from the first event sent to
   the moment all N rows are stored (polled every 0.1 s);
2. backlog: the broker already holds the N events; fresh consumers (new group, fresh database)
   start and store them all; timed from starting them (group joins included);
3. naive: one kafka-python loop, decode + one INSERT + one COMMIT per message (a subset);
4. batched: the same loop committing once per poll batch (``executemany``): the honest baseline;
   not crash-safe (Kafka offsets are not stored with the rows, so a crash re-reads or skips);
5. raw COPY: the stored rows copied (binary) into a fresh database: no Kafka, no decoding.

Each line gives events/s and CPU-seconds per million events of the client processes and of the
database server; the consumers' peak RSS is printed too. The target line judges the live figure.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from psycopg import sql
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._scratch import make_scratch, remove_tree  # noqa: E402
from geodata.registry import sync_sources  # noqa: E402
from geodata.sites import load_sites  # noqa: E402
from ioc import db  # noqa: E402
from ioc.launcher import Stack  # noqa: E402
from ioc.settings import Settings  # noqa: E402
from ioc.sources import SourceKind  # noqa: E402
from ioc.sources.air import AirEvent  # noqa: E402
from ioc.sources.camera import CameraEvent, Detection, DetectionType, VehicleCounts  # noqa: E402
from ioc.sources.feedback import FeedbackEvent  # noqa: E402
from ioc.sources.traffic import TrafficEvent  # noqa: E402
from ioc.topics import TOPIC_SOURCES, topic_for  # noqa: E402
from streams.decode import Rejected, decode  # noqa: E402
from streams.tables import SPECS  # noqa: E402

# The four streamed kinds the benchmark produces (the others are not part of this load).
KINDS = [SourceKind.CAMERA, SourceKind.TRAFFIC, SourceKind.AIR, SourceKind.FEEDBACK]


@dataclass(frozen=True)
class Rate:
    label: str
    events: int
    seconds: float
    client_cpu: float = float("nan")  # CPU-seconds of the client processes (consumers / loop)
    db_cpu: float = float("nan")  # CPU-seconds of the database server's processes
    guarantee: str = ""

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    def cpu_per_million(self, cpu: float) -> float:
        return cpu / self.events * 1e6 if self.events else float("nan")


def _cpu(procs: list[psutil.Process]) -> float:
    """User + system CPU-seconds of the living processes given."""
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def postgres_processes(root: Path) -> list[psutil.Process]:
    """The embedded server's processes (postmaster under ``root`` and its backends, at this moment)."""
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if (p.info.get("name") or "").startswith("postgres") and str(root) in cmd:
            try:
                return [p, *p.children(recursive=True)]
            except psutil.Error:
                return [p]
    return []


class DbCpu:
    """CPU of the database server over a phase (backends that exit in between are not counted)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.start: dict[int, float] = {}

    def begin(self) -> None:
        self.start = {p.pid: _cpu([p]) for p in postgres_processes(self.root)}

    def seconds(self) -> float:
        return sum(_cpu([p]) - self.start.get(p.pid, 0.0) for p in postgres_processes(self.root))


# -- production --------------------------------------------------------------------------------


def _wire(
    i: int, rng: random.Random, sites: dict[SourceKind, list[str]], start: datetime
) -> tuple[str, bytes, bytes]:
    """Event number ``i`` as (kind, key, JSON bytes): built and validated through the real event classes."""
    kind = KINDS[i % 4]
    common = {
        "event_id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "source_id": rng.choice(sites[kind]),
        "event_time": start + timedelta(milliseconds=i),
    }
    if kind is SourceKind.TRAFFIC:
        e = TrafficEvent(
            **common,
            speed_kmh=rng.uniform(5, 60),
            volume_vph=rng.uniform(100, 3000),
            occupancy_pct=rng.uniform(1, 60),
            free_flow_kmh=50,
        )
    elif kind is SourceKind.AIR:
        e = AirEvent(
            **common,
            pm25=rng.uniform(5, 150),
            pm10=rng.uniform(10, 200),
            no2=rng.uniform(5, 80),
            so2=rng.uniform(1, 30),
            o3=rng.uniform(10, 120),
            co=rng.uniform(300, 3000),
            temperature_c=rng.uniform(18, 35),
            humidity_pct=rng.uniform(50, 95),
        )
    elif kind is SourceKind.CAMERA:
        dets = (Detection(type=DetectionType.CROWD, confidence=rng.random()),) if i % 10 == 0 else ()
        e = CameraEvent(
            **common,
            online=True,
            detections=dets,
            counts=VehicleCounts(
                motorbike=rng.randint(0, 90),
                car=rng.randint(0, 20),
                bus=rng.randint(0, 3),
                truck=rng.randint(0, 5),
            ),
        )
    else:
        e = FeedbackEvent(
            **common,
            ticket_id=f"HP-{i}",
            category="giao_thong",
            text="Đèn tín hiệu ngã tư Lạch Tray – Văn Cao không hoạt động, ùn tắc kéo dài",
            lon=106.68 + rng.uniform(-0.03, 0.03),
            lat=20.85 + rng.uniform(-0.03, 0.03),
            reporter_name="Nguyễn Văn An",
            reporter_phone="0912 345 678",
        )
    return kind.value, e.key(), e.to_json()


def _produce_slice(
    bootstrap: str, prefix: str, start_i: int, count: int, seed: int, env: dict[str, str]
) -> tuple[int, float, float]:
    """Worker process: build and send events ``start_i .. start_i+count``; return (sent, wall time of
    the first send, CPU-seconds)."""
    from geodata.sites import load_sites
    from ioc.crypto import default_keyring
    from ioc.kafka import make_producer

    os.environ.update(env)  # the stack's settings: its personal-data key encrypts the reporters' fields
    default_keyring.cache_clear()

    rng = random.Random(seed)
    sites = {k: [s.source_id for s in load_sites(k)] for k in KINDS}
    start = datetime.now(UTC) - timedelta(minutes=30)
    topics = {k.value: topic_for(k, prefix) for k in KINDS}
    # Order across retries does not matter here, so allow several requests in flight (faster).
    producer = make_producer(
        bootstrap, linger_ms=20, batch_size=1024 * 1024, max_in_flight_requests_per_connection=5
    )
    c0 = time.process_time()
    first = time.time()
    for i in range(start_i, start_i + count):
        kind, key, value = _wire(i, rng, sites, start)
        producer.send(topics[kind], key=key, value=value)
    producer.flush()
    producer.close()
    return count, first, time.process_time() - c0


def produce(
    bootstrap: str, prefix: str, n: int, workers: int, env: dict[str, str], chunk: int = 0
) -> tuple[Rate, float]:
    """Build and send N events from ``workers`` processes; return the rate and the first send's wall time."""
    chunk = chunk or max(1000, min(20_000, -(-n // (4 * workers))))  # every producer busy, the bar moves
    starts = range(0, n, chunk)
    with ProcessPoolExecutor(workers) as pool, tqdm(total=n, desc="producing", unit="ev") as bar:
        pool.submit(time.sleep, 0).result()  # the pool's processes exist before the clock starts
        t0 = time.time()
        futures = [
            pool.submit(_produce_slice, bootstrap, prefix, s, min(chunk, n - s), 1000 + s, env)
            for s in starts
        ]
        first, cpu = float("inf"), 0.0
        for f in as_completed(futures):
            sent, at, c = f.result()
            first, cpu = min(first, at), cpu + c
            bar.update(sent)
        seconds = time.time() - t0
    return Rate(
        f"production ({workers} producer processes, build + JSON + send, acks=all)", n, seconds, cpu
    ), first


# -- 1. and 2. the real consumers -------------------------------------------------------------


def stored_per_kind(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT kind, accepted + rejected FROM ingest_stats").fetchall())


_ASSIGNED = re.compile(r"^\S+ \S+ (\d+) streams\.consumer INFO assigned \[([\d, ]*)\]", re.M)


class Consumers:
    """``python -m streams --kind K --workers W`` for every kind, as the launcher runs them."""

    def __init__(self, stack: Stack, dsn: str, group_prefix: str, workers: int, tag: str) -> None:
        self.workers, self.partitions = workers, stack.settings.topic_partitions
        env = stack.child_env()
        env.update(IOC_DATABASE_URL=dsn, IOC_CONSUMER_GROUP_PREFIX=group_prefix)
        root = Path(stack.settings.data_dir)
        self.logs = {k: root / f"bench-{tag}-{k.value}.log" for k in KINDS}
        self.procs: list[subprocess.Popen[bytes]] = []
        for k in KINDS:
            with open(self.logs[k], "wb") as out:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "streams", "--kind", k.value, "--workers", str(workers)],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )

    def processes(self) -> list[psutil.Process]:
        out: list[psutil.Process] = []
        for p in self.procs:
            try:
                top = psutil.Process(p.pid)
                out += [top, *top.children(recursive=True)]
            except psutil.Error:
                pass
        return out

    def ready(self) -> bool:
        """Every worker has logged an assignment and, per kind, the latest ones cover all partitions."""
        for k in KINDS:
            latest: dict[str, set[int]] = {}
            for pid, parts in _ASSIGNED.findall(self.logs[k].read_text(errors="replace")):
                latest[pid] = {int(x) for x in parts.split(",") if x.strip()}
            if len(latest) < self.workers or set().union(*latest.values()) != set(range(self.partitions)):
                return False
        return True

    def wait_ready(self, timeout: float = 90.0) -> float:
        t0 = time.perf_counter()
        while not self.ready():
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a consumer exited; see {list(self.logs.values())}")
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError("consumers did not get their partitions")
            time.sleep(0.2)
        time.sleep(1.0)  # a late joiner's rebalance settles
        return time.perf_counter() - t0

    def peak_rss_mib(self) -> float:
        """Largest peak resident set (VmHWM) among the consumer processes."""
        peak = 0
        for p in self.processes():
            try:
                for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                pass
        return peak / 1024

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_stored(dsn: str, n: int, timeout: float, desc: str) -> float:
    """Poll the counters every 0.1 s until ``n`` events are stored; return that moment's wall time."""
    t0 = time.perf_counter()
    with tqdm(total=n, desc=desc, unit="ev") as bar:
        done = 0
        while done < n:
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError(f"only {done} of {n} events stored after {timeout:.0f} s")
            time.sleep(0.1)
            now = sum(stored_per_kind(dsn).values())
            bar.update(now - done)
            done = now
    return time.time()


def check_exactly_once(dsn: str, n: int, what: str) -> None:
    """Every event stored once: N rows, no dead letters, counters equal to the rows."""
    with psycopg.connect(dsn) as conn:
        rows = 0
        for spec in SPECS.values():
            r = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(spec.table))).fetchone()
            rows += r[0] if r else 0
        dead = conn.execute("SELECT count(*) FROM deadletter").fetchone()[0]  # type: ignore[index]
        why = conn.execute("SELECT kind, reason, count(*) FROM deadletter GROUP BY 1, 2 LIMIT 5").fetchall()
    if rows != n or dead:
        raise RuntimeError(f"{what} stored {rows} rows and {dead} dead letters for {n} events: {why}")


def live(
    stack: Stack, root: Path, n: int, producers: int, workers: int, timeout: float
) -> tuple[Rate, Rate, float]:
    """Consumers up first, then production: first event sent → last row stored (the target's figure)."""
    dsn = stack.settings.database_dsn()
    consumers = Consumers(stack, dsn, stack.settings.consumer_group_prefix, workers, "live")
    pg = DbCpu(root)
    try:
        joined = consumers.wait_ready()
        print(f"consumers ready ({4 * workers} processes, partitions assigned) after {joined:.1f} s")
        procs = consumers.processes()
        cpu0 = _cpu(procs)
        pg.begin()
        env = {k: v for k, v in stack.child_env().items() if k.startswith("IOC_")}
        prod, first = produce(
            stack.settings.kafka_bootstrap or "", stack.settings.topic_prefix, n, producers, env
        )
        last = wait_stored(dsn, n, timeout, "live: consumers → PostgreSQL")
        cpu, dbcpu, rss = _cpu(procs) - cpu0, pg.seconds(), consumers.peak_rss_mib()
    finally:
        consumers.stop()
    check_exactly_once(dsn, n, "live")
    rate = Rate(
        f"ours, live: first event sent → last row stored ({workers} worker(s)/kind)",
        n,
        last - first,
        cpu,
        dbcpu,
        "exactly once (rows + offsets in one transaction, event-id ledger)",
    )
    return rate, prod, rss


def backlog(stack: Stack, root: Path, n: int, workers: int, timeout: float) -> Rate:
    """The broker holds N events; fresh consumers (new group, fresh database) store them all."""
    dsn = fresh_database(stack.settings.database_dsn(), "bench_backlog")
    pg = DbCpu(root)
    pg.begin()
    t0 = time.time()
    consumers = Consumers(stack, dsn, "bench-backlog", workers, "backlog")
    try:
        last = wait_stored(dsn, n, timeout, "backlog: consumers → PostgreSQL")
        cpu, dbcpu = _cpu(consumers.processes()), pg.seconds()
    finally:
        consumers.stop()
    check_exactly_once(dsn, n, "backlog")
    return Rate(
        "ours, backlog: consumers start → last row stored (start-up CPU incl.)",
        n,
        last - t0,
        cpu,
        dbcpu,
        "exactly once",
    )


# -- 2. naive ----------------------------------------------------------------------------------


def fresh_database(admin_dsn: str, name: str) -> str:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    db.migrate(dsn)
    with psycopg.connect(dsn) as conn:  # the same source registry the stack's database has
        sync_sources(conn, load_sites())
    return dsn


def naive(stack: Stack, root: Path, limit: int, *, per_batch: bool = False) -> Rate:
    """decode + one INSERT per message over the first ``limit`` messages of the four topics; one
    COMMIT per message, or (``per_batch``) one ``executemany`` per kind and one COMMIT per poll."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.consumer import load_known_sources, load_site_units

    s = stack.settings
    dsn = fresh_database(s.database_dsn(), "bench_batched" if per_batch else "bench_naive")
    consumer = KafkaConsumer(bootstrap_servers=s.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    tps = [TopicPartition(topic_for(k, s.topic_prefix), p) for k in KINDS for p in range(s.topic_partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    queries = {}
    for kind, spec in SPECS.items():
        cols = spec.all_columns
        queries[kind] = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
            sql.Identifier(spec.table),
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(sql.Placeholder() * len(cols)),
        )
    done = 0
    desc = "batched: COMMIT per poll" if per_batch else "naive: INSERT + COMMIT"
    pg = DbCpu(root)
    with psycopg.connect(dsn) as conn, tqdm(total=limit, desc=desc, unit="ev") as bar:
        known, units = load_known_sources(conn), load_site_units(conn)
        conn.commit()
        late_before = datetime.now(UTC) - timedelta(hours=1)
        pg.begin()
        c0, t0 = time.process_time(), time.perf_counter()
        while done < limit:
            for tp, msgs in consumer.poll(timeout_ms=500, max_records=500 if not per_batch else 5000).items():
                kind = TOPIC_SOURCES[tp.topic.removeprefix(s.topic_prefix)]
                rows = []
                for m in msgs:
                    if done >= limit:
                        break
                    event = decode(kind, m.value, known_sources=known, now=datetime.now(UTC))
                    if isinstance(event, Rejected):
                        raise RuntimeError(f"benchmark event rejected: {event.reason}")
                    row = SPECS[kind].row(
                        event, late=event.event_time < late_before, admin_unit=units.get(event.source_id)
                    )
                    done += 1
                    if per_batch:
                        rows.append(row)
                        continue
                    conn.execute(queries[kind], row)
                    conn.commit()
                    bar.update()
                if per_batch and rows:
                    with conn.cursor() as cur:
                        cur.executemany(queries[kind], rows)
                    conn.commit()
                    bar.update(len(rows))
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        dbcpu = pg.seconds()
    consumer.close()
    if per_batch:
        return Rate(
            f"batched: executemany + one COMMIT per poll ({limit} messages)",
            done,
            seconds,
            cpu,
            dbcpu,
            "none: offsets not stored with the rows; a crash re-reads or skips a batch",
        )
    return Rate(
        f"naive: one INSERT + COMMIT per message ({limit} messages)",
        done,
        seconds,
        cpu,
        dbcpu,
        "at least once at best: offsets not stored with the rows",
    )


# -- 3. raw COPY -------------------------------------------------------------------------------


def raw_copy(stack: Stack, root: Path) -> Rate:
    """COPY (binary) the stored rows into a fresh database with the same schema: the physical limit."""
    src = stack.settings.database_dsn()
    dst = fresh_database(src, "bench_copy")
    buffers: dict[str, list[bytes]] = {}
    n = 0
    with psycopg.connect(src) as conn:
        for spec in SPECS.values():
            cols = sql.SQL(", ").join(map(sql.Identifier, spec.all_columns))
            chunks: list[bytes] = []
            with conn.cursor().copy(
                sql.SQL("COPY {} ({}) TO STDOUT (FORMAT BINARY)").format(sql.Identifier(spec.table), cols)
            ) as copy:
                for data in copy:
                    chunks.append(bytes(data))
            buffers[spec.table] = chunks
            n += conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(spec.table))
            ).fetchone()[0]  # type: ignore[index]
    pg = DbCpu(root)
    with psycopg.connect(dst) as conn:
        pg.begin()
        c0, t0 = time.process_time(), time.perf_counter()
        for spec in tqdm(list(SPECS.values()), desc="raw COPY", unit="table"):
            cols = sql.SQL(", ").join(map(sql.Identifier, spec.all_columns))
            with conn.cursor().copy(
                sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(spec.table), cols)
            ) as copy:
                for chunk in buffers[spec.table]:
                    copy.write(chunk)
        conn.commit()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        dbcpu = pg.seconds()
    return Rate(
        "raw COPY: the same rows (binary, one transaction, same indexes)",
        n,
        seconds,
        cpu,
        dbcpu,
        "n/a (no consumer)",
    )


# -- where the time goes ------------------------------------------------------------------------


def stages(stack: Stack, limit: int, batch: int) -> None:
    """Wall time per event of each consumer stage, run in this one process on ``limit`` messages per kind."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.__main__ import _feedback_units
    from streams.consumer import load_known_sources, load_site_units
    from streams.sink import TimescaleSink

    s = stack.settings
    dsn = fresh_database(s.database_dsn(), "bench_stages")
    print(f"\nStages, µs per event (one process, {limit} messages per kind, batches of {batch}):")
    print(
        f"  {'kind':<9} {'kafka read':>10} {'decode':>8} {'row+unit':>9} {'flush':>8} {'total':>8} {'→ ev/s/core':>12}"
    )
    with psycopg.connect(dsn) as conn:
        known, units = load_known_sources(conn), load_site_units(conn)
        conn.commit()
        for kind in KINDS:
            consumer = KafkaConsumer(
                bootstrap_servers=s.kafka_bootstrap, group_id=None, enable_auto_commit=False
            )
            tps = [TopicPartition(topic_for(kind, s.topic_prefix), p) for p in range(s.topic_partitions)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            msgs: list = []
            t = time.process_time()  # CPU of this process (all threads): robust on a busy machine
            while len(msgs) < limit:
                for records in consumer.poll(timeout_ms=500, max_records=batch).values():
                    msgs.extend(records)
            read = time.process_time() - t
            consumer.close()
            msgs = msgs[:limit]
            now = datetime.now(UTC)
            t = time.process_time()
            events = [decode(kind, m.value, known_sources=known, now=now) for m in msgs]
            dec = time.process_time() - t
            units_of = _feedback_units(kind)
            sink = TimescaleSink(conn, "bench-stages", kind)
            late_before = now - timedelta(hours=1)
            row = flush = 0.0
            for i in range(0, limit, batch):
                t = time.process_time()
                chunk = events[i : i + batch]
                chunk_units = units_of(chunk) if units_of else [units.get(e.source_id) for e in chunk]
                for m, e, unit in zip(msgs[i : i + batch], chunk, chunk_units, strict=True):
                    sink.add(
                        e,
                        topic=m.topic,
                        partition=m.partition,
                        offset=m.offset,
                        late=e.event_time < late_before,
                        admin_unit=unit,
                        raw=m.value,
                    )
                row += time.process_time() - t
                t = time.perf_counter()
                sink.flush()
                flush += time.perf_counter() - t
            us = [x / limit * 1e6 for x in (read, dec, row, flush)]
            print(
                f"  {kind.value:<9} {us[0]:>10.1f} {us[1]:>8.1f} {us[2]:>9.1f} {us[3]:>8.1f} {sum(us):>8.1f}"
                f" {1e6 / sum(us):>12,.0f}"
            )
    print(
        "  (kafka read, decode, row+unit: client CPU time; flush: wall time of COPY into staging +"
        " INSERT … ON CONFLICT … RETURNING + offsets + counters + commit, database work included)"
    )


# -- main --------------------------------------------------------------------------------------

TARGET = 50_000  # events/s end to end, wall-clock first event → last row (issue 16)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1, help="consumer processes per kind (one group)")
    parser.add_argument("--naive-events", type=int, default=5_000, help="messages for the naive loop")
    parser.add_argument("--batched-events", type=int, default=50_000, help="messages for the batched loop")
    parser.add_argument("--producers", type=int, default=2, help="producer processes")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--no-backlog", action="store_true", help="skip the backlog run")
    parser.add_argument(
        "--batch-max-records", type=int, default=None, help="consumer batch size (default: Settings)"
    )
    parser.add_argument(
        "--stages", type=int, default=10_000, help="messages per kind for the stage breakdown (0: skip)"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="give up a wait for rows after this")
    args = parser.parse_args()

    root = make_scratch()  # removed at the end, at exit and on SIGTERM, secrets first
    update: dict[str, object] = {
        "data_dir": root,
        "database_url": None,
        "kafka_bootstrap": None,
        "topic_partitions": args.partitions,
    }
    if args.batch_max_records:
        update["batch_max_records"] = args.batch_max_records
    settings = Settings(**update)  # type: ignore[arg-type]
    load0 = os.getloadavg()
    print(f"ioc ingest benchmark: {args.events} events, {os.cpu_count()} CPUs, load {load0[0]:.2f} (1 min)")
    bl = None
    try:
        with Stack(settings) as stack:
            from ioc.crypto import default_keyring

            # This process decodes and builds rows too (naive, batched, stages): the stack's key.
            os.environ.update({k: v for k, v in stack.child_env().items() if k.startswith("IOC_")})
            default_keyring.cache_clear()
            with psycopg.connect(stack.settings.database_dsn()) as conn:
                flavour = db.current_flavour(conn).value
                version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            print(
                f"PostgreSQL {version} ({flavour}), broker {stack.settings.kafka_bootstrap},"
                f" {args.partitions} partitions/topic, batch_max_records={stack.settings.batch_max_records},"
                f" sink_mode={stack.settings.sink_mode}, {args.workers} consumer worker(s) per kind"
            )
            ours, prod, rss = live(stack, root, args.events, args.producers, args.workers, args.timeout)
            print(f"{prod.label}: {prod.per_second:,.0f} events/s ({prod.seconds:.1f} s)")
            print(f"{ours.label}: {ours.per_second:,.0f} events/s ({ours.seconds:.1f} s)")
            if not args.no_backlog:
                bl = backlog(stack, root, args.events, args.workers, args.timeout)
                print(f"{bl.label}: {bl.per_second:,.0f} events/s ({bl.seconds:.1f} s)")
            nv = naive(stack, root, min(args.naive_events, args.events))
            bt = naive(stack, root, min(args.batched_events, args.events), per_batch=True)
            cp = raw_copy(stack, root)
            if args.stages:
                stages(stack, min(args.stages, args.events // 4), stack.settings.batch_max_records)
    finally:
        remove_tree(root)
    load1 = os.getloadavg()

    rates = [r for r in (ours, bl, nv, bt, cp) if r is not None]
    print(f"\nResults (load average {load0[0]:.2f} at start, {load1[0]:.2f} at end; {os.cpu_count()} CPUs)")
    print(f"  {'':<72} {'events/s':>10} {'client CPU-s/M':>15} {'db CPU-s/M':>11}")
    for r in rates:
        print(
            f"  {r.label:<72} {r.per_second:>10,.0f} {r.cpu_per_million(r.client_cpu):>15,.0f}"
            f" {r.cpu_per_million(r.db_cpu):>11,.0f}   ({r.events} in {r.seconds:.1f} s)"
        )
    print(
        f"  {'production (for reference; producer CPU in client column)':<72} {prod.per_second:>10,.0f}"
        f" {prod.cpu_per_million(prod.client_cpu):>15,.0f}"
    )
    print(f"Peak RSS of a consumer process (live run): {rss:.0f} MiB")
    print("On a consumer crash (kill -9):")
    for r in rates:
        print(f"  {r.label.split(':')[0]:<16} {r.guarantee}")
    print("Ratios (events/s)")
    print(f"  ours live / naive      {ours.per_second / nv.per_second:8.1f}×")
    print(f"  ours live / batched    {ours.per_second / bt.per_second:8.2f}×")
    print(f"  ours live / raw COPY   {ours.per_second / cp.per_second:8.2f}")
    if bl is not None:
        print(f"  ours backlog / batched {bl.per_second / bt.per_second:8.2f}×")
    met = ours.per_second >= TARGET
    print(
        f"Target (≥ {TARGET:,} events/s end to end, wall-clock first event → last row): "
        f"{'met' if met else 'NOT met'} ({ours.per_second:,.0f} events/s)"
    )
    print("Target (≥ 2× Quix Streams in the same run): not judged here (no peer in this benchmark)")
    print(f"Naive and batched rates measured on {nv.events} and {bt.events} messages.")
    counts = Counter(KINDS[i % 4].value for i in range(args.events))
    print(f"Mix: {dict(counts)}")


if __name__ == "__main__":
    main()
