"""The alert engine's IO-free core: rules plus per-series anomaly models, events in, alert updates out.

:class:`AlertEngine` feeds every event to the configured rules (``alerts/rules.yaml``) and to the
anomaly monitors configured there (``type: anomaly``): per traffic segment a seasonal robust z-score
on speed and an IsolationForest on speed/volume/occupancy, per air station a seasonal robust z-score
on PM2.5. A monitor raises one "anomaly" alert per series after several consecutive unusual
readings, keeps it while readings stay unusual, and clears it after a run of usual ones
(hysteresis), so one incident is one alert. Its text says why, in Vietnamese and English, e.g.
"tốc độ 18 km/h, mức thường lệ vào Thứ Hai 08:00 là 42 ± 6".

Time comes only from event times and ``tick(now)``; the same seed and events give the same updates.
``python -m alerts.engine`` runs the live service (:mod:`alerts.service`).
"""

from __future__ import annotations

import json
import logging
import statistics
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.detectors import Detector, make_detector
from alerts.model import AlertUpdate, Severity, UpdateKind
from alerts.rules import (
    AdminUnitOf,
    AnomalyConfig,
    CitizenBurstRule,
    Locator,
    RuleConfig,
    RuleEngine,
    SeriesDetectorConfig,
    load_rule_config,
)
from ioc.events import Event
from ioc.sources.air import AirEvent
from ioc.sources.camera import CameraEvent
from ioc.sources.feedback import FeedbackEvent
from ioc.sources.traffic import TrafficEvent

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
log = logging.getLogger(__name__)


def _vehicles(e: Event) -> float | None:
    c = getattr(e, "counts", None)
    return None if c is None else float(sum(c.model_dump().values()))


#: Detector feature name → how to read it from an event, per source kind.
FEATURES: dict[str, dict[str, Callable[[Event], float | None]]] = {
    "traffic": {
        "speed": lambda e: e.speed_kmh,  # type: ignore[attr-defined]
        "volume": lambda e: e.volume_vph,  # type: ignore[attr-defined]
        "occupancy": lambda e: e.occupancy_pct,  # type: ignore[attr-defined]
    },
    "air": {p: (lambda e, p=p: getattr(e, p)) for p in ("pm25", "pm10", "no2", "so2", "o3", "co")},
    "camera": {"vehicles": _vehicles},
}
_EVENT_TYPES: dict[str, type[Event]] = {
    "traffic": TrafficEvent,
    "air": AirEvent,
    "camera": CameraEvent,
}
_TITLES = {
    "traffic": ("Bất thường giao thông trên đoạn {sid}", "Unusual traffic on segment {sid}"),
    "air": ("Chất lượng không khí bất thường tại trạm {sid}", "Unusual air quality at station {sid}"),
    "camera": ("Lưu lượng xe bất thường tại camera {sid}", "Unusual vehicle counts at camera {sid}"),
}
#: Name and unit of each feature in explanations (Vietnamese, English).
_LABELS: dict[str, tuple[str, str, str]] = {
    "speed": ("tốc độ", "speed", "km/h"),
    "volume": ("lưu lượng", "volume", "xe/giờ"),
    "occupancy": ("độ chiếm dụng", "occupancy", "%"),
    "pm25": ("PM2.5", "PM2.5", "µg/m³"),
    "pm10": ("PM10", "PM10", "µg/m³"),
    "no2": ("NO₂", "NO₂", "µg/m³"),
    "so2": ("SO₂", "SO₂", "µg/m³"),
    "o3": ("O₃", "O₃", "µg/m³"),
    "co": ("CO", "CO", "µg/m³"),
    "vehicles": ("số xe đếm được", "vehicles counted", "xe"),
}
#: What kind of surprise the resonance detector saw, in words.
_SIGNALS_VI = {
    "spike": "thay đổi đột ngột",
    "shift": "thay đổi kéo dài",
    "extreme": "vượt ngoài mọi giá trị gần đây",
    "context": "diễn biến chưa từng gặp ở đây",
}
_SIGNALS_EN = {
    "spike": "a sudden change",
    "shift": "a lasting change",
    "extreme": "beyond every recent value",
    "context": "a pattern not seen here before",
}


