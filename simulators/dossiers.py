"""Public-service dossiers for every department and commune-level unit (``dossier_units.json``).

Rates are calibrated to the city's documents (``shared/data/kpi/seed_figures.csv``): about 78 %
of dossiers filed online (the ~78 % "toàn trình" of QĐ 1167/2026, line 90; 70.12 % online in
January–April 2024), 96.85 % on time (June 2022), 63.49 % of fee-bearing dossiers paid online and
every dossier digitised (January–April 2024). The units that led in June 2022 (Sở Nội vụ, Sở KH&CN,
Sở Công Thương, Sở VH&TT (now with tourism), Sở Tài chính; the former quận Hải An and huyện Kiến
Thụy) lead here, those that had to improve (Sở TN&MT, now Nông nghiệp và Môi trường; Sở Xây dựng;
the former quận Kiến An) lag.

Counters and post are open on working days 07:30–17:00 (Vietnamese public holidays off); online
filing never stops but slows at night and at weekends. Scenario incidents: ``on_time_collapse``
(the listed units complete late, in proportion to the incident's severity) and ``dossier_outage``
(the one-stop system is down: no dossier at all from the listed units). Each dossier's later steps are drawn at receipt and released when their time comes.

``python -m simulators.dossiers backfill --days 30 --record F.jsonl`` (or ``--publish``) writes
a fast history for demos and benchmarks.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any

from geodata.sites import Site, load_sites
from ioc.events import Event
from ioc.sources import SourceKind
from ioc.sources.budget import treasury_open
from ioc.sources.dossier import DossierChannel, DossierEvent, DossierRating, DossierStep
from simulators.base import IncidentIndex, poisson, seeded_uuid, stream_rng
from simulators.scenario import Incident, IncidentClass
from simulators.wire import Message

LOCAL = timezone(timedelta(hours=7))
HOUR = timedelta(hours=1)

LEADING_DEPARTMENTS = frozenset({"SNV", "SKHCN", "SCT", "SVHTTDL", "STC"})
LAGGING_DEPARTMENTS = frozenset({"SNNMT", "SXD"})
LEADING_DISTRICTS = frozenset({"Quận Hải An", "Huyện Kiến Thụy"})
LAGGING_DISTRICTS = frozenset({"Quận Kiến An"})


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str
    name: str
    sector: str
    days: int  # legal processing time, calendar days here
    fee_vnd: int
    eligible_full_online: bool


# A small, plausible catalogue per level (codes are the national database's style, made up).
COMMUNE_PROCEDURES: tuple[Procedure, ...] = (
    Procedure("1.001193", "Đăng ký khai sinh", "ho_tich", 1, 0, True),
    Procedure("1.000894", "Đăng ký kết hôn", "ho_tich", 1, 0, True),
    Procedure("1.001766", "Cấp bản sao trích lục hộ tịch", "ho_tich", 1, 8_000, True),
    Procedure("2.000908", "Chứng thực bản sao từ bản chính", "chung_thuc", 1, 2_000, True),
    Procedure("1.004227", "Đăng ký biến động quyền sử dụng đất", "dat_dai", 10, 50_000, False),
    Procedure("1.003003", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "xay_dung", 15, 75_000, True),
    Procedure("1.001612", "Đăng ký hộ kinh doanh", "kinh_doanh", 3, 100_000, True),
    Procedure("2.000286", "Trợ cấp xã hội hằng tháng", "bao_tro_xa_hoi", 7, 0, True),
)
DEPARTMENT_PROCEDURES: dict[str, tuple[Procedure, ...]] = {
    "SNV": (Procedure("1.012345", "Thẩm định thành lập tổ chức sự nghiệp công lập", "noi_vu", 10, 0, True),),
    "SKHCN": (Procedure("1.010101", "Cấp giấy phép bưu chính", "khoa_hoc_cong_nghe", 10, 0, True),),
    "SCT": (Procedure("2.000190", "Cấp giấy phép kinh doanh bán lẻ rượu", "cong_thuong", 10, 1_200_000, True),),
    "SVHTTDL": (Procedure("1.004580", "Cấp giấy phép kinh doanh lữ hành nội địa", "du_lich", 10, 3_000_000, True),),
    "STC": (Procedure("2.001610", "Đăng ký thành lập doanh nghiệp", "dau_tu", 3, 50_000, True),),
    "SNNMT": (Procedure("1.004262", "Cấp giấy chứng nhận quyền sử dụng đất lần đầu", "dat_dai", 30, 100_000, False),),
    "SXD": (Procedure("1.009972", "Cấp giấy phép xây dựng công trình", "xay_dung", 20, 150_000, True),),
    "STP": (Procedure("2.000488", "Cấp phiếu lý lịch tư pháp", "tu_phap", 10, 200_000, True),),
    "SYT": (Procedure("1.001907", "Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "y_te", 20, 360_000, True),),
    "SGDDT": (Procedure("1.005090", "Công nhận văn bằng tốt nghiệp do nước ngoài cấp", "giao_duc", 20, 0, True),),
    "BQLKKT": (Procedure("1.009645", "Cấp giấy chứng nhận đăng ký đầu tư", "dau_tu", 15, 0, True),),
}


@dataclass(frozen=True, slots=True)
class UnitProfile:
    """A unit's volume and rates (drawn once per seed)."""

    source_id: str
    code: str
    per_working_day: float
    online: float
    on_time: float
    paid_online: float
    e_result: float
    digitised: float
    reused: float
    satisfied: float  # among rated dossiers
    procedures: tuple[Procedure, ...]


