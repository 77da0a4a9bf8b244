"""Health that tells the truth: component heartbeats in, one report of every component out.

Writers: the launcher's supervisor upserts each supervised process (``role='process'``/``'service'``);
each sink consumer, the alert engine and ticket intake write a heartbeat row (:func:`beat`) every few
seconds with what they last did. Reader: :func:`report` reads ``component_health`` and
``ingest_stats`` (two constant statements whatever the load) and judges each component and the
whole: ``ok`` / ``degraded`` / ``down``. ``/healthz`` and ``ioc status`` print this report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import psycopg
from psycopg.types.json import Jsonb

from ioc.settings import Settings
from ioc.sources import SOURCES

Status = Literal["ok", "degraded", "down"]
SourceFeed = Literal["live", "late", "silent", "never"]
_RANK = {"ok": 0, "degraded": 1, "down": 2}

UPSERT: str = (
    "INSERT INTO component_health (component, role, state, pid, restarts, last_exit, detail, since, heartbeat_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()), now())"
    " ON CONFLICT (component) DO UPDATE SET role = EXCLUDED.role, state = EXCLUDED.state, pid = EXCLUDED.pid,"
    " restarts = EXCLUDED.restarts, last_exit = coalesce(EXCLUDED.last_exit, component_health.last_exit),"
    " detail = EXCLUDED.detail,"
    " since = CASE WHEN component_health.state = EXCLUDED.state THEN component_health.since ELSE EXCLUDED.since END,"
    " heartbeat_at = now()"
)


def beat(conn: psycopg.Connection, component: str, role: str, *, state: str = "running", pid: int | None = None,
         restarts: int = 0, last_exit: str | None = None, detail: Mapping[str, Any] | None = None,
         since: datetime | None = None) -> None:
    """Upsert one component's row (commits when the connection is not in autocommit)."""
    conn.execute(UPSERT, (component, role, state, pid, restarts, last_exit,
                          Jsonb(dict(detail or {}), dumps=lambda o: orjson.dumps(o, default=str).decode()), since))
    if not conn.autocommit:
        conn.commit()


@dataclass(frozen=True)
class Component:
    name: str
    role: str
    status: Status
    state: str
    why: str  # one line, Vietnamese first in the UI; English here
    restarts: int = 0
    heartbeat_age_s: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedHealth:
    kind: str
    feed: SourceFeed
    newest_event_time: datetime | None
    age_s: float | None
    late_after_s: float
    silent_after_s: float


