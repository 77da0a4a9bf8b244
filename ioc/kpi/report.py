"""Periodic reports for the steering committee's standing office: month, quarter, 6 months, year,
as PDF (charts, DejaVu Sans embedded for the Vietnamese diacritics) and XLSX, from the database.

``ioc report --period 2026-Q3 --format pdf|xlsx`` and the button on ``/leader`` both call
:func:`build_report`. Sections: the 766 indicators against their rule (the city), the documents'
targets, the 766 index by unit with ranking and movement, early warnings by class, citizen reports
by unit (received, answered, on time) and directives when they exist. No personal data is read.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from ioc.kpi.i18n import tk
from ioc.kpi.index766 import SPECS, ScoreCard
from ioc.kpi.live import (
    LOCAL,
    Period,
    PeriodIndex,
    monthly_city,
    parse_period,
    period_index,
    read_accumulators,
)
from ioc.kpi.units import unit_name

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
STEPS = 6  # progress: data, 766, warnings, reports, directives, render

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class WarningRow:
    alert_class: str
    raised: int
    severe: int
    still_open: int


@dataclass(frozen=True, slots=True)
class ReportRow:
    admin_unit: str
    received: int
    answered: int
    answered_on_time: int


@dataclass(frozen=True, slots=True)
class DirectiveRow:
    created: int
    closed: int
    assignments: int
    on_time: int


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report shows, read once from the database."""

    period: Period
    generated_at: datetime
    index: PeriodIndex
    months: tuple[tuple[str, ScoreCard], ...]
    warnings: tuple[WarningRow, ...]
    reports: tuple[ReportRow, ...]
    directives: DirectiveRow | None


def _range(period: Period) -> tuple[datetime, datetime]:
    return (datetime.combine(period.start, datetime.min.time(), LOCAL),
            datetime.combine(period.end, datetime.min.time(), LOCAL))  # fmt: skip


def collect(conn: psycopg.Connection, period: Period, now: datetime | None = None,
            progress: Progress | None = None) -> ReportData:  # fmt: skip
    """Read the period's figures (the 766 part with the live code, the rest with plain counts)."""
    step = progress or (lambda _s: None)
    now = now or datetime.now(UTC)
    since = date(period.start.year - 1, 1, 1)
    accs = read_accumulators(conn, since, period.end)
    step("766")
    index = period_index(accs, period, now)
    months = monthly_city(accs, [parse_period(f"{m:%Y-%m}") for m in period.months()], now)
    step("warnings")
    a, b = _range(period)
    warnings = tuple(WarningRow(*r) for r in conn.execute(
        "SELECT alert_class, count(*), count(*) FILTER (WHERE severity IN ('severe', 'extreme')),"
        " count(*) FILTER (WHERE state <> 'resolved') FROM alerts WHERE created_at >= %s AND created_at < %s"
        " GROUP BY alert_class ORDER BY alert_class", (a, b)).fetchall())  # fmt: skip
    step("reports")
    reports = tuple(ReportRow(*r) for r in conn.execute(
        "SELECT coalesce(admin_unit, '—'), count(*), count(first_answered_at),"
        " count(*) FILTER (WHERE first_answered_at <= deadline) FROM tickets"
        " WHERE received_at >= %s AND received_at < %s AND merged_into IS NULL GROUP BY 1 ORDER BY 2 DESC, 1",
        (a, b)).fetchall())  # fmt: skip
    step("directives")
    d = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE closed),"
        " (SELECT count(*) FROM directive_assignments x JOIN directives y USING (directive_id)"
        "  WHERE y.created_at >= %(a)s AND y.created_at < %(b)s),"
        " (SELECT count(*) FROM directive_assignments x JOIN directives y USING (directive_id)"
        "  WHERE y.created_at >= %(a)s AND y.created_at < %(b)s AND x.on_time)"
        " FROM directives WHERE created_at >= %(a)s AND created_at < %(b)s", {"a": a, "b": b}).fetchone()
    directives = DirectiveRow(*d) if d and d[0] else None
    return ReportData(period, now, index, months, warnings, reports, directives)