def standing(site: Site) -> int:
    """+1 for a unit that led in June 2022, -1 for one that lagged, 0 otherwise."""
    code = str(site.properties.get("unit", ""))
    districts = set(site.properties.get("former_districts") or ())
    if code in LEADING_DEPARTMENTS or districts & LEADING_DISTRICTS:
        return 1
    if code in LAGGING_DEPARTMENTS or districts & LAGGING_DISTRICTS:
        return -1
    return 0


def profile(site: Site, seed: int) -> UnitProfile:
    rng = stream_rng(seed, f"dossier-profile:{site.source_id}")
    code = str(site.properties.get("unit", site.source_id.removeprefix("dvc-")))
    department = site.properties.get("level") == "department"
    s = standing(site)
    jitter = rng.uniform(-0.04, 0.04)
    online = {1: 0.97, 0: 0.78, -1: 0.50}[s] + (jitter if s == 0 else jitter / 4)
    on_time = {1: 0.995, 0: 0.97, -1: 0.90}[s] + rng.uniform(-0.015, 0.01) * (s == 0)
    return UnitProfile(
        site.source_id, code,
        per_working_day=(rng.uniform(40, 90) if department else rng.uniform(16, 45)),
        online=min(0.995, max(0.05, online)), on_time=min(0.999, on_time),
        paid_online={1: 0.90, 0: 0.75, -1: 0.50}[s] + rng.uniform(-0.05, 0.05),
        e_result={1: 0.97, 0: 0.88, -1: 0.70}[s], digitised={1: 1.0, 0: 0.97, -1: 0.85}[s] - rng.uniform(0, 0.02),
        reused={1: 0.85, 0: 0.62, -1: 0.40}[s] + rng.uniform(-0.05, 0.05),
        satisfied={1: 0.99, 0: 0.96, -1: 0.88}[s],
        procedures=DEPARTMENT_PROCEDURES.get(code, COMMUNE_PROCEDURES) if department else COMMUNE_PROCEDURES,
    )  # fmt: skip


@cache
def working_day(d: date) -> bool:
    return treasury_open(d)


def hourly_share(t: datetime) -> tuple[float, float]:
    """(counter/post weight, online weight) of the local hour starting at ``t`` (per working day = 1)."""
    local = t.astimezone(LOCAL)
    work = working_day(local.date())
    open_hours = work and (7 <= local.hour < 17)
    counter = 1 / 9.5 if open_hours else 0.0
    if open_hours:
        online = 0.8 / 9.5
    else:
        online = (0.2 / 14.5) if work else (0.12 / 24)
    return counter, online


