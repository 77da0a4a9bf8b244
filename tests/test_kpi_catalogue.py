"""The KPI catalogue: its validation names the bad entry, and every citation holds in the documents;
the seed figures map onto it and each figure is at the lines it cites."""

from __future__ import annotations

import copy
import dataclasses
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from ioc.kpi.catalogue import (
    DOCUMENT,
    LIVE_FEEDS,
    Catalogue,
    CatalogueError,
    figure_pattern,
    load_catalogue,
    normalise,
    parse_catalogue,
    verify_citations,
)
from ioc.kpi.cli import register
from ioc.kpi.index766 import INDICATORS
from ioc.kpi.seed import MAPPINGS, load_seed_values, numbers, parse_citations, parse_lines, read_seed_rows
from ioc.settings import Settings


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def raw() -> dict:
    """The shipped YAML as data, to break one thing at a time."""
    text = resources.files("ioc.kpi").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def _entry(raw: dict, kpi_id: str) -> tuple[int, dict]:
    for i, e in enumerate(raw["kpis"], 1):
        if e["id"] == kpi_id:
            return i, e
    raise KeyError(kpi_id)


# ---------------------------------------------------------------------------------------------
# What the cockpit needs is there


def test_the_766_entries_match_the_computation(catalogue: Catalogue) -> None:
    for spec in INDICATORS:
        (k,) = [k for k in catalogue.kpis if k.index766_id == spec.id]
        assert (k.name_vi, k.name_en, k.source) == (spec.name_vi, spec.name_en, "dossiers")
        assert k.owner == "Văn phòng Ủy ban nhân dân thành phố"


def test_required_kpis_with_their_targets(catalogue: Catalogue) -> None:
    def target(kpi_id: str, year: int, scope: str | None = None) -> tuple[str, Decimal]:
        (t,) = [t for t in catalogue.get(kpi_id).targets if t.year == year and t.scope == scope]
        return t.comparator, t.value

    assert target("tthc.online_rate_kh128", 2022) == (">=", Decimal(60))
    assert target("gov.work_records_online", 2023, "các cơ quan thành phố") == ("=", Decimal(70))
    assert target("gov.work_records_online", 2023, "cấp huyện") == ("=", Decimal(60))
    assert target("gov.work_records_online", 2023, "cấp xã") == ("=", Decimal(40))
    assert target("gov.reporting_national_system", 2023) == ("=", Decimal(80))
    assert target("tthc.contactless", 2030) == ("=", Decimal(100))
    directives = catalogue.get("directives.on_time")
    assert (directives.owner, directives.source) == ("Văn phòng Ủy ban nhân dân thành phố", "directives")
    assert {catalogue.get(i).source for i in ("reports.on_time", "reports.satisfaction")} == {"tickets"}
    no_feed = ("infra.bts_4g", "econ.digital_share_grdp", "smart.installs", "security.soc_alerts")
    assert {catalogue.get(i).source for i in no_feed} == {DOCUMENT}
    assert {k.source for k in catalogue.kpis} <= LIVE_FEEDS | {DOCUMENT}


def test_online_dossier_rates_are_separate_series(catalogue: Catalogue) -> None:
    # Three definitions in three documents: never one series.
    series = {
        "tthc.online_rate_kh128": ("2022_bao-cao-CDS-6-thang-dau-nam-2022.txt", "27,9%"),
        "tthc.online_rate_2024": ("2024-04-24_phat-bieu-chu-tich-UBND_UBQG-CDS-phien-8.txt", "70,12%"),
        "tthc.full_online_rate_2025": ("2026-03-31_QD-1167-UBND_chien-luoc-CDS-2026-2030.txt", "78%"),
    }
    for kpi_id, (file, figure) in series.items():
        k = catalogue.get(kpi_id)
        assert {c.file for c in k.evidence} == {file}
        assert any(figure in c.quote for c in k.evidence)
        others = [f for i, (_, f) in series.items() if i != kpi_id]
        assert not any(f in c.quote for c in k.evidence for f in others)
    # the live 766 shares are other ids again
    assert not set(series) & {k.id for k in catalogue.kpis if k.index766_id}


def test_vietnamese_names_carry_diacritics(catalogue: Catalogue) -> None:
    # A name typed without diacritics reads as plain ASCII; every official name here has some.
    assert all(not k.name_vi.isascii() for k in catalogue.kpis)
    assert all(not k.owner.isascii() for k in catalogue.kpis)


# ---------------------------------------------------------------------------------------------
# Every citation against the documents


def test_every_cited_line_contains_its_quote_and_figure(catalogue: Catalogue, shared_data: Path) -> None:
    assert len(catalogue.citations()) >= 60
    assert verify_citations(catalogue, shared_data / "documents") == []


