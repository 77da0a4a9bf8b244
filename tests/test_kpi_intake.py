"""Dossier events → dossiers and the 766 counters (ioc.kpi.intake), on the real PostgreSQL.

The incremental counters must equal the CSV command's computation over the same dossiers; a
batch is folded exactly once even when the worker is killed mid-way and restarted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from ioc.kpi.index766 import COUNTER_NAMES, Index766Book
from ioc.kpi.intake import STATE_COLUMNS, DossierIntake, DossierState, month_of, rebuild_counters
from ioc.kpi.live import book_for, parse_period, read_accumulators
from ioc.sources import SourceKind
from ioc.sources.dossier import DossierChannel, DossierEvent, DossierRating, DossierStep
from simulators.dossiers import backfill
from streams.tables import SPECS

pytestmark = pytest.mark.integration
SPEC = SPECS[SourceKind.DOSSIER]
T0 = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


def store(conn: psycopg.Connection, events: list[DossierEvent], unit: str | None = None) -> None:
    """Insert events the way the spine's sink stores them."""
    cols = ", ".join(SPEC.all_columns)
    with conn.cursor() as cur, cur.copy(f"COPY {SPEC.table} ({cols}) FROM STDIN") as copy:  # noqa: S608 - fixed names
        for e in events:
            copy.write_row(SPEC.row(e, late=False, admin_unit=unit))


def ev(step: DossierStep, dossier: str, t: datetime, **kw: object) -> DossierEvent:
    return DossierEvent(event_id=uuid.uuid4(), source_id="dvc-snv", unit="SNV", dossier_id=dossier, step=step,
                        event_time=t, **kw)  # type: ignore[arg-type]


def received(dossier: str, t: datetime, **kw: object) -> DossierEvent:
    base: dict[str, object] = dict(sector="noi_vu", procedure_code="1.0", procedure_name="Thủ tục", fee_vnd=10_000,
                                   channel=DossierChannel.ONLINE, due_at=t + timedelta(days=2),
                                   eligible_full_online=True, full_online=True)
    base.update(kw)
    return ev(DossierStep.RECEIVED, dossier, t, **base)


def counters(conn: psycopg.Connection) -> dict[tuple[str, object], tuple[int, ...]]:
    rows = conn.execute(f"SELECT unit, month, sector, {', '.join(COUNTER_NAMES)} FROM dossier_counters").fetchall()  # noqa: S608
    return {(r[0], r[1], r[2]): tuple(r[3:]) for r in rows if any(r[3:])}


def book_from_table(conn: psycopg.Connection) -> Index766Book:
    book = Index766Book()
    with conn.cursor(row_factory=dict_row) as cur:
        for r in cur.execute("SELECT * FROM dossiers"):
            rec = DossierState(**{c: r[c] for c in STATE_COLUMNS}).record()
            if rec is not None:
                book.add(rec)
    return book


def test_steps_fold_into_one_dossier_in_any_order(conn: psycopg.Connection) -> None:
    due = T0 + timedelta(days=2)
    steps = [
        ev(DossierStep.COMPLETED, "D1", T0 + timedelta(days=3), e_result=True, digitised=True, reused_data=False),
        ev(DossierStep.SUPPLEMENT_REQUESTED, "D1", T0 + timedelta(hours=5), due_at=due + timedelta(days=2)),
        ev(DossierStep.RATED, "D1", T0 + timedelta(days=4), rating=DossierRating.UNSATISFIED),
        ev(DossierStep.PAID_ONLINE, "D1", T0 + timedelta(minutes=20)),
    ]
    store(conn, steps)  # the steps come before the dossier: nothing is counted yet
    DossierIntake().drain(conn)
    assert counters(conn) == {}
    store(conn, [received("D1", T0, due_at=due)])
    DossierIntake().drain(conn)
    row = conn.execute("SELECT due_at, completed_at, supplement_requests, paid_online, rating, e_result, month"
                       " FROM dossiers WHERE dossier_id = 'D1'").fetchone()
    assert row == (due + timedelta(days=2), T0 + timedelta(days=3), 1, True, "unsatisfied", True, month_of(T0))
    got = counters(conn)[("SNV", month_of(T0), "noi_vu")]
    named = dict(zip(COUNTER_NAMES, got, strict=True))
    # completed on time (3 days ≤ 4 after the extension) but rated unsatisfied: 2.1 yes, 5.4 no.
    assert named["completed_on_time"] == 1 and named["completed_on_time_content"] == 0
    assert named["paid_online"] == named["fee_bearing"] == named["digitised"] == named["completed_e_result"] == 1


def test_incremental_counters_equal_the_csv_computation(conn: psycopg.Connection) -> None:
    events = list(backfill(T0 + timedelta(days=5), 5, seed=3))
    half = len(events) // 2
    intake = DossierIntake(batch=700)
    store(conn, events[:half])
    intake.drain(conn)
    store(conn, events[half:])
    intake.drain(conn)
    assert intake.folded == len(events)
    book = book_from_table(conn)
    as_of = T0 + timedelta(days=5)
    # The counters kept incrementally, read back, score exactly as the shared implementation does.
    accs = read_accumulators(conn, date(2026, 1, 1), date(2027, 1, 1))
    live = book_for(accs, parse_period("2026-09"))
    assert set(live.units) == set(book.units)
    for unit, acc in book.units.items():
        assert live.units[unit].counts(as_of) == acc.counts(as_of), unit
    assert live.result(as_of).to_dict() == book.result(as_of).to_dict()
    before = counters(conn)
    assert rebuild_counters(conn) == conn.execute("SELECT count(*) FROM dossiers WHERE received_at IS NOT NULL"
                                                  ).fetchone()[0]
    assert counters(conn) == before


def test_killed_worker_folds_every_event_exactly_once(conn: psycopg.Connection, stack) -> None:  # type: ignore[no-untyped-def]
    events = list(backfill(T0 + timedelta(days=6), 6, seed=5))
    store(conn, events)
    env = {**os.environ, "IOC_DATABASE_URL": stack.settings.database_dsn(), "IOC_DATA_DIR": str(stack.settings.data_dir)}
    for _ in range(3):  # killed without warning, three times, while folding
        proc = subprocess.Popen([sys.executable, "-m", "ioc.kpi.intake"], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = conn.execute("SELECT count(*) FROM dossier_intake_done").fetchone()[0]
            if done > 0:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = subprocess.Popen([sys.executable, "-m", "ioc.kpi.intake"], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if conn.execute("SELECT count(*) FROM dossier_intake_done").fetchone()[0] == len(events):
                break
            time.sleep(0.2)
        beat = conn.execute("SELECT role FROM component_health WHERE component = 'worker:kpi-intake'").fetchone()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert conn.execute("SELECT count(*) FROM dossier_intake_done").fetchone()[0] == len(events)
    assert beat == ("intake",)
    incremental = counters(conn)
    rebuild_counters(conn)
    assert counters(conn) == incremental  # nothing counted twice, nothing lost
    received_n = sum(1 for e in events if e.step is DossierStep.RECEIVED)
    assert sum(v[0] for v in incremental.values()) == received_n
