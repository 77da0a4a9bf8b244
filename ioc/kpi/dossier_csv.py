"""Section 8's dossier CSV: read, validate every row, and feed the 766 accumulators.

Rows are numbered from 1 for the first *data* row (the header is not a row); every message gives
that row number and, beside it, the line of the file where the row starts (they differ when a
quoted field spans lines). Blank lines are skipped and are not rows. Values are taken exactly as
written: ``true``/``false`` only, no surrounding spaces, integers as plain digits, timestamps in
ISO 8601 with a UTC offset (``Z`` or ``+07:00``). Columns may come in any order; extra columns
are ignored.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from ioc.kpi.index766 import Channel, DossierRecord, Index766Book, Index766Result, Rating

COLUMNS: tuple[str, ...] = (
    "dossier_id", "unit", "channel", "eligible_full_online", "full_online", "received_at", "due_at",
    "completed_at", "supplement_requests", "fee_vnd", "paid_online", "e_result", "digitised",
    "reused_data", "rating", "complained",
)  # fmt: skip
_BOOLEANS = {"true": True, "false": False}
_CHANNELS = {c.value: c for c in Channel}
_RATINGS = {r.value: r for r in Rating}
_INTEGER = re.compile(r"-?[0-9]+")
MAX_REPORTED_ERRORS = 100  # enough to fix a file; a broken export would otherwise flood stderr


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused value: data row (None for the header), file line, column, and why."""

    row: int | None
    line: int
    field: str
    message_vi: str
    message_en: str

    def text(self, lang: str = "vi") -> str:
        if lang == "en":
            where = "header" if self.row is None else f"row {self.row}"
            return f"{where} (line {self.line}), field '{self.field}': {self.message_en}"
        where = "dòng tiêu đề" if self.row is None else f"hàng {self.row}"
        return f"{where} (dòng {self.line} của tệp), cột '{self.field}': {self.message_vi}"


class DossierCsvError(ValueError):
    """The file was refused; ``errors`` names each bad row and field (at most MAX_REPORTED_ERRORS)."""

    def __init__(self, errors: Iterable[RowError], more: int = 0) -> None:
        self.errors = tuple(errors)
        self.more = more
        first = self.errors[0].text("en") if self.errors else "invalid file"
        super().__init__(f"{len(self.errors) + more} invalid value(s); first: {first}")


class _Row:
    """Parses the fields of one row, collecting every error instead of stopping at the first."""

    def __init__(self, values: dict[str, str], row: int, line: int) -> None:
        self.values, self.row, self.line = values, row, line
        self.errors: list[RowError] = []

    def fail(self, name: str, vi: str, en: str) -> None:
        self.errors.append(RowError(self.row, self.line, name, vi, en))

    def text(self, name: str) -> str | None:
        v = self.values[name]
        if v == "":
            self.fail(name, "thiếu giá trị", "missing value")
            return None
        return v

    def boolean(self, name: str) -> bool:
        v = self.values[name]
        if v not in _BOOLEANS:
            self.fail(name, f"giá trị {v!r} không phải true hoặc false", f"{v!r} is not true or false")
            return False
        return _BOOLEANS[v]

    def integer(self, name: str) -> int:
        v = self.values[name]
        if not _INTEGER.fullmatch(v):
            self.fail(name, f"{v!r} không phải số nguyên", f"{v!r} is not an integer")
            return 0
        n = int(v)
        if n < 0:
            self.fail(name, f"số âm {n} (phải ≥ 0)", f"negative number {n} (must be ≥ 0)")
            return 0
        return n

    def timestamp(self, name: str, *, optional: bool = False) -> datetime | None:
        v = self.values[name]
        if v == "":
            if not optional:
                self.fail(name, "thiếu thời điểm", "missing timestamp")
            return None
        try:
            return parse_timestamp(v)
        except TimestampError as exc:
            self.fail(name, exc.message_vi, exc.message_en)
            return None


class TimestampError(ValueError):
    """A timestamp that is not ISO 8601 or has no UTC offset (message in both languages)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        self.message_vi, self.message_en = message_vi, message_en
        super().__init__(message_en)


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 instant with a UTC offset (``Z`` or ``±HH:MM``); :class:`TimestampError` otherwise.

    An instant without offset is refused rather than assumed local: a wrong guess shifts every
    deadline by hours.
    """
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise TimestampError(
            f"{value!r} không phải thời điểm ISO 8601", f"{value!r} is not an ISO 8601 timestamp"
        ) from None
    if dt.utcoffset() is None:
        raise TimestampError(
            f"{value!r} thiếu múi giờ (ví dụ +07:00)", f"{value!r} has no UTC offset (write e.g. +07:00)"
        )
    return dt


