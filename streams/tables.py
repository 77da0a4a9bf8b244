"""Where each event class is stored: table, columns and the row an event becomes (from its declaration).

Columns a source declares ``personal=True`` are encrypted here, for every source that declares them
(AES-GCM, :mod:`ioc.crypto`, bound to ``<table>.<column>``): the database never holds them in clear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ioc.crypto import Keyring, default_keyring
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
    personal: tuple[str, ...] = ()  # columns holding personal data: stored encrypted

    @property
    def all_columns(self) -> tuple[str, ...]:
        return COMMON + self.columns

    @property
    def all_types(self) -> tuple[str, ...]:
        return COMMON_TYPES + self.types

    def row(self, event: Event, *, late: bool, admin_unit: str | None, ring: Keyring | None = None) -> tuple[Any, ...]:
        values = self.values(event)
        if self.personal:
            values = self._encrypt(values, ring or default_keyring())
        return (event.event_id, event.source_id, event.event_time, late, admin_unit, event.schema_version, *values)

    def _encrypt(self, values: tuple[Any, ...], ring: Keyring) -> tuple[Any, ...]:
        out = list(values)
        for i, name in enumerate(self.columns):
            if name in self.personal and isinstance(out[i], str):
                out[i] = ring.encrypt(out[i], f"{self.table}.{name}")
        return tuple(out)


SPECS: dict[SourceKind, TableSpec] = {
    SourceKind(k): TableSpec(SourceKind(k), s.table, tuple(c.name for c in s.columns), tuple(c.type for c in s.columns),
                             s.row, s.personal_columns)
    for k, s in SOURCES.items()
}