def test_citation_check_catches_a_wrong_line_and_a_wrong_value(
    catalogue: Catalogue, shared_data: Path
) -> None:
    k = catalogue.get("tthc.online_rate_kh128")
    t = k.targets[0]
    moved = dataclasses.replace(t.citations[0], first_line=63, last_line=63)  # the quote is on line 62
    wrong = dataclasses.replace(t, value=Decimal(65), citations=t.citations[:1])  # 65 is not in "…60%…"
    broken = dataclasses.replace(k, targets=(dataclasses.replace(t, citations=(moved,)), wrong))
    problems = verify_citations(Catalogue(1, (broken,)), shared_data / "documents")
    assert len(problems) == 2
    assert "2022_bao-cao-CDS-6-thang-dau-nam-2022.txt:63: quote not found" in problems[0]
    assert "target value 65 not in the quote" in problems[1]


@pytest.mark.parametrize(
    ("value", "text", "found"),
    [("2224", "lên 2.224 trạm", True), ("27.9", "đạt 27,9%", True), ("1", "tối thiểu 01 cuộc", True),
     ("60", "năm 2060", False), ("6", "60%", False), ("70", "70,12%", False), ("15", "15% GRDP", True)],
)  # fmt: skip
def test_figure_pattern(value: str, text: str, found: bool) -> None:
    assert bool(figure_pattern(Decimal(value)).search(text)) is found


# ---------------------------------------------------------------------------------------------
# Validation names the entry and the field


@pytest.mark.parametrize(
    ("kpi_id", "change", "message"),
    [
        ("reports.on_time", {"colour": "red"}, "field 'colour': unknown field"),
        ("reports.on_time", {"owner": None}, "field 'owner': missing"),
        ("reports.on_time", {"direction": "up"}, "field 'direction': 'up' is not one of"),
        ("reports.on_time", {"source": "kafka"}, "field 'source': 'kafka' is neither"),
        ("reports.on_time", {"levels": ["city", "city"]}, "field 'levels': a level appears twice"),
        ("reports.on_time", {"id": "Reports On Time"}, "field 'id': 'Reports On Time' is not a dotted"),
        (
            "smart.installs",
            {"evidence": []},
            "field 'evidence': a KPI whose values come from documents must cite",
        ),
        ("d766.2_1", {"index766_id": "1.1"}, "field 'index766_id': '1.1' is not a computed 766 indicator"),
    ],
)
def test_a_bad_entry_is_named(raw: dict, kpi_id: str, change: dict, message: str) -> None:
    i, e = _entry(raw, kpi_id)
    e.update(change)
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(raw, "test")
    assert f"test: KPI entry {i}" in str(info.value) and message in str(info.value)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"year": "2030"}, "targets[0].year", "expected a year"),
        ({"comparator": "≥"}, "targets[0].comparator", "is not one of"),
        ({"value": "nhiều"}, "targets[0].value", "expected a number"),
        ({"citations": []}, "targets[0].citations", "at least one citation"),
    ],
)
def test_a_bad_target_is_named(raw: dict, change: dict, field: str, message: str) -> None:
    i, e = _entry(raw, "tthc.contactless")
    e["targets"][0].update(change)
    with pytest.raises(
        CatalogueError, match=rf"KPI entry {i} \('tthc.contactless'\), field '{re.escape(field)}'.*{message}"
    ):
        parse_catalogue(raw, "test")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"lines": [90, 88]}, "lines"), ({"lines": "90"}, "lines"), ({"file": "../secret.txt"}, "file"), ({"quote": " "}, "quote")],
)  # fmt: skip
def test_a_bad_citation_is_named(raw: dict, change: dict, field: str) -> None:
    i, e = _entry(raw, "tthc.full_online_rate_2025")
    e["evidence"][0].update(change)
    with pytest.raises(CatalogueError, match=rf"KPI entry {i} .*field 'evidence\[0\]\.{field}'"):
        parse_catalogue(raw, "test")


def test_duplicate_ids_and_missing_766_entries_are_refused(raw: dict) -> None:
    dup = copy.deepcopy(raw)
    dup["kpis"].append(copy.deepcopy(dup["kpis"][0]))
    with pytest.raises(
        CatalogueError,
        match=rf"KPI entry {len(dup['kpis'])} \('d766.2_1'\), field 'id': duplicate of entry 1",
    ):
        parse_catalogue(dup, "test")
    raw["kpis"] = [e for e in raw["kpis"] if e.get("index766_id") != "5.4"]
    with pytest.raises(CatalogueError, match="766 indicator '5.4' must have exactly one KPI entry, has 0"):
        parse_catalogue(raw, "test")
    with pytest.raises(CatalogueError, match="unsupported version"):
        parse_catalogue({"version": 2, "kpis": raw["kpis"]}, "test")


