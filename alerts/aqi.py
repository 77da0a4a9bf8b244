"""Official air-quality indices: Vietnam's VN_AQI (QĐ 1459/QĐ-TCMT, 2019) and the US EPA AQI.

Both standards share one shape: a concentration is mapped onto a piecewise-linear scale of
breakpoints, each pollutant gives a sub-index and the overall index is the worst sub-index.
They differ in the details this module keeps apart:

* **VN_AQI** (QĐ 1459 §2): concentrations in µg/m³ (CO too), no input truncation, hourly PM
  through the decision's NowCast (weight ``w = c_min/c_max``, floored at 1/2, where the w = 1/2 case
  uses the decision's ``Σ (1/2)^i c_i``), index rounded to an integer at the end. Hourly AQI uses
  1-hour values of O3, CO, SO2 and NO2; daily AQI uses the 24-hour mean of PM and the largest
  1-hour (and, for O3, 8-hour) mean of the gases. At least one of PM2.5 and PM10 is required.
* **US EPA AQI** (Technical Assistance Document, 2024 PM2.5 revision; the 2012 PM2.5 table is kept
  for AirNow's historical files): gases in ppm/ppb, inputs truncated (PM2.5 to 0.1 µg/m³, PM10 to
  1 µg/m³, O3 to 0.001 ppm, CO to 0.1 ppm, SO2 and NO2 to 1 ppb), index rounded half up. Hourly PM
  through EPA's NowCast (``w = max(c_min/c_max, 1/2)``, normalised weights), as AirNow reports it.

**Arithmetic.** Readings are taken at their decimal text (``9.1`` is 91/10, not the nearest
binary float) and averages, NowCasts and the interpolation are computed exactly (fractions), so a
truncation or a half-up rounding never falls on the wrong side of a breakpoint because of binary
floating point: 24 hours of 9.1 µg/m³ average 9.1 (US index 51, not 50), and twelve hours of
7.8 µg/m³ give a NowCast of 7.8 (US index 33, not 32).

Both NowCasts need at least two of the three most recent hours. Above the top breakpoint the last
segment is extended linearly and the result is flagged ``beyond_scale``.
Breakpoints are transcribed from the official tables (facts), so the product runs without the
shared data folder; ``tests/test_aqi.py`` checks them against the CSV copies there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction


class Standard(StrEnum):
    VN = "vn"
    US = "us"


class Pollutant(StrEnum):
    PM25 = "PM2.5"
    PM10 = "PM10"
    O3 = "O3"
    NO2 = "NO2"
    SO2 = "SO2"
    CO = "CO"

    @classmethod
    def parse(cls, text: str) -> Pollutant:
        """Accept the usual spellings (``pm25``, ``PM2.5``, ``pm2_5``, ``o3``…); name the bad value."""
        key = text.strip().upper().replace("_", ".").replace(" ", "")
        aliases = {"PM25": "PM2.5", "PM2,5": "PM2.5"}
        key = aliases.get(key, key)
        for member in cls:
            if member.value == key:
                return member
        raise ValueError(f"unknown pollutant {text!r}: expected one of {', '.join(p.value for p in cls)}")


class Averaging(StrEnum):
    H1 = "1h"
    H8 = "8h"
    H24 = "24h"


class Period(StrEnum):
    HOUR = "hour"
    DAY = "day"


class EpaPm25(StrEnum):
    """Which EPA PM2.5 table: the 2024 revision, or the 2012 one AirNow used until May 2024."""

    Y2024 = "2024"
    Y2012 = "2012"


@dataclass(frozen=True, slots=True)
class Band:
    """One of the six categories of a scale."""

    level: int
    lo: int
    hi: int
    name_vi: str
    name_en: str
    rgb: tuple[int, int, int]

    def name(self, lang: str = "vi") -> str:
        if lang not in ("vi", "en"):
            raise ValueError(f"unknown language {lang!r}: expected 'vi' or 'en'")
        return self.name_vi if lang == "vi" else self.name_en

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


# QĐ 1459 Bảng 1: ranges, names and RGB codes as the decision prints them.
VN_BANDS: tuple[Band, ...] = (
    Band(1, 0, 50, "Tốt", "Good", (0, 228, 0)),
    Band(2, 51, 100, "Trung bình", "Moderate", (255, 255, 0)),
    Band(3, 101, 150, "Kém", "Poor", (255, 126, 0)),
    Band(4, 151, 200, "Xấu", "Bad", (255, 0, 0)),
    Band(5, 201, 300, "Rất xấu", "Very bad", (143, 63, 151)),
    Band(6, 301, 500, "Nguy hại", "Hazardous", (126, 0, 35)),
)

# EPA TAD 2024: the same RGB codes; the Vietnamese names are our translation.
US_BANDS: tuple[Band, ...] = (
    Band(1, 0, 50, "Tốt", "Good", (0, 228, 0)),
    Band(2, 51, 100, "Trung bình", "Moderate", (255, 255, 0)),
    Band(3, 101, 150, "Không tốt cho nhóm nhạy cảm", "Unhealthy for Sensitive Groups", (255, 126, 0)),
    Band(4, 151, 200, "Có hại cho sức khỏe", "Unhealthy", (255, 0, 0)),
    Band(5, 201, 300, "Rất có hại cho sức khỏe", "Very Unhealthy", (143, 63, 151)),
    Band(6, 301, 500, "Nguy hại", "Hazardous", (126, 0, 35)),
)

BANDS: dict[Standard, tuple[Band, ...]] = {Standard.VN: VN_BANDS, Standard.US: US_BANDS}


def band_for(index: int, standard: Standard = Standard.VN) -> Band:
    """The band of a (rounded) index; above 500 stays in the top band."""
    if index < 0:
        raise ValueError(f"AQI must be non-negative, got {index}")
    for band in BANDS[standard]:
        if index <= band.hi:
            return band
    return BANDS[standard][-1]


@dataclass(frozen=True, slots=True)
class Segment:
    """Concentrations ``c_lo..c_hi`` map linearly onto indices ``i_lo..i_hi``."""

    c_lo: float
    c_hi: float
    i_lo: int
    i_hi: int


# --- VN_AQI: QĐ 1459 Bảng 2 (µg/m³). Index breakpoints I_i, then BP_i per pollutant column. ---
VN_INDEX_BREAKPOINTS: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)
VN_CONC_BREAKPOINTS: dict[tuple[Pollutant, Averaging], tuple[float, ...]] = {
    (Pollutant.O3, Averaging.H1): (0, 160, 200, 300, 400, 800, 1000, 1200),
    (Pollutant.O3, Averaging.H8): (0, 100, 120, 170, 210, 400),  # the decision stops at I = 300
    (Pollutant.CO, Averaging.H1): (0, 10000, 30000, 45000, 60000, 90000, 120000, 150000),
    (Pollutant.SO2, Averaging.H1): (0, 125, 350, 550, 800, 1600, 2100, 2630),
    (Pollutant.NO2, Averaging.H1): (0, 100, 200, 700, 1200, 2350, 3100, 3850),
    (Pollutant.PM10, Averaging.H24): (0, 50, 150, 250, 350, 420, 500, 600),
    (Pollutant.PM25, Averaging.H24): (0, 25, 50, 80, 150, 250, 350, 500),
}


def _contiguous(conc: tuple[float, ...], idx: tuple[int, ...]) -> tuple[Segment, ...]:
    return tuple(Segment(conc[k], conc[k + 1], idx[k], idx[k + 1]) for k in range(len(conc) - 1))


VN_SEGMENTS: dict[tuple[Pollutant, Averaging], tuple[Segment, ...]] = {
    key: _contiguous(bp, VN_INDEX_BREAKPOINTS[: len(bp)]) for key, bp in VN_CONC_BREAKPOINTS.items()
}


# --- US EPA: TAD 2024 (PM µg/m³, O3/CO ppm, SO2/NO2 ppb). ---
def _segs(rows: Sequence[tuple[float, float, int, int]]) -> tuple[Segment, ...]:
    return tuple(Segment(*row) for row in rows)


US_PM25_2024 = _segs(
    [
        (0.0, 9.0, 0, 50),
        (9.1, 35.4, 51, 100),
        (35.5, 55.4, 101, 150),
        (55.5, 125.4, 151, 200),
        (125.5, 225.4, 201, 300),
        (225.5, 325.4, 301, 500),
    ]
)
US_PM25_2012 = _segs(
    [
        (0.0, 12.0, 0, 50),
        (12.1, 35.4, 51, 100),
        (35.5, 55.4, 101, 150),
        (55.5, 150.4, 151, 200),
        (150.5, 250.4, 201, 300),
        (250.5, 350.4, 301, 400),
        (350.5, 500.4, 401, 500),
    ]
)
US_SEGMENTS: dict[tuple[Pollutant, Averaging], tuple[Segment, ...]] = {
    (Pollutant.PM10, Averaging.H24): _segs(
        [
            (0, 54, 0, 50),
            (55, 154, 51, 100),
            (155, 254, 101, 150),
            (255, 354, 151, 200),
            (355, 424, 201, 300),
            (425, 604, 301, 500),
        ]
    ),
    (Pollutant.O3, Averaging.H8): _segs(
        [
            (0.0, 0.054, 0, 50),
            (0.055, 0.070, 51, 100),
            (0.071, 0.085, 101, 150),
            (0.086, 0.105, 151, 200),
            (0.106, 0.200, 201, 300),
        ]
    ),
    # 1-hour ozone is only defined from 0.125 ppm (the 8-hour value rules below that).
    (Pollutant.O3, Averaging.H1): _segs(
        [
            (0.125, 0.164, 101, 150),
            (0.165, 0.204, 151, 200),
            (0.205, 0.404, 201, 300),
            (0.405, 0.604, 301, 500),
        ]
    ),
    (Pollutant.CO, Averaging.H8): _segs(
        [
            (0.0, 4.4, 0, 50),
            (4.5, 9.4, 51, 100),
            (9.5, 12.4, 101, 150),
            (12.5, 15.4, 151, 200),
            (15.5, 30.4, 201, 300),
            (30.5, 50.4, 301, 500),
        ]
    ),
    # From 305 ppb the SO2 index is computed from 24-hour means (TAD footnote).
    (Pollutant.SO2, Averaging.H1): _segs(
        [
            (0, 35, 0, 50),
            (36, 75, 51, 100),
            (76, 185, 101, 150),
            (186, 304, 151, 200),
            (305, 604, 201, 300),
            (605, 1004, 301, 500),
        ]
    ),
    (Pollutant.NO2, Averaging.H1): _segs(
        [
            (0, 53, 0, 50),
            (54, 100, 51, 100),
            (101, 360, 101, 150),
            (361, 649, 151, 200),
            (650, 1249, 201, 300),
            (1250, 2049, 301, 500),
        ]
    ),
}
US_PM25: dict[EpaPm25, tuple[Segment, ...]] = {EpaPm25.Y2024: US_PM25_2024, EpaPm25.Y2012: US_PM25_2012}

# EPA input truncation: the number of decimals kept.
US_TRUNCATION_DECIMALS: dict[Pollutant, int] = {
    Pollutant.PM25: 1,
    Pollutant.PM10: 0,
    Pollutant.O3: 3,
    Pollutant.CO: 1,
    Pollutant.SO2: 0,
    Pollutant.NO2: 0,
}
US_UNITS: dict[Pollutant, str] = {
    Pollutant.PM25: "µg/m³",
    Pollutant.PM10: "µg/m³",
    Pollutant.O3: "ppm",
    Pollutant.CO: "ppm",
    Pollutant.SO2: "ppb",
    Pollutant.NO2: "ppb",
}
# Molar masses (g/mol) for µg/m³ → ppb at 25 °C and 1 atm (molar volume 24.45 L).
_MOLAR_MASS = {Pollutant.O3: 48.00, Pollutant.NO2: 46.0055, Pollutant.SO2: 64.066, Pollutant.CO: 28.010}
PM_POLLUTANTS = (Pollutant.PM25, Pollutant.PM10)


def exact(x: float | Fraction) -> Fraction:
    """The exact value of a reading's decimal text (``repr``), e.g. 9.1 -> 91/10."""
    if isinstance(x, Fraction):
        return x
    return Fraction(Decimal(repr(float(x))))


