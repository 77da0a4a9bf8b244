"""Public-service dossiers (hồ sơ thủ tục hành chính) from the city's one-stop system (Hệ thống
thông tin giải quyết TTHC): one event per step of a dossier's life.

``source_id`` is the handling unit's registered id (``geodata/sites/dossier_units.json``: every
department and every commune-level unit in force since 1 July 2025), ``unit`` its code. Steps:
``received`` (channel, procedure, sector, due time, fee, eligibility for full online service),
``supplement_requested`` (optionally a new due time, extended for the applicant's time),
``completed`` (electronic result, digitised, re-used data), ``returned`` (handed back unresolved),
``paid_online``, ``rated`` (satisfied / unsatisfied) and ``complained``.

No personal data: the applicant is not in the event (nothing to mask, nothing to leak). The
intake worker (:mod:`ioc.kpi.intake`) folds the stored events into one row per dossier.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AwareDatetime, Field, model_validator

from ioc.events import BaseEvent
from ioc.sources.spec import Column, DataClass, Freshness, Rollup, SourceSpec, Storage

MAX_FEE_VND = 10**12


class DossierStep(StrEnum):
    """One step of a dossier's life."""

    RECEIVED = "received"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    COMPLETED = "completed"
    RETURNED = "returned"
    PAID_ONLINE = "paid_online"
    RATED = "rated"
    COMPLAINED = "complained"


class DossierChannel(StrEnum):
    ONLINE = "online"
    COUNTER = "counter"
    POST = "post"


class DossierRating(StrEnum):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


_RECEIVED_FIELDS = ("channel", "procedure_code", "procedure_name", "sector", "due_at", "eligible_full_online",
                    "full_online")  # fmt: skip


class DossierEvent(BaseEvent):
    """One step of one dossier; ``received`` carries the dossier's description, the others its change."""

    kind: ClassVar[str] = "dossier"
    dossier_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
    step: DossierStep
    unit: str = Field(min_length=1, max_length=32)
    sector: str | None = Field(default=None, max_length=64)
    procedure_code: str | None = Field(default=None, max_length=64)
    procedure_name: str | None = Field(default=None, max_length=300)
    channel: DossierChannel | None = None
    due_at: AwareDatetime | None = None  # received: promised time; supplement_requested: extended time
    fee_vnd: int = Field(default=0, ge=0, le=MAX_FEE_VND)  # received: the fee or charge due (0: free)
    eligible_full_online: bool | None = None
    full_online: bool | None = None
    e_result: bool | None = None  # completed
    digitised: bool | None = None  # completed
    reused_data: bool | None = None  # completed
    rating: DossierRating | None = None  # rated

    @model_validator(mode="after")
    def _fields_of_step(self) -> DossierEvent:
        if self.step is DossierStep.RECEIVED:
            missing = [f for f in _RECEIVED_FIELDS if getattr(self, f) is None]
            if missing:
                raise ValueError(f"a received dossier needs {', '.join(missing)}")
            if self.full_online and not self.eligible_full_online:
                raise ValueError("full_online requires eligible_full_online")
        if self.step is DossierStep.COMPLETED and None in (self.e_result, self.digitised, self.reused_data):
            raise ValueError("a completed dossier needs e_result, digitised and reused_data")
        if self.step is DossierStep.RATED and self.rating is None:
            raise ValueError("a rated dossier needs rating")
        return self


def _row(e: DossierEvent) -> tuple[Any, ...]:
    return (e.dossier_id, e.step.value, e.unit, e.sector, e.procedure_code, e.procedure_name,
            None if e.channel is None else e.channel.value, e.due_at, e.fee_vnd, e.eligible_full_online,
            e.full_online, e.e_result, e.digitised, e.reused_data, None if e.rating is None else e.rating.value)  # fmt: skip


def _example() -> DossierEvent:
    t = datetime(2026, 9, 14, 2, 30, tzinfo=UTC)
    return DossierEvent(
        event_id=uuid.UUID(int=12_001), source_id="dvc-snv", event_time=t, dossier_id="SNV-260914-0001",
        step=DossierStep.RECEIVED, unit="SNV", sector="noi_vu", procedure_code="1.012345",
        procedure_name="Thủ tục thẩm định thành lập tổ chức sự nghiệp công lập", channel=DossierChannel.ONLINE,
        due_at=t + timedelta(days=10), fee_vnd=0, eligible_full_online=True, full_online=True,
    )  # fmt: skip


SOURCE = SourceSpec(
    kind="dossier", order=100, name_vi="Hồ sơ thủ tục hành chính", name_en="Public-service dossiers",
    event=DossierEvent, table="dossier_events",
    columns=(
        Column("dossier_id", "text", nullable=False), Column("step", "text", nullable=False),
        Column("unit", "text", nullable=False), Column("sector", "text"), Column("procedure_code", "text"),
        Column("procedure_name", "text"), Column("channel", "text"), Column("due_at", "timestamptz"),
        Column("fee_vnd", "int8"), Column("eligible_full_online", "bool"), Column("full_online", "bool"),
        Column("e_result", "bool"), Column("digitised", "bool"), Column("reused_data", "bool"),
        Column("rating", "text"),
    ),
    row=_row, example=_example,
    rollup=Rollup("dossier_1d", "1 day", (("received", "count(*) FILTER (WHERE step = 'received')"),
                                          ("completed", "count(*) FILTER (WHERE step = 'completed')")),
                  origin="2000-01-01 00:00:00+07", refresh_window="3 days"),
    storage=Storage(chunk="30 days", compress_after=None, retain=None),  # administrative records: kept
    owner="public_services", data_class=DataClass.INTERNAL,
    # One-stop desks close at night, at weekends and over Tết; online filing never stops entirely.
    freshness=Freshness(late_after=timedelta(hours=18), silent_after=timedelta(days=4)),
    layer=None, rules=(), site_file="dossier_units.json",
    indexes=(("dossier_events_ingested", "ingested_at, event_id"), ("dossier_events_dossier", "dossier_id, event_time")),
)
