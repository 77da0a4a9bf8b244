"""VN_AQI (QĐ 1459/QĐ-TCMT) and US EPA AQI: worked examples, edges, official tables, AirNow files."""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from alerts.aqi import (
    US_PM25_2024,
    US_SEGMENTS,
    VN_BANDS,
    VN_CONC_BREAKPOINTS,
    VN_INDEX_BREAKPOINTS,
    Averaging,
    EpaPm25,
    Pollutant,
    Standard,
    band_for,
    daily_aqi,
    daily_sub_index,
    hourly_aqi,
    nowcast,
    round_half_up,
    sub_index,
    truncate,
)
from alerts.cli_aqi import register

REPO = Path(__file__).resolve().parents[1]
AIR = REPO.parent / "shared" / "data" / "air_quality"
HANOI = AIR / "hanoi_us_embassy_pm25"
needs_air = pytest.mark.skipif(not AIR.is_dir(), reason=f"shared air-quality data absent at {AIR}")

# QĐ 1459 §2.3 worked example: twelve hourly PM2.5 means, most recent first.
DECISION_HOURS = [20.6, 19.6, 22.4, 20.3, 16.5, 19.0, 16.5, 19.5, 23.5, 20.5, 24.7, 26.9]


# --- VN_AQI ------------------------------------------------------------------------------------


def test_vn_nowcast_worked_example_is_20_3():
    nc = nowcast(DECISION_HOURS, Standard.VN, Pollutant.PM25)
    assert round_half_up(nc, 1) == 20.3
    # w = c_min/c_max = 16.5/26.9 > 1/2, so the normalised weighted mean applies
    w = 16.5 / 26.9
    expected = sum(w**i * c for i, c in enumerate(DECISION_HOURS)) / sum(w**i for i in range(12))
    assert nc == pytest.approx(expected, abs=1e-12)


def test_vn_nowcast_half_weight_uses_the_decisions_sum():
    hours = [100.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 10.0, 10.0]  # w* = 0.1
    assert nowcast(hours, Standard.VN) == pytest.approx(sum(0.5 ** (i + 1) * c for i, c in enumerate(hours)))


def test_nowcast_needs_two_of_the_three_latest_hours():
    w = 20 / 30  # the missing hour keeps its place: the third hour weighs w²
    assert nowcast([30.0, None, 20.0], Standard.VN) == pytest.approx((30 + w**2 * 20) / (1 + w**2), rel=1e-12)
    with pytest.raises(ValueError, match="2 of the 3 most recent"):
        nowcast([30.0, None, None, 20.0, 20.0], Standard.VN)
    with pytest.raises(ValueError, match="-1"):
        nowcast([30.0, -1.0, 20.0])
    with pytest.raises(ValueError, match="PM2.5 and PM10"):
        nowcast([30.0, 20.0], pollutant=Pollutant.O3)


def test_vn_no2_sub_index_is_unrounded_then_rounded_half_up():
    s = sub_index(Pollutant.NO2, Averaging.H1, 118.7)
    assert s.value == pytest.approx(59.35)
    assert s.aqi == 59  # the decision prints 60 for this case; its own formula gives 59.35
    assert sub_index(Pollutant.PM25, Averaging.H24, 26.25).aqi == 53  # 52.5 → 53 (half up)


@pytest.mark.parametrize(
    ("conc", "aqi", "band"),
    [
        (0, 0, "Tốt"),
        (25, 50, "Tốt"),
        (25.5, 51, "Trung bình"),
        (50, 100, "Trung bình"),
        (65, 125, "Kém"),
        (150, 200, "Xấu"),
        (250, 300, "Rất xấu"),
        (350, 400, "Nguy hại"),
        (500, 500, "Nguy hại"),
    ],
)
def test_vn_pm25_breakpoints_and_bands(conc, aqi, band):
    s = sub_index(Pollutant.PM25, Averaging.H24, conc)
    assert s.aqi == aqi
    assert band_for(s.aqi).name_vi == band
    assert not s.beyond_scale


def test_vn_beyond_the_top_breakpoint_extends_the_last_segment():
    s = sub_index(Pollutant.PM25, Averaging.H24, 650)
    assert s.beyond_scale and s.aqi == 600
    assert band_for(s.aqi).name_vi == "Nguy hại"