def test_a_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("version: 1\nkpis: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"bad.yaml: not valid YAML"):
        load_catalogue(f)


# ---------------------------------------------------------------------------------------------
# Seed figures


def test_seed_citations_and_numbers_parse() -> None:
    assert parse_lines("130-132") == (130, 131, 132)
    assert parse_lines("195, 499") == (195, 499)
    assert parse_citations("a_b.txt lines 130-132; c.txt lines 121") == (
        ("a_b.txt", (130, 131, 132)),
        ("c.txt", (121,)),
    )
    assert numbers("2,224 in total (+214 new; +11% vs end-2021)") == (
        Decimal(2224),
        Decimal(214),
        Decimal(11),
        Decimal(2021),
    )
    assert numbers("~27.17%") == (Decimal("27.17"),)


def test_seed_values_map_onto_the_catalogue(catalogue: Catalogue, shared_data: Path) -> None:
    loaded = load_seed_values(Settings(shared_data_dir=shared_data), catalogue)
    assert loaded.skipped_reason is None and loaded.problems == ()
    assert len(loaded.values) == len(MAPPINGS)
    by = {(v.kpi_id, v.value, v.kind) for v in loaded.values}
    # the three online-rate figures land on three different series
    assert {("tthc.online_rate_kh128", Decimal("27.9"), "actual"), ("tthc.online_rate_2024", Decimal("70.12"), "actual"),
            ("tthc.full_online_rate_2025", Decimal("78"), "actual")} <= by  # fmt: skip
    v = next(v for v in loaded.values if v.kpi_id == "tthc.on_time_vpcp_2022")
    assert (v.value, v.unit, v.period_start.isoformat(), v.period_end.isoformat(), v.as_of) == (
        Decimal("96.85"), "percent", "2022-06-01", "2022-06-30", None)  # fmt: skip
    assert (v.source_document, v.lines) == ("2022_bao-cao-CDS-6-thang-dau-nam-2022.txt", (66,))
    assert 44 in loaded.unmapped_rows  # per-unit rates need unit codes: not mapped


def test_each_seed_figure_is_at_the_lines_it_cites(shared_data: Path) -> None:
    rows = read_seed_rows(shared_data / "kpi" / "seed_figures.csv")
    assert len(rows) == 92
    loaded = load_seed_values(Settings(shared_data_dir=shared_data))
    for m, v in zip(MAPPINGS, loaded.values, strict=True):
        assert (m.seed_id, m.kpi_id) == (v.seed_id, v.kpi_id)
        lines = (shared_data / "documents" / v.source_document).read_text(encoding="utf-8").split("\n")
        text = normalise(" ".join(lines[n - 1] for n in v.lines))
        assert normalise(m.doc_figure) in text, (m.seed_id, m.doc_figure, v.source_document, v.lines)


def test_seed_skips_cleanly_without_the_shared_folder(tmp_path: Path) -> None:
    loaded = load_seed_values(Settings(shared_data_dir=tmp_path / "absent"))
    assert loaded.values == () and "absent" in (loaded.skipped_reason or "")


def test_a_changed_seed_row_is_skipped_with_a_reason(tmp_path: Path, catalogue: Catalogue) -> None:
    # A hand-written seed file: row 71 now says 71.5 % (not the 70.12 % the mapping expects),
    # row 79 is as the documents state it.
    (tmp_path / "kpi").mkdir()
    (tmp_path / "kpi" / "seed_figures.csv").write_text(
        "id,metric_en,value,period,kind,document_and_lines\n"
        "71,Online dossier rate,71.5%,Jan-Apr 2024,actual,2024-04-24_phat-bieu-chu-tich-UBND_UBQG-CDS-phien-8.txt lines 57-58\n"
        "79,End-to-end online TTHC dossier rate,~78% (stable),end of 2021-2025,actual,"
        "2026-03-31_QD-1167-UBND_chien-luoc-CDS-2026-2030.txt lines 90\n",
        encoding="utf-8",
    )  # fmt: skip
    loaded = load_seed_values(Settings(shared_data_dir=tmp_path), catalogue)
    assert [(v.kpi_id, v.value, v.qualifier) for v in loaded.values] == [
        ("tthc.full_online_rate_2025", Decimal(78), "≈")
    ]
    assert "seed row 71: 70.12 not in its value '71.5%'" in loaded.problems
    assert "seed row 3 is absent" in loaded.problems


# ---------------------------------------------------------------------------------------------
# Commands


def test_catalogue_and_seed_commands(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    res = CliRunner().invoke(app, ["kpi", "catalogue"])
    assert res.exit_code == 0 and "d766.2_1" in res.stdout and "chỉ tiêu" in res.stdout
    res = CliRunner().invoke(app, ["kpi", "seed"], env={"IOC_SHARED_DATA_DIR": str(tmp_path / "absent")})
    assert res.exit_code == 0 and res.stdout == "" and "absent" in res.stderr
