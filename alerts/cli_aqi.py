"""``ioc aqi``: check an air-quality index by hand from hourly readings."""

from __future__ import annotations

import math
from typing import Annotated

import typer

from alerts.aqi import (
    PM_POLLUTANTS,
    US_UNITS,
    EpaPm25,
    Period,
    Pollutant,
    Standard,
    band_for,
    daily_sub_index,
    hourly_sub_index,
    nowcast,
)

_MISSING_TOKENS = {"na", "nan", "-", "none", "missing"}


def _parse_values(values: list[str]) -> list[float | None]:
    out: list[float | None] = []
    for text in values:
        if text.strip().lower() in _MISSING_TOKENS:
            out.append(None)
            continue
        try:
            v = float(text.replace(",", "."))
        except ValueError:
            raise typer.BadParameter(f"not a number: {text!r} (use NA for a missing hour)") from None
        if not math.isfinite(v) or v < 0:
            raise typer.BadParameter(f"concentrations must be finite and ≥ 0, got {text!r}")
        out.append(v)
    return out


def aqi(
    values: Annotated[
        list[str],
        typer.Argument(
            help="Hourly means, most recent first (NA = missing). VN: µg/m³; US: µg/m³ PM, ppm O3/CO, ppb SO2/NO2."
        ),
    ],
    standard: Annotated[Standard, typer.Option(help="vn: QĐ 1459/QĐ-TCMT; us: US EPA AQI.")] = Standard.VN,
    period: Annotated[
        Period, typer.Option(help="hour: hourly index (NowCast for PM); day: daily index.")
    ] = Period.HOUR,
    pollutant: Annotated[str, typer.Option(help="PM2.5, PM10, O3, NO2, SO2 or CO.")] = "PM2.5",
    lang: Annotated[
        str | None, typer.Option(help="Band name language: vi or en (default: vi for vn, en for us).")
    ] = None,
    epa_pm25: Annotated[
        EpaPm25, typer.Option(help="US PM2.5 table: 2024 revision or the 2012 one.")
    ] = EpaPm25.Y2024,
) -> None:
    """Print the index and band of one pollutant from hourly readings."""
    try:
        p = Pollutant.parse(pollutant)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--pollutant") from None
    language = lang or ("vi" if standard is Standard.VN else "en")
    if language not in ("vi", "en"):
        raise typer.BadParameter(f"unknown language {language!r}: expected vi or en", param_hint="--lang")
    hours = _parse_values(values)
    try:
        if period is Period.HOUR:
            sub = hourly_sub_index(p, hours, standard, epa_pm25)
        else:
            # The day's hours in time order: the command takes them most recent first.
            sub = daily_sub_index(p, list(reversed(hours)), standard, epa_pm25)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="VALUES") from None
    band = band_for(sub.aqi, standard)
    unit = "µg/m³" if standard is Standard.VN else US_UNITS[p]
    if period is Period.HOUR and p in PM_POLLUTANTS:
        nc = nowcast(hours, standard, p)
        basis = f"NowCast {nc:.1f} {unit}"
    else:
        basis = f"{sub.averaging.value} {sub.concentration:g} {unit}"
    beyond = " (beyond the scale)" if sub.beyond_scale else ""
    typer.echo(
        f"{standard.value.upper()} AQI {period.value} {p.value}: {sub.aqi} {band.name(language)}{beyond}"
    )
    typer.echo(f"  from {basis}; sub-index {sub.value:.2f}; colour {band.hex}")


def register(app: typer.Typer) -> None:
    """Add the ``aqi`` command to the ``ioc`` CLI."""
    app.command("aqi")(aqi)
