"""Open alerts as markers (clustered on the map; a cluster shows how many alerts it holds)."""

from __future__ import annotations

from ioc.i18n import Lang, t
from ioc.state import CityState
from layers.base import LayerData, LayerSpec, Legend, LegendEntry, feature_collection, point
from layers.severity import SEVERITY_LEVELS, SEVERITY_STYLES

LAYER_ID = "alerts"
SEVERITY_COLORS = {s: SEVERITY_STYLES[s].background for s in SEVERITY_LEVELS}  # the one palette (layers.severity)


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    """Alerts with a position (their own, else their source's); unknown severities draw as moderate."""
    features = []
    for a in state.alerts:
        lon, lat = a.lon, a.lat
        if (lon is None or lat is None) and a.source_id in state.sources:
            src = state.sources[a.source_id]
            lon, lat = src.lon, src.lat
        if lon is None or lat is None:
            continue
        sev = a.severity if a.severity in SEVERITY_COLORS else "moderate"
        features.append(
            point(
                lon,
                lat,
                {
                    "layer": LAYER_ID,
                    "status": sev,
                    "color": SEVERITY_COLORS[sev],
                    "radius": 11,
                    "outline": "#111111",
                    "acknowledged": a.acknowledged,
                    "tooltip": t("tip.alert", lang, title=a.title(lang), severity=t(f"severity.{sev}", lang)),
                },
                a.alert_id,
            )
        )
    legend = Legend(
        t("layer.alerts", lang),
        tuple(LegendEntry(t(f"severity.{s}", lang), c) for s, c in SEVERITY_COLORS.items()),
    )
    return LayerData(feature_collection(features), legend)


LAYERS = (LayerSpec("alerts", "layer.alerts", build, order=80, cluster=True),)
