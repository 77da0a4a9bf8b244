"""Seasonal baseline: robust z-score of each feature against the usual value for this hour of the week.

Traffic and air quality follow the week: Monday 08:00 is not Sunday 03:00. For each feature the
detector keeps the recent values seen in each hour-of-week slot and scores a new value by its robust
z-score ``|x - median| / (1.4826 * MAD)``. While a slot has too few values it falls back to the
hour of the day, then to all recent values, so a new sensor is useful from its first hour.

>>> from datetime import datetime, timedelta
>>> det = SeasonalBaseline(seed=1)
>>> t0 = datetime(2026, 1, 5, 8, 0)  # a Monday
>>> for week in range(6):
...     for k, v in enumerate((40.0, 42.0, 44.0, 41.0, 43.0)):
...         det.learn_one({"speed": v}, t=t0 + timedelta(weeks=week, minutes=5 * k))
>>> t = t0 + timedelta(weeks=6)
>>> round(det.score_one({"speed": 42.0}, t=t), 2), round(det.score_one({"speed": 18.0}, t=t), 2)
(0.0, 0.73)
>>> det.explain({"speed": 18.0}, t=t)
'speed 18 km/h, usual for Monday 08:00 is 42 ± 1.5'
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.detectors.base import (
    WEEKDAYS_EN,
    WEEKDAYS_VI,
    Detector,
    check_lang,
    check_x,
    feature_label,
    fmt,
    require_time,
    squash,
)

#: Robust sigma from the median absolute deviation of a normal sample.
MAD_TO_SIGMA = 1.4826
DEFAULT_UNITS = {"speed": "km/h", "volume": "xe/h", "occupancy": "%", "pm25": "µg/m³", "pm10": "µg/m³"}


@dataclass(frozen=True)
class Baseline:
    """The usual value of a feature at a time: median, robust sigma and which slot it came from."""

    median: float
    sigma: float
    level: str  # "week" (hour of week), "day" (hour of day) or "all"
    count: int


def _median(sorted_vals: list[float]) -> float:
    n = len(sorted_vals)
    mid = n // 2
    return sorted_vals[mid] if n % 2 else 0.5 * (sorted_vals[mid - 1] + sorted_vals[mid])


class SeasonalBaseline(Detector):
    """Robust z-score per hour of the week, with hour-of-day and global fallbacks.

    Parameters: ``min_count`` values a slot needs before it is trusted; ``slot_size`` /
    ``day_size`` / ``global_size`` bound the remembered values per slot; ``z_scale`` is the z at which
    the score is 0.5 (score = z / (z + z_scale)); ``min_sigma_frac`` floors sigma at a fraction of the
    global spread so a flat slot does not turn noise into alarms; ``units`` names each feature's unit.
    """

    name = "seasonal"

    def __init__(
        self,
        seed: int = 0,
        min_count: int = 6,
        slot_size: int = 48,
        day_size: int = 256,
        global_size: int = 2016,
        z_scale: float = 6.0,
        min_sigma_frac: float = 0.25,
        units: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(seed)
        if min_count < 2:
            raise ValueError(f"min_count must be >= 2, got {min_count}")
        if z_scale <= 0:
            raise ValueError(f"z_scale must be > 0, got {z_scale}")
        self.min_count = min_count
        self.slot_size = slot_size
        self.day_size = day_size
        self.global_size = global_size
        self.z_scale = z_scale
        self.min_sigma_frac = min_sigma_frac
        self.units = dict(DEFAULT_UNITS if units is None else units)
        # feature -> slot key -> recent values; slot keys: ("w", how), ("d", hour), ("a", 0)
        self._hist: dict[str, dict[tuple[str, int], deque[float]]] = {}
        # feature -> (values learnt, robust sigma of the global slot); refreshed every 64 values
        # because sorting the global slot on every score would dominate the cost.
        self._global: dict[str, tuple[int, float]] = {}
        # feature -> slot -> (last week/day number seen, how many distinct ones seen).
        self._periods: dict[str, dict[tuple[str, int], tuple[int, int]]] = {}

    def _params(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "min_count": self.min_count,
            "slot_size": self.slot_size,
            "day_size": self.day_size,
            "global_size": self.global_size,
            "z_scale": self.z_scale,
            "min_sigma_frac": self.min_sigma_frac,
            "units": self.units,
        }

    @staticmethod
    def _slots(t: datetime) -> tuple[tuple[str, int], tuple[str, int], tuple[str, int]]:
        return ("w", t.weekday() * 24 + t.hour), ("d", t.hour), ("a", 0)

    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        check_x(x)
        t = require_time(t, "SeasonalBaseline")
        sizes = (self.slot_size, self.day_size, self.global_size)
        day = t.toordinal()
        for key, v in x.items():
            slots = self._hist.setdefault(key, {})
            periods = self._periods.setdefault(key, {})
            for slot, size, period in zip(self._slots(t), sizes, (day // 7, day, 0), strict=True):
                q = slots.get(slot)
                if q is None:
                    q = slots[slot] = deque(maxlen=size)
                q.append(float(v))
                last, count = periods.get(slot, (None, 0))
                if period != last:
                    periods[slot] = (period, count + 1)
            n = self._global.get(key, (0, 0.0))[0] + 1
            g_scale = self._global.get(key, (0, 0.0))[1]
            if n <= 64 or n % 64 == 0:
                glob = sorted(slots[("a", 0)])
                g_med = _median(glob)
                g_sigma = MAD_TO_SIGMA * _median(sorted(abs(u - g_med) for u in glob))
                # Readings are often whole numbers that repeat, so a MAD of 0 is common: the
                # inter-decile spread keeps the scale meaningful.
                g_scale = max(
                    g_sigma, (glob[int(0.9 * (len(glob) - 1))] - glob[int(0.1 * (len(glob) - 1))]) / 2.56
                )
            self._global[key] = (n, g_scale)

    def baseline(self, key: str, t: datetime) -> Baseline | None:
        """The usual value of ``key`` at ``t`` (None until ``min_count`` values of it were learnt)."""
        slots = self._hist.get(key)
        # Fewer than min_count values in all: nothing to compare with yet.
        if not slots or len(slots[("a", 0)]) < self.min_count:
            return None
        g_scale = self._global[key][1]
        for slot in self._slots(t):
            q = slots.get(slot)
            # An hour-of-week slot must span two weeks, else a first-week incident is its own baseline.
            spans = slot[0] != "w" or self._periods[key].get(slot, (0, 0))[1] >= 2
            if q is not None and ((len(q) >= self.min_count and spans) or slot[0] == "a"):
                vals = sorted(q)
                med = _median(vals)
                sigma = MAD_TO_SIGMA * _median(sorted(abs(v - med) for v in vals))
                floor = max(self.min_sigma_frac * g_scale, 1e-9 * (1.0 + abs(med)))
                level = {"w": "week", "d": "day", "a": "all"}[slot[0]]
                return Baseline(med, max(sigma, floor), level, len(vals))
        raise AssertionError("unreachable: the global slot always exists")

    def _z(self, key: str, v: float, t: datetime) -> tuple[float, Baseline | None]:
        b = self.baseline(key, t)
        if b is None:
            return 0.0, None
        return abs(v - b.median) / b.sigma, b

    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        check_x(x)
        t = require_time(t, "SeasonalBaseline")
        z = max(self._z(k, float(v), t)[0] for k, v in x.items())
        return squash(z, self.z_scale)

    def _dump(self) -> dict[str, Any]:
        # slot keys ("w", 27) become [kind, number] pairs: JSON objects only have string keys
        return {
            key: {
                "slots": [[kind, num, list(q)] for (kind, num), q in slots.items()],
                "periods": [
                    [kind, num, last, count] for (kind, num), (last, count) in self._periods[key].items()
                ],
                "global": list(self._global[key]),
            }
            for key, slots in self._hist.items()
        }

    def _load(self, data: Mapping[str, Any]) -> None:
        sizes = {"w": self.slot_size, "d": self.day_size, "a": self.global_size}
        for key, d in data.items():
            self._hist[key] = {
                (kind, int(num)): deque((float(v) for v in vals), maxlen=sizes[kind])
                for kind, num, vals in d["slots"]
            }
            self._periods[key] = {
                (kind, int(num)): (None if last is None else int(last), int(count))
                for kind, num, last, count in d["periods"]
            }
            n, scale = d["global"]
            self._global[key] = (int(n), float(scale))

    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        check_lang(lang)
        check_x(x)
        t = require_time(t, "SeasonalBaseline")
        key, v = max(x.items(), key=lambda kv: self._z(kv[0], float(kv[1]), t)[0])
        _, b = self._z(key, float(v), t)
        unit = f" {self.units[key]}" if key in self.units else ""
        label = feature_label(key, lang)
        if b is None:
            if lang == "vi":
                return f"{label} {fmt(v)}{unit}, chưa có dữ liệu để so sánh"
            return f"{label} {fmt(v)}{unit}, no history yet"
        usual = f"{fmt(b.median)} ± {fmt(b.sigma)}"
        hhmm = f"{t.hour:02d}:00"
        if lang == "vi":
            when = {
                "week": f"vào {WEEKDAYS_VI[t.weekday()]} {hhmm}",
                "day": f"lúc {hhmm}",
                "all": "gần đây",
            }[b.level]
            return f"{label} {fmt(v)}{unit}, mức thường lệ {when} là {usual}"
        when = {"week": f"for {WEEKDAYS_EN[t.weekday()]} {hhmm}", "day": f"at {hhmm}", "all": "lately"}[
            b.level
        ]
        return f"{label} {fmt(v)}{unit}, usual {when} is {usual}"

    @classmethod
    def _test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"min_count": 3, "z_scale": 3.0}]
