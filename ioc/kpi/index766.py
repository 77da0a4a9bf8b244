"""Chỉ số 766 (Quyết định 766/QĐ-TTg): the subset computable from dossier records, exactly as
``shared/data/kpi/index766.md`` section 8 fixes it, so that every tool agrees to the last digit.

One implementation serves the CSV command and the live system: :class:`Index766Accumulator`
holds integer counters for one (unit, period), is fed dossier by dossier (``add``, and ``remove``
/ ``replace`` when a live dossier changes), merges (unit → sector → city) and is read at a moment
``as_of`` (:meth:`Index766Accumulator.counts`), which :func:`score` turns into points.

Live use: keep one :class:`Index766Book` per period (e.g. per month of ``received_at``); for each
dossier event build a :class:`DossierRecord` and call ``add`` for a new dossier or
``replace(previous, current)`` for a change (the dossier table holds ``previous``). Reading at
any moment is ``book.result(as_of)``; the city's counts are the sum of the units' counts, and a
sector is ``Index766Accumulator.merged`` of its units. The book holds only integers and the due
instants of open dossiers, so it is rebuilt from the dossier table in one pass at start-up.

Reading of the rules where section 8 leaves room (each decision is tested):

- ``as_of`` is "the moment of evaluation (the end of the period)". It decides only whether a
  dossier *not completed* is still within its deadline (``due_at ≥ as_of``). Section 8 computes
  "for each unit over its rows", so no row is dropped or altered because of ``as_of``: a dossier
  received, due or completed after ``as_of`` counts as given. Choosing the period's dossiers is the
  caller's job (the live system keys accumulators by period).
- A dossier with a ``completed_at`` is completed, whatever ``as_of`` says; it is on time when it
  had at most one supplement request and ``completed_at ≤ due_at``. A dossier with more than one
  supplement request is late whether completed or not.
- 5.4 counts a dossier once: it is in the numerator when it is rated neither ``unsatisfied``, nor
  ``complained``, nor late.
- Ratios are exact fractions; ratio and points are rounded half-up (4 and 2 decimals) separately
  from the unrounded ratio; ``total`` is the sum of the rounded points.
- JSON numbers: ``ratio`` and ``points``/``total`` are the rounded decimals written as JSON
  numbers (``0.9724``, ``19.45``, ``20.0``: a whole number of points is written ``20.0``, as the
  float of ``Decimal("20.00")``); counts and ``max`` are integers; ``as_of`` is written in the
  ISO 8601 form of the parsed instant (``datetime.isoformat``) with its original offset.
"""

from __future__ import annotations

import json
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any


class Channel(StrEnum):
    """How a dossier was filed."""

    ONLINE = "online"
    COUNTER = "counter"
    POST = "post"


class Rating(StrEnum):
    """The applicant's rating of the handling (absent when not rated)."""

    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


@dataclass(frozen=True, slots=True)
class DossierRecord:
    """One dossier as section 8's CSV row describes it (also built from live dossier records)."""

    dossier_id: str
    unit: str
    channel: Channel
    eligible_full_online: bool
    full_online: bool
    received_at: datetime
    due_at: datetime  # already extended for the time the applicant spent supplementing
    completed_at: datetime | None  # None: still in progress
    supplement_requests: int
    fee_vnd: int
    paid_online: bool
    e_result: bool
    digitised: bool
    reused_data: bool
    rating: Rating | None
    complained: bool

    def __post_init__(self) -> None:
        for name in ("received_at", "due_at", "completed_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} of dossier {self.dossier_id!r} has no UTC offset")
        if self.supplement_requests < 0 or self.fee_vnd < 0:
            raise ValueError(f"dossier {self.dossier_id!r}: supplement_requests and fee_vnd must be ≥ 0")
        if self.completed_at is not None and self.completed_at < self.received_at:
            raise ValueError(f"dossier {self.dossier_id!r}: completed_at is before received_at")