def test_vn_bands_names_and_colours():
    assert [(b.lo, b.hi, b.name_vi, b.hex) for b in VN_BANDS] == [
        (0, 50, "Tốt", "#00E400"),
        (51, 100, "Trung bình", "#FFFF00"),
        (101, 150, "Kém", "#FF7E00"),
        (151, 200, "Xấu", "#FF0000"),
        (201, 300, "Rất xấu", "#8F3F97"),
        (301, 500, "Nguy hại", "#7E0023"),
    ]
    assert band_for(101).name("en") == "Poor"
    with pytest.raises(ValueError, match="'fr'"):
        band_for(10).name("fr")


def test_vn_hourly_overall_is_the_worst_sub_index():
    r = hourly_aqi({Pollutant.PM25: DECISION_HOURS, Pollutant.NO2: [118.7], Pollutant.O3: [150.0]})
    assert r.dominant is Pollutant.NO2 and r.aqi == 59 and r.band.name_vi == "Trung bình"
    assert r.sub_indices[Pollutant.PM25].aqi == 41
    with pytest.raises(ValueError, match="PM2.5 and PM10"):
        hourly_aqi({Pollutant.NO2: [118.7]})


def test_vn_daily_uses_24h_pm_mean_and_max_gas_hours():
    pm10 = [100.0] * 12 + [200.0] * 12  # mean 150 → 100
    o3 = [50.0] * 16 + [110.0] * 8  # max 1 h 110 → 34.4 on the 1 h table; max 8 h 110 → 75
    co = [5000.0] * 23 + [20000.0]  # max 1 h 20 000 → 75
    r = daily_aqi({Pollutant.PM10: pm10, Pollutant.O3: o3, Pollutant.CO: co})
    assert r.sub_indices[Pollutant.PM10].aqi == 100
    assert r.sub_indices[Pollutant.O3].averaging is Averaging.H8 and r.sub_indices[Pollutant.O3].aqi == 75
    assert r.sub_indices[Pollutant.CO].aqi == 75
    assert r.aqi == 100 and r.dominant is Pollutant.PM10
    with pytest.raises(ValueError, match="≥ 18 valid"):
        daily_sub_index(Pollutant.PM25, [30.0] * 17 + [None] * 7)


# --- US EPA AQI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conc", "table", "aqi"),
    [
        (9.0, EpaPm25.Y2024, 50),
        (9.1, EpaPm25.Y2024, 51),
        (9.09, EpaPm25.Y2024, 50),
        (35.49, EpaPm25.Y2024, 100),
        (55.5, EpaPm25.Y2024, 151),
        (225.5, EpaPm25.Y2024, 301),
        (325.4, EpaPm25.Y2024, 500),
        (12.0, EpaPm25.Y2012, 50),
        (12.1, EpaPm25.Y2012, 51),
        (150.5, EpaPm25.Y2012, 201),
        (500.4, EpaPm25.Y2012, 500),
    ],
)
def test_us_pm25_tables_with_truncation(conc, table, aqi):
    assert sub_index(Pollutant.PM25, Averaging.H24, conc, Standard.US, table).aqi == aqi


def test_us_truncation_rules():
    assert truncate(35.49, 1) == 35.4 and truncate(0.0549, 3) == 0.054 and truncate(54.9, 0) == 54
    assert sub_index(Pollutant.O3, Averaging.H8, 0.0549, Standard.US).aqi == 50
    assert sub_index(Pollutant.PM10, Averaging.H24, 54.9, Standard.US).aqi == 50
    assert sub_index(Pollutant.NO2, Averaging.H1, 100.7, Standard.US).aqi == 100
    with pytest.raises(ValueError, match="0.125"):
        sub_index(Pollutant.O3, Averaging.H1, 0.1, Standard.US)


def test_us_nowcast_is_epas_and_truncated():
    hours = [40.0, 35.0, 30.0]  # w = 0.75 → 35.946 → 35.9
    assert nowcast(hours, Standard.US) == 35.9
    assert nowcast(hours, Standard.US, legacy_rounding=True) == 35.9
    assert nowcast([40.0, 35.0, 30.1], Standard.US, legacy_rounding=True) == 36.0
    # w floors at 1/2 and is normalised (EPA), unlike the decision's un-normalised w = 1/2 sum
    hours = [100.0, 10.0] + [10.0] * 10
    assert nowcast(hours, Standard.US) == truncate(
        sum(0.5**i * c for i, c in enumerate(hours)) / sum(0.5**i for i in range(12)), 1
    )
    r = hourly_aqi({Pollutant.PM25: [40.0, 35.0, 30.0]}, Standard.US)
    assert r.aqi == 102 and r.band.name_en == "Unhealthy for Sensitive Groups"


