"""SOC warning: a storm of security alerts from one origin, against that origin's usual rate.

**soc-storm**: the alerts raised over the last ``window_hours`` from one origin (servers, the
internal network, other) against its usual rate for that hour of the week, learnt from the SOC's
own summaries (the same shrunk-rate model and negative-binomial tail as the public-order count test,
:class:`alerts.public_order_rules.RateModel`). The city's SOC saw about one alert a day in the first
half of 2022 (203 in six months, 2022 report line 53), so a handful within a few hours is a storm.
Raised with P(N ≥ n) < ``alpha`` and n ≥ ``min_count``; while open, the backlog (new and in progress)
is named in the text. Only counts reach the IOC: the warning says how many and from where, never what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from alerts.model import Severity, UpdateKind
from alerts.public_order_rules import RateModel
from alerts.warnings import WarningUpdate, config_version, fmt_num, nb_tail
from ioc.events import Event
from ioc.sources.soc import SocEvent

_CFG = ConfigDict(frozen=True, extra="forbid")
ORIGIN_VI = {"servers": "máy chủ", "internal_network": "hệ thống mạng nội bộ", "other": "nguồn khác"}
ORIGIN_EN = {"servers": "servers", "internal_network": "the internal network", "other": "other sources"}
HOUR = timedelta(hours=1)


class SocStormConfig(BaseModel):
    model_config = _CFG
    type: Literal["soc_storm"]
    id: str
    version: str = "1"
    alert_class: str = "camera"  # the IOC / Sở KH&CN; "soc" once alerts.model declares it
    window_hours: int = Field(default=3, ge=1, le=48)
    alpha: float = Field(default=1e-5, gt=0, lt=1)
    severe_alpha: float = Field(default=1e-9, gt=0, lt=1)
    clear_alpha: float = Field(default=0.05, gt=0, lt=1)
    clear_hours: int = Field(default=3, ge=1)
    min_count: int = Field(default=4, ge=1)
    prior_hours: float = Field(default=720.0, gt=0)
    profile_smoothing: float = Field(default=3.0, ge=0)
    min_history_hours: int = Field(default=168, ge=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> SocStormConfig:
        if not self.severe_alpha <= self.alpha <= self.clear_alpha:
            raise ValueError("need severe_alpha ≤ alpha ≤ clear_alpha")
        return self


@dataclass(slots=True)
class _Storm:
    severity: Severity
    calm: int = 0


class SocStormRule:
    warning_class = "soc"

    def __init__(self, cfg: SocStormConfig, names: Mapping[str, str] | None = None) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.version = config_version(cfg.version, cfg)
        self.alert_class = cfg.alert_class
        self.names = dict(names or {})
        self.model = RateModel(cfg.prior_hours, cfg.profile_smoothing)
        self.recent: dict[str, dict[datetime, int]] = {}
        self.learned: dict[str, float] = {}
        self.active: dict[str, _Storm] = {}

    def evaluate_tick(self, now: datetime) -> list[WarningUpdate]:
        return []

    def evaluate(self, event: Event) -> list[WarningUpdate]:
        if not isinstance(event, SocEvent):
            return []
        series = f"{event.source_id}/{event.origin}"
        hours = self.recent.setdefault(series, {})
        hours[event.period_start] = event.raised
        for old in [h for h in hours if event.period_start - h >= timedelta(hours=self.cfg.window_hours)]:
            del hours[old]
        window = [event.period_start - i * HOUR for i in range(self.cfg.window_hours)]
        n = sum(hours.get(h, 0) for h in window)
        key = f"{self.id}:{series}"
        out: list[WarningUpdate] = []
        storm = self.active.get(key)
        ready = self.learned.get(series, 0.0) >= self.cfg.min_history_hours
        if ready and (storm is not None or n >= self.cfg.min_count):
            lam, shape = self.model.expected([series], "raised", window)
            p = nb_tail(n, lam, shape)
            sev = Severity.SEVERE if p < self.cfg.severe_alpha else Severity.MODERATE
            if storm is None and n >= self.cfg.min_count and p < self.cfg.alpha:
                self.active[key] = _Storm(sev)
                out.append(self._say(UpdateKind.RAISE, key, event, sev, n, lam, p))
            elif storm is not None and p >= self.cfg.clear_alpha:
                storm.calm += 1
                if storm.calm >= self.cfg.clear_hours:
                    del self.active[key]
                    out.append(self._say(UpdateKind.CLEAR, key, event, storm.severity, n, lam, p))
            elif storm is not None:
                storm.calm = 0
                if sev.rank > storm.severity.rank:
                    storm.severity = sev
                    out.append(self._say(UpdateKind.UPDATE, key, event, sev, n, lam, p))
        if key not in self.active:  # a storm does not teach that storms are usual
            self.model.learn(series, event.period_start, event.period_minutes / 60, {"raised": event.raised})
            self.learned[series] = self.learned.get(series, 0.0) + event.period_minutes / 60
        return out

    def _say(self, kind: UpdateKind, key: str, e: SocEvent, sev: Severity, n: int, lam: float, p: float) -> WarningUpdate:
        h = self.cfg.window_hours
        soc = self.names.get(e.source_id, "SOC")
        backlog = e.open_new + e.open_in_progress
        return WarningUpdate(
            kind=kind, key=key, rule_id=self.id, rule_version=self.version, warning_class="soc",
            alert_class=self.alert_class, severity=sev, at=e.event_time, source_id=e.source_id, value=float(n),
            title_vi=f"Cảnh báo an toàn thông tin tăng đột biến từ {ORIGIN_VI[e.origin]}",
            title_en=f"Storm of security alerts from {ORIGIN_EN[e.origin]}",
            detail_vi=(f"{n} cảnh báo từ {ORIGIN_VI[e.origin]} trong {h} giờ tại {soc}, thông thường "
                       f"{fmt_num(lam, 'vi', 2)} (p = {p:.1e}); đang mở {backlog} ({e.open_new} mới, "
                       f"{e.open_in_progress} đang xử lý)"),
            detail_en=(f"{n} alerts from {ORIGIN_EN[e.origin]} in {h} h at {soc}, usually {fmt_num(lam, 'en', 2)} "
                       f"(p = {p:.1e}); {backlog} open ({e.open_new} new, {e.open_in_progress} in progress)"),
        )  # fmt: skip


__all__ = ["SocStormConfig", "SocStormRule"]