def round_half_up(x: float | Fraction, decimals: int = 0) -> float:
    """Round as the standards do (0.5 goes up), on the exact value, so 0.15 stays 0.15.

    EPA TAD (EPA-454/B-24-002) §IV, Equation 1: the AQI is rounded to the nearest integer;
    QĐ 1459 §2: the AQI is rounded to an integer. Both halves go up (AirNow's practice).
    """
    scale = Fraction(10) ** decimals
    v = exact(x) * scale
    n = math.floor(v + Fraction(1, 2)) if v >= 0 else -math.floor(-v + Fraction(1, 2))
    return float(Fraction(n) / scale)


def truncate(x: float | Fraction, decimals: int = 0) -> float:
    """Drop digits beyond ``decimals``, toward zero, on the exact value (EPA's input truncation).

    EPA TAD (EPA-454/B-24-002) §IV "Calculating the AQI": concentrations are truncated before
    Equation 1 (O3 0.001 ppm, PM2.5 0.1 µg/m³, PM10 1 µg/m³, CO 0.1 ppm, SO2 and NO2 1 ppb).
    """
    return float(_truncate_exact(exact(x), decimals))


def _truncate_exact(x: Fraction, decimals: int) -> Fraction:
    scale = Fraction(10) ** decimals
    return Fraction(math.trunc(x * scale)) / scale


