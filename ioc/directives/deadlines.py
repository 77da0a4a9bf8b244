"""Deadlines of a directive: working days on the ticket desk's calendar, or hours for urgent ones.

* ``normal`` (thường): ``n`` working days on :class:`ioc.tickets.calendar.WorkingCalendar` (Tết,
  Giỗ Tổ Hùng Vương and the government's swapped days included); acknowledgement within 4 working
  hours.
* ``urgent`` (khẩn): ``n`` clock hours; acknowledgement within 1 hour.
* ``flash`` (hỏa tốc): ``n`` clock hours; acknowledgement within 15 minutes.

Escalation (see :func:`escalation_due`): level 1 (the recipient's head) as soon as the
acknowledgement time or the deadline has passed; level 2 (the standing office) when the breach
has lasted one more acknowledgement window (counted the same way: working hours for normal ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ioc.directives.workflow import Assignment, EscalationReason, Priority, Status
from ioc.tickets.calendar import TZ, WorkingCalendar, default_calendar

ACK_WINDOW: dict[Priority, timedelta] = {
    Priority.NORMAL: timedelta(hours=4),  # working hours
    Priority.URGENT: timedelta(hours=1),
    Priority.FLASH: timedelta(minutes=15),
}
MAX_HOURS = 24 * 14


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """What the leader chose: ``amount`` working days (normal) or hours (urgent, flash)."""

    priority: Priority
    amount: int

    def __post_init__(self) -> None:
        if self.priority is Priority.NORMAL:
            if not 1 <= self.amount <= 366:
                raise ValueError(f"a normal directive needs 1..366 working days, got {self.amount!r}")
        elif not 1 <= self.amount <= MAX_HOURS:
            raise ValueError(f"an urgent directive needs 1..{MAX_HOURS} hours, got {self.amount!r}")

    @property
    def unit(self) -> str:
        return "working_days" if self.priority is Priority.NORMAL else "hours"


def add_working_time(start: datetime, span: timedelta, calendar: WorkingCalendar | None = None) -> datetime:
    """``start`` plus ``span`` of working time (07:30–17:00 on working days only)."""
    cal = calendar or default_calendar()
    t = cal.count_start(start)
    left = span
    while True:
        end_of_day = datetime.combine(t.date(), cal.day_end, TZ)
        room = end_of_day - t
        if left <= room:
            return t + left
        left -= room
        t = datetime.combine(cal.next_working_day(t.date()), cal.day_start, TZ)


def deadline_for(spec: DeadlineSpec, created: datetime, calendar: WorkingCalendar | None = None) -> datetime:
    if spec.priority is Priority.NORMAL:
        return (calendar or default_calendar()).add_working_days(created, spec.amount)
    return created + timedelta(hours=spec.amount)


def ack_due_for(priority: Priority, created: datetime, calendar: WorkingCalendar | None = None) -> datetime:
    if priority is Priority.NORMAL:
        return add_working_time(created, ACK_WINDOW[priority], calendar)
    return created + ACK_WINDOW[priority]


def _after(priority: Priority, t: datetime, calendar: WorkingCalendar | None) -> datetime:
    """One acknowledgement window after ``t`` (working time for normal directives)."""
    if priority is Priority.NORMAL:
        return add_working_time(t, ACK_WINDOW[priority], calendar)
    return t + ACK_WINDOW[priority]


def escalation_due(
    a: Assignment, priority: Priority, now: datetime, calendar: WorkingCalendar | None = None
) -> tuple[int, EscalationReason] | None:
    """The escalation level this assignment should reach now (above its current one), or ``None``."""
    if a.status not in (Status.SENT, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED):
        return None
    breach: tuple[datetime, EscalationReason] | None = None
    if a.status is Status.SENT and now > a.ack_due:
        breach = (a.ack_due, EscalationReason.NOT_ACKNOWLEDGED)
    if now > a.deadline and (breach is None or a.deadline < breach[0]):
        breach = (a.deadline, EscalationReason.OVERDUE)
    if breach is None:
        return None
    since, reason = breach
    level = 2 if now > _after(priority, since, calendar) else 1
    return (level, reason) if level > a.escalation_level else None
