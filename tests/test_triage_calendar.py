"""Deadline arithmetic on the Vietnamese working-day calendar.

Expected dates are worked out by hand from the official calendar (Labour Code 2019 Art. 112 and
the government's announced swaps), not computed with the code under test:

* Tết Đinh Mùi 2027: mùng 1 = Sat 6 Feb. Off: eve Fri 5, mùng 1–4 (Sat 6 – Tue 9); mùng 1 on a
  Saturday is given back on the working day before (Thu 4), mùng 2 on a Sunday on the working day
  after the break (Wed 10). Work resumes Thu 11 Feb.
* Giỗ Tổ Hùng Vương 2027: 10/3 lunar = Fri 16 Apr.
* 30/4/2027 Fri; 1/5/2027 Sat → observed Mon 3 May.
* Quốc khánh 2027: Thu 2 Sep + Fri 3 Sep.
* 2026: Tết Mon 16 – Fri 20 Feb; Quốc khánh Tue 1 + Wed 2 Sep with Mon 31 Aug off in exchange
  for working Sat 22 Aug.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from ioc.tickets.calendar import TZ, WorkingCalendar, add_working_days, deadline_for, working_time_left
from ioc.tickets.categories import load_catalog


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("received", "n", "expected"),
    [
        # Tết 2027: the whole Thu 4 – Wed 10 Feb break is skipped.
        (vn(2027, 2, 3, 10), 1, vn(2027, 2, 11, 10)),
        (vn(2027, 2, 3, 10), 3, vn(2027, 2, 15, 10)),  # Thu 11, Fri 12, Mon 15
        (vn(2027, 2, 3, 18), 1, vn(2027, 2, 12, 7, 30)),  # after hours: counts from Thu 11 07:30
        (vn(2027, 2, 6, 9), 1, vn(2027, 2, 12, 7, 30)),  # mùng 1 Tết itself
        (vn(2027, 2, 4, 9), 3, vn(2027, 2, 16, 7, 30)),  # compensatory day Thu 4 is not worked
        # Weekends.
        (vn(2027, 1, 8, 15), 1, vn(2027, 1, 11, 15)),  # Fri -> Mon
        (vn(2027, 1, 9, 10), 1, vn(2027, 1, 12, 7, 30)),  # Sat: starts Mon 07:30
        (vn(2027, 1, 11, 6), 3, vn(2027, 1, 14, 7, 30)),  # before hours: starts Mon 07:30
        (vn(2027, 1, 11, 7, 30), 0, vn(2027, 1, 11, 7, 30)),
        # Giỗ Tổ Hùng Vương, Fri 16 Apr 2027.
        (vn(2027, 4, 15, 14), 1, vn(2027, 4, 19, 14)),
        # 30/4 (Fri) and 1/5 (Sat, observed Mon 3 May).
        (vn(2027, 4, 29, 9), 1, vn(2027, 5, 4, 9)),
        (vn(2027, 4, 29, 9), 3, vn(2027, 5, 6, 9)),
        # Quốc khánh: Thu 2 + Fri 3 Sep 2027.
        (vn(2027, 9, 1, 16), 1, vn(2027, 9, 6, 16)),
        # 2026: Sat 22 Aug is a working day (swapped for Mon 31 Aug).
        (vn(2026, 8, 21, 9), 1, vn(2026, 8, 22, 9)),
        (vn(2026, 8, 28, 10), 1, vn(2026, 9, 3, 10)),  # Sat, Sun, 31/8, 1/9, 2/9 off
        (vn(2026, 2, 13, 11), 1, vn(2026, 2, 23, 11)),  # Tết 2026
    ],
)
def test_add_working_days(received: datetime, n: int, expected: datetime) -> None:
    got = add_working_days(received, n)
    assert got == expected
    assert got.tzinfo == TZ


def test_other_timezones_are_converted_to_hanoi_time() -> None:
    # 08:00 UTC is 15:00 in Hải Phòng on Friday 8 Jan 2027.
    from datetime import UTC

    got = add_working_days(datetime(2027, 1, 8, 8, 0, tzinfo=UTC), 1)
    assert got == vn(2027, 1, 11, 15)
    assert got.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize(
    ("deadline", "now", "left"),
    [
        # Wed 10:00–17:00 (7 h) + Thu 11 Feb 07:30–10:00 (2 h 30); the Tết break counts nothing.
        (vn(2027, 2, 11, 10), vn(2027, 2, 3, 10), timedelta(hours=9, minutes=30)),
        # Fri 16:00–17:00 + Mon 07:30–15:00.
        (vn(2027, 1, 11, 15), vn(2027, 1, 8, 16), timedelta(hours=8, minutes=30)),
        # Overdue: Mon 15:00–17:00 + Tue 07:30–08:30.
        (vn(2027, 1, 11, 15), vn(2027, 1, 12, 8, 30), -timedelta(hours=3)),
        # Deadline not yet reached but now is at night: only working hours count.
        (vn(2027, 1, 12, 9), vn(2027, 1, 11, 22), timedelta(hours=1, minutes=30)),
    ],
)
def test_working_time_left(deadline: datetime, now: datetime, left: timedelta) -> None:
    assert working_time_left(deadline, now) == left


def test_n_working_days_leave_n_full_working_days() -> None:
    cal = WorkingCalendar()
    start = vn(2027, 4, 28, 13, 45)
    for n in (1, 3, 5):
        assert cal.working_time_left(cal.add_working_days(start, n), start) == n * cal.hours_per_day


def test_holidays_known_to_the_calendar() -> None:
    cal = WorkingCalendar()
    assert not cal.is_working_day(date(2027, 2, 4))
    assert not cal.is_working_day(date(2027, 2, 10))
    assert cal.is_working_day(date(2027, 2, 11))
    assert cal.is_working_day(date(2026, 8, 22))  # swapped Saturday
    assert "Hùng Vương" in (cal.holiday_name(date(2027, 4, 16)) or "")
    assert cal.holiday_name(date(2027, 4, 15)) is None


def test_category_deadline_defaults() -> None:
    catalog = load_catalog()
    assert catalog.get("public_order").deadline_working_days == 1
    assert catalog.get("road_infra").deadline_working_days == 3
    received = vn(2027, 2, 3, 10)
    assert deadline_for(received, catalog.get("road_infra")) == vn(2027, 2, 15, 10)
    assert deadline_for(received, catalog.get("public_order")) == vn(2027, 2, 11, 10)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="2027-01-08T15:00:00"):
        add_working_days(datetime(2027, 1, 8, 15), 1)
    with pytest.raises(ValueError, match="-1"):
        add_working_days(vn(2027, 1, 8, 15), -1)
    with pytest.raises(ValueError, match="deadline"):
        working_time_left(datetime(2027, 1, 8), vn(2027, 1, 8))