def _num(v: float, lang: str) -> str:
    """3 significant figures; Vietnamese writes a decimal comma."""
    text = f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}".rstrip("0").rstrip(".") if abs(v) >= 1 else f"{v:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def plain_explanation(feature: str, value: float, usual: float | None, signal: str | None, lang: str) -> str:
    """A sentence a person reads: the value, how many times its usual level, and the kind of change.

    >>> plain_explanation("pm25", 150.0, 25.0, "shift", "vi")
    'PM2.5 150 µg/m³, gấp 6 lần mức thường lệ (25 µg/m³): thay đổi kéo dài'
    >>> plain_explanation("speed", 12.0, 42.0, "spike", "vi")
    'tốc độ 12 km/h, chỉ bằng 29 % mức thường lệ (42 km/h): thay đổi đột ngột'
    >>> plain_explanation("speed", 12.0, 42.0, "spike", "en")
    'speed 12 km/h, only 29 % of its usual level (42 km/h): a sudden change'
    """
    vi, en, unit = _LABELS.get(feature, (feature, feature, ""))
    sep = "" if unit == "%" else " "
    v = f"{_num(value, lang)}{sep}{unit}".strip()
    parts = [f"{vi if lang == 'vi' else en} {v}"]
    if usual is not None and usual > 0:
        u = f"{_num(usual, lang)}{sep}{unit}".strip()
        r = value / usual
        if lang == "vi":
            if r >= 1.95:
                parts.append(f"gấp {_num(round(r, 1 if r < 10 else 0), lang)} lần mức thường lệ ({u})")
            elif r >= 1:
                parts.append(f"cao hơn mức thường lệ {round(100 * (r - 1))} % ({u})")
            else:
                parts.append(f"chỉ bằng {round(100 * r)} % mức thường lệ ({u})")
        elif r >= 1.95:
            parts.append(f"{_num(round(r, 1 if r < 10 else 0), lang)} times its usual level ({u})")
        elif r >= 1:
            parts.append(f"{round(100 * (r - 1))} % above its usual level ({u})")
        else:
            parts.append(f"only {round(100 * r)} % of its usual level ({u})")
    text = ", ".join(parts)
    if signal is not None:
        text += ": " + (_SIGNALS_VI if lang == "vi" else _SIGNALS_EN)[signal]
    return text


class UsualProfile:
    """The usual value of each feature per day type (working day, weekend) and quarter hour.

    The median of the last ``size`` values of the slot, once it holds ``min_count`` of them;
    saved and restored as plain data. Weekends are Saturday and Sunday (public holidays are not
    known here and count as working days).
    """

    def __init__(self, min_count: int = 3, size: int = 12, minutes: int = 15) -> None:
        if min_count < 1 or size < min_count or minutes not in (5, 10, 15, 20, 30, 60):
            raise ValueError(f"bad usual profile: min_count={min_count}, size={size}, minutes={minutes}")
        self.min_count, self.size, self.minutes = min_count, size, minutes
        self._slots: dict[str, dict[int, list[float]]] = {}

    def _slot(self, t: datetime) -> int:
        return (1440 if t.weekday() >= 5 else 0) + (t.hour * 60 + t.minute) // self.minutes

    def usual(self, feature: str, t: datetime) -> float | None:
        vals = self._slots.get(feature, {}).get(self._slot(t))
        if vals is None or len(vals) < self.min_count:
            return None
        return statistics.median(vals)

    def learn(self, x: Mapping[str, float], t: datetime) -> None:
        slot = self._slot(t)
        for f, v in x.items():
            vals = self._slots.setdefault(f, {}).setdefault(slot, [])
            vals.append(float(v))
            if len(vals) > self.size:
                del vals[0]

    def params(self) -> dict[str, int]:
        return {"min_count": self.min_count, "size": self.size, "minutes": self.minutes}

    def dump(self) -> dict[str, object]:
        return {
            "params": self.params(),
            "slots": {f: [[k, v] for k, v in d.items()] for f, d in self._slots.items()},
        }

    @classmethod
    def load(cls, data: Mapping[str, object], params: Mapping[str, int]) -> UsualProfile:
        if data.get("params") != dict(params):
            raise StateRefused("stored usual values were built with other parameters than configured")
        obj = cls(**params)
        slots = data["slots"]
        if not isinstance(slots, dict):
            raise StateRefused("stored usual values are malformed")
        obj._slots = {
            str(f): {int(k): [float(v) for v in vs][-obj.size :] for k, vs in d} for f, d in slots.items()
        }
        return obj


@dataclass(slots=True)
class _Series:
    """One monitored series: its detectors and the raise/clear counters."""

    detectors: list[Detector]
    base: UsualProfile | None = None  # the usual values, when the monitor judges ratios to them
    learned: int = 0
    hot: int = 0
    cool: int = 0
    active: bool = False
    severity: Severity | None = None
    peak: float = 0.0
    last_time: datetime | None = None
    usual: dict[str, tuple[tuple[int, int], float | None]] = field(default_factory=dict)
    pending: list[dict[str, float]] = field(default_factory=list)
    shown: list[dict[str, float]] = field(default_factory=list)  # the last observation's values (not saved)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the monitor made of one reading (for tests, plots and the benchmark)."""

    source_id: str
    at: datetime
    scores: tuple[float, ...]
    hot: bool
    warm: bool


class AnomalyMonitor:
    """Every series of one source kind under one :class:`AnomalyConfig`."""

    def __init__(self, cfg: AnomalyConfig, seed: int = 0) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.seed = seed
        known = FEATURES[cfg.source]
        for d in cfg.detectors:
            bad = [f for f in d.features if f not in known]
            if bad:
                raise ValueError(
                    f"anomaly rule {cfg.id!r}: unknown {cfg.source} features {bad}; known: {sorted(known)}"
                )
        self._series: dict[str, _Series] = {}
        self.last_reading: Reading | None = None

    # -- the stream ------------------------------------------------------------------------------
    def evaluate(self, event: Event) -> list[AlertUpdate]:
        if not isinstance(event, _EVENT_TYPES[self.cfg.source]):
            return []
        s = self._series.get(event.source_id)
        if s is None:
            s = self._series[event.source_id] = _Series(
                self._new_detectors(event.source_id), self._new_base()
            )
        if s.last_time is not None and event.event_time <= s.last_time:
            return []  # a replayed or out-of-order reading must not be learnt twice
        s.last_time = event.event_time
        values = self._values(event)
        if values is None:
            return []
        s.pending.append(values)
        if len(s.pending) < self.cfg.aggregate:
            return []
        # One observation per `aggregate` readings: the median of each feature (robust to a glitch).
        agg = {f: statistics.median(v[f] for v in s.pending) for f in values}
        s.pending.clear()
        t = event.event_time.astimezone(LOCAL_TZ)
        raw = [{f: agg[f] for f in d.features} for d in self.cfg.detectors]
        xs: list[dict[str, float] | None] = list(raw)
        if s.base is not None:
            ratios = self._ratios(s, agg, t)
            xs = [None if ratios is None else {f: ratios[f] for f in d.features} for d in self.cfg.detectors]
        if s.learned < self.cfg.min_learned:  # still learning what is usual: nothing to judge yet
            for det, x in zip(s.detectors, xs, strict=True):
                if x is not None:
                    det.learn_one(x, t=t)
            if s.base is not None:
                s.base.learn(agg, t)
            s.learned += 1
            return []
        scores: list[float] = []
        hot = warm = False
        best: tuple[float, int] | None = None
        for i, (dcfg, det, x) in enumerate(zip(self.cfg.detectors, s.detectors, xs, strict=True)):
            if x is None:
                scores.append(0.0)
                continue
            score = det.score_one(x, t=t)
            scores.append(score)
            on_side = self._on_side(s, dcfg, raw[i], t)
            d_hot = on_side and score >= dcfg.raise_score
            d_warm = on_side and score >= dcfg.clear_score
            hot, warm = hot or d_hot, warm or d_warm
            if d_warm and (best is None or score / dcfg.raise_score > best[0]):
                best = (score / dcfg.raise_score, i)
            if not d_warm:  # protect the baseline: an incident must not teach that incidents are usual
                det.learn_one(x, t=t)
        if s.base is not None and not hot:  # an incident's readings must not become the usual
            s.base.learn(agg, t)
        s.learned += 1
        self.last_reading = Reading(event.source_id, event.event_time, tuple(scores), hot, warm)
        s.shown = raw
        return self._step(s, event, t, xs, scores, hot, warm, best)

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        return []

    def _step(
        self,
        s: _Series,
        event: Event,
        t: datetime,
        xs: list[dict[str, float] | None],
        scores: list[float],
        hot: bool,
        warm: bool,
        best: tuple[float, int] | None,
    ) -> list[AlertUpdate]:
        top = max(scores)
        severity = Severity.MODERATE if top >= self.cfg.severe_score else Severity.MINOR
        if not s.active:
            s.hot = s.hot + 1 if hot else 0
            if s.hot >= self.cfg.raise_after and best is not None:
                s.active, s.cool, s.severity, s.peak = True, 0, severity, top
                return [self._update(UpdateKind.RAISE, s, event, t, xs, scores, best[1], severity)]
            return []
        s.cool = 0 if warm else s.cool + 1
        if s.cool >= self.cfg.clear_after:
            s.active, s.hot, s.severity = False, 0, None
            return [self._update(UpdateKind.CLEAR, s, event, t, xs, scores, None, Severity.MINOR)]
        if best is not None and severity.rank > (s.severity.rank if s.severity else -1):
            s.severity, s.peak = severity, max(s.peak, top)
            return [self._update(UpdateKind.UPDATE, s, event, t, xs, scores, best[1], severity)]
        return []

    # -- helpers ---------------------------------------------------------------------------------
    def _new_base(self) -> UsualProfile | None:
        return None if self.cfg.usual is None else UsualProfile(**self.cfg.usual)

    def _ratios(self, s: _Series, agg: Mapping[str, float], t: datetime) -> dict[str, float] | None:
        """Each feature over its usual value now (None while some feature has no usual value yet)."""
        out = {}
        for f, v in agg.items():
            usual = self._usual(s, f, t)
            if usual is None:
                return None
            out[f] = v / max(abs(usual), 1e-6)
        return out

    def _new_detectors(self, source_id: str) -> list[Detector]:
        out = []
        for i, d in enumerate(self.cfg.detectors):
            seed = zlib.crc32(f"{self.seed}:{self.id}:{i}:{source_id}".encode()) & 0x7FFFFFFF
            out.append(make_detector(d.detector, seed=seed, **d.params))
        return out

    def _values(self, event: Event) -> dict[str, float] | None:
        """Every feature the detectors use, or None when the reading lacks one (e.g. no PM2.5)."""
        read = FEATURES[self.cfg.source]
        x = {f: read[f](event) for d in self.cfg.detectors for f in d.features}
        return None if any(v is None for v in x.values()) else x

    def _on_side(self, s: _Series, d: SeriesDetectorConfig, x: Mapping[str, float], t: datetime) -> bool:
        """Is the direction feature below (``low``) or above (``high``) its usual value?"""
        if d.direction == "any":
            return True
        feature = d.features[0]
        usual = self._usual(s, feature, t)
        if usual is None:
            return False  # no seasonal baseline for this time yet: nothing is unusual
        diff = x[feature] - usual if d.direction == "high" else usual - x[feature]
        return diff > 0 and diff >= d.min_deviation and diff >= d.min_change * abs(usual)

    def _usual(self, s: _Series, feature: str, t: datetime) -> float | None:
        """The seasonal median of ``feature`` now, or None while the model has only its all-time
        fallback (rush hour judged against the whole day would look like a jam); recomputed each
        quarter hour, as it moves slowly."""
        if s.base is not None:  # a median of a dozen values: cheap, and not cached (restores exactly)
            return s.base.usual(feature, t)
        slot = (t.weekday() * 24 + t.hour, t.minute // 15)
        cached = s.usual.get(feature)
        if cached is not None and cached[0] == slot:
            return cached[1]
        value = None
        for dcfg, det in zip(self.cfg.detectors, s.detectors, strict=True):
            if feature not in dcfg.features:
                continue
            baseline = getattr(det, "baseline", None)
            if baseline is not None:
                b = baseline(feature, t)
                value = None if b is None or b.level == "all" else b.median
                break
            recent = getattr(det, "usual", None)
            if recent is not None:
                value = recent(feature)
                break
        s.usual[feature] = (slot, value)
        return value

    def _update(
        self,
        kind: UpdateKind,
        s: _Series,
        event: Event,
        t: datetime,
        xs: list[dict[str, float] | None],
        scores: list[float],
        which: int | None,
        severity: Severity,
    ) -> AlertUpdate:
        title_vi, title_en = _TITLES[self.cfg.source]
        sid = event.source_id
        if which is None:
            detail_vi = "các chỉ số đã trở lại mức thường lệ"
            detail_en = "readings are back to usual"
            value = max(scores)
        else:
            det, x = s.detectors[which], xs[which]
            assert x is not None
            value = round(scores[which], 3)
            why = getattr(det, "why", None)
            if why is not None:  # resonance: the value against its usual level, in words
                feature, signal = why(x)
                if self.cfg.detectors[which].direction != "any":
                    feature = self.cfg.detectors[which].features[0]
                usual = self._usual(s, feature, t)
                shown = s.shown[which][feature] if s.shown else x[feature]
                detail_vi = plain_explanation(feature, shown, usual, signal, "vi")
                detail_en = plain_explanation(feature, shown, usual, signal, "en")
            else:
                name = self.cfg.detectors[which].detector
                detail_vi = f"{det.explain(x, t=t, lang='vi')} (mô hình {name}, điểm bất thường {value:.2f})"
                detail_en = f"{det.explain(x, t=t, lang='en')} ({name} model, anomaly score {value:.2f})"
        return AlertUpdate(
            kind=kind,
            key=f"{self.id}:{sid}",
            rule_id=self.id,
            alert_class=self.cfg.alert_class,
            severity=severity,
            at=event.event_time,
            source_id=sid,
            value=float(value),
            title_vi=title_vi.format(sid=sid),
            title_en=title_en.format(sid=sid),
            detail_vi=detail_vi,
            detail_en=detail_en,
        )

    # -- persistence -----------------------------------------------------------------------------
    def series_ids(self) -> list[str]:
        return sorted(self._series)

    def learned_until(self, source_id: str) -> datetime | None:
        """Event time of the newest reading of a series (None for an unknown series)."""
        s = self._series.get(source_id)
        return None if s is None else s.last_time

    def series_state(self, source_id: str) -> bytes:
        """Detectors and counters of one series as compressed JSON (see :meth:`restore_series`)."""
        s = self._series[source_id]
        doc = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "monitor": self.id,
            "detectors": [d.state() for d in s.detectors],
            "usual": None if s.base is None else s.base.dump(),
            "counters": {
                "learned": s.learned,
                "hot": s.hot,
                "cool": s.cool,
                "active": s.active,
                "severity": None if s.severity is None else s.severity.value,
                "peak": s.peak,
                "last_time": None if s.last_time is None else s.last_time.isoformat(),
                "pending": s.pending,
            },
        }
        text = json.dumps(doc, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        return STATE_MAGIC + zlib.compress(text.encode("utf-8"), 6)

    def restore_series(self, source_id: str, state: bytes) -> None:
        """Resume a series from :meth:`series_state` output; raises :class:`StateRefused` otherwise.

        The bytes are only ever parsed as JSON and their numbers filled into detectors built from
        this engine's own configuration: a pickle (the layout before issue 15) or anything else is
        refused, never executed.
        """
        doc = decode_state(state)
        if doc.get("monitor") != self.id:
            raise StateRefused(f"state of monitor {doc.get('monitor')!r}, not {self.id!r}")
        fresh = self._new_detectors(source_id)
        stored = doc.get("detectors")
        if not isinstance(stored, list) or len(stored) != len(fresh):
            raise StateRefused("stored detectors do not match the configured ones")
        dets: list[Detector] = []
        for det, st in zip(fresh, stored, strict=True):
            if not isinstance(st, dict) or st.get("detector") != det.name:
                got = st.get("detector") if isinstance(st, dict) else type(st).__name__
                raise StateRefused(f"stored detector {got!r}, configured {det.name!r}")
            if st.get("params") != json.loads(json.dumps(det.state()["params"])):
                raise StateRefused(f"stored {det.name} was built with other parameters than configured")
            try:
                dets.append(type(det).from_state(st))
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                raise StateRefused(
                    f"stored {det.name} state is malformed ({type(exc).__name__}: {exc})"
                ) from exc
        base = self._new_base()
        stored_base = doc.get("usual")
        if (base is None) != (stored_base is None):
            raise StateRefused("stored usual values do not match the configuration")
        if base is not None:
            if not isinstance(stored_base, dict):
                raise StateRefused("stored usual values are malformed")
            try:
                base = UsualProfile.load(stored_base, base.params())
            except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
                if isinstance(exc, StateRefused):
                    raise
                raise StateRefused(f"stored usual values are malformed ({type(exc).__name__})") from exc
        try:
            c = doc["counters"]
            s = _Series(dets, base)
            s.learned, s.hot, s.cool = int(c["learned"]), int(c["hot"]), int(c["cool"])
            s.active = bool(c["active"])
            s.severity = None if c["severity"] is None else Severity(c["severity"])
            s.peak = float(c["peak"])
            s.last_time = None if c["last_time"] is None else datetime.fromisoformat(c["last_time"])
            if s.last_time is not None and s.last_time.tzinfo is None:
                raise ValueError("last_time without a time zone")
            s.pending = [{str(k): float(v) for k, v in p.items()} for p in c["pending"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateRefused(f"stored counters are malformed ({type(exc).__name__}: {exc})") from exc
        self._series[source_id] = s


#: Saved series state: this prefix, then zlib-compressed UTF-8 JSON (``alert_models.state``).
STATE_MAGIC = b"IOCJSON1"
STATE_FORMAT = "ioc-alert-series"
STATE_VERSION = 1
MAX_STATE_BYTES = 64 * 1024 * 1024  # decompressed: a larger "state" is refused (a zip bomb, not a model)


class StateRefused(ValueError):
    """A stored series state this engine will not resume from; the series starts cold."""


def decode_state(state: bytes) -> dict:
    """The JSON document in a stored state, or :class:`StateRefused` (a pickle is never loaded)."""
    raw = bytes(state)
    if raw[:1] == b"\x80":
        raise StateRefused("a pickled state from before issue 15: discarded, never unpickled")
    if not raw.startswith(STATE_MAGIC):
        raise StateRefused(f"not a saved series state (starts {raw[:8]!r})")
    try:
        inflater = zlib.decompressobj()
        text = inflater.decompress(raw[len(STATE_MAGIC) :], MAX_STATE_BYTES)
        if inflater.unconsumed_tail:
            raise StateRefused(f"state larger than {MAX_STATE_BYTES} bytes")
        doc = json.loads(text.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateRefused(f"state is not compressed JSON ({type(exc).__name__})") from exc
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
        raise StateRefused("state is not a series state document")
    if doc.get("version") != STATE_VERSION:
        raise StateRefused(f"unsupported state version {doc.get('version')!r}")
    return doc


@dataclass
class EngineStats:
    """What the engine did (for logs and the benchmark)."""

    events: int = 0
    skipped: int = 0
    updates: dict[str, int] = field(default_factory=dict)


class AlertEngine:
    """Rules and anomaly monitors over one event stream; place and admin unit from ``locate``.

    >>> import uuid
    >>> from datetime import UTC, datetime, timedelta
    >>> from ioc.events import CameraEvent, Detection, DetectionType
    >>> engine = AlertEngine(seed=7, admin_unit_of=lambda lon, lat: None)
    >>> smoke = (Detection(type=DetectionType.FIRE_SMOKE, confidence=0.9),)
    >>> t = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    >>> [u.kind.value for u in engine.process(CameraEvent(event_id=uuid.uuid4(), source_id="cam-1",
    ...                                                   event_time=t, online=True, detections=smoke))]
    ['raise']
    >>> [u.kind.value for u in engine.tick(t + timedelta(minutes=3))]  # 3 min without smoke
    ['clear']
    """

    def __init__(
        self,
        config: RuleConfig | None = None,
        *,
        seed: int = 0,
        admin_unit_of: AdminUnitOf | None = None,
        locate: Locator | None = None,
        unit_label: Callable[[str], str] | None = None,
    ) -> None:
        config = config or load_rule_config()
        self.seed = seed
        self.rules = RuleEngine.from_config(config, admin_unit_of, locate, unit_label)
        self.monitors = [AnomalyMonitor(c, seed) for c in config.rules if isinstance(c, AnomalyConfig)]
        self.stats = EngineStats()

    def process(self, event: Event) -> list[AlertUpdate]:
        """The alert updates this event causes (usually none)."""
        self.stats.events += 1
        out = self.rules.evaluate(event)
        if self.monitors and not isinstance(event, FeedbackEvent):
            out += self.rules.place(u for m in self.monitors for u in m.evaluate(event))
        for u in out:
            self.stats.updates[u.kind.value] = self.stats.updates.get(u.kind.value, 0) + 1
        return out

    def process_many(self, events: Iterable[Event]) -> list[AlertUpdate]:
        return [u for e in events for u in self.process(e)]

    def tick(self, now: datetime) -> list[AlertUpdate]:
        """Time-driven updates (silent cameras, quiet detections, fading report bursts)."""
        return self.rules.evaluate_tick(now)

    # -- configuration from history --------------------------------------------------------------
    def set_usual_report_rates(
        self, rates_per_hour: Mapping[str, float], hour_profile: Sequence[float] | None = None
    ) -> None:
        """Usual citizen-report rates per admin unit (and the daily shape) for the burst rules."""
        for rule in self.rules.rules:
            if isinstance(rule, CitizenBurstRule):
                rule.set_usual_rates(rates_per_hour, hour_profile)

    # -- persistence -----------------------------------------------------------------------------
    def detector_states(self) -> dict[tuple[str, str], bytes]:
        """``(monitor id, source id) → state`` for every monitored series."""
        return {(m.id, sid): m.series_state(sid) for m in self.monitors for sid in m.series_ids()}

    def learned_until(self, monitor_id: str, source_id: str) -> datetime | None:
        return next((m.learned_until(source_id) for m in self.monitors if m.id == monitor_id), None)

    def restore_detector_states(self, states: Mapping[tuple[str, str], bytes]) -> int:
        """Resume series from :meth:`detector_states`; unknown monitors are skipped. Returns the count."""
        by_id = {m.id: m for m in self.monitors}
        n = 0
        for (mid, sid), state in states.items():
            m = by_id.get(mid)
            if m is None:
                continue
            try:
                m.restore_series(sid, state)
                n += 1
            except StateRefused as exc:
                log.warning("stored model of %s:%s refused (%s); the series starts cold", mid, sid, exc)
        return n


def usual_report_rates(
    reports: Iterable[tuple[datetime, str | None]], hours: float
) -> tuple[dict[str, float], list[float]]:
    """Per-unit mean rate (reports/hour) and the 24-hour daily shape (mean 1) from past reports.

    ``reports`` are ``(event_time, admin unit)`` of new reports over ``hours`` of history. Units
    get at least a small floor so a unit that was silent does not flag its first report.
    """
    if hours <= 0:
        raise ValueError(f"history must span a positive number of hours, got {hours}")
    counts: dict[str, int] = {}
    by_hour = [0] * 24
    for t, unit in reports:
        by_hour[t.astimezone(LOCAL_TZ).hour] += 1
        if unit is not None:
            counts[unit] = counts.get(unit, 0) + 1
    total = sum(by_hour)
    if total == 0:
        return {}, [1.0] * 24
    mean = total / 24
    # Smooth the shape so an hour with few reports does not get a near-zero expectation.
    profile = [max(0.2, (0.8 * by_hour[h] + 0.2 * mean) / mean) for h in range(24)]
    norm = sum(profile) / 24
    profile = [p / norm for p in profile]
    return {u: max(0.05, n / hours) for u, n in counts.items()}, profile


def main() -> None:
    """``python -m alerts.engine``: the live engine with ``IOC_*`` settings until SIGTERM/Ctrl-C."""
    from alerts.service import main as service_main

    service_main()


if __name__ == "__main__":
    main()


__all__ = [
    "FEATURES",
    "AlertEngine",
    "plain_explanation",
    "AnomalyMonitor",
    "EngineStats",
    "Reading",
    "StateRefused",
    "UsualProfile",
    "decode_state",
    "usual_report_rates",
]
