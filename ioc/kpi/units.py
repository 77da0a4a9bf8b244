"""The units whose dossiers the 766 index scores: the city's departments and every commune-level
unit in force since 1 July 2025 (114 xã, phường, đặc khu).

The registry is project data, ``geodata/sites/dossier_units.json`` (``python -m ioc.kpi.units``
rewrites it, byte for byte the same): one entry per unit with ``source_id`` ``dvc-<code>``, the
unit's code (the id is lower-case), names, level (``department`` | ``commune``), the commune's admin unit and its former
(pre-2025) districts, which the simulator uses to calibrate units to the June 2022 report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

REGISTRY = Path(__file__).resolve().parents[2] / "geodata" / "sites" / "dossier_units.json"

#: The departments receiving dossiers (after the 2025 reorganisation), code → (name vi, name en).
DEPARTMENTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "SNV": ("Sở Nội vụ", "Department of Home Affairs"),
    "SKHCN": ("Sở Khoa học và Công nghệ", "Department of Science and Technology"),
    "SCT": ("Sở Công Thương", "Department of Industry and Trade"),
    "SVHTTDL": ("Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
    "STC": ("Sở Tài chính", "Department of Finance"),
    "SNNMT": ("Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"),
    "SXD": ("Sở Xây dựng", "Department of Construction"),
    "STP": ("Sở Tư pháp", "Department of Justice"),
    "SYT": ("Sở Y tế", "Department of Health"),
    "SGDDT": ("Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    "BQLKKT": ("Ban Quản lý Khu kinh tế Hải Phòng", "Hải Phòng Economic Zone Authority"),
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class DossierUnit:
    """One unit of the league table."""

    code: str
    name_vi: str
    name_en: str
    level: str  # "department" | "commune"
    admin_unit: str | None  # the commune's own code; None for a department
    former_districts: tuple[str, ...] = ()

    @property
    def source_id(self) -> str:
        return f"dvc-{self.code.lower()}"

    def name(self, lang: str = "vi") -> str:
        return self.name_en if lang == "en" else self.name_vi


def build_registry(on: date = date(2025, 7, 1)) -> dict[str, Any]:
    """The registry document: the departments, then the commune-level units in force on ``on``."""
    from geodata.boundaries import DEFAULT_SETS_DIR, boundary_set_for, load_boundary_sets

    bset = boundary_set_for(on, load_boundary_sets(DEFAULT_SETS_DIR))
    sites: list[dict[str, Any]] = [
        {"source_id": f"dvc-{code.lower()}", "name": vi, "name_en": en, "unit": code, "level": "department",
         "admin_unit": None, "former_districts": []}
        for code, (vi, en) in DEPARTMENTS.items()
    ]  # fmt: skip
    for u in sorted(bset.leaves(), key=lambda u: u.code):
        props = u.properties or {}
        full = str(props.get("full_name") or f"{u.kind} {u.name}")
        sites.append({
            "source_id": f"dvc-{u.code}", "name": full, "name_en": str(props.get("full_name_en") or full),
            "unit": u.code, "level": "commune", "admin_unit": u.code,
            "former_districts": list(props.get("old_districts") or []),
        })  # fmt: skip
    return {"boundary_set": bset.id, "sites": sites}


def write_registry(path: Path = REGISTRY) -> int:
    doc = build_registry()
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(doc["sites"])


@cache
def load_units(path: Path = REGISTRY) -> tuple[DossierUnit, ...]:
    """Every unit of the registry, departments first."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        DossierUnit(s["unit"], s["name"], s.get("name_en") or s["name"], s["level"], s.get("admin_unit"),
                    tuple(s.get("former_districts") or ()))
        for s in doc["sites"]
    )  # fmt: skip


@cache
def units_by_code(path: Path = REGISTRY) -> Mapping[str, DossierUnit]:
    return MappingProxyType({u.code: u for u in load_units(path)})


def unit_name(code: str, lang: str = "vi") -> str:
    """A unit's name; an unknown code is shown as it is."""
    u = units_by_code().get(code)
    return code if u is None else u.name(lang)


if __name__ == "__main__":
    print(f"{REGISTRY.name}: {write_registry()} units")