class DossierSource:
    """Dossiers for the registered units; call with consecutive windows (any length)."""

    def __init__(self, sites: Sequence[Site], seed: int, index: IncidentIndex | None = None, *,
                 validate: bool = True) -> None:
        self.seed = seed
        # False: build events without validation (bulk history); benchmarks may swap in a row factory.
        self.make: Any = DossierEvent if validate else DossierEvent.model_construct
        self.rng = stream_rng(seed, "dossiers")
        self.index = index or IncidentIndex(())
        self.profiles = [profile(s, seed) for s in sites]
        self.pending: list[tuple[datetime, int, DossierEvent]] = []
        self.serial = 0
        self.outages = [i for i in self.index.incidents if i.cls is IncidentClass.DOSSIER_OUTAGE]

    # -- incidents -------------------------------------------------------------------------------
    def _down(self, source_id: str, t: datetime) -> bool:
        return any(i.severity(t) > 0 and source_id in i.sources for i in self.outages)

    def _collapse(self, source_id: str, t: datetime) -> float:
        return max((s for inc, s in self.index.at(source_id, t) if inc.cls is IncidentClass.ON_TIME_COLLAPSE),
                   default=0.0)  # fmt: skip

    # -- generation ------------------------------------------------------------------------------
    def events(self, a: datetime, b: datetime) -> list[Event]:
        t = a
        while t < b:
            hour_start = t.replace(minute=0, second=0, microsecond=0)
            seg_end = min(b, hour_start + HOUR)
            frac = (seg_end - t) / HOUR
            counter_w, online_w = hourly_share(hour_start)
            for p in self.profiles:
                if self._down(p.source_id, t):
                    continue
                lam = p.per_working_day * frac * (counter_w * (1 - p.online) + online_w * p.online)
                for _ in range(poisson(self.rng, lam)):
                    at = (t + (seg_end - t) * self.rng.random()).replace(microsecond=0)
                    self._dossier(p, at, counter_w > 0)
            t = seg_end
        out: list[Event] = []
        while self.pending and self.pending[0][0] < b:
            out.append(heapq.heappop(self.pending)[2])
        return out

    def _push(self, e: DossierEvent) -> None:
        self.serial += 1
        heapq.heappush(self.pending, (e.event_time, self.serial, e))

    def _dossier(self, p: UnitProfile, at: datetime, desk_open: bool) -> None:
        rng = self.rng
        proc = p.procedures[rng.randrange(len(p.procedures))]
        online_share = p.online * hourly_share(at)[1]
        counter_share = (1 - p.online) * hourly_share(at)[0]
        online = not desk_open or rng.random() < online_share / max(1e-9, online_share + counter_share)
        channel = DossierChannel.ONLINE if online else (
            DossierChannel.POST if rng.random() < 0.05 else DossierChannel.COUNTER)
        full = proc.eligible_full_online and online and rng.random() < 0.93
        due = at + timedelta(days=proc.days, hours=rng.choice((0, 4, 8)))
        local = at.astimezone(LOCAL)
        self.serial += 1
        dossier_id = f"{p.code}-{local:%y%m%d}-{self.serial:07d}"
        common = {"source_id": p.source_id, "dossier_id": dossier_id, "unit": p.code}

        def ev(step: DossierStep, t: datetime, **kw: object) -> DossierEvent:
            if isinstance(kw.get("due_at"), datetime):
                kw["due_at"] = kw["due_at"].replace(microsecond=0)  # type: ignore[union-attr]
            return self.make(event_id=seeded_uuid(rng), event_time=t.replace(microsecond=0), step=step,  # whole seconds
                        schema_version=1, **common, **kw)  # type: ignore[arg-type]

        self._push(ev(DossierStep.RECEIVED, at, sector=proc.sector, procedure_code=proc.code,
                      procedure_name=proc.name, channel=channel, due_at=due, fee_vnd=proc.fee_vnd,
                      eligible_full_online=proc.eligible_full_online, full_online=full))  # fmt: skip
        span = due - at
        supplements = 0
        if rng.random() < 0.10:
            supplements = 2 if rng.random() < 0.12 else 1
        t = at
        for _ in range(supplements):
            t = t + span * rng.uniform(0.05, 0.3)
            extra = timedelta(days=rng.uniform(1, 4))
            due = due + extra
            self._push(ev(DossierStep.SUPPLEMENT_REQUESTED, t, due_at=due))
        if proc.fee_vnd > 0 and rng.random() < (p.paid_online if online else p.paid_online * 0.3):
            self._push(ev(DossierStep.PAID_ONLINE, at + timedelta(minutes=rng.uniform(2, 120))))
        collapse = self._collapse(p.source_id, at)
        on_time = rng.random() < p.on_time * (1 - 0.9 * collapse)
        if rng.random() < 0.015:  # handed back unresolved
            self._push(ev(DossierStep.RETURNED, t + (due - t) * rng.uniform(0.2, 0.9)))
            return
        if on_time:
            done = t + (due - t) * rng.uniform(0.15, 0.98)
        else:
            done = due + timedelta(hours=rng.uniform(2, 24 * 6))
        self._push(ev(DossierStep.COMPLETED, done, e_result=rng.random() < p.e_result,
                      digitised=rng.random() < p.digitised, reused_data=rng.random() < p.reused))  # fmt: skip
        if rng.random() < 0.35:
            happy = rng.random() < (p.satisfied if on_time else p.satisfied - 0.35)
            self._push(ev(DossierStep.RATED, done + timedelta(hours=rng.uniform(0.1, 48)),
                          rating=DossierRating.SATISFIED if happy else DossierRating.UNSATISFIED))  # fmt: skip
        if rng.random() < (0.003 if on_time else 0.05):
            self._push(ev(DossierStep.COMPLAINED, done + timedelta(hours=rng.uniform(1, 72))))


