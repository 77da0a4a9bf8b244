"""Parse the task appendix of KH 40/KH-UBND (13/02/2023) at run time, from the document itself.

The appendix (``## PHỤ LỤC`` in ``2023-02-13_KH-40-UBND_chu-de-nam-2023.txt``) is a tab-separated
table: ``TT | Nội dung nhiệm vụ | Bắt đầu | Hoàn thành | Nguồn vốn | Cơ quan chủ trì | Cơ quan phối
hợp``. Sections are Roman-numbered rows in bold (``<b>III</b>``), sub-groups are bold rows without a
number, and each task row is numbered 1, 2, … within its section. The count each section *states*
is its highest number, read by a plain scan of the lines that start with a number; the parser
reads the rows cell by cell, and :meth:`Appendix.check` compares the two per section (the importer
refuses a mismatch), so the task codes ``KH40-2023.<section>.<TT>`` stay the document's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCUMENT = "2023-02-13_KH-40-UBND_chu-de-nam-2023.txt"
PLAN_CODE = "KH40-2023"
_BOLD = re.compile(r"</?b>")
_ROMAN = re.compile(r"^[IVX]+$")
_QUARTER = re.compile(r"Quý\s+(IV|III|II|I)\s*/\s*(\d{4})")
_YEAR = re.compile(r"(?:Năm|năm)\s+(\d{4})")
_ROMAN_Q = {"I": 1, "II": 2, "III": 3, "IV": 4}
# A comma starts a new agency only before a unit's name ("Sở …", "Ủy ban …", "các Ban …"), so that
# "Ủy ban nhân dân các quận, huyện" stays one agency.
_SPLIT = re.compile(r"\s*;\s*|,\s*(?=(?:Sở|Ủy ban|UBND|Công an|Ban|Văn phòng|Ngân hàng|[Cc]ác\s+(?:Sở|Ban|Trạm|cơ sở))\b)")


class AppendixError(ValueError):
    """The appendix does not read as expected (the message names the line)."""


@dataclass(frozen=True, slots=True)
class PlanTask:
    task_code: str
    group_code: str
    group_name: str
    subgroup_name: str | None
    seq: int
    title: str
    start_text: str | None
    end_text: str | None
    start_quarter: str | None
    end_quarter: str | None
    funding_source: str | None
    lead_agencies: tuple[str, ...]
    coordinating: str | None
    line: int  # 1-based line in the document


@dataclass(frozen=True, slots=True)
class Appendix:
    tasks: tuple[PlanTask, ...]
    stated: tuple[tuple[str, str, int], ...]  # (section, its name, the highest number it prints)

    def section(self, code: str) -> tuple[PlanTask, ...]:
        return tuple(t for t in self.tasks if t.group_code == code)

    def check(self) -> list[str]:
        """Sections whose parsed rows differ from what the document states (empty: all agree)."""
        out = []
        for code, name, n in self.stated:
            got = [t.seq for t in self.section(code)]
            if got != list(range(1, n + 1)):
                out.append(f"section {code} ({name}): the document numbers 1..{n}, parsed {len(got)} rows {got}")
        return out

    def stated_count(self, code: str) -> int:
        for c, _, n in self.stated:
            if c == code:
                return n
        raise KeyError(code)


def quarter(text: str | None, *, end: bool) -> str | None:
    """``Quý IV /2023 …`` → ``2023-Q4``; ``Năm 2025`` / ``Trong năm 2023`` → Q1 (start) or Q4 (end)."""
    if not text:
        return None
    m = _QUARTER.search(text)
    if m:
        return f"{m.group(2)}-Q{_ROMAN_Q[m.group(1)]}"
    m = _YEAR.search(text)
    if m:
        return f"{m.group(1)}-Q{4 if end else 1}"
    return None  # e.g. "Sau khi Quy hoạch chung được duyệt": kept as written, no date


def split_agencies(text: str) -> tuple[str, ...]:
    cleaned = text.strip().lstrip("-").strip()
    return tuple(p.strip().rstrip(".") for p in _SPLIT.split(cleaned) if p and p.strip())


def _clean(cell: str) -> str | None:
    v = " ".join(_BOLD.sub("", cell).split())
    return v or None


def parse_text(text: str) -> Appendix:
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip().upper().startswith("## PHỤ LỤC"))
    except StopIteration:
        raise AppendixError("no '## PHỤ LỤC' heading in the document") from None
    tasks: list[PlanTask] = []
    stated: list[tuple[str, str, int]] = []
    section: tuple[str, str] | None = None
    sub: str | None = None
    highest = 0
    numbered = re.compile(r"^\s*(\d+)\t")
    for i in range(start + 1, len(lines)):
        m = numbered.match(lines[i])
        if m and section is not None:
            highest = max(highest, int(m.group(1)))  # what the document states, read apart from the cells
        cells = lines[i].split("\t")
        if len(cells) < 2:
            continue
        head = _clean(cells[0]) or ""
        if _ROMAN.match(head) and "<b>" in cells[0]:
            if section is not None:
                stated.append((section[0], section[1], highest))
            section, sub, highest = (head, _clean(cells[1]) or head), None, 0
            continue
        if section is None:
            continue  # the header rows
        if not head and "<b>" in cells[1]:
            sub = _clean(cells[1])
            continue
        if not head.isdigit() or not _clean(cells[1]):
            continue
        n = int(head)
        cells += [""] * (7 - len(cells))
        start_text, end_text = _clean(cells[2]), _clean(cells[3])
        sq = quarter(start_text, end=False)
        # A row with only a start quarter ("Quý I/2023", end blank) is due in that quarter.
        eq = quarter(end_text, end=True) or (quarter(start_text, end=True) if start_text and _QUARTER.search(start_text) else None)
        tasks.append(PlanTask(
            task_code=f"{PLAN_CODE}.{section[0]}.{n}", group_code=section[0], group_name=section[1],
            subgroup_name=sub, seq=n, title=_clean(cells[1]) or "", start_text=start_text, end_text=end_text,
            start_quarter=sq, end_quarter=eq, funding_source=_clean(cells[4]),
            lead_agencies=split_agencies(_clean(cells[5]) or ""), coordinating=_clean(cells[6]), line=i + 1,
        ))  # fmt: skip
    if section is None:
        raise AppendixError("the appendix has no numbered section")
    stated.append((section[0], section[1], highest))
    return Appendix(tuple(tasks), tuple(stated))


def parse(path: Path) -> Appendix:
    """The appendix of the document at ``path`` (``<shared data>/documents/`` + :data:`DOCUMENT`)."""
    return parse_text(path.read_text(encoding="utf-8"))
