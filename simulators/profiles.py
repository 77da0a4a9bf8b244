"""How Hải Phòng breathes over a day, a week and a year: pure functions of local time.

Rush hours 7-9 and 16:30-18:30 on working days, a later and flatter weekend, a night lull;
PM2.5 higher in the dry winter months (Nov-Mar) and in the night/morning inversion; citizen
reports following waking hours. All functions are deterministic; randomness lives in the sources.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache, lru_cache

import holidays

LOCAL_TZ = timezone(timedelta(hours=7), "ICT")  # Việt Nam has no daylight saving time


def to_local(t: datetime) -> datetime:
    return t.astimezone(LOCAL_TZ)


def to_utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


def hour_of_day(local: datetime) -> float:
    return local.hour + local.minute / 60 + local.second / 3600


def _interp(table: tuple[float, ...], hour: float) -> float:
    """Linear interpolation in an hourly table (value i at hour i, wrapping at midnight)."""
    i = int(hour) % 24
    frac = hour - int(hour)
    return table[i] * (1 - frac) + table[(i + 1) % 24] * frac


@cache
def _vn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


@cache
def is_day_off(day: date) -> bool:
    """Sunday, Saturday or a public holiday (Tết, 30/4, 1/5, 2/9 …)."""
    return day.weekday() >= 5 or day in _vn_holidays(day.year)


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-0.5 * ((hour - centre) / width) ** 2)


def traffic_demand(local: datetime) -> float:
    """Demand as a share of road capacity at rush hour (≈1.0 at the working-day peaks, ≈0.1 at 3 am)."""
    return _demand_at_minute(local.replace(second=0, microsecond=0))


@lru_cache(maxsize=8192)
def _demand_at_minute(local: datetime) -> float:
    h = hour_of_day(local)
    if is_day_off(local.date()):
        # Later start, no sharp peaks, busier evening (markets, Đồ Sơn, family visits).
        return 0.08 + 0.45 * _bump(h, 10.5, 2.5) + 0.55 * _bump(h, 18.5, 2.0) + 0.2 * _bump(h, 14.5, 2.0)
    return (
        0.08
        + 0.95 * _bump(h, 7.9, 0.75)  # 7-9
        + 0.45 * _bump(h, 11.6, 0.6)  # lunch run home (many go home at noon)
        + 0.35 * _bump(h, 13.3, 0.5)
        + 0.98 * _bump(h, 17.5, 0.8)  # 16:30-18:30
        + 0.35 * _bump(h, 12.0, 4.0)  # daytime background
        + 0.15 * _bump(h, 20.5, 1.5)
    )


# Hải Phòng monthly means (climate normals, rounded): PM2.5 is a modelled background for the city.
PM25_MONTHLY = (58.0, 52.0, 46.0, 38.0, 28.0, 21.0, 19.0, 21.0, 27.0, 38.0, 48.0, 57.0)
TEMP_MONTHLY = (16.6, 17.4, 19.9, 23.8, 27.4, 28.9, 29.3, 28.7, 27.6, 25.2, 22.0, 18.6)
HUMIDITY_MONTHLY = (80.0, 85.0, 89.0, 88.0, 84.0, 84.0, 85.0, 87.0, 82.0, 78.0, 77.0, 77.0)
RAIN_PROBABILITY = (0.15, 0.25, 0.35, 0.35, 0.4, 0.5, 0.5, 0.6, 0.5, 0.3, 0.15, 0.12)

# Diurnal multiplier of particulate concentration: night-time inversion, morning rush, afternoon mixing.
_PM_DIURNAL = (
    1.14, 1.14, 1.12, 1.10, 1.08, 1.10, 1.16, 1.24, 1.22, 1.10, 0.96, 0.86,
    0.79, 0.75, 0.73, 0.75, 0.81, 0.91, 1.03, 1.11, 1.16, 1.18, 1.18, 1.16,
)  # fmt: skip


def dry_season(local: datetime) -> bool:
    """November to March: the north-east monsoon brings dry air and trapped pollution."""
    return local.month in (11, 12, 1, 2, 3)


def interp_monthly(table: tuple[float, ...], local: datetime) -> float:
    """Monthly normal interpolated so the value changes smoothly across month ends."""
    x = local.month - 1 + (local.day - 1) / 30.5 - 0.5
    i = math.floor(x) % 12
    frac = x - math.floor(x)
    return table[i] * (1 - frac) + table[(i + 1) % 12] * frac


def pm_diurnal(local: datetime) -> float:
    return _interp(_PM_DIURNAL, hour_of_day(local))


def temperature(local: datetime) -> float:
    """Monthly mean with a diurnal swing peaking at 14:00."""
    h = hour_of_day(local)
    return interp_monthly(TEMP_MONTHLY, local) + 3.5 * math.cos(2 * math.pi * (h - 14) / 24)


def humidity(local: datetime) -> float:
    h = hour_of_day(local)
    return interp_monthly(HUMIDITY_MONTHLY, local) - 8.0 * math.cos(2 * math.pi * (h - 14) / 24)


def sunlight(local: datetime) -> float:
    """0 at night, 1 at solar noon (drives ozone)."""
    h = hour_of_day(local)
    return max(0.0, math.sin(math.pi * (h - 6) / 12.5))


# Citizen reports per hour on a working day (Hải Phòng Smart, hotline, Zalo, web), by local hour.
_REPORTS_PER_HOUR = (
    0.6, 0.4, 0.3, 0.3, 0.4, 1.2, 3.0, 6.5, 10.0, 12.0, 11.5, 9.0,
    6.0, 6.5, 9.0, 10.0, 9.5, 8.0, 6.5, 7.0, 7.5, 6.0, 3.5, 1.5,
)  # fmt: skip


def report_rate_per_hour(local: datetime) -> float:
    """Expected new citizen reports per hour, city-wide (~150 on a working day)."""
    rate = _interp(_REPORTS_PER_HOUR, hour_of_day(local))
    return rate * (0.75 if is_day_off(local.date()) else 1.0)


def office_open(local: datetime) -> bool:
    """One-stop counters: 7:30-11:30 and 13:30-17:00 on working days, Saturday mornings."""
    h = hour_of_day(local)
    if local.weekday() == 6 or local.date() in _vn_holidays(local.year):
        return False
    if local.weekday() == 5:
        return 7.5 <= h < 11.5
    return 7.5 <= h < 11.5 or 13.5 <= h < 17.0
