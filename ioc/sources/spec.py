"""What a source declaration says: its event class, topic, table, rollup, storage and ownership.

A :class:`SourceSpec` is the one place a live source is described. The consumers (table and row),
the migrations (table, indexes, hypertable, rollup, retention), the topics, the launcher (one
consumer per source), the site registry and the snapshot read it; nothing else lists sources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Literal

from ioc.events import BaseEvent

# PostgreSQL types the sink can COPY in binary, with their DDL spelling.
PG_TYPES: dict[str, str] = {
    "bool": "boolean", "int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
    "float8": "double precision", "numeric": "numeric", "text": "text", "text[]": "text[]", "jsonb": "jsonb",
    "uuid": "uuid", "date": "date", "timestamptz": "timestamptz",
}


class DataClass(StrEnum):
    """How sensitive a source's data is (drives masking, exports and the security dossier)."""

    PUBLIC = "public"  # may be published as open data
    INTERNAL = "internal"  # city staff only
    PERSONAL = "personal"  # holds citizens' personal data (Decree 13/2023/NĐ-CP)
    RESTRICTED = "restricted"  # named roles only (budget, public order)


@dataclass(frozen=True, slots=True)
class Column:
    """One kind-specific column: name, binary-COPY type, nullability, whether it is personal data."""

    name: str
    type: str
    nullable: bool = True
    default: str | None = None  # SQL literal, e.g. "'[]'::jsonb"
    personal: bool = False

    def __post_init__(self) -> None:
        if self.type not in PG_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}; known: {sorted(PG_TYPES)}")

    @property
    def ddl(self) -> str:
        null = "" if self.nullable else " NOT NULL"
        default = f" DEFAULT {self.default}" if self.default else ""
        return f"{self.name} {PG_TYPES[self.type]}{null}{default}"


@dataclass(frozen=True, slots=True)
class Rollup:
    """A time-bucketed aggregate view (a continuous aggregate on TimescaleDB, a view otherwise).

    Its columns are ``bucket``, the ``group_by`` columns, ``n`` (events) and ``aggregates``.
    ``origin`` fixes where buckets start: UTC for minutes, local midnight (+07) for days.
    """

    name: str
    bucket: str  # an interval, e.g. "1 minute" or "1 day"
    aggregates: tuple[tuple[str, str], ...]  # (column, SQL aggregate over the raw table)
    group_by: tuple[str, ...] = ("source_id",)
    origin: str = "2000-01-01 00:00:00+00"
    refresh_window: str = "1 day"  # how far back the TimescaleDB policy re-materialises


@dataclass(frozen=True, slots=True)
class Storage:
    """Chunking, compression and retention (TimescaleDB); ``retain=None`` keeps rows for good."""

    chunk: str = "1 day"
    compress_after: str | None = "7 days"
    retain: str | None = "90 days"


@dataclass(frozen=True, slots=True)
class Freshness:
    """How old a source's newest event may be before the screens call it late (amber) or silent (red)."""

    late_after: timedelta
    silent_after: timedelta


@dataclass(frozen=True)
class SourceSpec:
    """One live source, declared once (see ``ioc/sources/__init__.py`` for the recipe)."""

    kind: str  # lower-case id: the topic suffix, the consumer group, the ingest counter
    order: int  # display and start order
    name_vi: str
    name_en: str
    event: type[BaseEvent]
    table: str
    columns: tuple[Column, ...]
    row: Callable[[Any], tuple[Any, ...]]  # event -> values of ``columns``, in order
    example: Callable[[], BaseEvent]  # a valid event (decoder, sink and docs tests use it)
    owner: str  # key in alerts/agencies.yaml of the agency that owns the data
    data_class: DataClass
    freshness: Freshness
    storage: Storage = field(default_factory=Storage)
    rollup: Rollup | None = None
    layer: str | None = None  # id of its map layer in layers/
    rules: tuple[str, ...] = ()  # ids of its default rules in alerts/rules.yaml
    site_file: str | None = None  # registry of its source ids in geodata/sites/
    admin_unit: Literal["site", "position", "field"] = "site"  # where an event's admin unit comes from
    indexes: tuple[tuple[str, str], ...] = ()  # extra (index name, column list) pairs

    def name(self, lang: str = "vi") -> str:
        """The source's name in ``lang`` (Vietnamese unless English is asked for)."""
        return self.name_en if lang == "en" else self.name_vi

    @property
    def topic(self) -> str:
        return f"ioc.{self.kind}"

    @property
    def personal_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.personal)
