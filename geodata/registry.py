"""Register the site registry (geodata/sites) in the ``sources`` table the consumers validate against."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import psycopg
import shapely.geometry
from psycopg.types.json import Jsonb

from geodata.sites import Site

UnitAt = Callable[[float, float], str | None]


def sync_sources(conn: psycopg.Connection, sites: Iterable[Site], unit_at: UnitAt | None = None) -> int:
    """Upsert every site (id, kind, name, position, admin unit, geometry, properties); return the count."""
    rows = []
    for s in sites:
        # A registry entry that names its unit wins (police units, budget lines have no place of their own).
        unit = s.properties.get("admin_unit") or (unit_at(s.lon, s.lat) if unit_at else None)
        unit = unit or s.properties.get("district")
        rows.append((s.source_id, s.kind.value, s.name, s.lon, s.lat, unit,
                     Jsonb(shapely.geometry.mapping(s.geometry)), Jsonb(dict(s.properties))))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO sources (source_id, kind, name, lon, lat, admin_unit, geometry, properties)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (source_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, lon = EXCLUDED.lon,"
            " lat = EXCLUDED.lat, admin_unit = EXCLUDED.admin_unit, geometry = EXCLUDED.geometry,"
            " properties = EXCLUDED.properties",
            rows,
        )
    conn.commit()
    return len(rows)
