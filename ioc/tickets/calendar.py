"""Vietnamese working-day calendar for ticket deadlines (Asia/Ho_Chi_Minh).

Holidays come from the ``holidays`` package's Vietnam calendar (Labour Code 2019 Art. 112):
Tết Dương lịch, the Tết Nguyên Đán break (lunar; eve + first four days, plus the compensatory
days the package adds when they fall on a weekend), Giỗ Tổ Hùng Vương (10/3 lunar), 30/4, 1/5,
Quốc khánh (2/9 and the adjacent day), Ngày Văn hóa Việt Nam (24/11, from 2026), the observed
days for holidays on a weekend, and the government's announced swaps (a Saturday that becomes a
working day in exchange for a bridge day off, e.g. Sat 22/8/2026 for Mon 31/8/2026).

The deadline rule
-----------------
* Working hours are 07:30–17:00 local time on working days (Monday–Friday that are not
  holidays, plus swapped working Saturdays).
* A report received during working hours starts counting at once. A report received before
  07:30 on a working day starts at 07:30 that day; one received after 17:00, on a weekend or on a
  holiday starts at 07:30 on the next working day.
* The deadline for *n* working days is the same time of day as the counting start, *n* working
  days later. So a report at Fri 15:00 with 1 working day is due Mon 15:00 (or Tue 15:00 if Monday
  is a holiday); a report at Sat 10:00 is due Tue 07:30.
* :func:`working_time_left` counts only working hours (9 h 30 per working day), negative once
  the deadline has passed, so that a ticket waiting over a weekend does not look as if it is
  running out of time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from ioc.tickets.categories import Category

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_START = time(7, 30)
DAY_END = time(17, 0)
_MAX_DAYS = 366  # a deadline beyond a year is a configuration error, not a long wait


def _vn_holidays() -> holidays.HolidayBase:
    # Populated for a span of years up front so concurrent readers do not race the lazy expansion.
    this_year = date.today().year
    return holidays.country_holidays("VN", years=range(this_year - 5, this_year + 6), language="vi")


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(TZ)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and hours; the module functions use the default instance."""

    day_start: time = DAY_START
    day_end: time = DAY_END
    public_holidays: holidays.HolidayBase = field(default_factory=_vn_holidays, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.day_start < self.day_end:
            raise ValueError(f"working day must start before it ends: {self.day_start}–{self.day_end}")

    @property
    def hours_per_day(self) -> timedelta:
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    def is_working_day(self, day: date) -> bool:
        """Mon–Fri that is not a holiday, or a weekend day the government swapped to a working day."""
        return self.public_holidays.is_working_day(day)

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name (Vietnamese), or ``None`` on an ordinary day."""
        return self.public_holidays.get(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for _ in range(_MAX_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise RuntimeError(f"no working day within a year after {day}")  # pragma: no cover

    def count_start(self, received: datetime) -> datetime:
        """When the clock starts for a report received at ``received`` (see the module rule)."""
        t = _aware(received, "received")
        if self.is_working_day(t.date()):
            if t.time() < self.day_start:
                return datetime.combine(t.date(), self.day_start, TZ)
            if t.time() < self.day_end:
                return t
        return datetime.combine(self.next_working_day(t.date()), self.day_start, TZ)

    def add_working_days(self, start: datetime, n: int) -> datetime:
        """The deadline ``n`` working days after ``start``, at the counting start's time of day."""
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= _MAX_DAYS:
            raise ValueError(f"n must be an integer number of working days in 0..{_MAX_DAYS}, got {n!r}")
        begin = self.count_start(start)
        day = begin.date()
        for _ in range(n):
            day = self.next_working_day(day)
        return datetime.combine(day, begin.time(), TZ)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working hours between ``a`` and ``b`` (zero when ``b`` is not after ``a``)."""
        a, b = _aware(a, "a"), _aware(b, "b")
        total = timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                lo = max(a, datetime.combine(day, self.day_start, TZ))
                hi = min(b, datetime.combine(day, self.day_end, TZ))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def working_time_left(self, deadline: datetime, now: datetime) -> timedelta:
        """Working time from ``now`` until ``deadline``; negative (overdue by) once it has passed."""
        deadline, now = _aware(deadline, "deadline"), _aware(now, "now")
        if now <= deadline:
            return self.working_time_between(now, deadline)
        return -self.working_time_between(deadline, now)


_DEFAULT: WorkingCalendar | None = None


def default_calendar() -> WorkingCalendar:
    """The shared calendar with the default working hours (built on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = WorkingCalendar()
    return _DEFAULT


def add_working_days(start: datetime, n: int) -> datetime:
    """The deadline ``n`` working days after ``start`` (module rule; Asia/Ho_Chi_Minh result)."""
    return default_calendar().add_working_days(start, n)


def working_time_left(deadline: datetime, now: datetime) -> timedelta:
    """Working time left until ``deadline``; negative when overdue."""
    return default_calendar().working_time_left(deadline, now)


def is_working_day(day: date) -> bool:
    return default_calendar().is_working_day(day)


def deadline_for(received: datetime, category: Category, calendar: WorkingCalendar | None = None) -> datetime:
    """When a report of ``category`` received at ``received`` must be answered."""
    return (calendar or default_calendar()).add_working_days(received, category.deadline_working_days)
