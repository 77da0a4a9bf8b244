"""The map's layers in display order (bottom first), discovered from the modules of ``layers/``.

Each layer module declares ``LAYERS = (LayerSpec(...), ...)``; adding a layer (for a new source) is
a new module here, never an edit of a shared list. ``order`` places it between the others.
"""

from __future__ import annotations

import importlib
import pkgutil

import layers
from ioc.i18n import Lang
from ioc.state import CityState
from layers.base import LayerData, LayerSpec

__all__ = ["LAYERS", "LAYER_IDS", "SHARED_LAYERS", "LayerSpec", "build_all", "layer"]


def _discover() -> tuple[LayerSpec, ...]:
    found: list[LayerSpec] = []
    for info in pkgutil.iter_modules(layers.__path__):
        if info.name in ("base", "registry") or info.name.startswith("_"):
            continue
        found.extend(getattr(importlib.import_module(f"layers.{info.name}"), "LAYERS", ()))
    ids = [s.layer_id for s in found]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise RuntimeError(f"layer ids declared twice: {dupes}")
    return tuple(sorted(found, key=lambda s: (s.order, s.layer_id)))


LAYERS: tuple[LayerSpec, ...] = _discover()
LAYER_IDS = tuple(spec.layer_id for spec in LAYERS)
SHARED_LAYERS: tuple[LayerSpec, ...] = tuple(s for s in LAYERS if s.shared)  # what every map viewer may see


def layer(layer_id: str) -> LayerSpec:
    """The declared layer ``layer_id``; KeyError names the known ones."""
    for spec in LAYERS:
        if spec.layer_id == layer_id:
            return spec
    raise KeyError(f"unknown layer {layer_id!r}; declared: {list(LAYER_IDS)}")


def build_all(state: CityState, lang: Lang) -> dict[str, LayerData]:
    return {spec.layer_id: spec.build(state, lang) for spec in LAYERS}
