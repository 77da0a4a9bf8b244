"""KPI figures entered by hand: indicators with no live feed get newer values than the documents'.

The documents' figures stay as they are (:mod:`ioc.kpi.seed`, read from the seed file); an entry is a
new row of ``kpi_figures`` (``ioc/schema/081_kpi_figures.sql``), never an overwrite, and is audited in
the same transaction. What the cockpit shows for an indicator is its latest figure, document or hand
(:func:`current_figures`): the latest ``as_of`` wins, ties go to the later entry (an entry is later
than any document). The admin page (``/admin/figures``) and ``ioc kpi figure set`` both call
:func:`record_figure`; refusals are :class:`FigureError`, with a message in Vietnamese and English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

import psycopg

from ioc.access import Principal, Role
from ioc.audit import audit
from ioc.kpi.catalogue import DOCUMENT, Catalogue, Kpi, Unit, load_catalogue
from ioc.kpi.live import LOCAL
from ioc.kpi.seed import KpiValue

EARLIEST = date(2015, 1, 1)
SOURCE_MAX = 300
NOTE_MAX = 1000
AUTHOR_MAX = 64
HISTORY = 200  # entries shown on the admin page and read by the snapshot part
# Upper bounds per unit (the lower bound is 0 for all): a figure beyond is a typing error.
_MAX: dict[Unit, Decimal] = {Unit.PERCENT: Decimal(100), Unit.POINTS: Decimal(100), Unit.COUNT: Decimal(10) ** 12,
                             Unit.MBPS: Decimal(100_000)}  # fmt: skip
AUDIT_ACTION = "kpi.figure_recorded"
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


class FigureError(ValueError):
    """A refused entry: ``code`` names the rule; the messages are for people (no values echoed)."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.message_vi, self.message_en = code, message_vi, message_en

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi


@dataclass(frozen=True, slots=True)
class Figure:
    """One entry by hand."""

    id: int
    kpi_id: str
    value: Decimal
    as_of: date
    source: str
    note: str | None
    entered_by: str
    entered_at: datetime


@dataclass(frozen=True, slots=True)
class CurrentFigure:
    """The figure an indicator shows now: from a document (``entered_by`` None) or by hand."""

    kpi_id: str
    value: Decimal
    as_of: date
    source: str
    kind: Literal["document", "hand"]
    note: str | None = None
    entered_by: str | None = None
    entered_at: datetime | None = None


def hand_kpis(catalogue: Catalogue | None = None) -> tuple[Kpi, ...]:
    """The indicators with no live feed: their values come from documents, or by hand."""
    return tuple(k for k in (catalogue or load_catalogue()).kpis if k.source == DOCUMENT)


def _kpi(catalogue: Catalogue, indicator: str) -> Kpi:
    try:
        k = catalogue.get((indicator or "").strip())
    except KeyError:
        raise FigureError("unknown", "Không có chỉ tiêu này trong danh mục.",
                          "There is no such indicator in the catalogue.") from None  # fmt: skip
    if k.source != DOCUMENT:
        raise FigureError(
            "live", f"Chỉ tiêu «{k.name_vi}» lấy số liệu trực tiếp ({k.source}), không nhập tay.",
            f"Indicator “{k.name_en}” has a live feed ({k.source}); its values are not entered by hand.",
        )  # fmt: skip
    return k


def parse_value(kpi: Kpi, raw: object) -> Decimal:
    """The value in the indicator's unit: 0–100 for a percentage or points, a whole number ≥ 0 for a
    count, ≥ 0 for a speed; written the Vietnamese way too (``27,9``; ``2.224`` for a count)."""
    if isinstance(raw, bool):
        raw = None
    text = str(raw).strip().replace(" ", "").replace("\u00a0", "") if raw is not None else ""
    if kpi.unit is Unit.COUNT and _GROUPED.fullmatch(text):
        text = re.sub(r"[.,]", "", text)  # 2.224 (Vietnamese) or 2,224: thousands, for a count
    elif "," in text and "." in text:  # 1.234,5 or 1,234.5: the last separator is the decimal one
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise FigureError("value", "Giá trị phải là một số.", "The value must be a number.")
    high = _MAX[kpi.unit]
    if kpi.unit is Unit.COUNT and value != value.to_integral_value():
        raise FigureError("value", "Chỉ tiêu đếm số lượng: giá trị phải là số nguyên.",
                          "A count: the value must be a whole number.")  # fmt: skip
    if not Decimal(0) <= value <= high:
        unit_vi = {Unit.PERCENT: "%", Unit.POINTS: " điểm", Unit.COUNT: "", Unit.MBPS: " Mbps"}[kpi.unit]
        unit_en = {Unit.PERCENT: "%", Unit.POINTS: " points", Unit.COUNT: "", Unit.MBPS: " Mbps"}[kpi.unit]
        raise FigureError("range", f"Giá trị phải từ 0 đến {high:,.0f}{unit_vi}.".replace(",", "."),
                          f"The value must be between 0 and {high:,.0f}{unit_en}.")  # fmt: skip
    return value.normalize() if kpi.unit is not Unit.COUNT else value.to_integral_value()


def parse_as_of(raw: object, today: date) -> date:
    """A date from 2015 up to today (Vietnam time); ISO ``YYYY-MM-DD`` or ``DD/MM/YYYY``."""
    if isinstance(raw, datetime):
        d: date | None = raw.astimezone(LOCAL).date() if raw.tzinfo else raw.date()
    elif isinstance(raw, date):
        d = raw
    else:
        text, d = str(raw or "").strip(), None
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                d = datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
                break
            except ValueError:
                continue
    if d is None:
        raise FigureError("as_of", "Ngày số liệu không hợp lệ (năm-tháng-ngày).",
                          "The as-of date is not valid (year-month-day).")  # fmt: skip
    if d > today:
        raise FigureError("future", "Ngày số liệu không được ở tương lai.", "The as-of date cannot be in the future.")
    if d < EARLIEST:
        raise FigureError("early", "Ngày số liệu không được trước năm 2015.", "The as-of date cannot be before 2015.")
    return d