def _mean(values: Sequence[float]) -> Fraction:
    """Exact mean of readings (by their decimal text): no binary rounding before a truncation."""
    return sum((exact(v) for v in values), Fraction(0)) / len(values)


def ugm3_to_us_units(pollutant: Pollutant, ugm3: float) -> float:
    """Convert a µg/m³ reading to the unit of the EPA table (ppm for O3/CO, ppb for SO2/NO2)."""
    _check_conc(pollutant, ugm3)
    if pollutant in PM_POLLUTANTS:
        return ugm3
    ppb = ugm3 * 24.45 / _MOLAR_MASS[pollutant]
    return ppb / 1000 if pollutant in (Pollutant.O3, Pollutant.CO) else ppb


def _check_conc(pollutant: Pollutant, c: float) -> None:
    if not math.isfinite(c) or c < 0:
        raise ValueError(f"{pollutant.value} concentration must be a finite number ≥ 0, got {c!r}")


def _interpolate(c: Fraction, segments: tuple[Segment, ...]) -> tuple[Fraction, bool]:
    """Linear interpolation within the segment holding ``c``; beyond the top, extend the last one.

    EPA TAD Equation 1 and QĐ 1459 §2 (công thức tính AQI) are the same line through the
    segment's end points; done exactly so the half-up rounding of the result is exact too.
    """
    for seg in segments:
        c_lo, c_hi = exact(seg.c_lo), exact(seg.c_hi)
        if c <= c_hi:
            x = max(c, c_lo)  # EPA's 0.1-wide gaps between segments only hold untruncated values
            return Fraction(seg.i_hi - seg.i_lo) / (c_hi - c_lo) * (x - c_lo) + seg.i_lo, False
    top = segments[-1]
    c_lo, c_hi = exact(top.c_lo), exact(top.c_hi)
    return Fraction(top.i_hi - top.i_lo) / (c_hi - c_lo) * (c - c_lo) + top.i_lo, True