# ---------------------------------------------------------------------------------------------
# The indicators of section 8


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator: its id, names, maximum points and threshold (``None`` = linear)."""

    id: str
    name_vi: str
    name_en: str
    max_points: int
    threshold: Fraction | None = None  # full points once R ≥ threshold; R × max / threshold below

    def points(self, ratio: Fraction) -> Fraction:
        """Unrounded points for an exact ratio in 0..1."""
        if self.threshold is None:
            return self.max_points * ratio
        return self.max_points * min(Fraction(1), ratio / self.threshold)


INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec("2.1", "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn", "Dossiers handled early or on time", 20),
    IndicatorSpec(
        "3.F",
        "Tỷ lệ hồ sơ dịch vụ công trực tuyến toàn trình trên tổng số hồ sơ thủ tục hành chính đủ điều kiện "
        "trực tuyến toàn trình",
        "Fully-online dossiers among dossiers eligible for full online service",
        12,
    ),
    IndicatorSpec(
        "3.3",
        "Tỷ lệ hồ sơ thủ tục hành chính nộp trực tuyến",
        "Dossiers filed online",
        0,
    ),
    IndicatorSpec("3.6", "Tỷ lệ hồ sơ thanh toán trực tuyến", "Fee-bearing dossiers paid online", 6),
    IndicatorSpec(
        "4.1",
        "Tỷ lệ hồ sơ thủ tục hành chính có cấp kết quả giải quyết thủ tục hành chính điện tử",
        "Completed dossiers given an electronic result",
        6,
    ),
    IndicatorSpec(
        "4.2",
        "Tỷ lệ hồ sơ thủ tục hành chính thực hiện số hóa hồ sơ",
        "Dossiers digitised",
        4,
        Fraction(8, 10),
    ),
    IndicatorSpec(
        "4.3",
        "Tỷ lệ khai thác, sử dụng lại thông tin, dữ liệu số hóa",
        "Dossiers re-using already-digitised data",
        2,
        Fraction(8, 10),
    ),
    IndicatorSpec(
        "5.4",
        "Tỷ lệ hài lòng trong tiếp nhận, giải quyết thủ tục hành chính",
        "Satisfaction with dossier handling",
        6,
        Fraction(9, 10),
    ),
)
INDICATOR_IDS: tuple[str, ...] = tuple(s.id for s in INDICATORS)
SPECS: Mapping[str, IndicatorSpec] = {s.id: s for s in INDICATORS}
MAX_POINTS: int = sum(s.max_points for s in INDICATORS)  # 56: 3.3 counts 0


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` (≥ 0) rounded half-up to ``places`` decimals, exactly (no float on the way).

    >>> round_half_up(Fraction(12345, 100000), 4), round_half_up(Fraction(1, 32), 4)
    (Decimal('0.1235'), Decimal('0.0313'))
    """
    if value < 0:
        raise ValueError(f"round_half_up expects a non-negative value, got {value}")
    scale = 10**places
    units = (2 * value.numerator * scale + value.denominator) // (2 * value.denominator)
    return Decimal(units).scaleb(-places)


# ---------------------------------------------------------------------------------------------
# The accumulator


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _instant(dt: datetime) -> int:
    """Microseconds since the epoch: exact, and cheap to compare and store."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: an offset is required")
    return (dt - _EPOCH) // _MICROSECOND


@dataclass(slots=True)
class DueTimes:
    """Sorted due instants of open dossiers, so "how many are still within their deadline at
    ``as_of``" is one binary search, whenever it is asked."""

    instants: list[int] = field(default_factory=list)

    def add(self, instant: int) -> None:
        insort(self.instants, instant)

    def remove(self, instant: int) -> None:
        i = bisect_left(self.instants, instant)
        if i == len(self.instants) or self.instants[i] != instant:
            raise ValueError("removing an open dossier that was never added")
        del self.instants[i]

    def count_at_or_after(self, instant: int) -> int:
        return len(self.instants) - bisect_left(self.instants, instant)

    def update(self, other: DueTimes) -> None:
        self.instants = sorted(self.instants + other.instants)

    def __len__(self) -> int:
        return len(self.instants)


# Integer counters, in a fixed order; each dossier contributes 0 or 1 to each.
_COUNTERS: tuple[str, ...] = (
    "dossiers",
    "completed",
    "completed_on_time",  # completed, ≤ 1 supplement request, completed_at ≤ due_at
    "completed_on_time_content",  # … and neither rated unsatisfied nor complained about
    "eligible_full_online",
    "full_online",  # eligible and handled fully online
    "online",
    "fee_bearing",
    "paid_online",  # fee-bearing and paid online
    "completed_e_result",
    "digitised",
    "reused_data",
)