def _source(raw: object) -> str:
    text = " ".join(str(raw or "").split())
    if not text:
        raise FigureError("source", "Cần ghi nguồn số liệu (tên văn bản hoặc địa chỉ trang).",
                          "A source is required (a document name or a URL).")  # fmt: skip
    if len(text) > SOURCE_MAX:
        raise FigureError("source_long", f"Nguồn số liệu dài quá {SOURCE_MAX} ký tự.",
                          f"The source is longer than {SOURCE_MAX} characters.")  # fmt: skip
    return text


def _author(principal: Principal | str) -> str:
    if isinstance(principal, Principal):
        if principal.role is not Role.ADMIN:
            raise FigureError("forbidden", "Chỉ quản trị hệ thống được nhập số liệu.",
                              "Only a system administrator may enter figures.")  # fmt: skip
        return principal.username
    name = " ".join(str(principal or "").split())
    if not name or len(name) > AUTHOR_MAX:
        raise FigureError("author", "Cần tên người nhập (tối đa 64 ký tự).",
                          "The name of the person entering is required (at most 64 characters).")  # fmt: skip
    return name


_COLUMNS = "id, kpi_id, value, as_of, source, note, entered_by, entered_at"


def record_figure(
    conn: psycopg.Connection,
    principal: Principal | str,
    indicator: str,
    value: object,
    as_of: object,
    source: object,
    note: object = None,
    *,
    catalogue: Catalogue | None = None,
    now: datetime | None = None,
) -> Figure:
    """Validate and store one entry with its audit row, in one transaction.

    ``principal``: the web user (must be an administrator), or the author's name given to the CLI.
    Raises :class:`FigureError` (nothing written) when a rule refuses the entry."""
    author = _author(principal)
    kpi = _kpi(catalogue or load_catalogue(), indicator)
    v = parse_value(kpi, value)
    d = parse_as_of(as_of, (now or datetime.now(UTC)).astimezone(LOCAL).date())
    src = _source(source)
    note_text = " ".join(str(note).split()) if note is not None else ""
    if len(note_text) > NOTE_MAX:
        raise FigureError("note_long", f"Ghi chú dài quá {NOTE_MAX} ký tự.", f"The note is longer than {NOTE_MAX} characters.")
    with conn.transaction():
        row = conn.execute(
            f"INSERT INTO kpi_figures (kpi_id, value, as_of, source, note, entered_by) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608 - fixed column list
            f" RETURNING {_COLUMNS}",
            (kpi.id, v, d, src, note_text or None, author),
        ).fetchone()
        assert row is not None  # noqa: S101 - INSERT … RETURNING returns the row
        fig = Figure(*row)
        audit(conn, author, AUDIT_ACTION, kpi.id, {"figure_id": fig.id, "value": str(v), "unit": kpi.unit.value,
                                                   "as_of": d.isoformat(), "source": src, "note": note_text or None})  # fmt: skip
    return fig


_HISTORY = f"SELECT {_COLUMNS} FROM kpi_figures ORDER BY entered_at DESC, id DESC LIMIT %s"  # noqa: S608


def list_figures(conn: psycopg.Connection, limit: int = HISTORY) -> tuple[Figure, ...]:
    """The latest entries, newest first (one statement)."""
    return tuple(Figure(*r) for r in conn.execute(_HISTORY, (limit,)).fetchall())


_LATEST = (
    f"SELECT DISTINCT ON (kpi_id) {_COLUMNS} FROM kpi_figures"  # noqa: S608 - fixed column list
    " ORDER BY kpi_id, as_of DESC, entered_at DESC, id DESC"
)


def latest_entries(conn: psycopg.Connection) -> tuple[Figure, ...]:
    """Each indicator's latest entry by hand (one statement)."""
    return tuple(Figure(*r) for r in conn.execute(_LATEST).fetchall())


def _rank_key(f: CurrentFigure) -> tuple[date, int, datetime, int]:
    # A hand entry beats a document figure of the same date: it was entered knowing the document.
    return (f.as_of, 1 if f.kind == "hand" else 0, f.entered_at or datetime.min.replace(tzinfo=UTC), 0)


def current_figures(documents: Iterable[KpiValue], entries: Iterable[Figure]) -> dict[str, CurrentFigure]:
    """Each indicator's figure to show: the latest ``as_of`` of the documents' actual figures (dated
    by the end of their period) and the entries; on the same date an entry wins, the later first."""
    best: dict[str, CurrentFigure] = {}
    candidates: list[CurrentFigure] = [
        CurrentFigure(v.kpi_id, v.value, v.period_end, v.source_document, "document", v.definition_note)
        for v in documents if v.kind == "actual"
    ]  # fmt: skip
    candidates += [CurrentFigure(e.kpi_id, e.value, e.as_of, e.source, "hand", e.note, e.entered_by, e.entered_at)
                   for e in entries]  # fmt: skip
    for c in candidates:
        old = best.get(c.kpi_id)
        if old is None or _rank_key(c) > _rank_key(old):
            best[c.kpi_id] = c
    return best


def document_values() -> Sequence[KpiValue]:
    """The documents' figures (empty when the shared seed file is absent or unreadable)."""
    from ioc.kpi.seed import load_seed_values

    try:
        return load_seed_values().values
    except (OSError, ValueError):
        return ()