@dataclass(frozen=True, slots=True)
class SubIndex:
    """One pollutant's index: the concentration used (after NowCast/averaging/truncation)."""

    pollutant: Pollutant
    averaging: Averaging
    concentration: float
    value: float  # unrounded
    aqi: int
    beyond_scale: bool = False


def sub_index(
    pollutant: Pollutant,
    averaging: Averaging,
    concentration: float | Fraction,
    standard: Standard = Standard.VN,
    epa_pm25: EpaPm25 = EpaPm25.Y2024,
) -> SubIndex:
    """Index of one concentration (µg/m³ for VN; the EPA table's unit for US).

    ``concentration`` may be an exact :class:`~fractions.Fraction` (an average computed here);
    a float is taken at its decimal text.
    """
    _check_conc(pollutant, float(concentration))
    c = exact(concentration)
    if standard is Standard.VN:
        key = (pollutant, averaging)
        if key not in VN_SEGMENTS:
            raise ValueError(f"VN_AQI has no {averaging.value} table for {pollutant.value}")
        segments = VN_SEGMENTS[key]
    else:
        if pollutant is Pollutant.PM25:
            segments = US_PM25[epa_pm25] if averaging is Averaging.H24 else ()
        else:
            segments = US_SEGMENTS.get((pollutant, averaging), ())
        if not segments:
            raise ValueError(f"the US EPA AQI has no {averaging.value} table for {pollutant.value}")
        # EPA TAD §IV: truncate the (averaged) concentration first, then apply Equation 1.
        c = _truncate_exact(c, US_TRUNCATION_DECIMALS[pollutant])
        if pollutant is Pollutant.O3 and averaging is Averaging.H1 and c < exact(segments[0].c_lo):
            raise ValueError(f"1-hour O3 {float(c)} ppm is below 0.125 ppm, where EPA uses the 8-hour value")
    # QĐ 1459 prescribes no truncation of concentrations: VN uses the value as computed.
    value, beyond = _interpolate(c, segments)
    return SubIndex(pollutant, averaging, float(c), float(value), int(round_half_up(value)), beyond)


