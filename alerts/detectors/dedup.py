"""De-duplicated detectors: one alarm per incident instead of one per anomalous reading.

A wrapped detector scores as usual, but once a score reaches ``alarm`` the next ``period`` scores
are multiplied by ``damping`` (0 by default) unless they exceed the score that raised the alarm:
an escalation passes through and restarts the period. This is the alert engine's de-duplication done inside
the model, and it matters for NAB, which charges every flagged row outside a window as a false
positive while a window counts once. ``alarm`` is the inner detector's natural alert level, fixed
in advance (seasonal: z of 6, i.e. score 0.5; iforest: its protective-filter level), not tuned.

>>> import random
>>> from datetime import datetime, timedelta
>>> rnd, t0 = random.Random(0), datetime(2026, 1, 5)
>>> det = SeasonalDedup(seed=0)
>>> scores = []
>>> for i in range(3000):
...     t, v = t0 + timedelta(minutes=5 * i), rnd.gauss(40, 2) - (30 if 2900 <= i < 2920 else 0)
...     scores.append(det.score_one({"speed": v}, t=t))
...     det.learn_one({"speed": v}, t=t)
>>> scores[2900] >= 0.5, max(scores[2901:2920])
(True, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from alerts.detectors.base import Detector
from alerts.detectors.iforest import WindowedIsolationForest
from alerts.detectors.seasonal import SeasonalBaseline


class Dedup(Detector):
    """Base of the de-duplicated variants; subclasses name the inner class and its alarm level."""

    inner_cls: ClassVar[type[Detector]]
    default_alarm: ClassVar[float]

    def __init__(
        self, seed: int = 0, alarm: float | None = None, period: int = 200, damping: float = 0.0, **inner: Any
    ) -> None:
        super().__init__(seed)
        if period < 0:
            raise ValueError(f"period must be >= 0, got {period}")
        if not 0 <= damping <= 1:
            raise ValueError(f"damping must be in [0, 1], got {damping}")
        self.alarm = self.default_alarm if alarm is None else alarm
        self.period = period
        self.damping = damping
        self.inner = self.inner_cls(seed=seed, **inner)
        self._quiet = 0
        self._peak = 0.0  # the score that opened the current quiet period
        self._last: tuple[dict[str, float], datetime | None, float] | None = None

    def _params(self) -> dict[str, Any]:
        inner = {k: v for k, v in self.inner._params().items() if k != "seed"}
        return {
            "seed": self.seed,
            "alarm": self.alarm,
            "period": self.period,
            "damping": self.damping,
            **inner,
        }

    def _raw(self, x: Mapping[str, float], t: datetime | None) -> float:
        if self._last is not None and self._last[0] == dict(x) and self._last[1] == t:
            return self._last[2]
        s = self.inner.score_one(x, t=t)
        self._last = (dict(x), t, s)
        return s

    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        s = self._raw(x, t)
        return s * self.damping if 0 < self._quiet and s <= self._peak else s

    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        s = self._raw(x, t)
        self._last = None
        if s >= self.alarm and (self._quiet == 0 or s > self._peak):
            self._quiet, self._peak = self.period, s
        elif self._quiet > 0:
            self._quiet -= 1
        self.inner.learn_one(x, t=t)

    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        return self.inner.explain(x, t=t, lang=lang)

    def _dump(self) -> dict[str, Any]:
        return {"quiet": self._quiet, "peak": self._peak, "inner": self.inner._dump()}

    def _load(self, data: Mapping[str, Any]) -> None:
        self._quiet, self._peak = int(data["quiet"]), float(data["peak"])
        self.inner._load(data["inner"])

    @classmethod
    def _test_params(cls) -> list[dict[str, Any]]:
        return [{**p, "period": 50} for p in cls.inner_cls._test_params()[:1]]


class SeasonalDedup(Dedup):
    """:class:`SeasonalBaseline` raising one alarm per incident (alarm at z = 6)."""

    name = "seasonaldedup"
    inner_cls = SeasonalBaseline
    default_alarm = 0.5


class IsolationForestDedup(Dedup):
    """:class:`WindowedIsolationForest` raising one alarm per incident (alarm at its protect level)."""

    name = "iforestdedup"
    inner_cls = WindowedIsolationForest
    default_alarm = 0.68