@dataclass(frozen=True, slots=True)
class _Contribution:
    counters: tuple[int, ...]
    open_due: int | None  # due instant of an open dossier with ≤ 1 supplement request
    content: bool  # neither unsatisfied nor complained


def _contribution(d: DossierRecord) -> _Contribution:
    completed = d.completed_at is not None
    few_supplements = d.supplement_requests <= 1
    on_time_done = d.completed_at is not None and few_supplements and d.completed_at <= d.due_at
    content = d.rating is not Rating.UNSATISFIED and not d.complained
    fee = d.fee_vnd > 0
    counters = (
        1,
        completed,
        on_time_done,
        on_time_done and content,
        d.eligible_full_online,
        d.eligible_full_online and d.full_online,
        d.channel is Channel.ONLINE,
        fee,
        fee and d.paid_online,
        completed and d.e_result,
        d.digitised,
        d.reused_data,
    )
    # An open dossier with more than one supplement request is late whatever as_of is, so only
    # the others need their due time kept.
    open_due = _instant(d.due_at) if not completed and few_supplements else None
    return _Contribution(tuple(int(c) for c in counters), open_due, content)


instant = _instant  # microseconds since the epoch, as the accumulator keeps due times

#: The accumulator's integer counters, in order (the live counters table has one column each).
COUNTER_NAMES: tuple[str, ...] = _COUNTERS


def counters_of(d: DossierRecord) -> tuple[int, ...]:
    """What one dossier adds to each of :data:`COUNTER_NAMES` (0 or 1 each)."""
    return _contribution(d).counters


def open_due_of(d: DossierRecord) -> tuple[int, bool] | None:
    """(due instant, content) of a dossier whose on-time judgement waits for ``as_of``; else None."""
    c = _contribution(d)
    return None if c.open_due is None else (c.open_due, c.content)


CountVector = tuple[int, ...]
VECTOR_FIELDS = ("dossiers", "on_time", "full_online", "eligible_full_online", "online", "paid_online", "fee_bearing",
                 "completed_e_result", "completed", "digitised", "reused_data", "satisfied")  # fmt: skip


@dataclass(frozen=True, slots=True)
class IndicatorCount:
    """Numerator and denominator of one indicator at one moment."""

    id: str
    numerator: int
    denominator: int


@dataclass(frozen=True, slots=True)
class Index766Counts:
    """Everything the points need, for one unit (or a merged group) at ``as_of``."""

    dossiers: int
    indicators: tuple[IndicatorCount, ...]  # in the order of INDICATORS

    @classmethod
    def from_vector(cls, v: CountVector) -> Index766Counts:
        """Counts from an accumulator's :meth:`Index766Accumulator.vector` (or a sum of them)."""
        n, on_time, full, eligible, online, paid, fee, e_result, completed, digitised, reused, satisfied = v
        pairs = {"2.1": (on_time, n), "3.F": (full, eligible), "3.3": (online, n), "3.6": (paid, fee),
                 "4.1": (e_result, completed), "4.2": (digitised, n), "4.3": (reused, n), "5.4": (satisfied, n)}  # fmt: skip
        return cls(n, tuple(IndicatorCount(i, *pairs[i]) for i in INDICATOR_IDS))

    @classmethod
    def pooled(cls, parts: Iterable[Index766Counts]) -> Index766Counts:
        """Counts of the parts together: every numerator and denominator is a plain sum."""
        parts = tuple(parts)
        return cls(
            sum(p.dossiers for p in parts),
            tuple(
                IndicatorCount(
                    i,
                    sum(p.indicators[k].numerator for p in parts),
                    sum(p.indicators[k].denominator for p in parts),
                )
                for k, i in enumerate(INDICATOR_IDS)
            ),
        )