# --- NowCast ---------------------------------------------------------------------------------


def _clean_hours(
    hourly: Sequence[float | None], pollutant: Pollutant, allow_negative: bool = False
) -> list[float | None]:
    if len(hourly) == 0:
        raise ValueError(f"no hourly {pollutant.value} values given")
    out: list[float | None] = []
    for v in list(hourly)[:12]:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif allow_negative and math.isfinite(v):
            out.append(float(v))
        else:
            _check_conc(pollutant, float(v))
            out.append(float(v))
    return out


def nowcast(
    hourly: Sequence[float | None],
    standard: Standard = Standard.VN,
    pollutant: Pollutant = Pollutant.PM25,
    legacy_rounding: bool = False,
    allow_negative: bool = False,
) -> float:
    """NowCast concentration from hourly means, most recent first (``None``/NaN = missing).

    Only the 12 most recent hours are used; missing hours keep their place (weight ``w^(i-1)``).
    The decision's ``Σ (1/2)^i c_i`` (w = 1/2) is used as printed when all 12 hours are present;
    with gaps the present hours' weights are normalised, as in the w > 1/2 formula. Raises ``ValueError`` when fewer than two of the
    three most recent hours are present. The result is unrounded for VN (the decision does
    not truncate); for US it is truncated as EPA's TAD and AirNow do (0.1 µg/m³ PM2.5, 1 µg/m³
    PM10). ``legacy_rounding`` rounds half up instead, as AirNow did until June 2018.
    ``allow_negative`` keeps slightly negative hours (monitor noise near zero), as AirNow does.
    """
    return float(_nowcast_exact(hourly, standard, pollutant, legacy_rounding, allow_negative))


