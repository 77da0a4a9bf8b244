"""``python -m streams --kind K --workers N``: one source over several consumer processes in its group."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from ioc.launcher import Stack
from ioc.services.proc import wait_until
from ioc.sources import SourceKind
from tests.streamutil import distinct_ids, produce_events, table_counts, valid_events

ASSIGNED = re.compile(r"^\S+ \S+ (\d+) streams\.consumer INFO assigned \[([\d, ]*)\]", re.M)


def _start(stack: Stack, log: Path, workers: int) -> subprocess.Popen[bytes]:
    env = stack.child_env()
    env["IOC_DATABASE_URL"] = stack.settings.database_dsn()
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streams", "--kind", "traffic", "--workers", str(workers)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip


def _latest_assignments(log: Path) -> dict[str, set[int]]:
    latest: dict[str, set[int]] = {}
    for pid, parts in ASSIGNED.findall(log.read_text(errors="replace")):
        latest[pid] = {int(x) for x in parts.split(",") if x.strip()}
    return latest


def test_two_workers_share_the_partitions_and_store_each_event_once(stack: Stack, tmp_path: Path) -> None:
    events = [e for e in valid_events(2400, seed=5) if e.kind is SourceKind.TRAFFIC]
    produce_events(stack.settings.kafka_bootstrap or "", stack.settings.topic_prefix, events)
    log = tmp_path / "workers.log"
    proc = _start(stack, log, workers=2)
    dsn = stack.settings.database_dsn()
    try:
        wait_until(
            lambda: table_counts(dsn)["traffic_events"] >= len(events), 180, "the traffic events stored"
        )

        def both_members() -> bool:
            latest = _latest_assignments(log)
            return len(latest) == 2 and set().union(*latest.values()) == set(
                range(stack.settings.topic_partitions)
            )

        wait_until(both_members, 60, "two group members holding every partition")
        latest = _latest_assignments(log)
        assert all(latest.values()), f"a worker holds no partition: {latest}"  # 3 partitions over 2 members
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0
    assert distinct_ids(dsn) == (len(events), len(events))  # exactly once across the two processes
    assert table_counts(dsn)["deadletter"] == 0


def test_a_worker_that_dies_stops_the_set_for_a_clean_restart(stack: Stack, tmp_path: Path) -> None:
    log = tmp_path / "workers.log"
    proc = _start(stack, log, workers=2)
    try:
        wait_until(lambda: len(_latest_assignments(log)) == 2, 120, "both members assigned")
        child = next(c for c in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(c.cmdline()))
        child.send_signal(signal.SIGKILL)
        code = proc.wait(60)  # the supervisor then restarts the whole set
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 1
    assert "a consumer worker exited; stopping the others" in log.read_text()
