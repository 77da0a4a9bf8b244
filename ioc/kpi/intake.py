"""``python -m ioc.kpi.intake``: dossier events → one row per dossier and the 766 counters.

The spine stores every dossier step in ``dossier_events``. :meth:`DossierIntake.once` takes the
rows it has not folded yet (an anti-join on ``dossier_intake_done`` behind a watermark on
``ingested_at`` minus a safety margin, as the ticket intake does) and, in **one transaction per
batch**: records their ids in ``dossier_intake_done`` (``ON CONFLICT DO NOTHING RETURNING``: an id
already there is skipped, so two workers or a restart never fold an event twice), locks the
dossiers they touch, folds the steps into them, and moves each changed dossier's contribution in
``dossier_counters`` (per unit, local month of receipt and sector) from its old record to its new one with
the very function the CSV command uses (:func:`ioc.kpi.index766.counters_of`). A crash rolls the
whole batch back; the next run folds it again.

Folding is order-tolerant (a step may be stored before the dossier's ``received``): a dossier is
counted only once its ``received`` step is in; the due time only moves later (an extension); a
``returned`` dossier counts as completed (handling ended) without an electronic result; a
completion earlier than the receipt is read as at the receipt.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ioc import db, health
from ioc.kpi.index766 import COUNTER_NAMES, Channel, DossierRecord, Rating, counters_of

log = logging.getLogger("ioc.kpi.intake")

COMPONENT = "worker:kpi-intake"
LOCAL = timezone(timedelta(hours=7))
SAFETY_MARGIN = timedelta(minutes=10)
BATCH = 2000
_STEP_RANK = {"received": 0, "supplement_requested": 1, "paid_online": 2, "completed": 3, "returned": 3,
              "rated": 4, "complained": 5}  # fmt: skip


@dataclass(slots=True)
class DossierState:
    """One row of ``dossiers`` (the CSV columns of index766.md §8, plus sector and procedure)."""

    dossier_id: str
    unit: str
    sector: str | None = None
    procedure_code: str | None = None
    procedure_name: str | None = None
    channel: str | None = None
    eligible_full_online: bool = False
    full_online: bool = False
    received_at: datetime | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    returned: bool = False
    supplement_requests: int = 0
    fee_vnd: int = 0
    paid_online: bool = False
    e_result: bool = False
    digitised: bool = False
    reused_data: bool = False
    rating: str | None = None
    complained: bool = False
    month: date | None = None
    updated_at: datetime | None = None

    def record(self) -> DossierRecord | None:
        """The dossier as the index counts it; None until its ``received`` step is in."""
        if self.received_at is None or self.due_at is None or self.channel is None:
            return None
        done = None if self.completed_at is None else max(self.completed_at, self.received_at)
        return DossierRecord(
            self.dossier_id, self.unit, Channel(self.channel), self.eligible_full_online, self.full_online,
            self.received_at, self.due_at, done, self.supplement_requests, self.fee_vnd, self.paid_online,
            self.e_result, self.digitised, self.reused_data, None if self.rating is None else Rating(self.rating),
            self.complained,
        )  # fmt: skip


STATE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(DossierState))


def month_of(t: datetime) -> date:
    """First day of the local (+07) month of ``t``."""
    local = t.astimezone(LOCAL)
    return date(local.year, local.month, 1)


def apply_step(s: DossierState, e: dict[str, Any]) -> None:
    """Fold one stored event (a ``dossier_events`` row) into the dossier's state."""
    step, t = e["step"], e["event_time"]
    if step == "received":
        s.unit = e["unit"]
        for name in ("sector", "procedure_code", "procedure_name", "channel", "eligible_full_online",
                     "full_online", "fee_vnd"):  # fmt: skip
            setattr(s, name, e[name])
        s.received_at = t
        s.month = month_of(t)
        s.due_at = e["due_at"] if s.due_at is None else max(s.due_at, e["due_at"])
    elif step == "supplement_requested":
        s.supplement_requests += 1
        if e["due_at"] is not None:
            s.due_at = e["due_at"] if s.due_at is None else max(s.due_at, e["due_at"])
    elif step == "completed":
        s.completed_at, s.returned = t, False
        s.e_result, s.digitised, s.reused_data = bool(e["e_result"]), bool(e["digitised"]), bool(e["reused_data"])
    elif step == "returned":
        s.completed_at, s.returned, s.e_result = t, True, False
    elif step == "paid_online":
        s.paid_online = True
    elif step == "rated":
        s.rating = e["rating"]
    elif step == "complained":
        s.complained = True
    else:
        raise ValueError(f"unknown dossier step {step!r}")