def _record(r: _Row) -> DossierRecord | None:
    dossier_id = r.text("dossier_id")
    unit = r.text("unit")
    channel_text = r.values["channel"]
    channel = _CHANNELS.get(channel_text)
    if channel is None:
        r.fail("channel", f"kênh nộp {channel_text!r} không hợp lệ (online, counter, post)",
               f"unknown channel {channel_text!r} (expected online, counter or post)")  # fmt: skip
    eligible, full = r.boolean("eligible_full_online"), r.boolean("full_online")
    received, due = r.timestamp("received_at"), r.timestamp("due_at")
    completed = r.timestamp("completed_at", optional=True)
    supplements, fee = r.integer("supplement_requests"), r.integer("fee_vnd")
    paid, e_result = r.boolean("paid_online"), r.boolean("e_result")
    digitised, reused = r.boolean("digitised"), r.boolean("reused_data")
    rating_text = r.values["rating"]
    rating = _RATINGS.get(rating_text)
    if rating_text and rating is None:
        r.fail("rating", f"đánh giá {rating_text!r} không hợp lệ (satisfied, unsatisfied hoặc để trống)",
               f"unknown rating {rating_text!r} (expected satisfied, unsatisfied or empty)")  # fmt: skip
    complained = r.boolean("complained")
    if completed is not None and received is not None and completed < received:
        r.fail("completed_at", "hoàn thành trước khi tiếp nhận (completed_at < received_at)",
               "completed before it was received (completed_at < received_at)")  # fmt: skip
    if r.errors:
        return None
    assert dossier_id and unit and channel and received and due  # all checked above
    return DossierRecord(
        dossier_id, unit, channel, eligible, full, received, due, completed, supplements, fee,
        paid, e_result, digitised, reused, rating, complained,
    )  # fmt: skip


def iter_rows(f: TextIO) -> Iterator[DossierRecord | RowError]:
    """Each valid row as a record, each refused value as a :class:`RowError`, in file order.

    Duplicate ids are reported on the later row. Header problems stop the reading.
    """
    reader = csv.reader(f)
    try:
        header = next(reader)
    except StopIteration:
        yield RowError(None, 1, "dossier_id", "tệp rỗng, thiếu dòng tiêu đề", "empty file: no header line")
        return
    names = [h.strip() for h in header]
    position: dict[str, int] = {}
    header_ok = True
    for i, name in enumerate(names):
        if name in position:
            header_ok = False
            yield RowError(None, 1, name, "cột bị lặp trong tiêu đề", "column appears twice in the header")
        position.setdefault(name, i)
    for name in COLUMNS:
        if name not in position:
            header_ok = False
            yield RowError(None, 1, name, "thiếu cột trong tiêu đề", "missing column in the header")
    if not header_ok:
        return
    seen: dict[str, int] = {}
    row_no = 0
    last_line = reader.line_num
    for fields in reader:
        start_line, last_line = last_line + 1, reader.line_num
        if not fields or fields == [""]:
            continue  # a blank line is not a row
        row_no += 1
        if len(fields) != len(names):
            # Name the first column left without a value (or the surplus) so the row can be found.
            where = names[len(fields)] if len(fields) < len(names) else "(extra)"
            yield RowError(
                row_no, start_line, where,
                f"có {len(fields)} ô, tiêu đề có {len(names)} cột", f"has {len(fields)} fields, the header has {len(names)}",
            )  # fmt: skip
            continue
        r = _Row({n: fields[position[n]] for n in COLUMNS}, row_no, start_line)
        rec = _record(r)
        dossier_id = r.values["dossier_id"]
        if dossier_id in seen:
            r.fail("dossier_id", f"mã hồ sơ {dossier_id!r} bị trùng (đã có ở hàng {seen[dossier_id]})",
                   f"duplicate id {dossier_id!r} (first at row {seen[dossier_id]})")  # fmt: skip
            rec = None
        elif dossier_id:
            seen[dossier_id] = row_no
        if r.errors:
            yield from r.errors
        elif rec is not None:
            yield rec


def read_book(f: TextIO) -> Index766Book:
    """All rows into one book (one accumulator per unit); :class:`DossierCsvError` if any is bad.

    Nothing is returned unless every row is valid, so a caller never prints a partial answer.
    """
    book = Index766Book()
    errors: list[RowError] = []
    more = 0
    for item in iter_rows(f):
        if isinstance(item, RowError):
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(item)
            else:
                more += 1
        elif not errors:
            book.add(item)  # after the first error only validation continues
    if errors:
        raise DossierCsvError(errors, more)
    return book


def index_from_csv(f: TextIO, as_of: datetime) -> Index766Result:
    """Section 8's answer for a CSV (``as_of`` must carry an offset)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of needs a UTC offset")
    return read_book(f).result(as_of)
