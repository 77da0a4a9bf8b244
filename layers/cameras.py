"""Cameras: online, offline, incident detected (a confident detection), or no data yet."""

from __future__ import annotations

from ioc.i18n import Lang, t
from ioc.state import CameraStatus, CityState
from layers.base import NODATA_COLOR, LayerData, LayerSpec, Legend, LegendEntry, feature_collection, point

LAYER_ID = "cameras"
COLORS: dict[CameraStatus, str] = {
    "online": "#2CA02C",
    "offline": "#5A5A5A",
    "incident": "#D62728",
    "nodata": NODATA_COLOR,
}


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    features = []
    for cam in state.cameras:
        src = state.sources.get(cam.source_id)
        if src is None or src.lon is None or src.lat is None:
            continue
        status_text = t(f"legend.camera.{cam.status}", lang)
        features.append(
            point(
                src.lon,
                src.lat,
                {
                    "layer": LAYER_ID,
                    "status": cam.status,
                    "color": COLORS[cam.status],
                    "radius": 7 if cam.status != "incident" else 10,
                    "tooltip": t("tip.camera", lang, name=src.name, status=status_text),
                },
                cam.source_id,
            )
        )
    legend = Legend(
        t("layer.cameras", lang),
        tuple(LegendEntry(t(f"legend.camera.{s}", lang), c) for s, c in COLORS.items()),
    )
    return LayerData(feature_collection(features), legend)


LAYERS = (LayerSpec("cameras", "layer.cameras", build, order=60),)
