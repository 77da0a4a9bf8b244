"""The map's layers in display order (bottom first), with how the map page draws each one."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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
    body: bytes  # the features as UTF-8 JSON, serialised once
    digest: str  # of ``body``: content address, so a browser that holds it needs no resend
    style_digest: str | None = None  # of ``data.styles`` (choropleths)

    def hideout(self, layer_id: str) -> dict[str, Any]:
        """What the map's style functions read: the layer id and the per-unit styles."""
        return {"layer": layer_id, "styles": self.data.styles}

    @property
    def url(self) -> str:
        return f"{LAYER_URL_PREFIX}{self.digest}.json"


LAYER_URL_PREFIX = "/layers/"


class BlobStore:
    """Serialised layers by digest, for the ``/layers/<digest>.json`` route (bounded, thread-safe).

    Content-addressed: an entry never changes, so it is only a cache, never shared state.
    """

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, digest: str, body: bytes) -> None:
        with self._lock:
            self._items[digest] = body
            self._items.move_to_end(digest)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, digest: str) -> bytes | None:
        with self._lock:
            return self._items.get(digest)


BLOBS = BlobStore()


@lru_cache(maxsize=64)
def payload(snap: Snapshot, hours_ago: int, lang: Lang) -> dict[str, Rendered]:
    """Every layer for one snapshot, slider step and language — built and serialised once, shared by
    all viewers. Snapshots hash by identity and are immutable, so a cached entry never goes stale."""
    out = {}
    for layer_id, data in build_all(snap.at(hours_ago), lang).items():
        body = json.dumps(data.features, separators=(",", ":"), ensure_ascii=False).encode()
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        BLOBS.put(digest, body)
        style_digest = None
        if data.styles is not None:
            styles = json.dumps(data.styles, sort_keys=True, ensure_ascii=False).encode()
            style_digest = hashlib.blake2b(styles, digest_size=12).hexdigest()
        out[layer_id] = Rendered(data, body, digest, style_digest)
    return out