def test_us_daily_ozone_and_co_use_8h_means():
    o3 = [0.040] * 16 + [0.080] * 8
    assert daily_sub_index(Pollutant.O3, o3, Standard.US).aqi == 133  # 0.080 ppm: 132.5 → 133
    co = [1.0] * 16 + [10.0] * 8
    assert daily_sub_index(Pollutant.CO, co, Standard.US).aqi == 109  # 10.0 ppm: 109.45


# --- official tables against the shared CSV copies ---------------------------------------------


@needs_air
def test_vn_breakpoints_equal_the_shared_csv():
    cols = {
        "O3_1h_ugm3": (Pollutant.O3, Averaging.H1),
        "O3_8h_ugm3": (Pollutant.O3, Averaging.H8),
        "CO_ugm3": (Pollutant.CO, Averaging.H1),
        "SO2_ugm3": (Pollutant.SO2, Averaging.H1),
        "NO2_ugm3": (Pollutant.NO2, Averaging.H1),
        "PM10_ugm3": (Pollutant.PM10, Averaging.H24),
        "PM25_ugm3": (Pollutant.PM25, Averaging.H24),
    }
    with (AIR / "vn_aqi_breakpoints_qd1459_2019.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(int(r["I_i"]) for r in rows) == VN_INDEX_BREAKPOINTS
    for col, key in cols.items():
        assert tuple(float(r[col]) for r in rows if r[col] != "") == VN_CONC_BREAKPOINTS[key], col


@needs_air
def test_us_breakpoints_equal_the_shared_csv():
    keys = {
        ("PM10", "24h (NowCast for hourly)"): (Pollutant.PM10, Averaging.H24),
        ("O3", "8h"): (Pollutant.O3, Averaging.H8),
        ("O3", "1h"): (Pollutant.O3, Averaging.H1),
        ("CO", "8h"): (Pollutant.CO, Averaging.H8),
        ("SO2", "1h (>=305 ppb: 24h)"): (Pollutant.SO2, Averaging.H1),
        ("NO2", "1h"): (Pollutant.NO2, Averaging.H1),
    }
    tables: dict[tuple[str, str], list[tuple[float, float, int, int]]] = {}
    with (AIR / "us_epa_aqi_breakpoints_2024.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            row = (float(r["c_lo"]), float(r["c_hi"]), int(r["i_lo"]), int(r["i_hi"]))
            tables.setdefault((r["pollutant"], r["averaging"]), []).append(row)
    mine = lambda segs: [(s.c_lo, s.c_hi, s.i_lo, s.i_hi) for s in segs]  # noqa: E731
    assert tables.pop(("PM2.5", "24h (NowCast for hourly)")) == mine(US_PM25_2024)
    assert set(tables) == set(keys)
    for k, v in tables.items():
        assert v == mine(US_SEGMENTS[keys[k]]), k


# --- AirNow's U.S. Embassy Hanoi files ---------------------------------------------------------


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "aqi_reproduction", REPO / "benchmarks" / "aqi_reproduction.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not HANOI.is_dir(), reason=f"U.S. Embassy Hanoi files absent at {HANOI}")
def test_reproduces_airnow_hanoi_nowcast_and_aqi():
    bench = _load_benchmark()
    tallies = bench.reproduce(bench.read_hours(sorted(HANOI.glob("Hanoi_PM2.5_*_YTD.csv"))))
    t = bench.total(tallies)
    shares = {
        "nowcast_exact": t.share(t.nowcast_exact),
        "nowcast_within_0.1": t.share(t.nowcast_within_01),
        "aqi_exact": t.share(t.aqi_exact),
        "aqi_from_airnow_nowcast": t.share(t.aqi_from_airnow_nowcast_exact),
    }
    print(f"\nHanoi AirNow reproduction over {t.checked} checked hours: {shares}")
    assert t.checked > 30_000
    assert shares["aqi_from_airnow_nowcast"] == 1.0  # table and rounding: every row
    assert shares["nowcast_within_0.1"] >= 0.999
    assert shares["aqi_exact"] >= 0.98
    assert shares["nowcast_exact"] >= 0.895
    # Since AirNow switched to truncation (mid-2018) every NowCast is reproduced exactly.
    late = [tallies[y] for y in (2019, 2020)]
    assert all(x.nowcast_exact == x.checked and x.aqi_exact == x.checked for x in late)


# --- CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def run():
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `aqi` a sub-command
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["aqi", *args])


def test_cli_vn_hourly_pm25_prints_nowcast_index_and_band(run):
    res = run("--standard", "vn", "--period", "hour", "--pollutant", "PM2.5", *map(str, DECISION_HOURS))
    assert res.exit_code == 0, res.output
    assert "VN AQI hour PM2.5: 41 Tốt" in res.output and "NowCast 20.3" in res.output


def test_cli_us_english_and_vietnamese(run):
    res = run("--standard", "us", "--pollutant", "pm25", "40", "35", "30")
    assert res.exit_code == 0 and "102 Unhealthy for Sensitive Groups" in res.output
    res = run("--standard", "vn", "--lang", "en", "--period", "day", "--pollutant", "PM10", *(["150"] * 24))
    assert res.exit_code == 0 and "100 Moderate" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pollutant", "PM1", "5"], "PM1"),
        (["--", "5", "-2", "3"], "-2"),
        (["5", "NA", "NA"], "2 of the 3"),
        (["abc"], "abc"),
        (["--period", "day", "30", "30"], "18 valid"),
        (["--lang", "fr", "5", "5"], "fr"),
    ],
)
def test_cli_rejects_bad_input_naming_it(run, args, message):
    res = run(*args)
    assert res.exit_code != 0
    assert message in res.output.replace("\n", " ").replace("│", " ") or message in " ".join(
        res.output.split()
    )