_PENDING: LiteralString = (
    "SELECT e.event_id, e.event_time, e.ingested_at, e.dossier_id, e.step, e.unit, e.sector, e.procedure_code,"
    " e.procedure_name, e.channel, e.due_at, e.fee_vnd, e.eligible_full_online, e.full_online, e.e_result,"
    " e.digitised, e.reused_data, e.rating FROM dossier_events e"
    " WHERE (e.ingested_at, e.event_id) > (%s, %s)"
    " AND NOT EXISTS (SELECT 1 FROM dossier_intake_done d WHERE d.event_id = e.event_id)"
    " ORDER BY e.ingested_at, e.event_id LIMIT %s"
)
_UPSERT = sql.SQL("INSERT INTO dossiers ({cols}) VALUES ({vals}) ON CONFLICT (dossier_id) DO UPDATE SET {sets}").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, STATE_COLUMNS)),
    vals=sql.SQL(", ").join(sql.Placeholder() * len(STATE_COLUMNS)),
    sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                            for c in STATE_COLUMNS if c != "dossier_id"),
)
_COUNT = sql.SQL("INSERT INTO dossier_counters (unit, month, sector, {cols}) VALUES (%s, %s, %s, {vals})"
                 " ON CONFLICT (unit, month, sector) DO UPDATE SET {sets}").format(
    cols=sql.SQL(", ").join(map(sql.Identifier, COUNTER_NAMES)),
    vals=sql.SQL(", ").join(sql.Placeholder() * len(COUNTER_NAMES)),
    sets=sql.SQL(", ").join(sql.SQL("{c} = dossier_counters.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c))
                            for c in COUNTER_NAMES),
)  # fmt: skip


Delta = dict[tuple[str, date, str], list[int]]


def _contribute(delta: Delta, s: DossierState, sign: int) -> None:
    rec = s.record()
    if rec is None or s.month is None:
        return
    acc = delta[(s.unit, s.month, s.sector or "")]
    for i, v in enumerate(counters_of(rec)):
        acc[i] += sign * v


def fold(conn: psycopg.Connection, events: list[dict[str, Any]], now: datetime) -> int:
    """Fold ``events`` (not yet done) inside the caller's transaction; returns how many were new."""
    ids = [e["event_id"] for e in events]
    new = {r[0] for r in conn.execute(
        "INSERT INTO dossier_intake_done (event_id) SELECT unnest(%s::uuid[]) ON CONFLICT DO NOTHING"
        " RETURNING event_id", (ids,)).fetchall()}  # fmt: skip
    todo = sorted((e for e in events if e["event_id"] in new),
                  key=lambda e: (e["event_time"], _STEP_RANK.get(e["step"], 9)))  # fmt: skip
    if not todo:
        return 0
    keys = sorted({e["dossier_id"] for e in todo})
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM dossiers WHERE dossier_id = ANY(%s) ORDER BY dossier_id FOR UPDATE",
                           (keys,)).fetchall()  # fmt: skip
    states = {r["dossier_id"]: DossierState(**{c: r[c] for c in STATE_COLUMNS}) for r in rows}
    before = {k: replace(v) for k, v in states.items()}
    for e in todo:
        s = states.get(e["dossier_id"])
        if s is None:
            s = states[e["dossier_id"]] = DossierState(e["dossier_id"], e["unit"])
        apply_step(s, e)
        s.updated_at = now
    delta: Delta = defaultdict(lambda: [0] * len(COUNTER_NAMES))
    for k, s in states.items():
        if k in before:
            _contribute(delta, before[k], -1)
        _contribute(delta, s, +1)
    with conn.cursor() as cur:
        cur.executemany(_UPSERT, [tuple(getattr(s, c) for c in STATE_COLUMNS) for s in states.values()])
        cur.executemany(_COUNT, [(u, m, sec, *v) for (u, m, sec), v in sorted(delta.items()) if any(v)])
    return len(todo)


