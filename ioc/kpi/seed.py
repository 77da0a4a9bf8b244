"""Figures and targets from the city's documents, read at run time from ``seed_figures.csv``.

The CSV (``Settings().shared_data_dir / "kpi"``, never copied here) lists 92 figures with their
document and lines. :data:`MAPPINGS` (authored here) says which rows feed which catalogue KPI,
with which period and kind, and which number of the row's text is meant; the loader checks that
number is really in the row, that the document is among the row's citations, and that a target
agrees with the catalogue, and skips a mapping with a reason otherwise. Rows that are context
(budgets, task counts, media output …) or need unit codes (row 44) are deliberately not mapped.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from ioc.kpi.catalogue import Catalogue, load_catalogue
from ioc.settings import Settings

Kind = Literal["target", "actual"]
Qualifier = Literal["=", "≈", ">", ">="]  # "≈": the document says about / nearly; ">": more than

SEED_FILE = "seed_figures.csv"
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_CITATION = re.compile(r"\s*(?P<file>\S+\.txt)\s+lines?\s+(?P<lines>[\d,\s-]+?)\s*$")

# Source documents and the date each was issued (None: the document is undated).
R22 = "2022_bao-cao-CDS-6-thang-dau-nam-2022.txt"  # undated; report on H1 2022
KH40 = "2023-02-13_KH-40-UBND_chu-de-nam-2023.txt"
S24 = "2024-04-24_phat-bieu-chu-tich-UBND_UBQG-CDS-phien-8.txt"
Q1167 = "2026-03-31_QD-1167-UBND_chien-luoc-CDS-2026-2030.txt"
DOCUMENT_DATES: dict[str, date | None] = {
    R22: None,
    KH40: date(2023, 2, 13),
    "2023_ke-hoach-chuyen-doi-so-2023_du-thao.txt": None,  # draft
    S24: date(2024, 4, 24),
    Q1167: date(2026, 3, 31),
}


@dataclass(frozen=True, slots=True)
class KpiValue:
    """One documented value of a catalogue KPI."""

    kpi_id: str
    value: Decimal
    unit: str  # the catalogue unit (percent, count, mbps …)
    period_start: date
    period_end: date  # for a target: the deadline
    as_of: date | None  # the date of the source document; None when it is undated
    source_document: str
    lines: tuple[int, ...]
    definition_note: str
    kind: Kind
    qualifier: Qualifier = "="
    seed_id: int = 0
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class SeedMapping:
    """How one number of one seed row becomes a KpiValue (authored, checked at load)."""

    seed_id: int
    kpi_id: str
    value: Decimal
    kind: Kind
    period: tuple[date, date]
    document: str  # which of the row's documents the value is taken from
    doc_figure: str  # the figure as the document writes it (the tests find it at the cited lines)
    note: str
    qualifier: Qualifier = "="
    scope: str | None = None


def _m(seed_id: int, kpi_id: str, value: str, kind: Kind, start: str, end: str, document: str,
       doc_figure: str, note: str, qualifier: Qualifier = "=", scope: str | None = None) -> SeedMapping:  # fmt: skip
    return SeedMapping(seed_id, kpi_id, Decimal(value), kind, (date.fromisoformat(start), date.fromisoformat(end)),
                       document, doc_figure, note, qualifier, scope)  # fmt: skip


_Y2023 = ("2023-01-01", "2023-12-31")
_H1_2022 = ("2022-01-01", "2022-06-30")
_JUN_2022 = ("2022-06-01", "2022-06-30")
_JAN_APR_2024 = ("2024-01-01", "2024-04-30")
_P2021_2025 = ("2021-01-01", "2025-12-31")
_P2026_2030 = ("2026-01-01", "2030-12-31")

MAPPINGS: tuple[SeedMapping, ...] = (
    # Targets of 2023 (Kế hoạch 40/KH-UBND, signed; the draft plan states the same)
    _m(1, "tthc.full_online_procedures", "100", "target", *_Y2023, KH40, "100%", "Chỉ tiêu năm 2023, tính theo thủ tục."),
    *(_m(3, "gov.work_records_online", v, "target", *_Y2023, KH40, f"{v}%", "Chỉ tiêu năm 2023 theo cấp.", scope=s)
      for v, s in (("70", "các cơ quan thành phố"), ("60", "cấp huyện"), ("40", "cấp xã"))),
    _m(4, "gov.reporting_national_system", "80", "target", *_Y2023, KH40, "80%", "Chỉ tiêu năm 2023."),
    _m(5, "gov.reporting_city_system", "100", "target", *_Y2023, KH40, "100%", "Chỉ tiêu năm 2023 (hạn quý II/2023)."),
    _m(6, "econ.digital_share_grdp", "15", "target", *_Y2023, KH40, "15%", "Chỉ tiêu năm 2023."),
    _m(7, "econ.digital_share_sector", "11", "target", *_Y2023, KH40, "11%", "Chỉ tiêu năm 2023.", ">="),
    _m(9, "infra.fibre_households", "90", "target", *_Y2023, KH40, "90%", "Chỉ tiêu năm 2023."),
    _m(9, "infra.fibre_communes", "95", "target", *_Y2023, KH40, "95%", "Chỉ tiêu năm 2023."),
    _m(10, "society.e_payment_accounts", "50", "target", *_Y2023, KH40, "trên 50%", "Chỉ tiêu năm 2023.", ">"),
    _m(12, "staff.digital_skills_training", "100", "target", *_Y2023, KH40, "100%", "Chỉ tiêu năm 2023."),
    _m(15, "security.live_drills", "1", "target", *_Y2023, KH40, "01 cuộc", "Tối thiểu một cuộc trong năm 2023.", ">="),
    # Actuals of the first half of 2022 (báo cáo 6 tháng đầu năm 2022)
    _m(19, "infra.data_network_units", "99.2", "actual", *_H1_2022, R22, "99,2%", "251/253 đơn vị."),
    _m(20, "infra.bts_4g", "2224", "actual", *_H1_2022, R22, "2.224", "Tổng số trạm BTS 4G, tăng 11% so với cuối 2021."),
    _m(21, "infra.coverage_4g", "100", "actual", *_H1_2022, R22, "100%", "Phủ 4G cấp huyện và cấp xã."),
    _m(22, "infra.mobile_speed", "40", "actual", *_JUN_2022, R22, "40 Mbps", "Vượt mốc 40 Mbps (hạng 24/63).", ">"),
    _m(23, "infra.fixed_speed", "60", "actual", *_JUN_2022, R22, "~ 60 Mbps", "Khoảng 60 Mbps (hạng 38/63).", "≈"),
    _m(37, "security.soc_alerts", "203", "actual", *_H1_2022, R22, "203 cảnh báo", "Đều được khắc phục kịp thời."),
    _m(41, "gov.documents_signed", "82.6", "actual", *_H1_2022, R22, "82,6%", "Văn bản ký số phát hành trên mạng."),
    _m(43, "tthc.online_rate_kh128", "23.9", "actual", "2022-05-01", "2022-05-31", R22, "23,9%", "Tháng 5/2022, cách tính của KH 128/KH-UBND."),
    _m(43, "tthc.online_rate_kh128", "27.9", "actual", *_JUN_2022, R22, "27,9%", "Tháng 6/2022, cách tính của KH 128/KH-UBND."),
    _m(43, "tthc.online_rate_kh128", "60", "target", "2022-01-01", "2022-12-31", R22, "60%", "Chỉ tiêu năm 2022 (KH 128/KH-UBND).", ">="),
    _m(46, "tthc.on_time_vpcp_2022", "96.85", "actual", *_JUN_2022, R22, "96,85%", "Xếp hạng của Văn phòng Chính phủ, tháng 6/2022."),
    _m(48, "smart.installs", "6000", "actual", *_JUN_2022, R22, "6 nghìn", "Hơn một tháng sau khi ra mắt.", "≈"),
    _m(48, "smart.reports", "70", "actual", *_JUN_2022, R22, "70 ý kiến", "Hơn một tháng sau khi ra mắt.", "≈"),
    _m(48, "smart.answered_share", "40", "actual", *_JUN_2022, R22, "40%", "Phần còn lại đang xử lý."),
    # Actuals of January–April 2024 (phát biểu của Chủ tịch UBND thành phố, 24/4/2024)
    _m(71, "tthc.online_rate_2024", "70.12", "actual", *_JAN_APR_2024, S24, "70,12%", "Mẫu số không được nêu."),
    _m(72, "tthc.online_payment_procedures", "63.49", "actual", *_JAN_APR_2024, S24, "63,49%", "8.779 giao dịch."),
    _m(73, "tthc.digitisation_reported", "100", "actual", *_JAN_APR_2024, S24, "100%", "Cách tính không được nêu."),
    # End of 2021–2025 and targets of 2030 (Quyết định 1167/QĐ-UBND)
    _m(76, "econ.digital_share_grdp", "27.17", "actual", *_P2021_2025, Q1167, "27,17%", "Số liệu của Thống kê thành phố.", "≈"),
    _m(77, "infra.broadband_communes", "100", "actual", *_P2021_2025, Q1167, "100%", "Mọi công nghệ băng rộng."),
    _m(78, "society.smart_device_adults", "85", "actual", *_P2021_2025, Q1167, "85%", "Vượt ngưỡng 85%.", ">"),
    _m(79, "tthc.full_online_rate_2025", "78", "actual", *_P2021_2025, Q1167, "78%", "Duy trì ổn định; mẫu số không được nêu.", "≈"),
    _m(80, "infra.coverage_5g", "100", "target", *_P2026_2030, Q1167, "100%", "Mục tiêu đến năm 2030."),
    _m(81, "infra.fibre_1gbps", "100", "target", *_P2026_2030, Q1167, "100%", "Mục tiêu đến năm 2030."),
    _m(83, "tthc.contactless", "100", "target", *_P2026_2030, Q1167, "100%", "Mục tiêu đến năm 2030."),
    _m(84, "tthc.digitised_unique_id", "100", "target", *_P2026_2030, Q1167, "100%", "Mục tiêu đến năm 2030."),
    _m(85, "staff.digital_ai_mastery", "100", "target", *_P2026_2030, Q1167, "100%", "Mục tiêu đến năm 2030."),
    _m(86, "society.digital_services_adults", "90", "target", *_P2026_2030, Q1167, "90%", "Mục tiêu đến năm 2030.", ">="),
    _m(87, "gov.direction_online", "100", "target", *_P2026_2030, Q1167, "100%", "Mục tiêu giai đoạn 2026–2030."),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeedRow:
    id: int
    metric_en: str
    value_text: str
    period: str
    kind: str  # target | actual | actual+target | context
    citations: tuple[tuple[str, tuple[int, ...]], ...]  # (file, lines)


@dataclass(frozen=True, slots=True)
class SeedLoad:
    """What loading produced: values, per-mapping problems, or why nothing was loaded."""

    values: tuple[KpiValue, ...]
    problems: tuple[str, ...] = ()
    skipped_reason: str | None = None
    unmapped_rows: tuple[int, ...] = ()


def parse_lines(text: str) -> tuple[int, ...]:
    """``"130-132"`` → (130, 131, 132); ``"195, 499"`` → (195, 499)."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        a, b = int(first), int(last or first)
        if a < 1 or b < a:
            raise ValueError(f"bad line range {part!r}")
        out += range(a, b + 1)
    return tuple(out)


