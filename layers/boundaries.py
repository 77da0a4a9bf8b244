"""Administrative units: the always-visible outline, and choropleths of reports and worst AQI.

The outline keeps the map readable when map tiles cannot load (no internet in the operations room).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.aqi import VN_BANDS, band_for
from ioc.i18n import Lang, fmt_number, t
from ioc.state import CityState
from layers.base import LayerData, LayerSpec, Legend, LegendEntry, feature_collection
from layers.reports import counts_by_unit

LAYER_ID = "boundaries"
OUTLINE = "#1D3557"
EMPTY_FILL = "#F1F3F5"
# Reports per unit: upper bounds (inclusive) and colours.
REPORT_CLASSES: tuple[tuple[int, str], ...] = (
    (0, EMPTY_FILL),
    (2, "#C6DBEF"),
    (5, "#6BAED6"),
    (10, "#2171B5"),
)
REPORT_TOP = "#08306B"


def _units(state: CityState, styles_for: Any) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Static features (geometry, code, outline) and the per-unit styles that change with the data.

    The map keeps the geometry and receives only the styles (through the layer's ``hideout``), so
    a changed count does not resend the polygons.
    """
    features, styles = [], {}
    for f in state.boundaries.geojson["features"]:
        p = f["properties"]
        features.append(
            {
                "type": "Feature",
                "id": p["code"],
                "geometry": f["geometry"],
                "properties": {"layer": LAYER_ID, "code": p["code"], "line": OUTLINE, "weight": 1.2},
            }
        )
        styles[p["code"]] = styles_for(p)
    return features, styles


def report_color(n: int) -> str:
    for hi, color in REPORT_CLASSES:
        if n <= hi:
            return color
    return REPORT_TOP


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    """Reports per unit (the default choropleth)."""
    counts = counts_by_unit(state)

    def props(p: Mapping[str, Any]) -> dict[str, Any]:
        n = counts.get(p["code"], 0)
        return {
            "n": n,
            "color": report_color(n),
            "fill_opacity": 0.55,
            "tooltip": t("tip.unit_reports", lang, name=p["full_name"], n=fmt_number(n, lang)),
        }

    entries = [LegendEntry(t("legend.choropleth.none", lang), EMPTY_FILL)]
    lo = 1
    for hi, color in REPORT_CLASSES[1:]:
        entries.append(LegendEntry(f"{lo}–{hi}", color))
        lo = hi + 1
    entries.append(LegendEntry(f"> {REPORT_CLASSES[-1][0]}", REPORT_TOP))
    features, styles = _units(state, props)
    return LayerData(
        feature_collection(features), Legend(t("layer.choropleth_reports", lang), tuple(entries)), styles
    )


def worst_aqi_by_unit(state: CityState) -> dict[str, int]:
    """The highest station AQI in each unit (stations placed by their registered admin unit)."""
    out: dict[str, int] = {}
    for a in state.air:
        src = state.sources.get(a.source_id)
        if a.aqi is None or src is None or not src.admin_unit:
            continue
        out[src.admin_unit] = max(out.get(src.admin_unit, 0), a.aqi)
    return out


def build_aqi(state: CityState, lang: Lang = "vi") -> LayerData:
    """Worst AQI per unit; units without a station stay unfilled."""
    worst = worst_aqi_by_unit(state)

    def props(p: Mapping[str, Any]) -> dict[str, Any]:
        aqi = worst.get(p["code"])
        if aqi is None:
            return {"color": EMPTY_FILL, "fill_opacity": 0.0, "tooltip": p["full_name"]}
        return {
            "aqi": aqi,
            "color": band_for(aqi).hex,
            "fill_opacity": 0.5,
            "tooltip": t("tip.unit_aqi", lang, name=p["full_name"], aqi=aqi),
        }

    legend = Legend(
        t("layer.choropleth_aqi", lang),
        tuple(LegendEntry(f"{b.lo}–{b.hi}: {b.name(lang)}", b.hex) for b in VN_BANDS),
    )
    features, styles = _units(state, props)
    return LayerData(feature_collection(features), legend, styles)


LAYERS = (
    LayerSpec("boundaries", "layer.choropleth_reports", build, order=10),
    LayerSpec("boundaries_aqi", "layer.choropleth_aqi", build_aqi, order=20, checked=False),
)