@dataclass(slots=True)
class Index766Accumulator:
    """Integer counters of one (unit, period); mutable on purpose, fed one dossier at a time.

    Work per dossier is a dozen integer additions, plus one sorted insert for a dossier still in
    progress (its due time, needed because "on time" for it depends on ``as_of``). ``remove`` is the
    exact inverse of ``add``, so a live dossier that changes is ``replace(old, new)``-d; the caller
    keeps the previous record (the live dossier table has it), the accumulator keeps no per-dossier
    state except open dossiers' due instants.
    """

    dossiers: int = 0
    completed: int = 0
    completed_on_time: int = 0
    completed_on_time_content: int = 0
    eligible_full_online: int = 0
    full_online: int = 0
    online: int = 0
    fee_bearing: int = 0
    paid_online: int = 0
    completed_e_result: int = 0
    digitised: int = 0
    reused_data: int = 0
    open_due: DueTimes = field(default_factory=DueTimes)
    open_due_content: DueTimes = field(default_factory=DueTimes)  # open, ≤ 1 supplement, content

    @classmethod
    def from_counters(cls, counters: Mapping[str, int], open_due: Iterable[tuple[int, bool]] = ()) -> Index766Accumulator:
        """An accumulator rebuilt from stored counters and the (due instant, content) of open dossiers."""
        acc = cls(**{name: int(counters.get(name, 0)) for name in _COUNTERS})
        due = sorted(open_due)
        acc.open_due.instants = [t for t, _ in due]
        acc.open_due_content.instants = [t for t, content in due if content]
        return acc

    def add(self, dossier: DossierRecord) -> None:
        c = _contribution(dossier)
        for name, v in zip(_COUNTERS, c.counters, strict=True):
            if v:
                setattr(self, name, getattr(self, name) + 1)
        if c.open_due is not None:
            self.open_due.add(c.open_due)
            if c.content:
                self.open_due_content.add(c.open_due)

    def remove(self, dossier: DossierRecord) -> None:
        """Undo :meth:`add` of this very record; refused (nothing changed) if it was not added."""
        c = _contribution(dossier)
        for name, v in zip(_COUNTERS, c.counters, strict=True):
            if getattr(self, name) < v:
                raise ValueError(f"removing dossier {dossier.dossier_id!r} that was never added ({name} = 0)")
        if c.open_due is not None:
            self.open_due.remove(c.open_due)
            if c.content:
                try:
                    self.open_due_content.remove(c.open_due)
                except ValueError:
                    self.open_due.add(c.open_due)  # keep the two lists consistent before refusing
                    raise
        for name, v in zip(_COUNTERS, c.counters, strict=True):
            if v:
                setattr(self, name, getattr(self, name) - 1)

    def replace(self, old: DossierRecord, new: DossierRecord) -> None:
        """A live dossier changed (completed, rated, supplemented …): swap its contribution."""
        self.remove(old)
        self.add(new)

    def update(self, other: Index766Accumulator) -> None:
        """Pool ``other`` into this one (unit → sector → city)."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.open_due.update(other.open_due)
        self.open_due_content.update(other.open_due_content)

    @classmethod
    def merged(cls, parts: Iterable[Index766Accumulator]) -> Index766Accumulator:
        """A new accumulator pooling ``parts`` (the parts are left unchanged)."""
        out = cls()
        for p in parts:
            out.update(p)
        return out

    def vector(self, as_of: datetime) -> CountVector:
        """The counts at ``as_of`` as plain integers (:data:`VECTOR_FIELDS`): additive, so a group's
        vector is the element-wise sum of its parts' (what the live index pools, cheaply)."""
        t = _instant(as_of)
        return (self.dossiers,
                self.completed_on_time + self.open_due.count_at_or_after(t),
                self.full_online, self.eligible_full_online, self.online, self.paid_online, self.fee_bearing,
                self.completed_e_result, self.completed, self.digitised, self.reused_data,
                self.completed_on_time_content + self.open_due_content.count_at_or_after(t))  # fmt: skip

    def counts(self, as_of: datetime) -> Index766Counts:
        """Numerators and denominators at ``as_of`` (open dossiers judged against it)."""
        return Index766Counts.from_vector(self.vector(as_of))


# ---------------------------------------------------------------------------------------------
# Points


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    """One indicator's line of the answer; ``ratio`` is ``None`` when the denominator is zero."""

    id: str
    numerator: int
    denominator: int
    ratio: Decimal | None  # rounded half-up to 4 decimals
    points: Decimal  # rounded half-up to 2 decimals, from the unrounded ratio
    empty: bool


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """The scored indicators of a unit or of the city."""

    dossiers: int
    indicators: tuple[IndicatorScore, ...]
    total: Decimal  # sum of the rounded points
    max: int

    def indicator(self, indicator_id: str) -> IndicatorScore:
        for s in self.indicators:
            if s.id == indicator_id:
                return s
        raise KeyError(f"no indicator {indicator_id!r}; expected one of {', '.join(INDICATOR_IDS)}")


