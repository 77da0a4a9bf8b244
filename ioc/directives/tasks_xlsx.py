"""XLSX import of next year's tasks (the standing office's spreadsheet), validated row by row.

The first sheet's first row holds the headers (Vietnamese, as below; order free). Every data row
is checked before anything is stored; the first bad cell stops the import with a
:class:`XlsxRowError` naming the row number (as Excel shows it) and the column header.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ioc.directives.tasks import QUARTER_RE, Allocation, TaskError, TaskInput

# header -> field; required headers first.
HEADERS: dict[str, str] = {
    "Mã nhiệm vụ": "task_code",
    "Nhóm nhiệm vụ": "group_name",
    "Nội dung nhiệm vụ": "title",
    "Quý bắt đầu": "start_quarter",
    "Quý hoàn thành": "end_quarter",
    "Cơ quan chủ trì": "lead_agencies",
    "Người phụ trách": "person_in_charge",
    "Cơ quan phối hợp": "coordinating",
    "Kết quả dự kiến": "expected_result",
    "Nguồn vốn": "funding_source",
    "Kinh phí (triệu đồng)": "budget_million_vnd",
    "Tình trạng bố trí vốn": "allocation_status",
}
REQUIRED = ("Mã nhiệm vụ", "Nhóm nhiệm vụ", "Nội dung nhiệm vụ", "Quý bắt đầu", "Quý hoàn thành", "Cơ quan chủ trì")
ALLOCATION_WORDS = {
    "": Allocation.UNKNOWN, "chưa xác định": Allocation.UNKNOWN, "chưa bố trí": Allocation.NOT_ALLOCATED,
    "đã bố trí một phần": Allocation.PARTLY_ALLOCATED, "một phần": Allocation.PARTLY_ALLOCATED,
    "đã bố trí đủ": Allocation.ALLOCATED, "đã bố trí": Allocation.ALLOCATED,
}  # fmt: skip
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_Q_VI = re.compile(r"^Quý\s+(IV|III|II|I)\s*/\s*(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class XlsxRowError(ValueError):
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"dòng {self.row}, cột «{self.field}»: {self.message}"


def _quarter(value: Any) -> str:
    text = str(value or "").strip()
    if QUARTER_RE.match(text):
        return text
    m = _Q_VI.match(text)
    if m:
        return f"{m.group(2)}-Q{ {'I': 1, 'II': 2, 'III': 3, 'IV': 4}[m.group(1).upper()] }"
    raise ValueError(f"không phải một quý (ví dụ «Quý III/2027» hoặc «2027-Q3»): {text!r}")


def read_tasks(data: bytes, *, plan_code: str, source: str) -> list[TaskInput]:
    """The tasks of the workbook, or :class:`XlsxRowError` for the first bad cell."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a non-workbook
        raise XlsxRowError(0, "tệp", f"không đọc được tệp XLSX ({type(exc).__name__})") from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    for h in REQUIRED:
        if h not in header:
            raise XlsxRowError(1, h, "thiếu cột bắt buộc")
    col = {h: header.index(h) for h in HEADERS if h in header}
    out: list[TaskInput] = []
    seen: set[str] = set()
    groups: dict[str, str] = {}
    for n, raw in enumerate(rows, start=2):
        if raw is None or all(v is None or str(v).strip() == "" for v in raw):
            continue

        def cell(h: str, raw: tuple[Any, ...] = raw) -> Any:
            i = col.get(h)
            return None if i is None or i >= len(raw) else raw[i]

        def text(h: str, n: int = n) -> str | None:
            v = cell(h)
            s = "" if v is None else str(v).strip()
            if h in REQUIRED and not s:
                raise XlsxRowError(n, h, "bắt buộc, đang để trống")
            return s or None

        code = text("Mã nhiệm vụ") or ""
        if not _CODE.match(code):
            raise XlsxRowError(n, "Mã nhiệm vụ", f"mã không hợp lệ {code!r} (chữ, số, . _ -)")
        if code in seen:
            raise XlsxRowError(n, "Mã nhiệm vụ", f"mã {code!r} trùng với một dòng trên")
        seen.add(code)
        quarters = {}
        for h in ("Quý bắt đầu", "Quý hoàn thành"):
            try:
                quarters[h] = _quarter(cell(h))
            except ValueError as exc:
                raise XlsxRowError(n, h, str(exc)) from None
        if quarters["Quý hoàn thành"] < quarters["Quý bắt đầu"]:
            raise XlsxRowError(n, "Quý hoàn thành", "trước quý bắt đầu")
        budget_raw = cell("Kinh phí (triệu đồng)")
        budget: float | None = None
        if budget_raw not in (None, ""):
            try:
                budget = float(str(budget_raw).replace(".", "").replace(",", ".")) if isinstance(budget_raw, str) else float(budget_raw)
            except ValueError:
                raise XlsxRowError(n, "Kinh phí (triệu đồng)", f"không phải một số: {budget_raw!r}") from None
            if budget < 0:
                raise XlsxRowError(n, "Kinh phí (triệu đồng)", "không được âm")
        alloc_text = (text("Tình trạng bố trí vốn") or "").casefold()
        if alloc_text not in ALLOCATION_WORDS:
            raise XlsxRowError(n, "Tình trạng bố trí vốn",
                               f"một trong {sorted(k for k in ALLOCATION_WORDS if k)}, không phải {alloc_text!r}")  # fmt: skip
        group_name = text("Nhóm nhiệm vụ") or ""
        group_code = groups.setdefault(group_name, str(len(groups) + 1))
        leads = tuple(p.strip() for p in re.split(r"[;\n]", text("Cơ quan chủ trì") or "") if p.strip())
        try:
            out.append(TaskInput(
                task_code=code, plan_code=plan_code, group_code=group_code, group_name=group_name,
                seq=sum(t.group_code == group_code for t in out) + 1, title=text("Nội dung nhiệm vụ") or "",
                source=f"{source}:{n}", person_in_charge=text("Người phụ trách"),
                start_quarter=quarters["Quý bắt đầu"], end_quarter=quarters["Quý hoàn thành"],
                start_text=str(cell("Quý bắt đầu")), end_text=str(cell("Quý hoàn thành")), lead_agencies=leads,
                coordinating=text("Cơ quan phối hợp"), expected_result=text("Kết quả dự kiến"),
                funding_source=text("Nguồn vốn"), budget_million_vnd=budget,
                allocation_status=ALLOCATION_WORDS[alloc_text],
            ))  # fmt: skip
        except TaskError as exc:
            raise XlsxRowError(n, "dòng", str(exc)) from None
    if not out:
        raise XlsxRowError(2, "tệp", "không có dòng nhiệm vụ nào")
    return out
