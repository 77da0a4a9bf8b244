"""Budget revenue (thu ngân sách nhà nước): the State Treasury's daily collection by revenue line.

One event per revenue line and treasury working day: what was collected that day, the year to date
(lũy kế) and the year's two plans, both kept: the central government's estimate (dự toán Trung ương
giao, "DT TW") and the city People's Council's (dự toán HĐND thành phố giao, "DT HĐND"). Amounts are
whole đồng (VND). ``source_id`` is the revenue line (``geodata/sites/budget_lines.json``); the data
is restricted to leaders and finance staff and carries no personal data.

The treasury's calendar (working days, the Tết break) lives here too: the simulator and the rules
share it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, ClassVar

from pydantic import Field, model_validator

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

MAX_VND = 10**15  # a quadrillion đồng: ten times the city's yearly revenue, far inside int8


class BudgetEvent(BaseEvent):
    """One revenue line's collection on one treasury working day (VND)."""

    kind: ClassVar[str] = "budget"
    collection_date: date  # local date of the treasury day
    fiscal_year: int = Field(ge=2000, le=2100)
    amount_vnd: int = Field(ge=-MAX_VND, le=MAX_VND)  # net of refunds: a day can be negative
    ytd_vnd: int = Field(ge=-MAX_VND, le=MAX_VND)  # lũy kế from 1 January
    plan_central_vnd: int = Field(ge=0, le=MAX_VND)  # DT TW
    plan_council_vnd: int = Field(ge=0, le=MAX_VND)  # DT HĐND

    @model_validator(mode="after")
    def _same_year(self) -> BudgetEvent:
        if self.collection_date.year != self.fiscal_year:
            raise ValueError(f"collection_date {self.collection_date} is not in fiscal_year {self.fiscal_year}")
        return self


def _row(e: BudgetEvent) -> tuple[Any, ...]:
    return (e.collection_date, e.fiscal_year, e.amount_vnd, e.ytd_vnd, e.plan_central_vnd, e.plan_council_vnd)


def _example() -> BudgetEvent:
    return BudgetEvent(
        event_id=uuid.UUID(int=13_001), source_id="rev-xnk", event_time=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        collection_date=date(2025, 3, 4), fiscal_year=2025, amount_vnd=231_000_000_000,
        ytd_vnd=11_402_000_000_000, plan_central_vnd=62_700_000_000_000, plan_council_vnd=62_700_000_000_000,
    )  # fmt: skip


# --- the treasury's calendar ----------------------------------------------------------------------


@cache
def tet_days(year: int) -> frozenset[date]:
    """The Tết Nguyên Đán break of ``year`` (the days the ``holidays`` Vietnam calendar gives off)."""
    import holidays

    vn = holidays.country_holidays("VN", years=[year - 1, year, year + 1])
    return frozenset(d for d, name in vn.items() if d.year == year and "Lunar New Year" in name)


@cache
def lunar_new_year(year: int) -> date:
    """Mùng 1 Tết of ``year``."""
    import holidays

    vn = holidays.country_holidays("VN", years=[year])
    return next(d for d, name in vn.items() if name == "Lunar New Year")


@cache
def _public_holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("VN", years=[year]))


def treasury_open(d: date) -> bool:
    """The treasury collects on working days: Monday–Friday that are not public holidays."""
    return d.weekday() < 5 and d not in _public_holidays(d.year)


def near_tet(d: date, days: int) -> bool:
    """``d`` lies within ``days`` of a Tết break (before or after it)."""
    return any(abs((d - t).days) <= days for y in (d.year, d.year + 1) for t in tet_days(y))


SOURCE = SourceSpec(
    kind="budget", order=50, name_vi="Thu ngân sách nhà nước", name_en="State-budget revenue",
    event=BudgetEvent, table="budget_events",
    columns=(
        Column("collection_date", "date", nullable=False), Column("fiscal_year", "int2", nullable=False),
        Column("amount_vnd", "int8", nullable=False), Column("ytd_vnd", "int8", nullable=False),
        Column("plan_central_vnd", "int8", nullable=False), Column("plan_council_vnd", "int8", nullable=False),
    ),
    row=_row, example=_example,
    # Days in Hải Phòng time: a treasury day is a local calendar day.
    rollup=Rollup("budget_1d", "1 day", (("amount_vnd", "sum(amount_vnd)"), ("ytd_vnd", "max(ytd_vnd)")),
                  origin="2000-01-01 00:00:00+07", refresh_window="30 days"),
    storage=Storage(chunk="365 days", compress_after=None, retain=None),  # public finance records: kept
    owner="budget", data_class=DataClass.RESTRICTED,
    # The treasury reports on working days; the Tết break is up to nine days without a report.
    freshness=Freshness(late_after=timedelta(days=4), silent_after=timedelta(days=10)),
    layer=None, rules=("budget-ytd-plan", "budget-yoy", "budget-forecast"), site_file="budget_lines.json",
    indexes=(("budget_events_year", "fiscal_year, source_id, collection_date"),),
)