def test_sub_index_rejects_non_finite():
    with pytest.raises(ValueError, match="nan"):
        sub_index(Pollutant.PM25, Averaging.H24, math.nan)


# --- the two float defects of issue 15 ---------------------------------------------------------


def test_us_daily_pm25_mean_is_truncated_to_a_tenth_not_pushed_below_by_float_error():
    # 24 × 9.1 sums to 218.39999… in binary floats; EPA truncates the true mean 9.1 to 9.1 → 51.
    s = daily_sub_index(Pollutant.PM25, [9.1] * 24, Standard.US)
    assert s.concentration == 9.1 and s.aqi == 51
    assert daily_sub_index(Pollutant.PM25, [9.0] * 24, Standard.US).aqi == 50


def test_us_nowcast_of_equal_hours_is_that_value():
    assert nowcast([7.8] * 12, Standard.US) == 7.8  # was 7.7: 93.5999…/12 truncated
    assert hourly_aqi({Pollutant.PM25: [7.8] * 12}, Standard.US, EpaPm25.Y2012).aqi == 33  # 32.5 → 33
    assert nowcast([35.5] * 12, Standard.US) == 35.5
    assert nowcast([0.3] * 12, Standard.US) == 0.3


def test_us_8h_means_are_exact_before_truncation():
    # eight hours of 0.07 ppm average 0.07 exactly: index 100, not 0.069 → 99
    assert daily_sub_index(Pollutant.O3, [0.07] * 8 + [0.0] * 16, Standard.US).concentration == 0.07
    assert daily_sub_index(Pollutant.O3, [0.07] * 24, Standard.US).aqi == 100


def test_index_rounding_is_half_up_on_the_exact_value():
    # PM2.5 2012 table, 7.8 µg/m³: 50/12 × 7.8 = 32.5 exactly → 33 (a float gives 32.49999…)
    assert sub_index(Pollutant.PM25, Averaging.H24, 7.8, Standard.US, EpaPm25.Y2012).aqi == 33
    assert round_half_up(2.5) == 3.0 and round_half_up(0.15, 1) == 0.2 and round_half_up(-0.5) == -1.0


# --- every breakpoint of both tables, in both directions ----------------------------------------
#
# Expected indices come from the standards' one equation (EPA TAD Equation 1 = QĐ 1459 §2),
# evaluated here in decimal arithmetic: I = I_lo + (I_hi - I_lo) / (BP_hi - BP_lo) × (C - BP_lo),
# rounded half up, after EPA's truncation for US inputs.

