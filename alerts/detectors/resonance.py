"""Resonance: differently-biased surprise signals, each judged by its own rarity, gated by novelty.

An ensemble in one streaming pass, one pipeline per feature of ``x``:

* **spike**: robust z of the value against the trailing ``window`` values (median and IQR);
* **shift**: z of the mean of the last ``recent`` values against the ``long`` values before them;
* **extreme**: how far the value leaves the range of the last ``extent`` values;
* **context** (the idea of CAD OSE and ARTime's categories): the value and the recent past are
  quantised into ``bins`` levels of the recent range at each time ``scale`` (rolling means of
  ``scale`` values, ``length`` of them ``scale`` apart), giving one *context* per scale. A context
  never seen before in this stream is novel; the signal is the share of novel contexts averaged
  over the last ``novelty_avg`` values.

Each signal becomes a **likelihood** (HTM's anomaly likelihood, Ahmad et al. 2017): a Gaussian
fitted to the signal's own last ``history`` values (``context_history`` for the context signal,
whose level falls as a young stream's shapes become known) gives the tail probability of the current one,
scored ``log(p) / log(1e-10)`` in [0, 1]. The value signals (spike, shift, extreme) are
**gated**: when none of the current contexts is new (this shape already happened here, e.g. a
daily spike) their score is multiplied by ``gate``. The detector reports the largest score, stays
silent for the first ``warmup`` values of a stream (the likelihoods need a history) and, like
ARTime, has a **refractory period**: after a score of at least ``alarm`` the next ``refractory``
scores are multiplied by ``damping`` (0), so one incident raises one alarm.

Everything is causal: each value is scored before it is learnt, with no labels, no file names and
no knowledge of the stream's length or range. The defaults were chosen by leave-one-folder-out on
the NAB folders in ``shared/data/nab`` (``python -m alerts.nab_lofo``).

>>> import math
>>> det = Resonance(seed=0)
>>> scores = []
>>> for i in range(3000):
...     v = 10 + math.sin(i / 10) + (8.0 if 2400 <= i < 2410 else 0.0)
...     scores.append(det.score_one({"value": v}))
...     det.learn_one({"value": v})
>>> round(max(scores[600:2400]), 2), round(scores[2400], 2), round(max(scores[2401:2600]), 2)
(0.04, 1.0, 0.0)
>>> det.explain({"value": 18.0})  # a jump to 18 happened before: the value surprise is gated
'value 18, recently usual is 10 ± 1.1: sudden spike (score 0.50)'
>>> again = Resonance.from_state(det.state())
>>> again.score_one({"value": 10.5}) == det.score_one({"value": 10.5})
True
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alerts.detectors.base import Detector, check_lang, check_x, feature_label, fmt

_LOG_FLOOR = 1e-10
_LOG_DEN = math.log(_LOG_FLOOR)
_SQRT2 = math.sqrt(2.0)
SIGNALS = ("spike", "shift", "extreme", "context")


def _quantile(sorted_vals: list[float], q: float) -> float:
    """Linear-interpolation quantile of a sorted list (pandas' default)."""
    pos = q * (len(sorted_vals) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


class _Moments:
    """Running mean and population std of the last ``size`` values."""

    __slots__ = ("size", "values", "total", "total_sq")

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: deque[float] = deque()
        self.total = 0.0
        self.total_sq = 0.0

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

    # The running sums are kept as they are (not recomputed) so a restored stream is bit-identical.
    def dump(self) -> list[Any]:
        return [list(self.values), self.total, self.total_sq]

    def load(self, data: list[Any]) -> None:
        values, self.total, self.total_sq = data
        self.values = deque(float(v) for v in values)


class _Stream:
    """Everything one feature's pipeline remembers."""

    def __init__(self, det: Resonance) -> None:
        self.n = 0
        self.window: deque[float] = deque()  # spike: insertion order ...
        self.ordered: list[float] = []  # ... and a sorted copy for quantiles
        self.recent: deque[float] = deque()  # shift: the last recent-1 values
        self.old = _Moments(det.long)  # ... and the long window before them
        self.maxq: deque[list[float]] = deque()  # extreme: monotonic queues of [index, value]
        self.minq: deque[list[float]] = deque()
        self.raws = {name: _Moments(det.history) for name in SIGNALS}
        # Novelty is high while a stream is young and decays as its shapes are learnt: a shorter
        # memory lets the context likelihood forget that start instead of judging novelty by it.
        self.raws["context"] = _Moments(det.context_history)
        self.vals: deque[float] = deque()  # context: the last max(scale) values
        self.sums = [0.0 for _ in det.scales]  # rolling sum of the last `scale` values
        self.means: list[deque[float]] = [deque() for _ in det.scales]  # past rolling means
        self.seen: list[dict[int, int]] = [{} for _ in det.scales]  # context -> times seen
        self.nov: deque[float] = deque()  # share of novel contexts, last novelty_avg values
        self.nov_sum = 0.0

    def dump(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "window": list(self.window),
            "recent": list(self.recent),
            "old": self.old.dump(),
            "maxq": [list(p) for p in self.maxq],
            "minq": [list(p) for p in self.minq],
            "raws": {k: m.dump() for k, m in self.raws.items()},
            "vals": list(self.vals),
            "sums": list(self.sums),
            "means": [list(m) for m in self.means],
            "seen": [[[k, c] for k, c in s.items()] for s in self.seen],
            "nov": list(self.nov),
            "nov_sum": self.nov_sum,
        }

    def load(self, d: Mapping[str, Any]) -> None:
        self.n = int(d["n"])
        self.window = deque(float(v) for v in d["window"])
        self.ordered = sorted(self.window)
        self.recent = deque(float(v) for v in d["recent"])
        self.old.load(d["old"])
        self.maxq = deque([int(i), float(v)] for i, v in d["maxq"])
        self.minq = deque([int(i), float(v)] for i, v in d["minq"])
        for k, m in self.raws.items():
            m.load(d["raws"][k])
        self.vals = deque(float(v) for v in d["vals"])
        self.sums = [float(v) for v in d["sums"]]
        self.means = [deque(float(v) for v in m) for m in d["means"]]
        self.seen = [{int(k): int(c) for k, c in s} for s in d["seen"]]
        self.nov = deque(float(v) for v in d["nov"])
        self.nov_sum = float(d["nov_sum"])


class _Eval:
    """One feature's evaluation, kept from score_one for learn_one."""

    __slots__ = ("score", "raw", "novel", "contexts", "signal", "median", "sigma")

    def __init__(self, score, raw, novel, contexts, signal, median, sigma) -> None:
        self.score, self.raw, self.novel, self.contexts = score, raw, novel, contexts
        self.signal, self.median, self.sigma = signal, median, sigma


class Resonance(Detector):
    """Spike, shift, range and context-novelty likelihoods, novelty-gated, with a refractory period."""

    name = "resonance"

    def __init__(
        self,
        seed: int = 0,
        window: int = 512,
        recent: int = 6,
        long: int = 512,
        extent: int = 8000,
        history: int = 2000,
        warmup: int = 150,
        alarm: float = 0.5,
        refractory: int = 200,
        damping: float = 0.0,
        bins: int = 8,
        length: int = 4,
        scales: tuple[int, ...] | list[int] = (4, 16),
        novelty_avg: int = 10,
        gate: float = 0.5,
        context_history: int = 1000,
    ) -> None:
        super().__init__(seed)
        if not 2 <= recent < long:
            raise ValueError(f"need 2 <= recent < long, got recent={recent}, long={long}")
        if min(window, extent, history, context_history) < 8:
            raise ValueError(
                f"window, extent, history and context_history must be >= 8, got "
                f"{window}, {extent}, {history}, {context_history}"
            )
        if not 0 <= damping <= 1 or not 0 <= gate <= 1:
            raise ValueError(f"damping and gate must be in [0, 1], got {damping}, {gate}")
        if refractory < 0 or warmup < 0:
            raise ValueError(f"refractory and warmup must be >= 0, got {refractory}, {warmup}")
        if bins < 2 or length < 1 or not scales or min(scales) < 1 or novelty_avg < 1:
            raise ValueError(f"bad context parameters: bins={bins}, length={length}, scales={scales}")
        self.window = window
        self.recent = recent
        self.long = long
        self.extent = extent
        self.history = history
        self.warmup = warmup
        self.alarm = alarm
        self.refractory = refractory
        self.damping = damping
        self.bins = bins
        self.length = length
        self.scales = tuple(int(b) for b in scales)
        self.novelty_avg = novelty_avg
        self.gate = gate
        self.context_history = context_history
        self._streams: dict[str, _Stream] = {}
        self._quiet = 0  # scores left in the refractory period
        # learn_one needs what score_one computed for the same x; keep it.
        self._pending: tuple[dict[str, float], dict[str, _Eval]] | None = None

    _KEYS = (
        "seed window recent long extent history warmup alarm refractory damping bins length scales "
        "novelty_avg gate context_history"
    ).split()

    def _params(self) -> dict[str, Any]:
        return {k: (list(self.scales) if k == "scales" else getattr(self, k)) for k in self._KEYS}

    def _stream(self, key: str) -> _Stream:
        s = self._streams.get(key)
        if s is None:
            s = self._streams[key] = _Stream(self)
        return s

    # ------------------------------------------------------------------ scoring
    def _contexts(self, s: _Stream, v: float, lo: float, hi: float) -> list[int]:
        """One integer per scale: the quantised rolling means now and ``length - 1`` steps back."""
        span = hi - lo if hi > lo else 1e-9
        top = self.bins
        base = top + 2  # levels -1 .. bins: below and above the recent range get their own level
        out = []
        have = len(s.vals)
        for j, b in enumerate(self.scales):
            total = s.sums[j] + v - (s.vals[-b] if have >= b else 0.0)
            m = total / (b if have >= b else have + 1)
            q = int((m - lo) / span * top) if m >= lo else -1
            ctx = min(q, top) + 1
            hist = s.means[j]
            for k in range(1, self.length):
                idx = len(hist) - k * b
                if idx < 0:
                    ctx = -1  # not enough past yet: no context
                    break
                u = hist[idx]
                q = int((u - lo) / span * top) if u >= lo else -1
                ctx = ctx * base + min(q, top) + 1
            out.append(ctx)
        return out

    def _evaluate(self, key: str, v: float) -> _Eval:
        s = self._stream(key)
        if s.n:
            hi, lo = s.maxq[0][1], s.minq[0][1]
        else:
            hi = lo = v
        floor = 1e-3 * (hi - lo) + 1e-9
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
            z_ext = max(v - hi, lo - v, 0.0) / max(hi - lo, 1e-9)
        contexts = self._contexts(s, v, lo, hi)
        novel = sum(1 for c, seen in zip(contexts, s.seen, strict=True) if c >= 0 and c not in seen)
        novel_share = novel / len(self.scales)
        full = len(s.nov) == self.novelty_avg
        ctx_raw = (s.nov_sum + novel_share - (s.nov[0] if full else 0.0)) / (len(s.nov) + (not full))
        raw = {
            "spike": math.log1p(z_spike),
            "shift": math.log1p(z_shift),
            "extreme": math.log1p(10.0 * z_ext),
            "context": ctx_raw,
        }
        best, signal = 0.0, "spike"
        if s.n >= self.warmup:
            for name in SIGNALS:
                hist = s.raws[name]
                if not hist.values:
                    continue
                mean, std = hist.mean_std()
                z = (raw[name] - mean) / max(std, 1e-4)
                if z <= 0:
                    continue
                p = 0.5 * math.erfc(z / _SQRT2)
                sc = math.log(p + _LOG_FLOOR) / _LOG_DEN
                # A shape seen before here (no new context) makes a value surprise less telling.
                if name != "context" and novel == 0:
                    sc *= self.gate
                if sc > best:
                    best, signal = sc, name
        return _Eval(min(1.0, best), raw, novel_share, contexts, signal, median, sigma)

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
        for name in SIGNALS:
            s.raws[name].push(ev.raw[name])
        s.window.append(v)
        bisect.insort(s.ordered, v)
        if len(s.window) > self.window:
            del s.ordered[bisect.bisect_left(s.ordered, s.window.popleft())]
        s.recent.append(v)
        if len(s.recent) > self.recent - 1:
            s.old.push(s.recent.popleft())
        i = s.n
        while s.maxq and s.maxq[-1][1] <= v:
            s.maxq.pop()
        s.maxq.append([i, v])
        while s.minq and s.minq[-1][1] >= v:
            s.minq.pop()
        s.minq.append([i, v])
        for q in (s.maxq, s.minq):
            while q[0][0] <= i - self.extent:
                q.popleft()
        for seen, c in zip(s.seen, ev.contexts, strict=True):
            if c >= 0:
                seen[c] = seen.get(c, 0) + 1
        s.nov.append(ev.novel)
        s.nov_sum += ev.novel
        if len(s.nov) > self.novelty_avg:
            s.nov_sum -= s.nov.popleft()
        have = len(s.vals)
        for j, b in enumerate(self.scales):
            s.sums[j] += v - (s.vals[-b] if have >= b else 0.0)
            s.means[j].append(s.sums[j] / (b if have >= b else have + 1))
            if len(s.means[j]) > (self.length - 1) * b + 1:
                s.means[j].popleft()
        s.vals.append(v)
        if len(s.vals) > max(self.scales):
            s.vals.popleft()
        s.n += 1

    # ------------------------------------------------------------------ state as data
    def _dump(self) -> dict[str, Any]:
        return {"quiet": self._quiet, "streams": {k: s.dump() for k, s in self._streams.items()}}

    def _load(self, data: Mapping[str, Any]) -> None:
        self._quiet = int(data["quiet"])
        for key, d in data["streams"].items():
            self._stream(key).load(d)

    # ------------------------------------------------------------------ for the alert engine
    def usual(self, key: str) -> float | None:
        """The median of ``key``'s trailing ``window`` values (None before 8 of them)."""
        s = self._streams.get(key)
        if s is None or len(s.ordered) < 8:
            return None
        return _quantile(s.ordered, 0.5)

    def why(self, x: Mapping[str, float]) -> tuple[str, str]:
        """The feature with the highest score and the signal behind it (``spike`` … ``context``)."""
        _, evals = self._score(x)
        key = max(evals, key=lambda k: evals[k].score)
        return key, evals[key].signal

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
                "context": "diễn biến chưa từng gặp",
            }
            return f"{name} {v}, gần đây thường là {usual}: {why[ev.signal]} (điểm {ev.score:.2f})"
        why = {
            "spike": "sudden spike",
            "shift": "level shift",
            "extreme": "outside the recent range",
            "context": "a pattern not seen before",
        }
        return f"{name} {v}, recently usual is {usual}: {why[ev.signal]} (score {ev.score:.2f})"

    @classmethod
    def _test_params(cls) -> list[dict[str, Any]]:
        return [{}, {"window": 64, "history": 500, "refractory": 0, "damping": 1.0, "scales": [1, 4]}]
