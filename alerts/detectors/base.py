"""The detector protocol: score one observation, then learn it (river's ``learn_one``/``score_one``).

An observation ``x`` is a mapping of feature name to float, e.g. ``{"speed": 18.0, "volume": 640.0}``.
Time is passed separately as the keyword ``t``: a :class:`datetime.datetime` in the *local wall
clock of the sensor* (Hải Phòng is UTC+7), because seasonal models key on the hour of the week.
Detectors that do not use time accept ``t`` and ignore it; seasonal ones require it.

Usage in a stream (score first, so a point is judged by a model that has not seen it)::

    det = make_detector("seasonal", seed=7)
    for t, x in stream:
        s = det.score_one(x, t=t)   # float in [0, 1], higher = more anomalous
        det.learn_one(x, t=t)

Every detector is seeded with its own private generator (never the module-level ``random``), so the
same seed and the same stream give the same scores. ``state()`` returns plain data — a dict of
strings, numbers, lists and dicts that ``json.dumps`` accepts — from which ``type(det).from_state(...)``
rebuilds a detector that scores the rest of the stream identically. No pickle: restoring state read
from a database runs no code, it only fills numbers into a detector built from its own parameters.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

#: Version of the state layout written by :meth:`Detector.state`.
STATE_VERSION = 1
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
FEATURE_NAMES_VI = {
    "speed": "tốc độ",
    "volume": "lưu lượng",
    "occupancy": "độ chiếm dụng",
    "value": "giá trị",
    "pm25": "PM2.5",
    "pm10": "PM10",
    "aqi": "AQI",
}


class Detector(abc.ABC):
    """Base class of all anomaly detectors. Subclasses set ``name`` and implement the four methods."""

    name: ClassVar[str]

    def __init__(self, seed: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.seed = seed

    @abc.abstractmethod
    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        """Update the model with one observation."""

    @abc.abstractmethod
    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        """Anomaly score of one observation in [0, 1] (higher is more anomalous); does not learn."""

    @abc.abstractmethod
    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        """A sentence an operator can read saying why ``x`` is (or is not) unusual."""

    def state(self) -> dict[str, Any]:
        """Everything needed to resume this detector, as JSON-able data (no pickle)."""
        return {
            "detector": self.name,
            "version": STATE_VERSION,
            "params": self._params(),
            "data": self._dump(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Self:
        """Rebuild a detector from :meth:`state` output (also after a JSON round trip)."""
        if not isinstance(state, Mapping) or state.get("detector") != cls.name:
            got = state.get("detector") if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"not a {cls.name} state: {got!r}")
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported {cls.name} state version {state.get('version')!r}")
        obj = cls(**state["params"])
        obj._load(state["data"])
        return obj

    @abc.abstractmethod
    def _dump(self) -> Any:
        """What this detector has learnt, as JSON-able data (read back by :meth:`_load`)."""

    @abc.abstractmethod
    def _load(self, data: Any) -> None:
        """Fill a freshly constructed detector with :meth:`_dump` output."""

    def clone(self) -> Self:
        """A fresh, untrained detector with the same parameters."""
        return type(self)(**self._params())

    @abc.abstractmethod
    def _params(self) -> dict[str, Any]:
        """Constructor arguments of this instance (used by :meth:`clone`)."""

    @classmethod
    def _test_params(cls) -> list[dict[str, Any]]:
        """Parameter sets the shared check suite runs this detector with."""
        return [{}]


def check_x(x: Mapping[str, float]) -> None:
    """Reject observations that are not a non-empty mapping of names to finite numbers."""
    if not isinstance(x, Mapping) or not x:
        raise ValueError(f"x must be a non-empty mapping of feature name to float, got {x!r}")
    for k, v in x.items():
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"feature {k!r} must be a finite number, got {v!r}")


def require_time(t: datetime | None, who: str) -> datetime:
    """Seasonal detectors need the local timestamp; say so clearly when it is missing."""
    if not isinstance(t, datetime):
        raise ValueError(f"{who} needs t=<local datetime> for each observation, got t={t!r}")
    return t


def squash(z: float, scale: float) -> float:
    """Map a non-negative surprise ``z`` to [0, 1) monotonically without saturating (z/(z+scale))."""
    z = abs(z)
    return z / (z + scale)


def feature_label(key: str, lang: str) -> str:
    """Human name of a feature in the requested language ("vi" or "en")."""
    if lang == "vi":
        return FEATURE_NAMES_VI.get(key, key)
    if lang == "en":
        return key
    raise ValueError(f"lang must be 'vi' or 'en', got {lang!r}")


def fmt(v: float) -> str:
    """Compact number for explanations: 3 significant digits, no scientific noise for usual values."""
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 1:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.2f}".rstrip("0").rstrip(".")


def check_lang(lang: str) -> str:
    """Explanations exist in Vietnamese ("vi") and English ("en")."""
    if lang not in ("vi", "en"):
        raise ValueError(f"lang must be 'vi' or 'en', got {lang!r}")
    return lang
