"""The city's task tracker ("6 rõ": rõ người, rõ việc, rõ thời gian, rõ trách nhiệm, rõ kết quả,
rõ nguyên nhân).

Each task has a person in charge, the task, start and end quarter, the lead and coordinating
agencies, the expected result, the cause when late, the funding source, budget and allocation
status. The lead agency reports progress (:func:`report_progress`); roll-ups count by lead unit and
by task group, with the overdue ones (end quarter over, not done) highlighted. Tasks come from
a plan's appendix (:func:`import_kh40`) or are added by the standing office by hand
(:func:`upsert_task`) or from a spreadsheet (:mod:`ioc.directives.tasks_xlsx`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import LiteralString

import psycopg
from psycopg.rows import class_row

from ioc.audit import audit
from ioc.directives.recipients import registry
from ioc.directives.tasks_kh40 import DOCUMENT, PLAN_CODE, AppendixError, parse

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
EDIT_ROLES = frozenset({"standing_office", "leader", "admin"})
Scope = frozenset[str] | None


class TaskStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    STOPPED = "stopped"


class Allocation(StrEnum):
    UNKNOWN = "unknown"
    NOT_ALLOCATED = "not_allocated"
    PARTLY_ALLOCATED = "partly_allocated"
    ALLOCATED = "allocated"


TASK_STATUS_NAMES = {
    TaskStatus.NOT_STARTED: ("Chưa triển khai", "Not started"),
    TaskStatus.IN_PROGRESS: ("Đang triển khai", "In progress"),
    TaskStatus.DONE: ("Hoàn thành", "Done"),
    TaskStatus.STOPPED: ("Dừng thực hiện", "Stopped"),
}
ALLOCATION_NAMES = {
    Allocation.UNKNOWN: ("Chưa xác định", "Unknown"),
    Allocation.NOT_ALLOCATED: ("Chưa bố trí", "Not allocated"),
    Allocation.PARTLY_ALLOCATED: ("Đã bố trí một phần", "Partly allocated"),
    Allocation.ALLOCATED: ("Đã bố trí đủ", "Allocated"),
}


class TaskError(ValueError):
    """Bad task data (the message names the field)."""


def quarter_end(q: str) -> date:
    """The last day of ``2026-Q3`` (30/9/2026)."""
    m = QUARTER_RE.match(q)
    if not m:
        raise TaskError(f"not a quarter like 2026-Q3: {q!r}")
    y, n = int(m.group(1)), int(m.group(2))
    first_next = date(y + (n == 4), 1 if n == 4 else 3 * n + 1, 1)
    return first_next - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TaskInput:
    task_code: str
    plan_code: str
    group_code: str
    group_name: str
    seq: int
    title: str
    source: str
    subgroup_name: str | None = None
    person_in_charge: str | None = None
    start_text: str | None = None
    end_text: str | None = None
    start_quarter: str | None = None
    end_quarter: str | None = None
    lead_agencies: tuple[str, ...] = ()
    coordinating: str | None = None
    expected_result: str | None = None
    funding_source: str | None = None
    budget_million_vnd: float | None = None
    allocation_status: Allocation = Allocation.UNKNOWN

    def __post_init__(self) -> None:
        if not self.task_code.strip():
            raise TaskError("task_code: empty")
        if not self.title.strip():
            raise TaskError("title: empty")
        for name in ("start_quarter", "end_quarter"):
            v = getattr(self, name)
            if v is not None and not QUARTER_RE.match(v):
                raise TaskError(f"{name}: not a quarter like 2026-Q3: {v!r}")
        if self.start_quarter and self.end_quarter and self.end_quarter < self.start_quarter:
            raise TaskError(f"end_quarter {self.end_quarter} is before start_quarter {self.start_quarter}")
        if self.budget_million_vnd is not None and self.budget_million_vnd < 0:
            raise TaskError("budget_million_vnd: negative")


@dataclass(frozen=True)
class TaskRow:
    task_code: str
    plan_code: str
    group_code: str
    group_name: str
    subgroup_name: str | None
    seq: int
    title: str
    person_in_charge: str | None
    start_text: str | None
    end_text: str | None
    start_quarter: str | None
    end_quarter: str | None
    due_date: date | None
    lead_agencies: list[str]
    lead_codes: list[str]
    coordinating: str | None
    expected_result: str | None
    funding_source: str | None
    budget_million_vnd: float | None
    allocation_status: str
    status: str
    percent_done: int
    late_cause: str | None
    done_at: date | None
    source: str
    updated_by: str
    updated_at: datetime
    overdue: bool = False


@dataclass(frozen=True)
class ReportRow:
    task_code: str
    at: datetime
    actor: str
    agency_code: str | None
    status: str
    percent_done: int
    note: str
    late_cause: str | None


@dataclass(frozen=True, slots=True)
class Rollup:
    """Tasks of one lead unit or one task group."""

    key: str
    name: str
    total: int
    done: int
    in_progress: int
    overdue: int
    budget_million_vnd: float = 0.0
    late_causes: tuple[str, ...] = field(default=())

    @property
    def share_done(self) -> float | None:
        return None if self.total == 0 else self.done / self.total


_COLUMNS: LiteralString = (
    "task_code, plan_code, group_code, group_name, subgroup_name, seq, title, person_in_charge, start_text,"
    " end_text, start_quarter, end_quarter, due_date, lead_agencies, lead_codes, coordinating, expected_result,"
    " funding_source, budget_million_vnd::float8 AS budget_million_vnd, allocation_status, status, percent_done,"
    " late_cause, done_at, source, updated_by, updated_at"
)
_UPSERT: LiteralString = (
    "INSERT INTO plan_tasks (task_code, plan_code, group_code, group_name, subgroup_name, seq, title,"
    " person_in_charge, start_text, end_text, start_quarter, end_quarter, due_date, lead_agencies, lead_codes,"
    " coordinating, expected_result, funding_source, budget_million_vnd, allocation_status, source, updated_by,"
    " updated_at) VALUES (%(task_code)s, %(plan_code)s, %(group_code)s, %(group_name)s, %(subgroup_name)s,"
    " %(seq)s, %(title)s, %(person_in_charge)s, %(start_text)s, %(end_text)s, %(start_quarter)s,"
    " %(end_quarter)s, %(due_date)s, %(lead_agencies)s, %(lead_codes)s, %(coordinating)s, %(expected_result)s,"
    " %(funding_source)s, %(budget_million_vnd)s, %(allocation_status)s, %(source)s, %(actor)s, %(at)s)"
    " ON CONFLICT (task_code) DO UPDATE SET plan_code = EXCLUDED.plan_code, group_code = EXCLUDED.group_code,"
    " group_name = EXCLUDED.group_name, subgroup_name = EXCLUDED.subgroup_name, seq = EXCLUDED.seq,"
    " title = EXCLUDED.title, person_in_charge = EXCLUDED.person_in_charge, start_text = EXCLUDED.start_text,"
    " end_text = EXCLUDED.end_text, start_quarter = EXCLUDED.start_quarter, end_quarter = EXCLUDED.end_quarter,"
    " due_date = EXCLUDED.due_date, lead_agencies = EXCLUDED.lead_agencies, lead_codes = EXCLUDED.lead_codes,"
    " coordinating = EXCLUDED.coordinating, expected_result = EXCLUDED.expected_result,"
    " funding_source = EXCLUDED.funding_source, budget_million_vnd = EXCLUDED.budget_million_vnd,"
    " allocation_status = EXCLUDED.allocation_status, source = EXCLUDED.source,"
    " updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at"
)


def _params(t: TaskInput, actor: str, at: datetime) -> dict[str, object]:
    reg = registry()
    codes = []
    for name in t.lead_agencies:
        r = reg.match_name(name)
        if r is not None and r.code not in codes:
            codes.append(r.code)
    return {
        "task_code": t.task_code, "plan_code": t.plan_code, "group_code": t.group_code,
        "group_name": t.group_name, "subgroup_name": t.subgroup_name, "seq": t.seq, "title": t.title,
        "person_in_charge": t.person_in_charge, "start_text": t.start_text, "end_text": t.end_text,
        "start_quarter": t.start_quarter, "end_quarter": t.end_quarter,
        "due_date": quarter_end(t.end_quarter) if t.end_quarter else None,
        "lead_agencies": list(t.lead_agencies), "lead_codes": codes, "coordinating": t.coordinating,
        "expected_result": t.expected_result, "funding_source": t.funding_source,
        "budget_million_vnd": t.budget_million_vnd, "allocation_status": t.allocation_status.value,
        "source": t.source, "actor": actor, "at": at,
    }  # fmt: skip


def _check_role(role: str) -> None:
    if role not in EDIT_ROLES:
        raise PermissionError(f"role {role!r} may not edit the task list")


def upsert_tasks(conn: psycopg.Connection, tasks: Sequence[TaskInput], actor: str, role: str, at: datetime) -> int:
    """Add or update tasks (all or none); returns how many."""
    _check_role(role)
    with conn.transaction():
        for t in tasks:
            conn.execute(_UPSERT, _params(t, actor, at))
        audit(conn, actor, "tasks.upserted", None, {"count": len(tasks), "codes": [t.task_code for t in tasks][:50]})
    return len(tasks)


def upsert_task(conn: psycopg.Connection, task: TaskInput, actor: str, role: str, at: datetime) -> None:
    upsert_tasks(conn, [task], actor, role, at)


def import_kh40(conn: psycopg.Connection, documents_dir: Path, actor: str, role: str, at: datetime) -> int:
    """Parse the KH 40/KH-UBND 2023 appendix from the document and store its tasks under their codes."""
    appendix = parse(documents_dir / DOCUMENT)
    problems = appendix.check()
    if problems:
        raise AppendixError("; ".join(problems))
    items = [
        TaskInput(
            task_code=t.task_code, plan_code=PLAN_CODE, group_code=t.group_code, group_name=t.group_name,
            subgroup_name=t.subgroup_name, seq=t.seq, title=t.title, source=f"{DOCUMENT}:{t.line}",
            start_text=t.start_text, end_text=t.end_text, start_quarter=t.start_quarter, end_quarter=t.end_quarter,
            lead_agencies=t.lead_agencies, coordinating=t.coordinating, funding_source=t.funding_source,
        )  # fmt: skip
        for t in appendix.tasks
    ]
    return upsert_tasks(conn, items, actor, role, at)


def report_progress(
    conn: psycopg.Connection,
    task_code: str,
    actor: str,
    scope: Scope,
    at: datetime,
    *,
    status: TaskStatus,
    percent: int,
    note: str,
    late_cause: str | None = None,
) -> None:
    """The lead agency reports progress (``scope``: the reporter's recipient codes; ``None``: any task)."""
    if not 0 <= percent <= 100:
        raise TaskError(f"percent_done must be 0..100, got {percent}")
    if not note.strip():
        raise TaskError("note: say what was done")
    if status is TaskStatus.DONE and percent != 100:
        raise TaskError("a done task is 100 % done")
    with conn.transaction():
        row = conn.execute(
            "SELECT lead_codes, due_date FROM plan_tasks WHERE task_code = %s FOR UPDATE", (task_code,)
        ).fetchone()
        if row is None:
            raise TaskError(f"no task {task_code!r}")
        lead_codes, due = list(row[0]), row[1]
        if scope is not None and not scope & set(lead_codes):
            raise PermissionError(f"{actor!r} is not in a lead agency of {task_code}")
        late = due is not None and at.date() > due and status is not TaskStatus.DONE
        if late and not (late_cause or "").strip():
            raise TaskError("late_cause: the task is past its end quarter, say why (rõ nguyên nhân)")
        agency = sorted(scope & set(lead_codes))[0] if scope else None
        conn.execute(
            "INSERT INTO plan_task_reports (task_code, at, actor, agency_code, status, percent_done, note, late_cause)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (task_code, at, actor, agency, status.value, percent, note.strip(), late_cause),
        )
        conn.execute(
            "UPDATE plan_tasks SET status = %s, percent_done = %s, late_cause = coalesce(%s, late_cause),"
            " done_at = CASE WHEN %s = 'done' THEN %s::date ELSE NULL END, updated_by = %s, updated_at = %s"
            " WHERE task_code = %s",
            (status.value, percent, late_cause, status.value, at.date(), actor, at, task_code),
        )
        audit(conn, actor, "tasks.progress", f"task:{task_code}", {"status": status.value, "percent": percent})


def list_tasks(
    conn: psycopg.Connection,
    today: date,
    *,
    scope: Scope = None,
    plan: str | None = None,
    group: str | None = None,
    overdue_only: bool = False,
) -> list[TaskRow]:
    """Tasks overdue first, then by plan order (a scoped viewer: its own lead tasks only)."""
    with conn.cursor(row_factory=class_row(TaskRow)) as cur:
        return cur.execute(
            "SELECT " + _COLUMNS + ", coalesce(due_date < %(today)s AND status NOT IN ('done', 'stopped'), false) AS overdue"
            " FROM plan_tasks WHERE (%(scope)s::text[] IS NULL OR lead_codes && %(scope)s)"
            " AND (%(plan)s::text IS NULL OR plan_code = %(plan)s) AND (%(group)s::text IS NULL OR group_code = %(group)s)"
            " AND (NOT %(overdue)s OR (due_date < %(today)s AND status NOT IN ('done', 'stopped')))"
            " ORDER BY coalesce(due_date < %(today)s AND status NOT IN ('done', 'stopped'), false) DESC, plan_code, group_code, seq",
            {"today": today, "scope": None if scope is None else sorted(scope), "plan": plan, "group": group,
             "overdue": overdue_only},
        ).fetchall()  # fmt: skip


def reports(conn: psycopg.Connection, task_code: str) -> list[ReportRow]:
    with conn.cursor(row_factory=class_row(ReportRow)) as cur:
        return cur.execute(
            "SELECT task_code, at, actor, agency_code, status, percent_done, note, late_cause FROM plan_task_reports"
            " WHERE task_code = %s ORDER BY at",
            (task_code,),
        ).fetchall()


def rollups(tasks: Sequence[TaskRow], by: str) -> list[Rollup]:
    """Counts by ``unit`` (each lead agency; a task with two leads counts for both) or ``group``."""
    if by not in ("unit", "group"):
        raise ValueError(f"by must be 'unit' or 'group', got {by!r}")
    acc: dict[str, dict[str, object]] = {}
    for t in tasks:
        keys = [(t.group_code, f"{t.group_code}. {t.group_name}")] if by == "group" else [
            (a, a) for a in (t.lead_agencies or ["—"])]  # fmt: skip
        for key, name in keys:
            r = acc.setdefault(key, {"name": name, "total": 0, "done": 0, "prog": 0, "over": 0, "budget": 0.0,
                                     "causes": []})  # fmt: skip
            r["total"] = int(r["total"]) + 1  # type: ignore[call-overload]
            r["done"] = int(r["done"]) + (t.status == "done")  # type: ignore[call-overload]
            r["prog"] = int(r["prog"]) + (t.status == "in_progress")  # type: ignore[call-overload]
            r["over"] = int(r["over"]) + t.overdue  # type: ignore[call-overload]
            r["budget"] = float(r["budget"]) + (t.budget_million_vnd or 0.0)  # type: ignore[arg-type]
            if t.late_cause:
                r["causes"].append(t.late_cause)  # type: ignore[union-attr]
    out = [Rollup(k, str(v["name"]), int(v["total"]), int(v["done"]), int(v["prog"]), int(v["over"]),  # type: ignore[call-overload]
                  float(v["budget"]), tuple(v["causes"]))  # type: ignore[arg-type]
           for k, v in acc.items()]  # fmt: skip
    return sorted(out, key=lambda r: (-r.overdue, -r.total, r.key))