from decimal import ROUND_DOWN as _DOWN  # noqa: E402
from decimal import ROUND_HALF_UP as _HALF_UP  # noqa: E402
from decimal import Decimal as D  # noqa: E402

from alerts.aqi import US_PM25, US_TRUNCATION_DECIMALS, VN_SEGMENTS, hourly_sub_index  # noqa: E402


def _expected(c: D, segments, truncate_to: int | None) -> int:
    if truncate_to is not None:
        c = c.quantize(D(1).scaleb(-truncate_to), rounding=_DOWN)
    for seg in segments:
        lo, hi = D(repr(seg.c_lo)), D(repr(seg.c_hi))
        if c <= hi:
            x = max(c, lo)
            i = D(seg.i_lo) + D(seg.i_hi - seg.i_lo) / (hi - lo) * (x - lo)
            return int(i.quantize(D(1), rounding=_HALF_UP))
    raise AssertionError("beyond the table")


def _us_probes(segments, decimals: int):
    """(concentration, expected index) just below, at and just above every breakpoint."""
    res = D(1).scaleb(-decimals)
    out = []
    for k, seg in enumerate(segments):
        lo, hi = D(repr(seg.c_lo)), D(repr(seg.c_hi))
        out += [(lo, seg.i_lo), (hi, seg.i_hi)]
        out.append((hi - res, _expected(hi - res, segments, decimals)))  # just below the top
        out.append((lo + res, _expected(lo + res, segments, decimals)))  # just above the bottom
        out.append((hi + res / 2, seg.i_hi))  # inside the gap: truncated down to the top
        if k > 0:
            out.append((lo - res / 2, segments[k - 1].i_hi))  # just below the bottom: previous band
        if k + 1 < len(segments):
            out.append((hi + res, segments[k + 1].i_lo))  # just above the top: next band
    return out


US_TABLES = [
    (Pollutant.PM25, Averaging.H24, US_PM25[EpaPm25.Y2024]),
    (Pollutant.PM10, Averaging.H24, US_SEGMENTS[(Pollutant.PM10, Averaging.H24)]),
    (Pollutant.O3, Averaging.H8, US_SEGMENTS[(Pollutant.O3, Averaging.H8)]),
    (Pollutant.O3, Averaging.H1, US_SEGMENTS[(Pollutant.O3, Averaging.H1)]),
    (Pollutant.CO, Averaging.H8, US_SEGMENTS[(Pollutant.CO, Averaging.H8)]),
    (Pollutant.SO2, Averaging.H1, US_SEGMENTS[(Pollutant.SO2, Averaging.H1)]),
    (Pollutant.NO2, Averaging.H1, US_SEGMENTS[(Pollutant.NO2, Averaging.H1)]),
]


def _us_daily_hours(p: Pollutant, avg: Averaging, c: float) -> list[float]:
    if p is Pollutant.O3 and avg is Averaging.H1:
        return [c] + [0.0] * 23  # one peak hour: the 1-hour table rules, the 8-hour mean is low
    return [c] * 24


@pytest.mark.parametrize(
    ("p", "avg", "segments"), US_TABLES, ids=[f"{p.value}-{a.value}" for p, a, _ in US_TABLES]
)
def test_us_every_breakpoint_hourly_and_daily(p, avg, segments):
    probes = _us_probes(segments, US_TRUNCATION_DECIMALS[p])
    assert len(probes) >= 5 * len(segments)
    for c, want in probes:
        c = float(c)
        assert sub_index(p, avg, c, Standard.US).aqi == want, (p, avg, c)
        daily = daily_sub_index(p, _us_daily_hours(p, avg, c), Standard.US)
        assert daily.aqi == want and (c == 0 or daily.averaging is avg), ("daily", p, c)
        if p in (Pollutant.PM25, Pollutant.PM10):
            assert hourly_sub_index(p, [c] * 12, Standard.US).aqi == want, ("NowCast", p, c)
        elif avg is Averaging.H1:
            assert hourly_sub_index(p, [c], Standard.US).aqi == want, ("hourly", p, c)
    top = segments[-1]
    above = sub_index(p, avg, top.c_hi + 1.0, Standard.US)
    assert above.beyond_scale and above.value > top.i_hi
    assert not sub_index(p, avg, top.c_hi, Standard.US).beyond_scale


