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
