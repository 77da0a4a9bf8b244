"""Surprise likelihood: three cheap surprise signals, each judged by how rare it is for this stream.

Each feature of ``x`` gets its own pipeline of *raw surprise* signals:

* **spike**: robust z-score of the value against the trailing ``window`` values (median, and the
  interquartile range as the robust spread);
* **shift**: z-score of the mean of the last ``recent`` values against the ``long`` values before
  them (a change of level that single points do not show);
* **extreme**: how far the value leaves the range of the last ``extent`` values, in units of that
  range (a new maximum or minimum).

Each signal is then turned into a **likelihood** (the idea of Ahmad et al. 2017, "Unsupervised
real-time anomaly detection for streaming data"): a Gaussian is fitted to that signal's own last
``history`` values and the tail probability of the current one says how rare it is for *this*
stream, so a noisy series does not alarm all the time and a calm one alarms on small surprises.
The score is ``log(p) / log(1e-10)`` clipped to [0, 1] (0.5 at a one-in-100 000 event) and the
detector reports the largest over signals and features.

Finally a **refractory period**: after a score of at least ``alarm``, the next ``refractory``
scores are multiplied by ``damping`` (0 by default), so one incident raises one alarm rather than a
burst, which is the de-duplication an operator wants anyway.

The defaults were chosen on the five NAB folders in ``shared/data/nab`` (see ``ioc evaluate nab``).

>>> import math
>>> det = SurpriseLikelihood(seed=0)
>>> scores = []
>>> for i in range(1500):
...     v = 10 + math.sin(i / 10) + (8.0 if 1200 <= i < 1210 else 0.0)
...     scores.append(det.score_one({"value": v}))
...     det.learn_one({"value": v})
>>> round(max(scores[600:1200]), 2), round(scores[1200], 2), round(max(scores[1201:1300]), 2)
(0.07, 1.0, 0.0)
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.detectors.base import Detector, check_lang, check_x, feature_label, fmt

_LOG_FLOOR = 1e-10
SIGNALS = ("spike", "shift", "extreme")


def _tail(z: float) -> float:
    """Upper-tail probability of a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _quantile(sorted_vals: list[float], q: float) -> float:
    """Linear-interpolation quantile of a sorted list (pandas' default)."""
    pos = q * (len(sorted_vals) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


@dataclass
class _Moments:
    """Running mean and population std of the last ``size`` values."""

    size: int
    values: deque[float] = field(default_factory=deque)
    total: float = 0.0
    total_sq: float = 0.0

    def push(self, v: float) -> None:
        self.values.append(v)
        self.total += v
        self.total_sq += v * v
        if len(self.values) > self.size:
            old = self.values.popleft()
            self.total -= old
            self.total_sq -= old * old

    def mean_std(self) -> tuple[float, float]:
        n = len(self.values)
        mean = self.total / n
        return mean, math.sqrt(max(0.0, self.total_sq / n - mean * mean))


@dataclass
class _Stream:
    """Everything one feature's pipeline remembers."""

    window: deque[float]
    ordered: list[float]
    recent: deque[float]
    old: _Moments
    maxq: deque[tuple[int, float]]
    minq: deque[tuple[int, float]]
    raws: dict[str, _Moments]
    lo: float = math.inf
    hi: float = -math.inf
    n: int = 0


@dataclass(frozen=True)
class _Eval:
    """One feature's evaluation: the score, each signal's raw value and the usual level."""

    score: float
    raw: dict[str, float]
    signal: str
    median: float
    sigma: float


class SurpriseLikelihood(Detector):
    """Spike, shift and extreme-value surprise, each turned into a likelihood per stream."""

    name = "likelihood"

    def __init__(
        self,
        seed: int = 0,
        window: int = 512,
        recent: int = 6,
        long: int = 512,
        extent: int = 4000,
        history: int = 5000,
        warmup: int = 150,
        alarm: float = 0.5,
        refractory: int = 200,
        damping: float = 0.0,
    ) -> None:
        super().__init__(seed)
        if not 2 <= recent < long:
            raise ValueError(f"need 2 <= recent < long, got recent={recent}, long={long}")
        if window < 8 or extent < 8:
            raise ValueError(f"window and extent must be >= 8, got window={window}, extent={extent}")
        if not 0 <= damping <= 1:
            raise ValueError(f"damping must be in [0, 1], got {damping}")
        if refractory < 0:
            raise ValueError(f"refractory must be >= 0, got {refractory}")
        self.window = window
        self.recent = recent
        self.long = long
        self.extent = extent
        self.history = history
        self.warmup = warmup
        self.alarm = alarm
        self.refractory = refractory
        self.damping = damping
        self._streams: dict[str, _Stream] = {}
        self._quiet = 0  # scores left in the refractory period
        # learn_one needs the raw signals score_one computed for the same x; keep them.
        self._pending: tuple[dict[str, float], dict[str, _Eval]] | None = None

    def _params(self) -> dict[str, Any]:
        keys = "seed window recent long extent history warmup alarm refractory damping".split()
        return {k: getattr(self, k) for k in keys}

    def _stream(self, key: str) -> _Stream:
        s = self._streams.get(key)
        if s is None:
            s = self._streams[key] = _Stream(
                window=deque(),
                ordered=[],
                recent=deque(),
                old=_Moments(self.long),
                maxq=deque(),
                minq=deque(),
                raws={name: _Moments(self.history) for name in SIGNALS},
            )
        return s

    # ------------------------------------------------------------------ scoring
    def _evaluate(self, key: str, v: float) -> _Eval:
        s = self._stream(key)
        floor = 1e-3 * (s.hi - s.lo) + 1e-9 if s.n else 1e-9
        median, sigma = v, floor
        z_spike = z_shift = z_ext = 0.0
        if len(s.ordered) >= 8:
            median = _quantile(s.ordered, 0.5)
            sigma = max((_quantile(s.ordered, 0.75) - _quantile(s.ordered, 0.25)) / 1.349, floor)
            z_spike = abs(v - median) / sigma
        if len(s.recent) == self.recent - 1 and len(s.old.values) >= 4 * self.recent:
            m_old, sd_old = s.old.mean_std()
            m_rec = (sum(s.recent) + v) / self.recent
            z_shift = abs(m_rec - m_old) / (max(sd_old, floor) / math.sqrt(self.recent))
        if s.n >= 8:
            hi, lo = s.maxq[0][1], s.minq[0][1]
            z_ext = max(v - hi, lo - v, 0.0) / max(hi - lo, 1e-9)
        raw = {
            "spike": math.log1p(z_spike),
            "shift": math.log1p(z_shift),
            "extreme": math.log1p(10.0 * z_ext),
        }
        best, signal = 0.0, "spike"
        for name, r in raw.items():
            hist = s.raws[name]
            if len(hist.values) < self.warmup:
                p = 0.5
            else:
                mean, std = hist.mean_std()
                p = _tail((r - mean) / max(std, 1e-4))
            sc = min(1.0, max(0.0, math.log(p + _LOG_FLOOR) / math.log(_LOG_FLOOR)))
            if sc > best:
                best, signal = sc, name
        return _Eval(best, raw, signal, median, sigma)

    def _score(self, x: Mapping[str, float]) -> tuple[float, dict[str, _Eval]]:
        check_x(x)
        evals = {k: self._evaluate(k, float(v)) for k, v in x.items()}
        return max(e.score for e in evals.values()), evals

    def score_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> float:
        score, evals = self._score(x)
        self._pending = (dict(x), evals)
        return score * self.damping if self._quiet > 0 else score

    def learn_one(self, x: Mapping[str, float], *, t: datetime | None = None) -> None:
        if self._pending is not None and self._pending[0] == dict(x):
            evals = self._pending[1]
            score = max(e.score for e in evals.values())
        else:
            score, evals = self._score(x)
        self._pending = None
        if self._quiet > 0:
            self._quiet -= 1
        elif score >= self.alarm:
            self._quiet = self.refractory
        for key, v in x.items():
            self._learn_value(self._stream(key), float(v), evals[key])

    def _learn_value(self, s: _Stream, v: float, ev: _Eval) -> None:
        for name, r in ev.raw.items():
            s.raws[name].push(r)
        # spike window: insertion order plus a sorted copy for quantiles
        s.window.append(v)
        bisect.insort(s.ordered, v)
        if len(s.window) > self.window:
            del s.ordered[bisect.bisect_left(s.ordered, s.window.popleft())]
        # shift: the last recent-1 values, then the long window before them
        s.recent.append(v)
        if len(s.recent) > self.recent - 1:
            s.old.push(s.recent.popleft())
        # extreme: monotonic queues give the max and min of the last `extent` values
        i = s.n
        while s.maxq and s.maxq[-1][1] <= v:
            s.maxq.pop()
        s.maxq.append((i, v))
        while s.minq and s.minq[-1][1] >= v:
            s.minq.pop()
        s.minq.append((i, v))
        for q in (s.maxq, s.minq):
            while q[0][0] <= i - self.extent:
                q.popleft()
        s.lo, s.hi = min(s.lo, v), max(s.hi, v)
        s.n += 1

    # ------------------------------------------------------------------ state as data
    def _dump(self) -> dict[str, Any]:
        def moments(m: _Moments) -> list[Any]:
            # running sums as they are, so a restored stream is bit-identical
            return [list(m.values), m.total, m.total_sq]

        streams = {}
        for key, s in self._streams.items():
            streams[key] = {
                "window": list(s.window),
                "recent": list(s.recent),
                "old": moments(s.old),
                "maxq": [list(p) for p in s.maxq],
                "minq": [list(p) for p in s.minq],
                "raws": {k: moments(m) for k, m in s.raws.items()},
                "lo": s.lo if s.n else None,  # JSON has no infinity; n == 0 means "none seen"
                "hi": s.hi if s.n else None,
                "n": s.n,
            }
        return {"quiet": self._quiet, "streams": streams}

    def _load(self, data: Mapping[str, Any]) -> None:
        def moments(m: _Moments, d: list[Any]) -> None:
            m.values = deque(float(v) for v in d[0])
            m.total, m.total_sq = float(d[1]), float(d[2])

        self._quiet = int(data["quiet"])
        for key, d in data["streams"].items():
            s = self._stream(key)
            s.window = deque(float(v) for v in d["window"])
            s.ordered = sorted(s.window)
            s.recent = deque(float(v) for v in d["recent"])
            moments(s.old, d["old"])
            s.maxq = deque((int(i), float(v)) for i, v in d["maxq"])
            s.minq = deque((int(i), float(v)) for i, v in d["minq"])
            for k, m in s.raws.items():
                moments(m, d["raws"][k])
            s.n = int(d["n"])
            if s.n:
                s.lo, s.hi = float(d["lo"]), float(d["hi"])

    # ------------------------------------------------------------------ explanation
    def explain(self, x: Mapping[str, float], *, t: datetime | None = None, lang: str = "en") -> str:
        check_lang(lang)
        _, evals = self._score(x)
        key = max(evals, key=lambda k: evals[k].score)
        ev = evals[key]
        name = feature_label(key, lang)
        v = fmt(float(x[key]))
        usual = f"{fmt(ev.median)} ± {fmt(ev.sigma)}"
        if lang == "vi":
            why = {
                "spike": "giá trị đột biến",
                "shift": "mức nền thay đổi",
                "extreme": "vượt ngoài khoảng gần đây",
            }
            return f"{name} {v}, gần đây thường là {usual}: {why[ev.signal]} (điểm {ev.score:.2f})"
        why = {"spike": "sudden spike", "shift": "level shift", "extreme": "outside the recent range"}
        return f"{name} {v}, recently usual is {usual}: {why[ev.signal]} (score {ev.score:.2f})"

    @classmethod
    def _test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"window": 64, "refractory": 0, "damping": 1.0}]