def test_us_hourly_edges_that_have_no_table():
    with pytest.raises(ValueError, match="0.125"):
        hourly_sub_index(Pollutant.O3, [0.124], Standard.US)  # just below the 1-hour table
    assert hourly_sub_index(Pollutant.O3, [0.125], Standard.US).aqi == 101
    with pytest.raises(ValueError, match="no hourly CO"):
        hourly_sub_index(Pollutant.CO, [4.4], Standard.US)
    for p in Pollutant:
        with pytest.raises(ValueError, match="≥ 0"):
            sub_index(
                p, Averaging.H24 if p in (Pollutant.PM25, Pollutant.PM10) else Averaging.H1, -0.1, Standard.US
            )


VN_TABLES = sorted(VN_SEGMENTS, key=lambda k: (k[0].value, k[1].value))


def _vn_daily_hours(p: Pollutant, avg: Averaging, c: float) -> list[float] | None:
    if p is Pollutant.O3 and avg is Averaging.H1:
        return [c] + [0.0] * 23  # the 1-hour maximum rules; the 8-hour mean stays low
    if p is Pollutant.O3 and avg is Averaging.H8:
        return [c] * 24  # the 8-hour table gives the higher index for equal hours
    return [c] * 24


@pytest.mark.parametrize(("p", "avg"), VN_TABLES, ids=[f"{p.value}-{a.value}" for p, a in VN_TABLES])
def test_vn_every_breakpoint_hourly_and_daily(p, avg):
    segments = VN_SEGMENTS[(p, avg)]
    step = D("0.1")  # µg/m³; QĐ 1459 does not truncate, so 0.1 either side lands in the next segment
    probes = []
    for k, seg in enumerate(segments):
        lo, hi = D(repr(float(seg.c_lo))), D(repr(float(seg.c_hi)))
        probes += [(lo, seg.i_lo), (hi, seg.i_hi)]
        probes.append((lo + step, _expected(lo + step, segments, None)))
        probes.append((hi - step, _expected(hi - step, segments, None)))
        if k + 1 < len(segments):
            nxt = segments[k + 1]
            probes.append((hi + step, _expected(hi + step, (nxt,), None)))  # just above: next segment
            assert _expected(hi + step, (nxt,), None) >= seg.i_hi
    for c, want in probes:
        c = float(c)
        assert sub_index(p, avg, c, Standard.VN).aqi == want, (p, avg, c)
        if p in (Pollutant.PM25, Pollutant.PM10):
            assert hourly_sub_index(p, [c] * 12, Standard.VN).aqi == want, ("NowCast", p, c)
            assert daily_sub_index(p, [c] * 24, Standard.VN).aqi == want, ("daily", p, c)
            continue
        if avg is Averaging.H1:
            assert hourly_sub_index(p, [c], Standard.VN).aqi == want, ("hourly", p, c)
        hours = _vn_daily_hours(p, avg, c)
        if p is Pollutant.O3 and avg is Averaging.H8 and c > 400:
            continue  # above the 8-hour table the 1-hour one takes over (checked below)
        d = daily_sub_index(p, hours, Standard.VN)
        assert d.aqi == want and (c == 0 or d.averaging is avg), ("daily", p, avg, c)  # at 0 both tie
    top = segments[-1]
    above = sub_index(p, avg, top.c_hi + 0.1, Standard.VN)
    assert above.beyond_scale and above.value > top.i_hi
    with pytest.raises(ValueError, match="≥ 0"):
        sub_index(p, avg, -0.1, Standard.VN)


def test_vn_band_changes_exactly_between_50_and_51():
    # PM2.5 24 h: 25 µg/m³ is I = 50 (Tốt); 25.3 gives 50.6 → 51 (Trung bình); 25.2 gives 50.4 → 50
    assert daily_aqi({Pollutant.PM25: [25.0] * 24}).band.name_vi == "Tốt"
    assert daily_aqi({Pollutant.PM25: [25.2] * 24}).aqi == 50
    r = daily_aqi({Pollutant.PM25: [25.3] * 24})
    assert r.aqi == 51 and r.band.name_vi == "Trung bình"
    # half-up at exactly .5: 25.25 µg/m³ → 50.5 → 51
    assert sub_index(Pollutant.PM25, Averaging.H24, 25.25).aqi == 51
