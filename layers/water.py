"""The flood layers: water-level gauges coloured against their alarm levels, rain gauges by the
Vietnamese 24-hour classes, and flooded or flood-prone areas (drawn or imported by operators, with
depth and time) with the flooded-street signals (citizen reports, camera detections).

They draw the ``warnings.floods`` snapshot part (:class:`ioc.warnings.FloodView`) from
``CityState.parts``; without it (before the first refresh) the gauges show "no data".
"""

from __future__ import annotations

from typing import Any

from ioc.i18n import Lang, fmt_number, fmt_time
from ioc.i18n.warnings_messages import tw
from ioc.state import CityState
from ioc.warnings import EMPTY_FLOODS, FloodView
from layers.base import NODATA_COLOR, LayerData, LayerSpec, Legend, LegendEntry, feature_collection, point

PART = "warnings.floods"
LEVEL_COLORS = {"low": "#4575B4", "near": "#FEE090", "bd1": "#FC8D59", "bd2": "#D73027", "bd3": "#7F0000",
                "nodata": NODATA_COLOR}  # fmt: skip
RAIN_COLORS = {"none": "#F7FBFF", "light": "#C6DBEF", "moderate": "#6BAED6", "heavy": "#2171B5",
               "very_heavy": "#08306B"}  # fmt: skip
AREA_COLORS = {"shallow": "#9ECAE1", "medium": "#4292C6", "deep": "#08519C", "prone": "#B15928"}
SIGNAL_COLORS = {"report": "#17BECF", "camera": "#1F3A93"}
NEAR_M = 0.3


def floods(state: CityState) -> FloodView:
    view = state.parts.get(PART)
    return view if isinstance(view, FloodView) else EMPTY_FLOODS


def level_class(level: float | None, alarms: dict[str, float]) -> str:
    """low / near / bd1 / bd2 / bd3 (nodata without a reading or alarm levels)."""
    if level is None or "BD1" not in alarms:
        return "nodata"
    for name, key in (("bd3", "BD3"), ("bd2", "BD2"), ("bd1", "BD1")):
        if key in alarms and level >= alarms[key]:
            return name
    return "near" if level >= alarms["BD1"] - NEAR_M else "low"


def rain_class(mm_24h: float | None, classes: dict[str, float]) -> str:
    if not mm_24h:
        return "none"
    for name in ("very_heavy", "heavy", "moderate"):
        if name in classes and mm_24h >= classes[name]:
            return name
    return "light"


def build_levels(state: CityState, lang: Lang = "vi") -> LayerData:
    view = floods(state)
    features = []
    for sid, src in state.sources.items():
        if src.kind != "water" or src.lon is None or src.lat is None:
            continue
        alarms = {k: float(v) for k, v in (src.properties.get("alarm_levels_m") or {}).items()}
        g = view.level(sid)
        latest = g.latest if g else None
        cls = level_class(latest.level_m if latest else None, alarms)
        bd = [fmt_number(alarms.get(k), lang, 2) for k in ("BD1", "BD2", "BD3")]
        tip = (tw("w.fl.tip.level", lang, name=src.name, level=fmt_number(latest.level_m, lang, 2), bd1=bd[0],
                  bd2=bd[1], bd3=bd[2], time=fmt_time(latest.at, lang))
               if latest else tw("w.fl.tip.nolevel", lang, name=src.name))  # fmt: skip
        props: dict[str, Any] = {"layer": "water", "status": cls, "color": LEVEL_COLORS[cls],
                                 "radius": 12 if cls.startswith("bd") else 9, "tooltip": tip}  # fmt: skip
        if latest:
            props["level_m"] = round(latest.level_m, 3)
        features.append(point(src.lon, src.lat, props, sid))
    legend = Legend(tw("w.fl.legend.level", lang),
                    tuple(LegendEntry(tw(f"w.fl.level.{k}", lang), c) for k, c in LEVEL_COLORS.items()))  # fmt: skip
    return LayerData(feature_collection(features), legend)


def build_rain(state: CityState, lang: Lang = "vi") -> LayerData:
    view = floods(state)
    features = []
    for sid, src in state.sources.items():
        if src.kind != "rain" or src.lon is None or src.lat is None:
            continue
        r = view.rain_at(sid)
        classes = {k: float(v) for k, v in (src.properties.get("classes_mm_24h") or {}).items()}
        cls = rain_class(r.mm_24h if r else None, classes) if r else "none"
        tip = tw("w.fl.tip.rain", lang, name=src.name, h1=fmt_number(r.mm_1h if r else 0, lang, 1),
                 h24=fmt_number(r.mm_24h if r else 0, lang, 1))  # fmt: skip
        features.append(point(src.lon, src.lat, {"layer": "rain", "status": cls if r else "nodata",
                                                 "color": RAIN_COLORS[cls] if r else NODATA_COLOR, "radius": 8,
                                                 "outline": "#08306B", "tooltip": tip}, sid))  # fmt: skip
    legend = Legend(tw("w.fl.legend.rain", lang),
                    tuple(LegendEntry(tw(f"w.fl.rain.{k}", lang), c) for k, c in RAIN_COLORS.items()))  # fmt: skip
    return LayerData(feature_collection(features), legend)


def depth_class(depth_cm: float | None) -> str:
    if depth_cm is None or depth_cm < 20:
        return "shallow"
    return "medium" if depth_cm <= 50 else "deep"


def build_areas(state: CityState, lang: Lang = "vi") -> LayerData:
    view = floods(state)
    features: list[dict[str, Any]] = []
    for a in view.areas:
        cls = "prone" if a.prone else depth_class(a.depth_cm)
        tip = (tw("w.fl.tip.prone", lang, name=a.name, author=a.author) if a.prone else
               tw("w.fl.tip.area", lang, name=a.name, depth=fmt_number(a.depth_cm, lang), time=fmt_time(a.observed_at, lang),
                  author=a.author))  # fmt: skip
        features.append({"type": "Feature", "id": a.area_id, "geometry": dict(a.geometry), "properties": {
            "layer": "flood_areas", "status": cls, "color": AREA_COLORS[cls], "line": AREA_COLORS[cls],
            "weight": 2, "fill_opacity": 0.15 if a.prone else 0.45, "tooltip": tip}})  # fmt: skip
    for s in view.signals:
        what = tw(f"w.fl.signal.{s.origin}", lang)
        features.append(point(s.lon, s.lat, {"layer": "flood_areas", "status": s.origin,
                                             "color": SIGNAL_COLORS.get(s.origin, "#17BECF"), "radius": 6,
                                             "tooltip": tw("w.fl.tip.signal", lang, what=what, time=fmt_time(s.at, lang))},
                              f"{s.origin}-{s.ref}"))  # fmt: skip
    entries = [LegendEntry(tw(f"w.fl.area.{k}", lang), c) for k, c in AREA_COLORS.items()]
    entries += [LegendEntry(tw(f"w.fl.signal.{k}", lang), c) for k, c in SIGNAL_COLORS.items()]
    return LayerData(feature_collection(features), Legend(tw("w.fl.legend.areas", lang), tuple(entries)))


LAYERS = (
    LayerSpec("flood_areas", "layer.flood_areas", build_areas, order=25),
    LayerSpec("water", "layer.water", build_levels, order=55),
    LayerSpec("rain", "layer.rain", build_rain, order=56, checked=False),
)
