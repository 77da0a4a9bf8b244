"""Where each event class is stored: table, columns and the row an event becomes (from its declaration)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ioc.events import Event
from ioc.sources import SOURCES, SourceKind

COMMON = ("event_id", "source_id", "event_time", "late", "admin_unit", "schema_version")
COMMON_TYPES = ("uuid", "text", "timestamptz", "bool", "text", "int2")


@dataclass(frozen=True)
class TableSpec:
    kind: SourceKind
    table: str
    columns: tuple[str, ...]  # kind-specific columns, after COMMON
    types: tuple[str, ...]  # their PostgreSQL types, for binary COPY
    values: Callable[[Any], tuple[Any, ...]]

    @property
    def all_columns(self) -> tuple[str, ...]:
        return COMMON + self.columns

    @property
    def all_types(self) -> tuple[str, ...]:
        return COMMON_TYPES + self.types

    def row(self, event: Event, *, late: bool, admin_unit: str | None) -> tuple[Any, ...]:
        return (event.event_id, event.source_id, event.event_time, late, admin_unit, event.schema_version,
                *self.values(event))


SPECS: dict[SourceKind, TableSpec] = {
    SourceKind(k): TableSpec(SourceKind(k), s.table, tuple(c.name for c in s.columns), tuple(c.type for c in s.columns),
                             s.row)
    for k, s in SOURCES.items()
}