def score(counts: Index766Counts) -> ScoreCard:
    """Points of each indicator and the total, by section 8's rules."""
    lines = []
    for c in counts.indicators:
        spec = SPECS[c.id]
        if c.denominator == 0:
            # The portal's rule for a unit with no complaints, applied to every indicator here.
            lines.append(
                IndicatorScore(
                    c.id, c.numerator, 0, None, Decimal(spec.max_points).quantize(Decimal("0.01")), True
                )
            )
            continue
        ratio = Fraction(c.numerator, c.denominator)
        lines.append(
            IndicatorScore(
                c.id,
                c.numerator,
                c.denominator,
                round_half_up(ratio, 4),
                round_half_up(spec.points(ratio), 2),
                False,
            )
        )
    total = sum((s.points for s in lines), Decimal("0.00"))
    return ScoreCard(counts.dossiers, tuple(lines), total, MAX_POINTS)


@dataclass(frozen=True, slots=True)
class UnitScore:
    unit: str
    card: ScoreCard


@dataclass(frozen=True, slots=True)
class Index766Result:
    """The answer of section 8: every unit (sorted by code) and the city (all dossiers pooled)."""

    as_of: datetime
    units: tuple[UnitScore, ...]
    city: ScoreCard

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON layout, with decimals as JSON numbers."""
        return {
            "as_of": self.as_of.isoformat(),
            "units": [{"unit": u.unit, **_card_dict(u.card)} for u in self.units],
            "city": _card_dict(self.city),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def _card_dict(card: ScoreCard) -> dict[str, Any]:
    return {
        "dossiers": card.dossiers,
        "indicators": {
            s.id: {
                "numerator": s.numerator,
                "denominator": s.denominator,
                "ratio": None if s.ratio is None else float(s.ratio),
                "points": float(s.points),
                "empty": s.empty,
            }
            for s in card.indicators
        },
        "total": float(card.total),
        "max": card.max,
    }


@dataclass(slots=True)
class Index766Book:
    """Accumulators of one period, one per unit; the city and any grouping are merges of them."""

    units: dict[str, Index766Accumulator] = field(default_factory=dict)

    def add(self, dossier: DossierRecord) -> None:
        acc = self.units.get(dossier.unit)
        if acc is None:
            acc = self.units[dossier.unit] = Index766Accumulator()
        acc.add(dossier)

    def remove(self, dossier: DossierRecord) -> None:
        acc = self.units.get(dossier.unit)
        if acc is None:
            raise ValueError(f"removing dossier {dossier.dossier_id!r} of unknown unit {dossier.unit!r}")
        acc.remove(dossier)

    def replace(self, old: DossierRecord, new: DossierRecord) -> None:
        """A live dossier changed; it may even have moved to another unit."""
        self.remove(old)
        self.add(new)

    def city(self) -> Index766Accumulator:
        return Index766Accumulator.merged(self.units.values())

    def groups(self, group_of: Mapping[str, str]) -> dict[str, Index766Accumulator]:
        """Merged accumulators per group (e.g. sector) of units; a unit without a group is refused."""
        missing = sorted(set(self.units) - set(group_of))
        if missing:
            raise KeyError(f"units without a group: {', '.join(missing)}")
        out: dict[str, Index766Accumulator] = {}
        for unit, acc in self.units.items():
            out.setdefault(group_of[unit], Index766Accumulator()).update(acc)
        return out

    def result(self, as_of: datetime) -> Index766Result:
        counts = {u: self.units[u].counts(as_of) for u in sorted(self.units)}
        # Pooling the units' counts equals counting the merged accumulator, without merging lists.
        city = Index766Counts.pooled(counts.values())
        return Index766Result(as_of, tuple(UnitScore(u, score(c)) for u, c in counts.items()), score(city))


def compute(dossiers: Iterable[DossierRecord], as_of: datetime) -> Index766Result:
    """The answer for a collection of dossiers (ids must be unique: the caller checks)."""
    book = Index766Book()
    for d in dossiers:
        book.add(d)
    return book.result(as_of)


# ---------------------------------------------------------------------------------------------
# Rating bands (full 100-point index only) and what we cannot compute


@dataclass(frozen=True, slots=True)
class Band:
    """A rating band of the full index; ``confirmed`` is False where section 3 found no source."""

    key: str
    name_vi: str
    name_en: str
    lower: Decimal | None  # inclusive
    upper: Decimal | None  # exclusive (None: up to 100 inclusive)
    confirmed: bool
    note_vi: str
    note_en: str


BANDS: tuple[Band, ...] = (
    Band("xuat_sac", "Xuất sắc", "Excellent", Decimal(90), None, True,
         "90–100 điểm (nguồn cấp A).", "90–100 points (grade A source)."),
    Band("tot", "Tốt", "Good", Decimal(80), Decimal(90), False,
         "Cận dưới 80 chưa được xác nhận (suy từ các điểm 80,21; 80,9; 83,8 được gọi là “Tốt”).",
         "Lower bound 80 unconfirmed (inferred from 80.21, 80.9 and 83.8 being called “Tốt”)."),
    Band("kha_trung_binh", "Khá hoặc Trung bình (chưa xác nhận ngưỡng)", "Fair or average (thresholds unconfirmed)",
         Decimal(50), Decimal(80), False,
         "Ngưỡng giữa Khá và Trung bình chưa tìm thấy nguồn; không tách được hai hạng.",
         "No source gives the thresholds of Khá and Trung bình; the two cannot be told apart."),
    Band("yeu", "Yếu", "Weak", None, Decimal(50), True,
         "Dưới 50 điểm (nguồn cấp A).", "Below 50 points (grade A source)."),
)  # fmt: skip


def band(points: Decimal | int | float | str, max_points: int = 100) -> Band:
    """The band of a score of the full 100-point index.

    The computable subset scores out of 56, not 100; rescaling it would pretend the missing
    44 points are known, so any other scale is refused.
    """
    if max_points != 100:
        raise ValueError(f"bands apply to the full 100-point index only, got a {max_points}-point score")
    p = Decimal(str(points))  # str() so 89.99 stays 89.99, not its binary neighbour
    if not Decimal(0) <= p <= Decimal(100):
        raise ValueError(f"a 766 score lies in 0..100, got {points}")
    for b in BANDS:
        if (b.lower is None or p >= b.lower) and (b.upper is None or p < b.upper):
            return b
    raise AssertionError("bands cover 0..100")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class NotComputable:
    """An indicator of section 2 that our dossier records cannot produce, and why."""

    id: str
    name_vi: str
    name_en: str
    max_points: int | None  # None: monitoring only, or the maximum itself is unconfirmed
    reason_vi: str
    reason_en: str


_CATALOGUE_DB_VI = "Cần Cơ sở dữ liệu quốc gia về thủ tục hành chính (danh mục và quyết định công bố TTHC); hồ sơ của ta không có."
_CATALOGUE_DB_EN = "Needs the national TTHC database (procedure list and announcement decisions), which dossier records do not carry."
_PROCEDURE_VI = (
    "Tính theo thủ tục, không theo hồ sơ: cần danh mục TTHC của đơn vị và mã thủ tục trên từng hồ sơ."
)
_PROCEDURE_EN = "Counted per procedure, not per dossier: needs the unit's procedure list and a procedure code on each dossier."
_PAKN_VI = (
    "Cần dữ liệu phản ánh, kiến nghị về TTHC trên Cổng Dịch vụ công quốc gia; phản ánh hiện trường "
    "(Hải Phòng Smart) là hệ thống khác, không thay thế được."
)
_PAKN_EN = (
    "Needs the national portal's complaints about procedures (PAKN); field reports (Hải Phòng Smart) "
    "are a different system and cannot stand in for them."
)

NOT_COMPUTABLE: tuple[NotComputable, ...] = (
    NotComputable("1.1", "Tỷ lệ TTHC công bố đúng hạn", "Procedures announced on time", 6, _CATALOGUE_DB_VI, _CATALOGUE_DB_EN),
    NotComputable("1.2", "Tỷ lệ TTHC được cập nhật, công khai đúng hạn", "Procedures published on time", 4,
                  _CATALOGUE_DB_VI, _CATALOGUE_DB_EN),
    NotComputable("1.3", "Tỷ lệ TTHC được công khai có đầy đủ các nội dung quy định về các bộ phận tạo thành",
                  "Procedures published with all mandatory parts", 2, _CATALOGUE_DB_VI, _CATALOGUE_DB_EN),
    NotComputable("1.4", "Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia", "Dossiers synced to the national portal", 6,
                  "Cần trạng thái đồng bộ của từng hồ sơ và số liệu Hệ thống thông tin báo cáo quốc gia.",
                  "Needs each dossier's sync status and the National Reporting System's counts."),
    NotComputable("2.2", "Thời gian giải quyết TTHC trung bình theo từng TTHC", "Average processing time per procedure", None,
                  "Chỉ theo dõi, không tính điểm; cần mã thủ tục trên từng hồ sơ.",
                  "Monitoring only, no points; needs a procedure code on each dossier."),
    # 3.1 and 3.2 sit inside the portal's single 12-point online-service score, which 3.F already
    # stands for (the 2 + 4 + 6 split failed validation), so they carry no points of their own here.
    NotComputable("3.1", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến", "Procedures offered online", None,
                  _PROCEDURE_VI + " Nằm trong 12 điểm dịch vụ công trực tuyến đã tính ở 3.F.",
                  _PROCEDURE_EN + " Part of the 12 online-service points that 3.F scores."),
    NotComputable("3.2", "Tỷ lệ dịch vụ công trực tuyến có phát sinh hồ sơ", "Online services that received a dossier", None,
                  _PROCEDURE_VI + " Nằm trong 12 điểm dịch vụ công trực tuyến đã tính ở 3.F.",
                  _PROCEDURE_EN + " Part of the 12 online-service points that 3.F scores."),
    NotComputable("3.5", "Tỷ lệ TTHC có yêu cầu nghĩa vụ tài chính được tích hợp để thanh toán trực tuyến trên Cổng DVCQG",
                  "Fee-bearing procedures offering online payment", 2, _PROCEDURE_VI, _PROCEDURE_EN),
    NotComputable("3.5b", "Tỷ lệ TTHC có giao dịch thanh toán trực tuyến", "Procedures with an online payment", 2,
                  _PROCEDURE_VI, _PROCEDURE_EN),
    NotComputable("4.4", "Tỷ lệ hồ sơ TTHC được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng",
                  "Digitised dossiers linked to the citizen's data store", 4,
                  "Cần biết thành phần hồ sơ lấy từ (hoặc kết quả đẩy vào) kho dữ liệu cá nhân trên Cổng DVCQG.",
                  "Needs to know which components came from (or results went to) the personal data store."),
    NotComputable("4.5a", "Tỷ lệ TTHC triển khai kết nối, chia sẻ dữ liệu dân cư",
                  "Procedures connected to the national population database", 2, _PROCEDURE_VI, _PROCEDURE_EN),
    NotComputable("4.5b", "Tỷ lệ hồ sơ TTHC có sử dụng thông tin, dữ liệu dân cư", "Dossiers using population data", 2,
                  "Cần cờ xác thực VNeID / dữ liệu dân cư trên từng hồ sơ.",
                  "Needs a VNeID / population-data flag on each dossier."),
    NotComputable("4.6", "Tỷ lệ cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính",
                  "Communes offering electronic certified copies", 2,
                  "Tính theo xã, phường cung cấp dịch vụ, không có trong hồ sơ.",
                  "Counted per commune offering the service; not in dossier records."),
    NotComputable("5.1", "Tỷ lệ phản ánh, kiến nghị theo phân loại", "Complaints by classification", None, _PAKN_VI, _PAKN_EN),
    NotComputable("5.2", "Tỷ lệ phản ánh, kiến nghị xử lý đúng hạn", "Complaints handled on time", 6, _PAKN_VI, _PAKN_EN),
    NotComputable("5.3", "Tỷ lệ hài lòng trong xử lý phản ánh, kiến nghị", "Satisfaction with complaint handling", 6,
                  _PAKN_VI, _PAKN_EN),
)  # fmt: skip
