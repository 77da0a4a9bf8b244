"""Road segments coloured by measured speed against the segment's free-flow speed."""

from __future__ import annotations

from ioc.i18n import Lang, fmt_number, t
from ioc.state import CityState
from layers.base import NODATA_COLOR, LayerData, LayerSpec, Legend, LegendEntry, feature_collection

LAYER_ID = "traffic"
# (lower bound of speed / free-flow, band, colour), best first.
BANDS: tuple[tuple[float, str, str], ...] = (
    (0.80, "free", "#2CA02C"),
    (0.50, "slow", "#F2B705"),
    (0.25, "congested", "#F26B0F"),
    (0.0, "jammed", "#A50F15"),
)


def band(ratio: float) -> tuple[str, str]:
    """(band name, colour) of a speed ratio; negative ratios are a caller bug."""
    if ratio < 0:
        raise ValueError(f"speed ratio must be >= 0, got {ratio}")
    for lo, name, color in BANDS:
        if ratio >= lo:
            return name, color
    raise AssertionError("unreachable")


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    by_id = {s.source_id: s for s in state.traffic}
    features = []
    for sid, src in state.sources.items():
        if src.kind != "traffic" or not src.geometry:
            continue
        reading = by_id.get(sid)
        if reading is None:
            name, color, tip = "nodata", NODATA_COLOR, f"{src.name}: {t('legend.traffic.nodata', lang)}"
        else:
            name, color = band(reading.ratio)
            tip = t(
                "tip.traffic",
                lang,
                name=src.name,
                speed=fmt_number(reading.speed_kmh, lang),
                ratio=fmt_number(100 * reading.ratio, lang),
            )
        features.append(
            {
                "type": "Feature",
                "id": sid,
                "geometry": src.geometry,
                "properties": {
                    "layer": LAYER_ID,
                    "status": name,
                    "color": color,
                    "weight": 6 if name in ("congested", "jammed") else 4,
                    "tooltip": tip,
                },
            }
        )
    legend = Legend(
        t("layer.traffic", lang),
        tuple(LegendEntry(t(f"legend.traffic.{n}", lang), c) for _, n, c in BANDS)
        + (LegendEntry(t("legend.traffic.nodata", lang), NODATA_COLOR),),
    )
    return LayerData(feature_collection(features), legend)


LAYERS = (LayerSpec("traffic", "layer.traffic", build, order=40),)
