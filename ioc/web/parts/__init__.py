"""Extra read models the snapshot refresher builds each tick, declared by the desks that need them.

A module here declares ``PARTS = (SnapshotPart(...), ...)``: a name, a reader that runs a fixed
number of statements on the refresher's connection, and how often it runs. The refresher runs every
part once per tick (or every ``every`` ticks) for all viewers, so adding a cockpit panel never adds
a query per viewer; pages read ``snapshot.part(name)``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class SnapshotPart:
    name: str
    read: Callable[[psycopg.Connection, datetime], Any]  # (connection, asof) -> an immutable value
    queries: int = 1  # statements one read runs (the refresher's query count stays exact)
    every: int = 1  # run on ticks where tick % every == 0
    default: Any = None  # before the first read, or when its tables do not exist yet


def _discover() -> tuple[SnapshotPart, ...]:
    found: list[SnapshotPart] = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            found.extend(getattr(importlib.import_module(f"{__name__}.{info.name}"), "PARTS", ()))
    names = [p.name for p in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"snapshot parts declared twice: {sorted(n for n in names if names.count(n) > 1)}")
    return tuple(sorted(found, key=lambda p: p.name))


PARTS: tuple[SnapshotPart, ...] = _discover()


def queries_on_tick(tick: int) -> int:
    """Statements the parts run on ``tick`` (the same whatever the number of viewers)."""
    return sum(p.queries for p in PARTS if tick % p.every == 0)
