"""Simulation layers (lớp mô phỏng): scenario layers computed elsewhere, drawn apart from live data.

Every feature is hatched (``ioc/web/assets/20_warnings.css``) with a purple dashed outline, its
tooltip starts with "MÔ PHỎNG", and each layer carries a permanent "MÔ PHỎNG: <name>" label at its
centre (``ioc/web/assets/ioc_warnings.js``). The layer is drawn last, over the live layers, and has
its own legend. It draws the ``warnings.simulation`` part (:class:`ioc.warnings.SimulationView`).
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape

from ioc.i18n import Lang, fmt_datetime
from ioc.i18n.warnings_messages import tw
from ioc.state import CityState
from ioc.warnings import SimulationView
from layers.base import LayerData, LayerSpec, Legend, LegendEntry, feature_collection, point

PART = "warnings.simulation"
COLOR = "#7B1FA2"


def simulations(state: CityState) -> tuple[SimulationView, ...]:
    v = state.parts.get(PART)
    return tuple(x for x in v if isinstance(x, SimulationView)) if isinstance(v, tuple) else ()


def build(state: CityState, lang: Lang = "vi") -> LayerData:
    features: list[dict[str, Any]] = []
    entries = []
    for sim in simulations(state):
        when = fmt_datetime(sim.scenario_time, lang)
        tip = tw("w.sim.tip", lang, name=sim.name, time=when, author=sim.author)
        geoms = []
        for i, f in enumerate(sim.features.get("features", ())):
            geom = f.get("geometry")
            if not geom:
                continue
            geoms.append(shape(geom))
            if geom["type"] in ("Point", "MultiPoint"):
                coords = shapely.get_coordinates(geoms[-1])
                for j, (x, y) in enumerate(coords):
                    features.append(point(float(x), float(y), {"layer": "simulation", "status": "sim",
                                                               "color": COLOR, "radius": 6, "simulation": True,
                                                               "tooltip": tip}, f"sim-{sim.layer_id}-{i}-{j}"))  # fmt: skip
                continue
            features.append({"type": "Feature", "id": f"sim-{sim.layer_id}-{i}", "geometry": geom, "properties": {
                "layer": "simulation", "status": "sim", "color": COLOR, "line": COLOR, "weight": 2,
                "fill_opacity": 0.35, "simulation": True, "tooltip": tip}})  # fmt: skip
        if geoms:
            c = shapely.union_all(geoms).representative_point()
            label = f"{tw('w.sim.label', lang)}: {sim.name}"
            features.append(point(c.x, c.y, {"layer": "simulation", "status": "label", "color": COLOR, "radius": 3,
                                             "simulation": True, "label": label, "tooltip": label},
                                  f"sim-{sim.layer_id}-label"))  # fmt: skip
        entries.append(LegendEntry(tw("w.sim.entry", lang, name=sim.name, time=when, author=sim.author), COLOR))
    legend = Legend(tw("w.sim.legend", lang), tuple(entries) or (LegendEntry(tw("w.sim.legend", lang), COLOR),))
    return LayerData(feature_collection(features), legend)


LAYERS = (LayerSpec("simulation", "layer.simulation", build, order=95),)
