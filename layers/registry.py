"""The map's layers in display order (bottom first), with how the map page draws each one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ioc.i18n import Lang
from ioc.snapshot import CityState, Snapshot
from layers import air, alerts, boundaries, cameras, reports, traffic
from layers.base import LayerData


@dataclass(frozen=True, slots=True)
class LayerSpec:
    layer_id: str
    title_key: str  # message key of the layer's name
    build: Callable[[CityState, Lang], LayerData]
    cluster: bool = False  # markers grouped into clusters that show their count
    checked: bool = True  # visible when the page opens


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("boundaries", "layer.choropleth_reports", boundaries.build),
    LayerSpec("boundaries_aqi", "layer.choropleth_aqi", boundaries.build_aqi, checked=False),
    LayerSpec("reports_heat", "layer.reports_heat", reports.build_heat, checked=False),
    LayerSpec("traffic", "layer.traffic", traffic.build),
    LayerSpec("air", "layer.air", air.build),
    LayerSpec("cameras", "layer.cameras", cameras.build),
    LayerSpec("reports", "layer.reports", reports.build, cluster=True),
    LayerSpec("alerts", "layer.alerts", alerts.build, cluster=True),
)
LAYER_IDS = tuple(spec.layer_id for spec in LAYERS)


def build_all(state: CityState, lang: Lang) -> dict[str, LayerData]:
    return {spec.layer_id: spec.build(state, lang) for spec in LAYERS}


@dataclass(frozen=True, slots=True)
class Rendered:
    data: LayerData
    digest: str  # of the features' JSON: a browser that has this digest needs no resend


@lru_cache(maxsize=64)
def payload(snap: Snapshot, hours_ago: int, lang: Lang) -> dict[str, Rendered]:
    """Every layer for one snapshot, slider step and language — built once, shared by all viewers.

    Snapshots hash by identity and are immutable, so a cached entry can never go stale.
    """
    out = {}
    for layer_id, data in build_all(snap.at(hours_ago), lang).items():
        text = json.dumps(data.features, separators=(",", ":"), ensure_ascii=False).encode()
        out[layer_id] = Rendered(data, hashlib.blake2b(text, digest_size=8).hexdigest())
    return out