def parse_citations(text: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """``document_and_lines``: ``FILE lines A-B; FILE lines C, D``."""
    out = []
    for part in text.split(";"):
        m = _CITATION.fullmatch(part)
        if m is None:
            raise ValueError(f"cannot read the citation {part.strip()!r}")
        out.append((m["file"], parse_lines(m["lines"])))
    return tuple(out)


def numbers(text: str) -> tuple[Decimal, ...]:
    """The numbers written in a seed value (English style: ``2,224``, ``27.17``)."""
    return tuple(Decimal(n.replace(",", "")) for n in _NUMBER.findall(text))


def read_seed_rows(path: Path) -> dict[int, SeedRow]:
    """The seed CSV by id; ValueError naming the row when a row cannot be read."""
    rows: dict[int, SeedRow] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        expected = {"id", "metric_en", "value", "period", "kind", "document_and_lines"}
        if reader.fieldnames is None or not expected <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected the columns {', '.join(sorted(expected))}")
        for n, r in enumerate(reader, 1):
            try:
                row = SeedRow(int(r["id"]), r["metric_en"], r["value"], r["period"], r["kind"],
                              parse_citations(r["document_and_lines"]))  # fmt: skip
            except ValueError as exc:
                raise ValueError(f"{path}: row {n}: {exc}") from None
            rows[row.id] = row
    return rows


def _check(m: SeedMapping, row: SeedRow | None, cat: Catalogue) -> tuple[str | None, tuple[int, ...]]:
    """Why this mapping cannot be used (None if it can), and the lines it cites."""
    if row is None:
        return f"seed row {m.seed_id} is absent", ()
    if m.value not in numbers(row.value_text):
        return f"seed row {m.seed_id}: {m.value} not in its value {row.value_text!r}", ()
    kinds = {"target": {"target"}, "actual": {"actual"}, "actual+target": {"actual", "target"}}.get(
        row.kind, set()
    )
    if m.kind not in kinds:
        return f"seed row {m.seed_id} is {row.kind!r}, mapped as {m.kind!r}", ()
    lines = dict(row.citations).get(m.document)
    if lines is None:
        return f"seed row {m.seed_id} does not cite {m.document}", ()
    try:
        kpi = cat.get(m.kpi_id)
    except KeyError:
        return f"seed row {m.seed_id}: no KPI {m.kpi_id!r} in the catalogue", ()
    if m.kind == "target":
        year = m.period[1].year
        comparator = {"=": "=", ">": ">", ">=": ">=", "≈": "="}[m.qualifier]
        if not any(t.value == m.value and t.year == year and t.comparator == comparator and t.scope == m.scope
                   for t in kpi.targets):  # fmt: skip
            return (
                f"seed row {m.seed_id}: target {m.qualifier}{m.value} ({year}) is not in {m.kpi_id}'s targets",
                (),
            )
    return None, lines


def load_seed_values(settings: Settings | None = None, catalogue: Catalogue | None = None) -> SeedLoad:
    """KpiValues from ``<shared_data_dir>/kpi/seed_figures.csv``; skipped with a reason when absent."""
    folder = (settings or Settings()).shared_data_dir / "kpi"
    path = folder / SEED_FILE
    if not folder.is_dir():
        return SeedLoad((), skipped_reason=f"shared KPI folder {folder} is absent")
    if not path.is_file():
        return SeedLoad((), skipped_reason=f"{path} is absent")
    rows = read_seed_rows(path)
    cat = catalogue or load_catalogue()
    values: list[KpiValue] = []
    problems: list[str] = []
    for m in MAPPINGS:
        problem, lines = _check(m, rows.get(m.seed_id), cat)
        if problem:
            problems.append(problem)
            continue
        values.append(
            KpiValue(
                m.kpi_id,
                m.value,
                cat.get(m.kpi_id).unit.value,
                m.period[0],
                m.period[1],
                DOCUMENT_DATES.get(m.document),
                m.document,
                lines,
                m.note,
                m.kind,
                m.qualifier,
                m.seed_id,
                m.scope,
            )  # fmt: skip
        )
    mapped = {m.seed_id for m in MAPPINGS}
    return SeedLoad(tuple(values), tuple(problems), None, tuple(sorted(set(rows) - mapped)))
