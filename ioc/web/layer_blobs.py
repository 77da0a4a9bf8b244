"""Layers serialised once per snapshot and served by content digest (``/layers/<digest>.json``).

Built for every viewer from the shared snapshot: one build and one serialisation per snapshot,
slider step and language, whatever the number of browsers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ioc.i18n import Lang
from ioc.web.snapshot import Snapshot
from layers.base import LayerData
from layers.registry import build_all


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
