"""Air-quality stations coloured by the official VN_AQI bands (QĐ 1459, hourly NowCast)."""

from __future__ import annotations

from alerts.aqi import VN_BANDS, band_for
from ioc.i18n import Lang, t
from ioc.state import CityState
from layers.base import NODATA_COLOR, LayerData, LayerSpec, Legend, LegendEntry, feature_collection, point

LAYER_ID = "air"


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    by_id = {a.source_id: a for a in state.air}
    features = []
    for sid, src in state.sources.items():
        if src.kind != "air" or src.lon is None or src.lat is None:
            continue
        reading = by_id.get(sid)
        if reading is None or reading.aqi is None:
            props = {
                "status": "nodata",
                "color": NODATA_COLOR,
                "tooltip": f"{src.name}: {t('legend.air.nodata', lang)}",
            }
        else:
            b = band_for(reading.aqi)
            props = {
                "status": f"aqi{b.level}",
                "color": b.hex,
                "aqi": reading.aqi,
                "tooltip": t("tip.air", lang, name=src.name, aqi=reading.aqi, band=b.name(lang)),
            }
        features.append(point(src.lon, src.lat, {"layer": LAYER_ID, "radius": 11, **props}, sid))
    legend = Legend(
        t("layer.air", lang),
        tuple(LegendEntry(f"{b.lo}–{b.hi}: {b.name(lang)}", b.hex) for b in VN_BANDS)
        + (LegendEntry(t("legend.air.nodata", lang), NODATA_COLOR),),
    )
    return LayerData(feature_collection(features), legend)


LAYERS = (LayerSpec("air", "layer.air", build, order=50),)
