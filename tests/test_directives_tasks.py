"""The task tracker: the KH 40/KH-UBND 2023 appendix parsed from the document (its row count checked
against what the document states), the XLSX import's validation, progress, roll-ups; and the
on-time figures, the KPI and the report section."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ioc.directives import store
from ioc.directives.report import section
from ioc.directives.stats import on_time_kpi, on_time_rates, parse_period
from ioc.directives.store import NewDirective
from ioc.directives.tasks import TaskStatus, import_kh40, list_tasks, report_progress, rollups, upsert_tasks
from ioc.directives.tasks_kh40 import DOCUMENT, parse, parse_text
from ioc.directives.tasks_xlsx import HEADERS, XlsxRowError, read_tasks
from ioc.directives.workflow import Change, Kind, Priority
from ioc.tickets.calendar import TZ
from tests.directives_util import add_person, two_wards


def _doc(shared_data: Path) -> Path:
    return shared_data / "documents" / DOCUMENT


def test_kh40_appendix_rows_match_what_the_document_states(shared_data: Path) -> None:
    appendix = parse(_doc(shared_data))
    assert appendix.check() == []
    for code, _, stated in appendix.stated:
        assert len(appendix.section(code)) == stated  # parsed count == the document's own numbering
    # The issue counts the digital-transformation section's rows: 35.
    assert appendix.stated_count("III") == len(appendix.section("III")) == 35
    t = {x.task_code: x for x in appendix.tasks}
    soc = t["KH40-2023.III.29"]
    assert "SOC" in soc.title and soc.start_quarter == "2023-Q1" and soc.end_quarter == "2023-Q4"
    assert t["KH40-2023.III.19"].lead_agencies == ("Sở Công Thương", "Sở Kế hoạch và Đầu tư")
    assert t["KH40-2023.I.7"].lead_agencies == ("Ủy ban nhân dân các quận, huyện",)  # one agency, not two
    assert t["KH40-2023.I.6"].end_quarter is None and t["KH40-2023.I.6"].start_text.startswith("Sau khi")


def test_a_gap_in_the_numbering_is_reported() -> None:
    text = ("## PHỤ LỤC\nTT\tNội dung\n<b>I</b>\t<b>Nhóm</b>\t\t\t\t\t\n1\tViệc một\tQuý I/2023\tQuý II/2023\tNS\tSở Y tế\tx\n"
            "3\t\tQuý I/2023\n")  # row 3 lost its text: the document numbers 3 rows, 1 parsed  # fmt: skip
    problems = parse_text(text).check()
    assert problems and "numbers 1..3" in problems[0]


@pytest.fixture
def conn(pg_dsn: str) -> psycopg.Connection:
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        yield c


@pytest.mark.integration
def test_import_progress_rollups_and_scope(conn: psycopg.Connection, shared_data: Path) -> None:
    add_person(conn, "vanphong", "standing_office")
    with pytest.raises(PermissionError):
        import_kh40(conn, shared_data / "documents", "vanhanh", "operator", datetime.now(UTC))
    n = import_kh40(conn, shared_data / "documents", "vanphong", "leader", datetime.now(UTC))
    assert n == len(parse(_doc(shared_data)).tasks)
    today = date(2024, 1, 15)
    rows = list_tasks(conn, today)
    assert all(r.overdue for r in rows if r.due_date and r.due_date < today)
    skhcn = [r for r in rows if "SKHCN" in r.lead_codes]  # Sở TT&TT tasks belong to Sở KHCN today
    assert skhcn and all(any("Thông tin và Truyền thông" in a for a in r.lead_agencies) for r in skhcn)
    officer = add_person(conn, "skhcn1", "department", "SKHCN")
    code = "KH40-2023.III.17"
    with pytest.raises(ValueError, match="late_cause"):
        report_progress(conn, code, "skhcn1", officer.scope, datetime(2024, 1, 10, tzinfo=TZ),
                        status=TaskStatus.IN_PROGRESS, percent=80, note="Đã vận hành thử")  # fmt: skip
    report_progress(conn, code, "skhcn1", officer.scope, datetime(2024, 1, 10, tzinfo=TZ), status=TaskStatus.DONE,
                    percent=100, note="IOC vận hành chính thức", late_cause="Chậm bàn giao hạ tầng")  # fmt: skip
    with pytest.raises(PermissionError):
        report_progress(conn, "KH40-2023.I.1", "skhcn1", officer.scope, datetime(2024, 1, 10, tzinfo=TZ),
                        status=TaskStatus.IN_PROGRESS, percent=10, note="x", late_cause="y")  # fmt: skip
    mine = list_tasks(conn, today, scope=officer.scope)
    assert {r.task_code for r in mine} == {r.task_code for r in skhcn}
    groups = {r.key: r for r in rollups(list_tasks(conn, today), "group")}
    assert groups["III"].total == 35 and groups["III"].done == 1 and groups["III"].late_causes == ("Chậm bàn giao hạ tầng",)
    units = {r.key: r for r in rollups(rows, "unit")}
    assert units["Sở Xây dựng"].total == sum("Sở Xây dựng" in r.lead_agencies for r in rows)


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(HEADERS))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _row(code: str, start: object = "Quý I/2027", end: object = "Quý IV/2027", budget: object = 1500,
         alloc: str = "Chưa bố trí") -> list[object]:  # fmt: skip
    return [code, "Hạ tầng số", "Nâng cấp mạng truyền số liệu chuyên dùng", start, end, "Sở Khoa học và Công nghệ",
            "Nguyễn Văn Bình", "Các sở, ngành", "100% xã kết nối", "Ngân sách thành phố", budget, alloc]  # fmt: skip


def test_xlsx_import_names_the_bad_row_and_field() -> None:
    good = read_tasks(_xlsx([_row("KH-2027.1"), _row("KH-2027.2", "2027-Q2", "2027-Q3", "", "")]), plan_code="KH-2027",
                      source="kh2027.xlsx")  # fmt: skip
    assert [(t.task_code, t.start_quarter, t.end_quarter, t.budget_million_vnd) for t in good] == [
        ("KH-2027.1", "2027-Q1", "2027-Q4", 1500.0), ("KH-2027.2", "2027-Q2", "2027-Q3", None)]  # fmt: skip
    cases = [
        ([_row("A1"), _row("A2", end="Quý V/2027")], 3, "Quý hoàn thành"),
        ([_row("A1"), _row("A1")], 3, "Mã nhiệm vụ"),
        ([_row("A1", budget="nhiều")], 2, "Kinh phí (triệu đồng)"),
        ([_row("A1", start="2027-Q4", end="2027-Q1")], 2, "Quý hoàn thành"),
        ([_row("A1", alloc="sắp có")], 2, "Tình trạng bố trí vốn"),
        ([_row("A1")[:5] + [None] + _row("A1")[6:]], 2, "Cơ quan chủ trì"),
    ]
    for rows, line, field in cases:
        with pytest.raises(XlsxRowError) as err:
            read_tasks(_xlsx(rows), plan_code="KH-2027", source="x.xlsx")
        assert (err.value.row, err.value.field) == (line, field), str(err.value)
        assert f"dòng {line}" in str(err.value)


@pytest.mark.integration
def test_xlsx_tasks_are_stored(conn: psycopg.Connection) -> None:
    add_person(conn, "vanphong", "standing_office")
    tasks = read_tasks(_xlsx([_row("KH-2027.1")]), plan_code="KH-2027", source="kh2027.xlsx")
    upsert_tasks(conn, tasks, "vanphong", "leader", datetime.now(UTC))
    (row,) = list_tasks(conn, date(2027, 3, 1), plan="KH-2027")
    assert row.lead_codes == ["SKHCN"] and row.due_date == date(2027, 12, 31) and row.allocation_status == "not_allocated"


@pytest.mark.integration
def test_on_time_rates_kpi_and_report_section(conn: psycopg.Connection) -> None:
    w1, w2 = two_wards()
    leader = add_person(conn, "lan", "leader")
    a1 = add_person(conn, "p1", "ward", w1)
    a2 = add_person(conn, "p2", "ward", w2)
    t0 = datetime(2026, 7, 6, 8, 0, tzinfo=TZ)  # Monday
    ids = [store.create_directive(conn, NewDirective(f"Việc {i}", "…", Priority.NORMAL, 2, (w1, w2)), leader, t0)
           for i in range(2)]  # fmt: skip
    for did in ids:
        for actor, code in ((a1, w1), (a2, w2)):
            store.act(conn, did, Change(Kind.ACKNOWLEDGED, t0 + timedelta(minutes=5), actor.username, recipient=code), actor)
    # Ward 1 reports both on time; ward 2 one on time, one a day late; all accepted.
    for did, late in ((ids[0], False), (ids[1], True)):
        store.act(conn, did, Change(Kind.REPORTED, t0 + timedelta(days=1), "p1", recipient=w1, note="xong"), a1)
        at2 = t0 + timedelta(days=3 if late else 1)
        store.act(conn, did, Change(Kind.REPORTED, at2, "p2", recipient=w2, note="xong"), a2)
        for code in (w1, w2):
            store.act(conn, did, Change(Kind.ACCEPTED, t0 + timedelta(days=4), "lan", recipient=code), leader)
    third = store.create_directive(conn, NewDirective("Chưa đến hạn", "…", Priority.NORMAL, 30, (w1,)), leader, t0)
    now = t0 + timedelta(days=5)
    rates = {r.recipient_code: r for r in on_time_rates(conn, parse_period("2026-Q3"), now)}
    assert (rates[w1].due, rates[w1].on_time, rates[w1].rate) == (2, 2, 1.0)  # the 30-day one is not yet due
    assert (rates[w2].due, rates[w2].on_time, rates[w2].late, rates[w2].rate) == (2, 1, 1, 0.5)
    kpi = on_time_kpi(conn, parse_period("2026-Q3"), now)
    assert kpi.value_percent == pytest.approx(75.0) and [r.recipient_code for r in kpi.ranking] == [w1, w2]
    assert on_time_rates(conn, parse_period("2026-Q2"), now) == []
    rep = section(conn, "2026-Q3", now)
    assert rep.directives_created == 3 and rep.parts_assigned == 5 and rep.parts_accepted == 4
    assert rep.worst[0].recipient_code == w2 and rep.on_time.denominator == 4
    assert third not in {d.directive_id for d in store.directives_about(conn, "kpi", "directives.on_time")}
    about = store.create_directive(conn, NewDirective("Nâng tỷ lệ đúng hạn", "…", Priority.NORMAL, 5, (w2,),
                                                      about_kind="kpi", about_id="directives.on_time"), leader, now)  # fmt: skip
    assert [d.directive_id for d in store.directives_about(conn, "kpi", "directives.on_time")] == [about]
    with pytest.raises(ValueError, match="no KPI"):
        store.create_directive(conn, NewDirective("x", "y", Priority.NORMAL, 5, (w2,), about_kind="kpi",
                                                  about_id="no.such.kpi"), leader, now)  # fmt: skip
    with pytest.raises(ValueError, match="period"):
        parse_period("Q3-2026")
