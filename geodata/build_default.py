"""Build the boundary sets bundled in ``geodata/data/boundary_sets/`` from the shared MIT files.

* ``haiphong-2025-communes``: the real polygons of the 114 units of the merged city in force from
  2025-07-01 (45 phường, 67 xã, 2 đặc khu), from ``haiphong_2025_communes.geojson`` (Vietnamese
  Provinces Database by Thang Le Quoc, MIT, derived from sapnhap.bando.com.vn), with each unit's
  pre-2025 communes and districts (``merged_from``, ``old_districts``, dvhcvn/20250701, MIT) and
  the city (their union). Geometry is copied as published (6 decimals), not repaired: the source
  has one internal gap (0.056 km²) and 0.001 km² of overlap, which assignment and display handle.
* ``haiphong-pre2025-approx``: an APPROXIMATE pre-2025 map (15 districts of Hải Phòng + 12 of
  Hải Dương, and the two provinces) used only when the real GPL district polygons are absent from
  the shared folder: each district is the union of the 2025 units formed mainly from its communes,
  so its borders are 2025 unit borders (a unit formed from two districts goes wholly to one).

District codes and province codes come from ``haiphong_2025_wards_from_old.csv`` (dvhcvn, MIT);
the 114 unit codes are checked against ``haiphong_2025_merges_subset.json``. Deterministic:
``python -m geodata.build_default [--source-dir DIR] [--out DIR] [--check]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geodata import attribution
from geodata.bands import simplify_coverage
from geodata.boundaries import (
    DEFAULT_SETS_DIR,
    POST2025_ID,
    REFORM_DATE,
    AdminUnit,
    BoundarySet,
    dumps_boundary_set,
    save_boundary_set,
)
from geodata.validate import BoundaryValidationError, feature_label, validate_features
from ioc.settings import Settings

CITY_CODE = "31"
COMMUNES_NAME = "haiphong_2025_communes.geojson"
CSV_NAME = "haiphong_2025_wards_from_old.csv"
MERGES_NAME = "haiphong_2025_merges_subset.json"
PRE_ID = "haiphong-pre2025-approx"
DECIMALS = 6  # as published (~0.1 m)
PRE_TOLERANCE = 0.00005  # coverage simplification of the approximate districts (degrees, ≈ 5 m)
KINDS = {"phuong": "Phường", "xa": "Xã", "dac_khu": "Đặc khu"}
DISTRICT_KINDS = ("Quận", "Huyện", "Thành phố", "Thị xã")
PROVINCES = {"31": ("Hải Phòng", "Thành phố"), "30": ("Hải Dương", "Tỉnh")}
PROVINCE_CODES = {f"{kind} {name}": code for code, (name, kind) in PROVINCES.items()}
SOURCE_2025 = (
    "thanglequoc/vietnamese-provinces-database @ cd58063299585146ded3981f2272946ef19ced54 "
    "(json/geojson/31_hai_phong/wards), a GeoJSON export of sapnhap.bando.com.vn; merged_from: "
    "dvhcvn/20250701 mapping/merges.json @ dd94887c. Built by geodata/build_default.py."
)
LICENCE_2025 = (
    "MIT (Copyright (c) 2021 Thang Le Quoc; merge table Copyright (c) 2025 dvhcvn) — see "
    "geodata/data/boundary_sets/NOTICE"
)
SOURCE_PRE = (
    "APPROXIMATE: each district = union of the 2025 units (real polygons, MIT) formed mainly from its "
    "communes per dvhcvn/20250701 (MIT); borders are 2025 unit borders. Built by geodata/build_default.py; "
    "the real pre-2025 district polygons (GPL-3.0) are used instead when shared/data is present."
)
HOW_DISTRICT = "approximate: union of the 2025 units formed mainly from this district's communes"
HOW_PROVINCE = "approximate: union of its approximate districts"
# Properties copied from the source file (the rest — source_file, province — is implied by the set).
KEEP = ("full_name", "type", "name_en", "full_name_en", "area_km2_source", "source_gis_id")


def read_units(source_dir: Path) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """The 114 features of the MIT communes file, checked (the error names the bad feature), and the
    pre-2025 districts as ``full name → (code, province code)`` from the dvhcvn table."""
    path = source_dir / COMMUNES_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BoundaryValidationError(f"{path}: cannot read ({exc})") from None
    validate_features(doc, source=str(path), default_level="commune")  # geometry, CRS, codes, names
    districts = read_districts(source_dir / CSV_NAME)
    for i, f in enumerate(doc["features"]):
        _check_unit(i, f["properties"], districts, str(path))
        for m in f["properties"]["merged_from"]:  # the table leaves Bạch Long Vĩ's province blank
            key = split_district(_old_district(m))[0]
            code, province = districts[key]
            named = PROVINCE_CODES.get(m.get("old_province", ""))
            if named is None or province not in ("", named):
                raise BoundaryValidationError(
                    f"{path}: {feature_label(i, f['properties'])}: old province {m.get('old_province')!r} "
                    f"of {key!r} disagrees with {CSV_NAME} ({province!r})"
                )
            districts[key] = (code, named)
    codes = {f["properties"]["code"]: f["properties"]["full_name"] for f in doc["features"]}
    merges_path = source_dir / MERGES_NAME
    if merges_path.is_file():
        merges = json.loads(merges_path.read_text(encoding="utf-8"))
        expected = {m["level2_id"]: m["name"] for m in merges["level2s"]}
        # Same codes; same names up to tone-mark placement (Hoà/Hòa, Thuỷ/Thủy).
        if {c: _bare(n) for c, n in codes.items()} != {c: _bare(n) for c, n in expected.items()}:
            diff = sorted(
                {(c, _bare(n)) for c, n in codes.items()} ^ {(c, _bare(n)) for c, n in expected.items()}
            )
            raise BoundaryValidationError(f"{path}: codes/names differ from {MERGES_NAME}: {diff[:6]}")
    return doc["features"], districts


def _bare(name: str) -> str:
    """Name without tone marks, to compare spellings that place them differently."""
    return "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn")


def read_districts(path: Path) -> dict[str, tuple[str, str]]:
    """``{"Hồng Bàng": ("303", "31"), …, "Bạch Long Vĩ": ("318", "31")}``, keyed by the bare name:
    the table gives the 2019 unit types (Huyện Thuỷ Nguyên), the communes file those in force in
    the first half of 2025 (Thành phố Thuỷ Nguyên, Quận An Dương)."""
    out: dict[str, tuple[str, str]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["old_district_id"]:
                name, code = row["old_district_name"], row["old_district_id"]
            else:  # Bạch Long Vĩ: a district without communes, listed as its own "ward"
                name, code = row["old_ward_name"], row["old_ward_id"]
            key = split_district(name)[0]
            if out.setdefault(key, (code, row["old_province_id"])) != (code, row["old_province_id"]):
                raise BoundaryValidationError(f"{path}: district {name!r} has two codes")
    return out


def split_district(full_name: str) -> tuple[str, str]:
    """'Thị xã Kinh Môn' → ('Kinh Môn', 'Thị xã')."""
    for kind in DISTRICT_KINDS:
        if full_name.startswith(kind + " "):
            return full_name[len(kind) + 1 :], kind
    raise ValueError(f"district name {full_name!r} has no known type prefix ({', '.join(DISTRICT_KINDS)})")


def _check_unit(i: int, p: dict[str, Any], districts: dict[str, tuple[str, str]], source: str) -> None:
    where = f"{source}: {feature_label(i, p)}"
    if not re.fullmatch(r"\d{5}", str(p.get("code", ""))):
        raise BoundaryValidationError(f"{where}: code must be a 5-digit GSO commune code")
    if p.get("type") not in KINDS:
        raise BoundaryValidationError(f"{where}: type {p.get('type')!r} not one of {sorted(KINDS)}")
    if p.get("full_name") != f"{KINDS[p['type']]} {p['name']}":
        raise BoundaryValidationError(f"{where}: full_name {p.get('full_name')!r} != type + name")
    merged = p.get("merged_from")
    if not isinstance(merged, list) or not merged:
        raise BoundaryValidationError(f"{where}: merged_from must be a non-empty list")
    for m in merged:
        if not isinstance(m, dict) or m.get("share") not in ("full", "partial") or not m.get("old_code"):
            raise BoundaryValidationError(f"{where}: bad merged_from entry {m!r}")
        district = _old_district(m)
        if split_district(district)[0] not in districts:
            raise BoundaryValidationError(f"{where}: old district {district!r} not in {CSV_NAME}")
    if sorted(set(p.get("old_districts") or ())) != sorted({_old_district(m) for m in merged}):
        raise BoundaryValidationError(f"{where}: old_districts disagree with merged_from")


def _old_district(m: dict[str, Any]) -> str:
    return m.get("old_district") or m["old_name"]  # Bạch Long Vĩ had no commune level


def main_district(p: dict[str, Any], districts: dict[str, tuple[str, str]]) -> str:
    """The full name of the old district a 2025 unit was mainly formed from: most old communes (a
    whole commune counts 2, a part 1); ties go to the lowest district code."""
    weight: Counter[str] = Counter()
    for m in p["merged_from"]:
        weight[_old_district(m)] += 2 if m["share"] == "full" else 1
    return min(weight, key=lambda d: (-weight[d], districts[split_district(d)[0]][0]))


def _code(districts: dict[str, tuple[str, str]], full_name: str) -> str:
    return districts[split_district(full_name)[0]][0]


def _snap(geom: BaseGeometry) -> BaseGeometry:
    return shapely.set_precision(geom, 10.0**-DECIMALS)


def build_sets(
    features: list[dict[str, Any]], districts: dict[str, tuple[str, str]]
) -> tuple[BoundarySet, BoundarySet]:
    """The bundled 2025 set (city → 114 units) and the approximate pre-2025 set (2 provinces → 27
    districts)."""
    units = []
    for f in features:
        p = f["properties"]
        merged = [{**m, "old_district_code": _code(districts, _old_district(m))} for m in p["merged_from"]]
        props = {k: p[k] for k in KEEP if k in p}
        props.update(
            merged_from=merged,
            old_districts=list(p["old_districts"]),
            old_district_codes=[_code(districts, d) for d in p["old_districts"]],
            approximate=False,
        )
        units.append(
            AdminUnit(
                code=p["code"],
                name=p["name"],
                level="commune",
                parent_code=CITY_CODE,
                geometry=shape(f["geometry"]),
                kind=KINDS[p["type"]],
                properties=props,
            )
        )
    city = AdminUnit(
        CITY_CODE, "Hải Phòng", "city", None, _snap(shapely.union_all([u.geometry for u in units])),
        "Thành phố", properties={"name_en": "Hai Phong", "source": "union of the 114 units"},
    )  # fmt: skip
    post = BoundarySet(
        id=POST2025_ID,
        effective_from=REFORM_DATE,
        effective_to=None,
        levels=("city", "commune"),
        source=SOURCE_2025,
        licence=LICENCE_2025,
        features=(city, *units),
        approximate=False,
        attribution=attribution.COMMUNES_2025,
    )
    members: dict[str, list[BaseGeometry]] = defaultdict(list)
    kinds: dict[str, str] = {}  # bare name → unit type in force just before 2025-07-01
    for f, u in zip(features, units, strict=True):
        name, kind = split_district(main_district(f["properties"], districts))
        members[name].append(u.geometry)
        kinds[name] = kind
    missing = sorted(set(districts) - set(members))
    if missing:
        raise ValueError(f"no 2025 unit was formed mainly from the districts {missing}")
    order = sorted(districts.items(), key=lambda kv: kv[1][0])
    # The approximate set needs no 0.1 m detail: its borders are simplified as a coverage (≈ 5 m).
    geoms = simplify_coverage([_snap(shapely.union_all(members[name])) for name, _ in order], PRE_TOLERANCE)
    pre_districts = [
        AdminUnit(
            code, name, "district", province, _snap(geom), kinds[name],
            approximate=True, properties={"approximate": True, "source": HOW_DISTRICT},
        )
        for (name, (code, province)), geom in zip(order, geoms, strict=True)
    ]  # fmt: skip
    provinces = [
        AdminUnit(
            code, name, "province", None,
            _snap(shapely.union_all([d.geometry for d in pre_districts if d.parent_code == code])), kind,
            approximate=True, properties={"approximate": True, "source": HOW_PROVINCE},
        )
        for code, (name, kind) in PROVINCES.items()
    ]  # fmt: skip
    pre = BoundarySet(
        id=PRE_ID,
        effective_from=None,
        effective_to=REFORM_DATE,
        levels=("province", "district"),
        source=SOURCE_PRE,
        licence=LICENCE_2025,
        features=(*provinces, *pre_districts),
        approximate=True,
        attribution=attribution.APPROX_PRE2025,
    )
    return post, pre


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", type=Path, default=Settings().shared_data_dir / "boundaries",
                        help=f"folder holding {COMMUNES_NAME}, {CSV_NAME} and {MERGES_NAME} (MIT)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=DEFAULT_SETS_DIR)
    parser.add_argument(
        "--check", action="store_true", help="fail if the files in --out differ from a fresh build"
    )
    args = parser.parse_args(argv)
    post, pre = build_sets(*read_units(args.source_dir))
    stale = []
    for bs in (post, pre):
        target = args.out / f"{bs.id}.geojson"
        if args.check:
            fresh = dumps_boundary_set(bs, decimals=DECIMALS).encode("utf-8")
            if not target.is_file() or target.read_bytes() != fresh:
                stale.append(str(target))
        else:
            save_boundary_set(bs, target, decimals=DECIMALS)
            print(f"{target}: {bs.counts()}, {target.stat().st_size:,} bytes")
    if stale:
        print(f"out of date (run python -m geodata.build_default): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
