"""What the early-warning rules (budget, public order, floods, SOC) share: their update, the adapter
that puts them in the rule engine, and the count test for small numbers.

The rules emit :class:`WarningUpdate`: an :class:`alerts.model.AlertUpdate` plus the warning class
(``budget``, ``public_order``, ``flood``, ``soc``) and the rule's version. The alert class it becomes
is configured per rule (``alert_class`` in ``alerts/rules.yaml``); :class:`AlertRule` converts, and
:func:`alert_class_available` tells whether ``alerts.model.AlertClass`` knows a class yet (the budget
class arrives with the model change listed for the lead; until then the budget rules run in the
scenario evaluation but are not registered with the live engine).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from alerts.model import AlertClass, AlertUpdate, Severity, UpdateKind
from ioc.events import Event

WarningClass = Literal["budget", "public_order", "flood", "soc"]


@dataclass(frozen=True, slots=True)
class WarningUpdate:
    """A rule's raise / update / clear of one incident key, with the rule's id and version."""

    kind: UpdateKind
    key: str
    rule_id: str
    rule_version: str
    warning_class: WarningClass
    alert_class: str  # an AlertClass value (configured per rule)
    severity: Severity
    at: datetime
    title_vi: str
    title_en: str
    detail_vi: str = ""
    detail_en: str = ""
    source_id: str | None = None
    admin_unit: str | None = None
    lon: float | None = None
    lat: float | None = None
    value: float | None = None

    def to_alert_update(self) -> AlertUpdate:
        """The engine's update (raises ValueError when ``alert_class`` is not an AlertClass yet); it
        carries ``rule_version`` as soon as ``AlertUpdate`` has the field (the model change for the lead)."""
        version = {"rule_version": self.rule_version} if "rule_version" in AlertUpdate.model_fields else {}
        return AlertUpdate(
            **version,
            kind=self.kind, key=self.key, rule_id=self.rule_id, alert_class=AlertClass(self.alert_class),
            severity=self.severity, at=self.at, source_id=self.source_id, admin_unit=self.admin_unit,
            lon=self.lon, lat=self.lat, value=self.value, title_vi=self.title_vi, title_en=self.title_en,
            detail_vi=self.detail_vi, detail_en=self.detail_en,
        )  # fmt: skip


class WarningRule(Protocol):
    id: str
    version: str
    warning_class: WarningClass
    alert_class: str

    def evaluate(self, event: Event) -> list[WarningUpdate]: ...

    def evaluate_tick(self, now: datetime) -> list[WarningUpdate]: ...


def alert_class_available(value: str) -> bool:
    return value in {c.value for c in AlertClass}


class AlertRule:
    """A warning rule as the rule engine runs it (``alerts.rules.Rule``): updates become AlertUpdates."""

    def __init__(self, inner: WarningRule) -> None:
        if not alert_class_available(inner.alert_class):
            raise ValueError(f"rule {inner.id}: alert class {inner.alert_class!r} is not declared in alerts.model")
        self.inner = inner
        self.id = inner.id
        self.version = inner.version

    def evaluate(self, event: Event) -> list[AlertUpdate]:
        return [u.to_alert_update() for u in self.inner.evaluate(event)]

    def evaluate_tick(self, now: datetime) -> list[AlertUpdate]:
        return [u.to_alert_update() for u in self.inner.evaluate_tick(now)]


def config_version(declared: str, cfg: BaseModel) -> str:
    """``<declared>+<digest of the configuration>``: the thresholds are part of a rule's version."""
    doc = cfg.model_dump(mode="json", exclude={"version"})
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]
    return f"{declared}+{digest}"


# --- counts that are small: Poisson and negative-binomial tails ---------------------------------


def poisson_tail(n: int, lam: float) -> float:
    """P(N ≥ n) for N ~ Poisson(lam)."""
    if n <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    from scipy.stats import poisson

    return float(poisson.sf(n - 1, lam))


def nb_tail(n: int, mean: float, shape: float) -> float:
    """P(N ≥ n) for a negative binomial with this mean and shape r (variance mean + mean²/r).

    It is the Poisson count whose rate is itself uncertain (Gamma with shape r): what a unit's count
    is when its usual rate was learnt from few incidents. Large ``shape`` tends to the Poisson tail.
    """
    if n <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if not math.isfinite(shape) or shape > 1e6:
        return poisson_tail(n, mean)
    from scipy.stats import nbinom

    p = shape / (shape + mean)
    return float(nbinom.sf(n - 1, shape, p))


def fmt_pct(value: float, lang: str, decimals: int = 1) -> str:
    """``52,5 %`` / ``52.5 %`` (the officer's notation)."""
    text = f"{value:.{decimals}f}"
    return (text.replace(".", ",") if lang == "vi" else text) + " %"


def fmt_num(value: float, lang: str, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def raised(updates: Iterable[WarningUpdate]) -> list[WarningUpdate]:
    return [u for u in updates if u.kind is UpdateKind.RAISE]


def severity_at_least(a: Severity, b: Severity) -> Severity:
    return a if a.rank >= b.rank else b


def bump(sev: Severity, steps: int = 1) -> Severity:
    order = list(Severity)
    return order[min(len(order) - 1, order.index(sev) + steps)]


def json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


__all__ = [
    "AlertRule",
    "WarningClass",
    "WarningRule",
    "WarningUpdate",
    "alert_class_available",
    "bump",
    "config_version",
    "fmt_num",
    "fmt_pct",
    "nb_tail",
    "poisson_tail",
]
