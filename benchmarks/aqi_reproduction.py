"""Reproduce AirNow's NowCast and AQI for the U.S. Embassy Hanoi PM2.5 files from their raw hours.

AirNow computed these columns with EPA's PM NowCast and the pre-2024 (2012) PM2.5 table. A row is
*checked* when its own hour is QC-valid, AirNow published a NowCast for it, and all 12 hours of
its window lie inside the files (the first hours of a file need the previous year's data).
What the files show about AirNow's practice, and this script follows:

* hours flagged ``Missing`` or ``Invalid`` (or -999) are left out of every NowCast window;
  ``Suspect`` hours are kept (2019: 100 % with them, 97.9 % without);
* slightly negative raw hours (monitor noise near zero) are kept in the window;
* for an hour that is itself not valid AirNow publishes no new NowCast but repeats the previous
  one for a few hours: those rows are not checked;
* AirNow rounded the NowCast half up to 0.1 µg/m³ until 2018-06-19 01:00 (local), and has
  truncated it since (EPA's rule). Before the switch about 15 % of NowCasts differ by 0.1: the
  differences cluster where the unrounded value ends in ~.x5, i.e. AirNow then averaged raw hours
  more precise than the 0.1 µg/m³ the files print.

Three shares are printed per year: NowCast equal to 0.1 µg/m³, AQI from our NowCast equal, and
AQI from AirNow's own NowCast equal (this isolates the breakpoint table and rounding).

Run: ``.venv/bin/python benchmarks/aqi_reproduction.py [DATA_DIR]``
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from alerts.aqi import Averaging, EpaPm25, Pollutant, Standard, nowcast, sub_index

DEFAULT_DIR = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "air_quality" / "hanoi_us_embassy_pm25"
)
MISSING = -999.0
VALID_QC = ("Valid", "Suspect")
ROUNDING_SWITCH = datetime(2018, 6, 19, 2)  # first hour AirNow truncates (found by this script's data)


@dataclass(frozen=True, slots=True)
class Hour:
    time: datetime
    raw: float | None  # None when missing or flagged Missing/Invalid
    nowcast: float | None
    aqi: int | None
    qc: str


@dataclass(slots=True)
class Tally:
    checked: int = 0
    nowcast_exact: int = 0
    nowcast_within_01: int = 0
    aqi_exact: int = 0
    aqi_from_airnow_nowcast_exact: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def share(self, n: int) -> float:
        return n / self.checked if self.checked else float("nan")


def read_hours(files: Iterable[Path]) -> dict[datetime, Hour]:
    """All hours of the files, keyed by local time; -999 and non-valid QC become ``None`` raw."""
    hours: dict[datetime, Hour] = {}
    for path in files:
        with path.open(newline="") as fh:
            for r in csv.DictReader(fh):
                t = datetime(int(r["Year"]), int(r["Month"]), int(r["Day"]), int(r["Hour"]))
                raw = float(r["Raw Conc."])
                nc = float(r["NowCast Conc."])
                aqi = int(float(r["AQI"]))
                valid = r["QC Name"] in VALID_QC and raw != MISSING
                hours[t] = Hour(
                    t,
                    raw if valid else None,
                    None if nc == MISSING else nc,
                    None if aqi == -999 else aqi,
                    r["QC Name"],
                )
    return hours


def reproduce(hours: dict[datetime, Hour]) -> dict[int, Tally]:
    """Compare our NowCast/AQI with AirNow's, per year."""
    tallies: dict[int, Tally] = {}
    for t, h in sorted(hours.items()):
        tally = tallies.setdefault(t.year, Tally())

        def skip(reason: str, tally: Tally = tally) -> None:
            tally.skipped[reason] = tally.skipped.get(reason, 0) + 1

        if h.nowcast is None or h.aqi is None:
            skip("no AirNow NowCast or AQI")
            continue
        if h.raw is None:
            skip(f"hour QC {h.qc} (AirNow repeats the previous NowCast)")
            continue
        window = [hours.get(t - timedelta(hours=i)) for i in range(12)]
        if any(w is None for w in window):
            skip("window starts before the files")
            continue
        raws = [w.raw for w in window if w is not None]
        try:
            ours = nowcast(
                raws, Standard.US, Pollutant.PM25, legacy_rounding=t < ROUNDING_SWITCH, allow_negative=True
            )
        except ValueError:
            skip("fewer than 2 of the last 3 hours valid")
            continue
        tally.checked += 1
        tally.nowcast_exact += abs(ours - h.nowcast) < 1e-9
        tally.nowcast_within_01 += abs(ours - h.nowcast) < 0.1 + 1e-9
        aqi = sub_index(Pollutant.PM25, Averaging.H24, ours, Standard.US, EpaPm25.Y2012).aqi
        tally.aqi_exact += aqi == h.aqi
        theirs = sub_index(Pollutant.PM25, Averaging.H24, h.nowcast, Standard.US, EpaPm25.Y2012).aqi
        tally.aqi_from_airnow_nowcast_exact += theirs == h.aqi
    return tallies


def total(tallies: dict[int, Tally]) -> Tally:
    out = Tally()
    for t in tallies.values():
        out.checked += t.checked
        out.nowcast_exact += t.nowcast_exact
        out.nowcast_within_01 += t.nowcast_within_01
        out.aqi_exact += t.aqi_exact
        out.aqi_from_airnow_nowcast_exact += t.aqi_from_airnow_nowcast_exact
        for k, v in t.skipped.items():
            out.skipped[k] = out.skipped.get(k, 0) + v
    return out


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    files = sorted(folder.glob("Hanoi_PM2.5_*_YTD.csv"))
    if not files:
        print(f"no Hanoi_PM2.5_*_YTD.csv files in {folder}", file=sys.stderr)
        return 2
    tallies = reproduce(read_hours(files))
    print(
        f"{'year':>6} {'checked':>8} {'NowCast =':>10} {'NowCast ±0.1':>13} {'AQI =':>8} {'AQI(AirNow NC) =':>17}"
    )
    for year, t in sorted(tallies.items()) + [("all", total(tallies))]:
        print(
            f"{year!s:>6} {t.checked:>8} {t.share(t.nowcast_exact):>10.2%} {t.share(t.nowcast_within_01):>13.2%} "
            f"{t.share(t.aqi_exact):>8.2%} {t.share(t.aqi_from_airnow_nowcast_exact):>17.2%}"
        )
    print("not checked:", dict(sorted(total(tallies).skipped.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