def _pct(v: Any) -> str:
    return "—" if v is None else f"{float(v) * 100:.2f} %"


def _rate(n: int, d: int) -> float | None:
    return None if d == 0 else n / d


# ---------------------------------------------------------------------------------------------
# Tables (shared by the PDF and the XLSX: the same rows, so both say the same numbers)


def indicator_rows(card: ScoreCard, lang: str) -> list[list[Any]]:
    return [[s.id, SPECS[s.id].name_en if lang == "en" else SPECS[s.id].name_vi, s.numerator, s.denominator,
             None if s.ratio is None else float(s.ratio), float(s.points), SPECS[s.id].max_points]
            for s in card.indicators]  # fmt: skip


def unit_rows(data: ReportData, lang: str) -> list[list[Any]]:
    return [[u.rank, u.unit, unit_name(u.unit, lang), u.card.dossiers, float(u.card.total), u.movement,
             *(None if s.ratio is None else float(s.ratio) for s in u.card.indicators)]
            for u in data.index.units]  # fmt: skip


def _headers(lang: str) -> dict[str, list[str]]:
    vi = lang != "en"
    return {
        "indicators": ["Mã", "Chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ", "Điểm", "Tối đa"] if vi else
                      ["Id", "Indicator", "Numerator", "Denominator", "Ratio", "Points", "Max"],
        "units": (["Hạng", "Mã", "Đơn vị", "Hồ sơ", "Điểm 766", "Thay đổi"] if vi else
                  ["Rank", "Code", "Unit", "Dossiers", "766 points", "Movement"]) + [s for s in SPECS],
        "warnings": ["Loại cảnh báo", "Phát sinh", "Nghiêm trọng", "Chưa xử lý xong"] if vi else
                    ["Warning class", "Raised", "Severe", "Not resolved"],
        "reports": ["Đơn vị", "Tiếp nhận", "Đã trả lời", "Trả lời đúng hạn", "Tỷ lệ đúng hạn"] if vi else
                   ["Unit", "Received", "Answered", "Answered on time", "On-time rate"],
        "directives": ["Chỉ đạo mới", "Đã kết thúc", "Lượt giao", "Hoàn thành đúng hạn"] if vi else
                      ["New directives", "Closed", "Assignments", "Done on time"],
    }  # fmt: skip


