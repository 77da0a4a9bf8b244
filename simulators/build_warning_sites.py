"""Write the registries of the early-warning sources that have no place of their own (deterministic).

- ``budget_lines.json``: the State Treasury's revenue lines (the budget events' ``source_id``), with
  their group in the city's budget report (thu nội địa, thu từ dầu thô/XNK, thu khác) and the share of
  domestic revenue excluding land that the simulator gives each tax type (an assumption: the city's
  published figures, ``../shared/data/kpi/baselines.md`` §5, split domestic, XNK and land only);
- ``police_units.json``: one reporting unit per commune-level unit (xã, phường, đặc khu) of the
  boundary set in force from 1 July 2025, keyed by the unit's code (dvhcvn codes, MIT);
- ``soc.json``: the city's SOC at the city data centre.

``python -m simulators.build_warning_sites`` rewrites them; running it twice writes the same bytes.
The water-level and rain gauges (``water_gauges.geojson``, ``rain_gauges.geojson``) have places and
come from ``simulators/build_sites.py``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from geodata.sites import SITES_DIR

#: (source_id, name_vi, name_en, short_vi, short_en, group, share of domestic revenue excluding land, lumpy)
BUDGET_LINES: tuple[tuple[str, str, str, str, str, str, float, bool], ...] = (
    ("rev-dnnn", "Thu từ doanh nghiệp nhà nước", "State-owned enterprises", "thu từ DNNN", "state enterprises",
     "noi_dia", 0.10, False),
    ("rev-fdi", "Thu từ doanh nghiệp có vốn đầu tư nước ngoài", "Foreign-invested enterprises", "thu từ DN FDI",
     "foreign-invested firms", "noi_dia", 0.32, False),
    ("rev-nqd", "Thu từ khu vực kinh tế ngoài quốc doanh", "Non-state sector", "thu ngoài quốc doanh",
     "non-state sector", "noi_dia", 0.24, False),
    ("rev-tncn", "Thuế thu nhập cá nhân", "Personal income tax", "thuế TNCN", "personal income tax", "noi_dia",
     0.08, False),
    ("rev-ndk", "Thu nội địa khác (lệ phí trước bạ, phí, lệ phí, thuế bảo vệ môi trường …)",
     "Other domestic revenue (registration fees, charges, environmental tax …)", "thu nội địa khác",
     "other domestic revenue", "noi_dia", 0.26, False),
    ("rev-sdd", "Tiền sử dụng đất", "Land-use fees", "tiền sử dụng đất", "land-use fees", "noi_dia", 0.0, True),
    ("rev-xnk", "Thu từ hoạt động xuất nhập khẩu", "Import–export duties", "thu XNK", "import–export duties",
     "xnk", 0.0, False),
    ("rev-khac", "Thu viện trợ và thu khác", "Grants and other revenue", "thu khác", "other revenue", "khac", 0.0,
     False),
)

SOC_SITES = (
    {"source_id": "soc-ttdl", "name": "SOC – Trung tâm Dữ liệu thành phố", "name_en": "SOC at the city data centre",
     "operator": "Sở Khoa học và Công nghệ"},
)


def budget_registry() -> dict[str, Any]:
    return {"sites": [
        {"source_id": sid, "name": vi, "name_en": en, "short": short, "short_en": short_en, "group": group,
         "domestic_share": share, "lumpy": lumpy}
        for sid, vi, en, short, short_en, group, share, lumpy in BUDGET_LINES
    ]}


def police_registry(on: date = date(2025, 7, 1)) -> dict[str, Any]:
    """One entry per commune-level unit in force on ``on`` (the shipped default set, not an installed one)."""
    from geodata.boundaries import DEFAULT_SETS_DIR, boundary_set_for, load_boundary_sets

    bset = boundary_set_for(on, load_boundary_sets(DEFAULT_SETS_DIR))
    units = sorted(bset.leaves(), key=lambda u: u.code)
    return {"boundary_set": bset.id, "sites": [
        {"source_id": f"ca-{u.code}", "name": f"Công an {u.full_name}", "name_en": f"Police of {u.full_name}",
         "admin_unit": u.code, "unit_kind": u.kind}
        for u in units
    ]}


def write(directory: Path = SITES_DIR) -> dict[str, int]:
    docs = {
        "budget_lines.json": budget_registry(),
        "police_units.json": police_registry(),
        "soc.json": {"sites": list(SOC_SITES)},
    }
    counts = {}
    for name, doc in docs.items():
        (directory / name).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        counts[name] = len(doc["sites"])
    return counts


if __name__ == "__main__":
    for name, n in write().items():
        print(f"{name}: {n}")