def dossier_sources(sites: Sequence[Site], seed: int, index: IncidentIndex) -> list[DossierSource]:
    """The city simulator's dossier source (one, for every registered unit)."""
    return [DossierSource(sites, seed, index)]


def backfill(now: datetime, days: float, seed: int = 7, incidents: tuple[Incident, ...] = (), *,
             validate: bool = True) -> Iterator[Event]:
    """``days`` of dossiers before ``now``, oldest first, in one-hour windows; steps after ``now`` are
    not sent (they are still to come)."""
    now = now.astimezone(UTC)
    source = DossierSource(load_sites(SourceKind("dossier")), seed, IncidentIndex(incidents), validate=validate)
    t = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    while t < now:
        b = min(t + HOUR, now)
        yield from source.events(t, b)
        t = b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.dossiers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    bf = sub.add_parser("backfill", help="N days of dossiers before now, as fast as possible")
    bf.add_argument("--days", type=float, default=30)
    bf.add_argument("--seed", type=int, default=7)
    bf.add_argument("--until", type=datetime.fromisoformat, default=None, help="end (default now)")
    bf.add_argument("--record", help="write the events as JSON lines to this file")
    bf.add_argument("--publish", action="store_true", help="publish on the broker of IOC_KAFKA_BOOTSTRAP")
    args = parser.parse_args(argv)
    until = args.until or datetime.now(UTC)
    events = backfill(until, args.days, args.seed)
    messages = (Message.of(e) for e in events)
    if args.publish:
        from ioc.settings import Settings
        from simulators.publish import KafkaSender, publish

        settings = Settings()
        sender = KafkaSender(settings.kafka_bootstrap or "127.0.0.1:9092")
        with open(args.record, "w", encoding="utf-8") if args.record else nullcontext() as record:
            stats = publish(messages, sender, prefix=settings.topic_prefix, speed=None, record=record,
                            span=timedelta(days=args.days))
        sender.close()
        n = stats.total
    else:
        n = 0
        with open(args.record, "w", encoding="utf-8") if args.record else nullcontext(sys.stdout) as out:
            for m in messages:
                out.write(m.to_record() + "\n")
                n += 1
    print(f"{n} dossier events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DossierSource", "backfill", "dossier_sources"]