def _nowcast_exact(
    hourly: Sequence[float | None],
    standard: Standard,
    pollutant: Pollutant,
    legacy_rounding: bool = False,
    allow_negative: bool = False,
) -> Fraction:
    """:func:`nowcast` in exact arithmetic (the weights are ratios of readings, so rational)."""
    if pollutant not in PM_POLLUTANTS:
        raise ValueError(f"NowCast applies to PM2.5 and PM10, not {pollutant.value}")
    c = _clean_hours(hourly, pollutant, allow_negative)
    if sum(v is not None for v in c[:3]) < 2:
        raise ValueError(
            f"NowCast needs at least 2 of the 3 most recent hours, got {[v for v in c[:3]]} "
            f"(most recent first; give up to 12 hourly values)"
        )
    present = [(i, exact(v)) for i, v in enumerate(c) if v is not None]
    c_min = min(v for _, v in present)
    c_max = max(v for _, v in present)
    w_star = max(c_min, Fraction(0)) / c_max if c_max > 0 else Fraction(1)
    half = Fraction(1, 2)
    w = max(w_star, half)
    if standard is Standard.VN and w_star <= half and len(present) == 12:
        # QĐ 1459 writes the w = 1/2 case as Σ (1/2)^i c_i (i = 1..12), not normalised.
        value = sum((half ** (i + 1) * v for i, v in present), Fraction(0))
    else:
        value = sum((w**i * v for i, v in present), Fraction(0)) / sum(w**i for i, _ in present)
    if standard is Standard.US:
        # EPA TAD §IV "How the NowCast is calculated": the NowCast is truncated like any AQI input
        # (0.1 µg/m³ PM2.5, 1 µg/m³ PM10); AirNow rounded half up until June 2018 (legacy).
        digits = US_TRUNCATION_DECIMALS[pollutant]
        value = exact(round_half_up(value, digits)) if legacy_rounding else _truncate_exact(value, digits)
    return value


# --- Overall indices ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AqiResult:
    """The overall index (the worst sub-index), its band and the sub-indices behind it."""

    standard: Standard
    period: Period
    aqi: int
    band: Band
    dominant: Pollutant
    sub_indices: Mapping[Pollutant, SubIndex] = field(default_factory=dict)

    @property
    def beyond_scale(self) -> bool:
        return self.sub_indices[self.dominant].beyond_scale


def _overall(standard: Standard, period: Period, subs: dict[Pollutant, SubIndex]) -> AqiResult:
    if not subs:
        raise ValueError("no pollutant had enough data for an index")
    if standard is Standard.VN and not any(p in subs for p in PM_POLLUTANTS):
        raise ValueError("VN_AQI requires at least one of PM2.5 and PM10 (QĐ 1459 §1.5)")
    # The worst sub-index by unrounded value; rounding once at the end.
    dominant = max(subs, key=lambda p: subs[p].value)
    aqi = subs[dominant].aqi
    return AqiResult(standard, period, aqi, band_for(aqi, standard), dominant, dict(subs))


def _present(values: Sequence[float | None], pollutant: Pollutant) -> list[float]:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        _check_conc(pollutant, float(v))
        out.append(float(v))
    return out


def hourly_sub_index(
    pollutant: Pollutant,
    hourly: Sequence[float | None],
    standard: Standard = Standard.VN,
    epa_pm25: EpaPm25 = EpaPm25.Y2024,
) -> SubIndex:
    """Hourly sub-index. ``hourly`` is most recent first: PM uses NowCast over up to 12 hours;
    gases use the latest hour (VN: all four; US: NO2, SO2 and 1-hour O3 ≥ 0.125 ppm)."""
    if pollutant in PM_POLLUTANTS:
        return sub_index(
            pollutant, Averaging.H24, _nowcast_exact(hourly, standard, pollutant), standard, epa_pm25
        )
    if standard is Standard.US and pollutant is Pollutant.CO:
        raise ValueError("the US EPA AQI has no hourly CO index (CO uses 8-hour means)")
    latest = _clean_hours(hourly, pollutant)[0]
    if latest is None:
        raise ValueError(f"the latest hourly {pollutant.value} value is missing")
    return sub_index(pollutant, Averaging.H1, latest, standard, epa_pm25)


def hourly_aqi(
    readings: Mapping[Pollutant, Sequence[float | None]],
    standard: Standard = Standard.VN,
    epa_pm25: EpaPm25 = EpaPm25.Y2024,
) -> AqiResult:
    """Hourly AQI (VN: AQIh) of one station from each pollutant's hourly values, most recent first."""
    subs = {p: hourly_sub_index(p, v, standard, epa_pm25) for p, v in readings.items()}
    return _overall(standard, Period.HOUR, subs)


def max_rolling_mean(values: Sequence[float | None], window: int, min_count: int) -> float | None:
    """Largest mean over ``window`` consecutive hours with at least ``min_count`` present."""
    best = _max_rolling_mean(values, window, min_count)
    return None if best is None else float(best)