@dataclass(frozen=True)
class HealthReport:
    status: Status
    at: datetime
    components: tuple[Component, ...]
    sources: tuple[FeedHealth, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "at": self.at.isoformat(),
            "components": {c.name: {"status": c.status, "state": c.state, "role": c.role, "why": c.why,
                                    "restarts": c.restarts, "heartbeat_age_s": _round(c.heartbeat_age_s),
                                    **dict(c.detail)} for c in self.components},
            "sources": {f.kind: {"feed": f.feed, "newest_event_time": f.newest_event_time.isoformat()
                                 if f.newest_event_time else None, "age_s": _round(f.age_s),
                                 "late_after_s": f.late_after_s, "silent_after_s": f.silent_after_s}
                        for f in self.sources},
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def thresholds(kind: str, settings: Settings) -> tuple[float, float]:
    """(late after, silent after) in seconds: the source's declaration, unless Settings overrides it."""
    if kind in settings.freshness_overrides:
        late, silent = settings.freshness_overrides[kind]
        return float(late), float(silent)
    f = SOURCES[kind].freshness
    return f.late_after.total_seconds(), f.silent_after.total_seconds()


def feed_of(age_s: float | None, late_s: float, silent_s: float) -> SourceFeed:
    if age_s is None:
        return "never"
    if age_s > silent_s:
        return "silent"
    return "late" if age_s > late_s else "live"


Q_COMPONENTS = (
    "SELECT component, role, state, restarts, last_exit, detail,"
    " EXTRACT(EPOCH FROM now() - heartbeat_at)::float8 FROM component_health ORDER BY component"
)
Q_SOURCES = "SELECT kind, newest_event_time, EXTRACT(EPOCH FROM now() - newest_event_time)::float8 FROM ingest_stats"
# Ticket intake's progress: how far the feedback table's last batch is ahead of the newest report it processed.
Q_INTAKE = (
    "SELECT EXTRACT(EPOCH FROM (SELECT last_ingest_at FROM ingest_stats WHERE kind = 'feedback')"
    " - (SELECT ingested_at FROM ticket_intake_watermark WHERE id = 1))::float8,"
    " EXTRACT(EPOCH FROM now() - (SELECT last_ingest_at FROM ingest_stats WHERE kind = 'feedback'))::float8"
)
INTAKE_BEHIND_S = 300.0  # intake polls every few seconds: five minutes behind the spine means it is stuck


def report(conn: psycopg.Connection, settings: Settings, now: datetime | None = None) -> HealthReport:
    """Every component and source, judged; two statements."""
    now = now or datetime.now(UTC)
    comps: list[Component] = []
    stale = settings.heartbeat_stale_seconds
    for name, role, state, restarts, last_exit, detail, age in conn.execute(Q_COMPONENTS).fetchall():
        comps.append(judge(name, role, state, int(restarts), last_exit, dict(detail or {}), age, stale))
    feeds = []
    for kind, newest, age in conn.execute(Q_SOURCES).fetchall():
        if kind not in SOURCES:
            continue
        late_s, silent_s = thresholds(kind, settings)
        feeds.append(FeedHealth(kind, feed_of(age, late_s, silent_s), newest, age, late_s, silent_s))
    feeds.sort(key=lambda f: SOURCES[f.kind].order)
    intake = _intake(conn)
    if intake is not None:
        comps.append(intake)
    comps.append(Component("postgres", "service", "ok", "running", "reachable"))
    return HealthReport(overall(comps, feeds), now, tuple(comps), tuple(feeds))


def _intake(conn: psycopg.Connection) -> Component | None:
    """``intake:tickets``: behind when reports were stored minutes after the newest one it turned into a ticket."""
    try:
        with conn.transaction():
            behind, since_batch = conn.execute(Q_INTAKE).fetchone()  # type: ignore[misc]
    except psycopg.errors.UndefinedTable:
        return None
    if since_batch is None:
        return Component("intake:tickets", "intake", "ok", "running", "no citizen report stored yet")
    if behind is None:
        behind = float("inf")  # reports stored, none processed
    if behind > INTAKE_BEHIND_S and since_batch > 60:  # a fresh batch gets a minute to be picked up
        why = "no report processed yet" if behind == float("inf") else f"{behind:.0f} s behind the stored reports"
        return Component("intake:tickets", "intake", "down", "behind", why, detail={"behind_s": None if
                         behind == float("inf") else round(behind, 1)})
    return Component("intake:tickets", "intake", "ok", "running", "up to date",
                     detail={"behind_s": round(max(behind, 0.0), 1)})


def judge(name: str, role: str, state: str, restarts: int, last_exit: str | None, detail: dict[str, Any],
          age: float | None, stale_s: float) -> Component:
    """One component's status from its row."""
    if state == "failed":
        why = f"failed after repeated exits ({last_exit or 'unknown'}); still retrying"
        return Component(name, role, "down", state, why, restarts, age, detail)
    if state == "stopped":  # stopped on purpose (shutdown, or not part of this run): not a fault
        return Component(name, role, "ok", state, "stopped", restarts, age, detail)
    if state in ("restarting", "starting"):
        why = f"{state} (last exit: {last_exit})" if last_exit else state
        return Component(name, role, "degraded", state, why, restarts, age, detail)
    if role in ("consumer", "engine", "intake", "supervisor") and age is not None and age > stale_s:
        return Component(name, role, "down", "silent", f"no heartbeat for {age:.0f} s", restarts, age, detail)
    problem = detail.get("problem")
    if problem:
        return Component(name, role, "degraded", state, str(problem), restarts, age, detail)
    return Component(name, role, "ok", state, "running", restarts, age, detail)


def overall(components: list[Component], feeds: list[FeedHealth]) -> Status:
    """Down when a component is down, degraded when one is degraded or a source is late or silent."""
    worst = max((_RANK[c.status] for c in components), default=0)
    if any(f.feed in ("late", "silent") for f in feeds):
        worst = max(worst, 1)
    return ("ok", "degraded", "down")[worst]  # type: ignore[return-value]


def unreachable(settings: Settings, error: str, now: datetime | None = None) -> HealthReport:
    """The report when PostgreSQL itself cannot be reached: down, naming the error."""
    now = now or datetime.now(UTC)
    return HealthReport("down", now, (Component("postgres", "service", "down", "unreachable", error),), ())


def age_label_seconds(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else max(0.0, (now - at) / timedelta(seconds=1))