class DossierIntake:
    """Folds pending dossier events, a batch per transaction."""

    def __init__(self, batch: int = BATCH, sweep_seconds: float = 30.0) -> None:
        self.batch = batch
        self.folded = 0
        self.sweep_seconds = sweep_seconds
        self.cursor: tuple[datetime, uuid.UUID] | None = None  # keyset position inside the current sweep
        self.next_sweep = 0.0

    def once(self, conn: psycopg.Connection, now: datetime | None = None) -> int:
        """Fold up to one batch of pending events; returns how many events were read (0: nothing pending).

        Reading pages forward from a keyset position (ingested_at, event_id); every ``sweep_seconds``
        (and at start) it starts again from the watermark minus the safety margin, so a batch the
        spine committed late is still found, while a long history is never rescanned batch by batch."""
        if self.cursor is None or time.monotonic() >= self.next_sweep:
            row = conn.execute("SELECT ingested_at FROM dossier_intake_watermark WHERE id = 1").fetchone()
            since = row[0] - SAFETY_MARGIN if row else datetime(1970, 1, 1, tzinfo=UTC)
            self.cursor = (since, uuid.UUID(int=0))
            self.next_sweep = time.monotonic() + self.sweep_seconds
        with conn.cursor(row_factory=dict_row) as cur:
            events = cur.execute(_PENDING, (*self.cursor, self.batch)).fetchall()
        if not events:
            return 0
        self.cursor = (events[-1]["ingested_at"], events[-1]["event_id"])
        with conn.transaction():
            n = fold(conn, events, now or datetime.now(UTC))
            conn.execute(
                "INSERT INTO dossier_intake_watermark (id, ingested_at) VALUES (1, %s) ON CONFLICT (id) DO UPDATE"
                " SET ingested_at = greatest(dossier_intake_watermark.ingested_at, EXCLUDED.ingested_at)",
                (max(e["ingested_at"] for e in events),),
            )
        self.folded += n
        return len(events)

    def drain(self, conn: psycopg.Connection) -> int:
        """Fold until nothing is pending; returns the events seen."""
        total = 0
        while (n := self.once(conn)) > 0:
            total += n
        return total


_ALL_STATES = sql.SQL("SELECT {} FROM dossiers WHERE received_at IS NOT NULL").format(
    sql.SQL(", ").join(map(sql.Identifier, STATE_COLUMNS)))


def rebuild_counters(conn: psycopg.Connection) -> int:
    """Recompute ``dossier_counters`` from ``dossiers`` in one pass (Python, the shared counters);
    returns the dossiers counted. Used after a restore and by the full-year benchmark."""
    delta: Delta = defaultdict(lambda: [0] * len(COUNTER_NAMES))
    n = 0
    with conn.transaction():
        with conn.cursor(name="dossiers_all") as cur:  # plain tuples in STATE_COLUMNS order: no dict per row
            cur.itersize = 20_000
            cur.execute(_ALL_STATES)
            for r in cur:
                _contribute(delta, DossierState(*r), +1)
                n += 1
        conn.execute("DELETE FROM dossier_counters")
        with conn.cursor() as cur:
            cur.executemany(_COUNT, [(u, m, sec, *v) for (u, m, sec), v in sorted(delta.items())])
    return n


def run(stop: threading.Event, dsn: str, poll_seconds: float = 1.0) -> None:
    """Drain pending events, beat, wait ``poll_seconds``; reconnect when the database is away."""
    intake = DossierIntake()

    def step(conn: psycopg.Connection) -> bool:
        n = intake.once(conn)
        health.beat(conn, COMPONENT, "intake", pid=os.getpid(), detail={"folded": intake.folded})
        return bool(n)  # a full batch: go on at once

    db.poll_until(stop, dsn, step, poll_seconds, log, "dossier intake")


def main() -> int:
    from ioc.settings import running_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("dossier intake started")
    run(stop, running_settings().database_dsn())
    log.info("dossier intake stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