def _max_rolling_mean(values: Sequence[float | None], window: int, min_count: int) -> Fraction | None:
    best: Fraction | None = None
    for start in range(0, max(len(values) - window + 1, 0)):
        chunk = [v for v in values[start : start + window] if v is not None]
        if len(chunk) >= min_count:
            m = _mean(chunk)
            best = m if best is None else max(best, m)
    return best


def daily_sub_index(
    pollutant: Pollutant,
    hourly: Sequence[float | None],
    standard: Standard = Standard.VN,
    epa_pm25: EpaPm25 = EpaPm25.Y2024,
    min_hours_24h: int = 18,
    min_hours_8h: int = 6,
) -> SubIndex:
    """Daily sub-index from one day's hourly means (in time order; ``None`` = missing).

    PM: the 24-hour mean (needs ``min_hours_24h`` valid hours, 75 % by default).
    VN gases: the largest 1-hour mean of the day; O3 also the largest 8-hour mean, whichever index is
    higher (the 8-hour table stops at 400 µg/m³, where the 1-hour one takes over).
    US: O3 and CO by the largest 8-hour mean (O3 also 1-hour when ≥ 0.125 ppm), NO2 and SO2 by the
    largest 1-hour value (SO2 ≥ 305 ppb by the 24-hour mean, per EPA).
    """
    values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in hourly]
    present = _present(values, pollutant)
    if not present:
        raise ValueError(f"no valid hourly {pollutant.value} values for the day")
    if pollutant in PM_POLLUTANTS:
        if len(present) < min_hours_24h:
            raise ValueError(
                f"daily {pollutant.value} needs ≥ {min_hours_24h} valid hourly values, got {len(present)}"
            )
        # The exact 24-hour mean: EPA truncates it to 0.1 µg/m³ PM2.5 / 1 µg/m³ PM10 (TAD §IV),
        # which a binary-float mean (9.0999… for 24 × 9.1) would push below the breakpoint.
        return sub_index(pollutant, Averaging.H24, _mean(present), standard, epa_pm25)
    peak = max(present)
    if standard is Standard.VN:
        candidates = [sub_index(pollutant, Averaging.H1, peak, standard)]
        if pollutant is Pollutant.O3:
            m8 = _max_rolling_mean(values, 8, min_hours_8h)
            if m8 is not None and m8 <= VN_CONC_BREAKPOINTS[(Pollutant.O3, Averaging.H8)][-1]:
                candidates.append(sub_index(pollutant, Averaging.H8, m8, standard))
        return max(candidates, key=lambda s: s.value)
    if pollutant in (Pollutant.O3, Pollutant.CO):
        m8 = _max_rolling_mean(values, 8, min_hours_8h)
        candidates = []
        if m8 is not None and (pollutant is Pollutant.CO or _truncate_exact(m8, 3) <= Fraction(1, 5)):
            candidates.append(sub_index(pollutant, Averaging.H8, m8, standard))
        if pollutant is Pollutant.O3 and truncate(peak, 3) >= 0.125:
            candidates.append(sub_index(pollutant, Averaging.H1, peak, standard))
        if not candidates:
            raise ValueError(
                f"daily {pollutant.value} needs an 8-hour mean with ≥ {min_hours_8h} valid hours"
            )
        return max(candidates, key=lambda s: s.value)
    if pollutant is Pollutant.SO2 and truncate(peak, 0) >= 305:
        if len(present) < min_hours_24h:
            raise ValueError(f"SO2 ≥ 305 ppb needs a 24-hour mean from ≥ {min_hours_24h} hours")
        return sub_index(pollutant, Averaging.H1, _mean(present), standard)
    return sub_index(pollutant, Averaging.H1, peak, standard)


def daily_aqi(
    readings: Mapping[Pollutant, Sequence[float | None]],
    standard: Standard = Standard.VN,
    epa_pm25: EpaPm25 = EpaPm25.Y2024,
) -> AqiResult:
    """Daily AQI (VN: AQId) of one station from each pollutant's hourly values of the day."""
    subs = {p: daily_sub_index(p, v, standard, epa_pm25) for p, v in readings.items()}
    return _overall(standard, Period.DAY, subs)
