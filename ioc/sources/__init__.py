"""Every live source, declared once: ``ioc/sources/<kind>.py`` holds its event class and ``SOURCE``.

Adding a source kind (recipe, also in the README):

1. write ``ioc/sources/<kind>.py`` with the event class (extending :class:`ioc.events.BaseEvent`)
   and ``SOURCE = SourceSpec(...)``: table columns and row, rollup, storage, owner, data class,
   freshness, its map layer id, its default rule ids and its site registry file;
2. add its own modules: the layer (``layers/<kind>.py``), its rules, its simulator, its registry file.

Nothing else changes: the registry below discovers the module; the topic, the consumer group, the
table, indexes, hypertable, rollup and retention (``ioc.sources.ddl``, run by ``ioc.db.migrate``),
the launcher's consumer and the ingest counters all follow from the declaration.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

__all__ = [
    "EVENT_CLASSES", "SOURCES", "Column", "DataClass", "Freshness", "Rollup", "SourceKind", "SourceSpec",
    "Storage", "source", "source_name",
]

_NOT_SOURCES = frozenset({"spec", "ddl"})


def _discover() -> dict[str, SourceSpec]:
    found: dict[str, SourceSpec] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _NOT_SOURCES or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "SOURCE", None)
        if not isinstance(spec, SourceSpec):
            raise RuntimeError(f"{module.__name__} declares no SOURCE = SourceSpec(...)")
        if spec.kind != info.name or spec.event.kind != spec.kind:
            raise RuntimeError(f"{module.__name__}: kind {spec.kind!r} must equal the module and event kind")
        if spec.kind in found:
            raise RuntimeError(f"source kind {spec.kind!r} declared twice")
        found[spec.kind] = spec
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


SOURCES: Mapping[str, SourceSpec] = MappingProxyType(_discover())

#: The declared kinds as an enum (``SourceKind.CAMERA == "camera"``), in declaration order.
SourceKind = StrEnum("SourceKind", {kind.upper(): kind for kind in SOURCES})  # type: ignore[misc]
SourceKind.__doc__ = "The declared source kinds (built from ioc/sources/*.py)."
for _spec in SOURCES.values():
    _spec.event.kind = SourceKind(_spec.kind)  # events answer ``e.kind is SourceKind.X``

EVENT_CLASSES: Mapping[SourceKind, type[BaseEvent]] = MappingProxyType(
    {SourceKind(k): s.event for k, s in SOURCES.items()})


def source_name(kind: str, lang: str = "vi") -> str:
    """A declared source's name in ``lang``; an unknown kind is shown as it is."""
    spec = SOURCES.get(str(kind))
    return str(kind) if spec is None else spec.name(lang)


def source(kind: str) -> SourceSpec:
    """The declaration of ``kind``; KeyError names the declared kinds."""
    try:
        return SOURCES[str(kind)]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; declared: {list(SOURCES)}") from None
