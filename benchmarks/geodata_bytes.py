"""Bytes a browser receives per zoom band: boundaries and base-map layers, raw and gzip.

Compact JSON as served (UTF-8, no spaces); gzip level 6 as web servers use. Also prints vertex and
feature counts, and the seconds to build each boundary band once (the result is cached per set).

    .venv/bin/python benchmarks/geodata_bytes.py [--date 2025-08-01]
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from geodata.bands import BANDS, payload_bytes, vertex_count
from geodata.basemap import LAYERS, basemap_layer, landmarks_geojson
from geodata.boundaries import boundaries_geojson, boundary_set_for, load_boundary_sets

TARGET_CITY_GZIP = 300_000  # the whole city-view band, gzip
TARGET_FULL_RAW = 1_500_000  # the street band of the base map (sea + water + roads), raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2025, 8, 1),
                        help="boundary set in force on this date (default 2025-08-01)")  # fmt: skip
    args = parser.parse_args()
    bs = boundary_set_for(args.date, load_boundary_sets())
    print(f"boundary set: {bs.id} ({'approximate' if bs.approximate else 'real'}), {len(bs.leaves())} units")
    print(f"{'band':<9} {'layer':<11} {'features':>8} {'vertices':>9} {'raw bytes':>11} {'gzip bytes':>11}")
    for band in BANDS:
        t0 = time.perf_counter()
        docs = {"boundaries": boundaries_geojson(bs, band)}
        built = time.perf_counter() - t0
        docs.update({layer: basemap_layer(layer, band) for layer in ("sea", "water", "roads")})
        docs["landmarks"] = landmarks_geojson(band, bs)
        total_raw = total_gz = base_raw = 0
        for layer in LAYERS:
            raw, gz = payload_bytes(docs[layer])
            total_raw, total_gz = total_raw + raw, total_gz + gz
            base_raw += raw if layer in ("sea", "water", "roads") else 0
            print(f"{band.name:<9} {layer:<11} {len(docs[layer]['features']):>8} {vertex_count(docs[layer]):>9}"
                  f" {raw:>11,} {gz:>11,}")  # fmt: skip
        print(f"{band.name:<9} {'TOTAL':<11} {'':>8} {'':>9} {total_raw:>11,} {total_gz:>11,}"
              f"   (z{band.min_zoom}-{band.max_zoom}; boundaries built in {built:.2f} s)")  # fmt: skip
        if band.name == "city":
            print(f"{'':<9} city band gzip {total_gz:,} vs target < {TARGET_CITY_GZIP:,}: "
                  f"{'OK' if total_gz < TARGET_CITY_GZIP else 'OVER'}")  # fmt: skip
        if band.name == BANDS[-1].name:
            print(f"{'':<9} street base map raw (sea+water+roads) {base_raw:,} vs target < {TARGET_FULL_RAW:,}: "
                  f"{'OK' if base_raw < TARGET_FULL_RAW else 'OVER'}")  # fmt: skip


if __name__ == "__main__":
    main()