def _titles(lang: str, period: str) -> dict[str, str]:
    vi = lang != "en"
    return {
        "title": f"Báo cáo chỉ số điều hành – kỳ {period}" if vi else f"Leaders' KPI report – period {period}",
        "sub": "Ban Chỉ đạo chuyển đổi số thành phố Hải Phòng – Cơ quan thường trực" if vi else
               "Hải Phòng digital-transformation steering committee – standing office",
        "indicators": "1. Chỉ số 766 của thành phố theo từng chỉ tiêu" if vi else "1. The city's 766 indicators",
        "units": "2. Chỉ số 766 theo đơn vị, xếp hạng" if vi else "2. The 766 index by unit, ranked",
        "chart": "Điểm 766 theo tháng (thành phố)" if vi else "766 points by month (city)",
        "chart_units": "5 đơn vị cao nhất và 5 đơn vị thấp nhất" if vi else "Top 5 and bottom 5 units",
        "warnings": "3. Cảnh báo sớm theo loại" if vi else "3. Early warnings by class",
        "reports": "4. Phản ánh hiện trường theo đơn vị" if vi else "4. Citizen reports by unit",
        "directives": "5. Chỉ đạo, điều hành" if vi else "5. Directives",
        "none": "Không có số liệu trong kỳ." if vi else "No data in the period.",
        "total": "Tổng điểm (phần tính được)" if vi else "Total (computable part)",
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------
# PDF


def _font_path(name: str) -> Path:
    for d in FONT_DIRS:
        p = d / name
        if p.is_file():
            return p
    raise FileNotFoundError(f"font {name} not found in {[str(d) for d in FONT_DIRS]}: install fonts-dejavu-core")


def render_pdf(data: ReportData, lang: str = "vi") -> bytes:
    from fpdf import FPDF

    h, ti = _headers(lang), _titles(lang, data.period.label)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(_font_path("DejaVuSans.ttf")))
    pdf.add_font("DejaVu", "B", str(_font_path("DejaVuSans-Bold.ttf")))
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, ti["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    gen = data.generated_at.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")
    pdf.multi_cell(0, 5, f"{ti['sub']} · {gen} · {tk('source', lang)}", new_x="LMARGIN", new_y="NEXT")
    city = data.index.city

    def table(header: list[str], rows: list[list[Any]], widths: list[float]) -> None:
        pdf.set_font("DejaVu", "B", 7.5)
        for w, text in zip(widths, header, strict=True):
            pdf.cell(w, 6, str(text)[:40], border=1)
        pdf.ln()
        pdf.set_font("DejaVu", "", 7.5)
        for row in rows:
            for w, v in zip(widths, row, strict=True):
                text = _cell(v)
                while pdf.get_string_width(text) > w - 1 and len(text) > 3:
                    text = text[:-2] + "…"
                pdf.cell(w, 5.5, text, border=1)
            pdf.ln()

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    heading(ti["indicators"])
    table(h["indicators"], [[i, n, num, den, "—" if r is None else f"{r:.4f}", f"{p:.2f}", m]
                            for i, n, num, den, r, p, m in indicator_rows(city, lang)], [10, 88, 20, 20, 18, 16, 14])
    pdf.set_font("DejaVu", "B", 9)
    what = "hồ sơ" if lang != "en" else "dossiers"
    pdf.multi_cell(0, 6, f"{ti['total']}: {float(city.total):.2f} / {city.max} · {city.dossiers} {what}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4.5, tk("band.note", lang, max=city.max), new_x="LMARGIN", new_y="NEXT")
    heading(ti["chart"])
    _bars(pdf, [(m, float(c.total)) for m, c in data.months], city.max)
    if data.index.units:
        heading(ti["chart_units"])
        ends = list(data.index.units[:5]) + [u for u in data.index.units[-5:] if u not in data.index.units[:5]]
        _bars(pdf, [(unit_name(u.unit, lang)[:22], float(u.card.total)) for u in ends], city.max, horizontal=True)
    heading(ti["units"])
    unit_widths = [10, 14, 46, 14, 16, 14] + [9.5] * len(SPECS)
    table(h["units"], [[*r[:4], f"{r[4]:.2f}", r[5], *("—" if v is None else f"{v * 100:.1f}" for v in r[6:])]
                       for r in unit_rows(data, lang)], unit_widths)  # fmt: skip
    heading(ti["warnings"])
    if data.warnings:
        table(h["warnings"], [[w.alert_class, w.raised, w.severe, w.still_open] for w in data.warnings], [60, 30, 30, 40])
    else:
        pdf.multi_cell(0, 6, ti["none"], new_x="LMARGIN", new_y="NEXT")
    heading(ti["reports"])
    if data.reports:
        table(h["reports"], [[r.admin_unit, r.received, r.answered, r.answered_on_time,
                              _rate(r.answered_on_time, r.answered)] for r in data.reports], [70, 25, 25, 30, 30])  # fmt: skip
    else:
        pdf.multi_cell(0, 6, ti["none"], new_x="LMARGIN", new_y="NEXT")
    heading(ti["directives"])
    if data.directives:
        d = data.directives
        table(h["directives"], [[d.created, d.closed, d.assignments, d.on_time]], [40, 40, 40, 50])
    else:
        pdf.multi_cell(0, 6, ti["none"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4f}" if 0 <= v <= 1 and not v.is_integer() else f"{v:.2f}"
    return str(v)


def _bars(pdf: Any, items: list[tuple[str, float]], top: float, horizontal: bool = False) -> None:
    """A bar chart drawn with the PDF's own primitives (no image library)."""
    if not items:
        return
    x0, y0 = pdf.get_x() + 2, pdf.get_y() + 2
    pdf.set_font("DejaVu", "", 7)
    if horizontal:
        for i, (label, v) in enumerate(items):
            y = y0 + i * 6
            pdf.set_xy(x0, y)
            pdf.cell(42, 5, label)
            pdf.set_fill_color(*((46, 125, 50) if v >= 45 else (239, 108, 0) if v >= 40 else (198, 40, 40)))
            pdf.rect(x0 + 44, y + 0.5, max(0.5, 110 * v / top), 4, style="F")
            pdf.set_xy(x0 + 46 + 110 * v / top, y)
            pdf.cell(15, 5, f"{v:.2f}")
        pdf.set_xy(pdf.l_margin, y0 + len(items) * 6 + 2)
        return
    height, width = 40, min(14.0, 170 / len(items))
    pdf.set_draw_color(120, 120, 120)
    pdf.line(x0, y0 + height, x0 + width * len(items), y0 + height)
    for i, (label, v) in enumerate(items):
        bh = height * v / top
        pdf.set_fill_color(30, 90, 160)
        pdf.rect(x0 + i * width + 1, y0 + height - bh, width - 2, bh, style="F")
        pdf.set_xy(x0 + i * width, y0 + height - bh - 4)
        pdf.cell(width, 4, f"{v:.1f}", align="C")
        pdf.set_xy(x0 + i * width, y0 + height + 1)
        pdf.cell(width, 4, label[-5:], align="C")
    pdf.set_xy(pdf.l_margin, y0 + height + 7)


# ---------------------------------------------------------------------------------------------
# XLSX


def render_xlsx(data: ReportData, lang: str = "vi") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    h, ti = _headers(lang), _titles(lang, data.period.label)
    wb = Workbook()
    sheets = [
        ("766", ti["indicators"], h["indicators"], indicator_rows(data.index.city, lang)
         + [[None, ti["total"], None, None, None, float(data.index.city.total), data.index.city.max]]),
        ("don_vi" if lang != "en" else "units", ti["units"], h["units"], unit_rows(data, lang)),
        ("canh_bao" if lang != "en" else "warnings", ti["warnings"], h["warnings"],
         [[w.alert_class, w.raised, w.severe, w.still_open] for w in data.warnings]),
        ("phan_anh" if lang != "en" else "reports", ti["reports"], h["reports"],
         [[r.admin_unit, r.received, r.answered, r.answered_on_time, _rate(r.answered_on_time, r.answered)]
          for r in data.reports]),
        ("chi_dao" if lang != "en" else "directives", ti["directives"], h["directives"],
         [[d.created, d.closed, d.assignments, d.on_time] for d in ([data.directives] if data.directives else [])]),
    ]  # fmt: skip
    first = True
    for name, title, header, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        ws.append([f"{ti['title']} – {title}"])
        ws["A1"].font = Font(bold=True)
        ws.append(header)
        for c in ws[2]:
            c.font = Font(bold=True)
        for r in rows:
            ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def build_report(dsn: str, period: str, fmt: str, *, lang: str = "vi", now: datetime | None = None,
                 progress: Progress | None = None) -> tuple[bytes, str]:  # fmt: skip
    """The report of ``period`` (``2026-Q3``, ``2026-11``, ``2026-H2``, ``2026``) as (bytes, file name)."""
    if fmt not in ("pdf", "xlsx"):
        raise ValueError(f"format must be pdf or xlsx, got {fmt!r}")
    p = parse_period(period)
    with psycopg.connect(dsn) as conn:
        if progress:
            progress("data")
        data = collect(conn, p, now, progress)
    body = render_pdf(data, lang) if fmt == "pdf" else render_xlsx(data, lang)
    if progress:
        progress("render")
    return body, f"bao-cao-chi-so-{p.label}.{fmt}"
