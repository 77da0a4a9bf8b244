"""Routing: category × admin unit → the owning agency or the ward People's Committee.

The table is configuration (``routing.yaml``). The most specific rule wins:
``(category, unit)`` > ``("*", unit)`` > ``(category, "*")`` > ``("*", "*")``. A classifier
suggestion is applied automatically only at or above the configured confidence threshold;
below it the ticket waits in the triage queue for a person to decide.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

from ioc.tickets.categories import CategoryCatalog, load_catalog
from ioc.tickets.classifier import Suggestion

DEFAULT_PATH = Path(__file__).with_name("routing.yaml")
WILDCARD = "*"
WARD = "ward"  # owner code meaning "the People's Committee of the report's unit"


class RoutingStatus(StrEnum):
    ASSIGNED = "assigned"  # đã chuyển: sent to the owner without staff action
    TRIAGE_QUEUE = "triage_queue"  # chờ phân loại: a person confirms category and owner


@dataclass(frozen=True, slots=True)
class Owner:
    """Who must answer a ticket: an agency, or the People's Committee of a commune/ward."""

    kind: Literal["agency", "ward_committee"]
    code: str
    name_vi: str
    name_en: str


@dataclass(frozen=True, slots=True)
class RoutingRule:
    category: str
    unit: str
    owner: str


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The owner a ticket goes to, and whether it was applied automatically."""

    category_code: str
    unit: str
    owner: Owner
    confidence: float
    threshold: float
    rule: RoutingRule

    @property
    def auto_applied(self) -> bool:
        return self.confidence >= self.threshold

    @property
    def status(self) -> RoutingStatus:
        return RoutingStatus.ASSIGNED if self.auto_applied else RoutingStatus.TRIAGE_QUEUE


def unit_key(unit: str) -> str:
    """How units are compared: NFC, case-folded, single spaces ("phường  lê chân" = "Phường Lê Chân")."""
    return " ".join(unicodedata.normalize("NFC", unit).casefold().split())


def _threshold(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"{where} must be a number in (0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class RoutingTable:
    """Validated routing rules, agencies and thresholds."""

    rules: tuple[RoutingRule, ...]
    agencies: dict[str, Owner]
    auto_apply_threshold: float
    category_thresholds: dict[str, float]
    catalog: CategoryCatalog

    @classmethod
    def load(cls, path: Path | str | None = None, catalog: CategoryCatalog | None = None) -> RoutingTable:
        """Read and validate a routing file (the packaged ``routing.yaml`` by default)."""
        text = Path(path or DEFAULT_PATH).read_text(encoding="utf-8")
        return cls.from_dict(yaml.safe_load(text), catalog)

    @classmethod
    def from_dict(cls, data: object, catalog: CategoryCatalog | None = None) -> RoutingTable:
        """Validate parsed configuration; errors name the offending value."""
        catalog = catalog or load_catalog()
        if not isinstance(data, dict):
            raise ValueError(f"routing config must be a mapping, got {type(data).__name__}")
        agencies: dict[str, Owner] = {}
        for code, entry in (data.get("agencies") or {}).items():
            if code == WARD or not isinstance(entry, dict):
                raise ValueError(
                    f"agency {code!r}: must be a mapping with name_vi/name_en, not the word {WARD!r}"
                )
            names = entry.get("name_vi"), entry.get("name_en")
            if not all(isinstance(n, str) and n.strip() for n in names):
                raise ValueError(f"agency {code!r}: name_vi and name_en are required, got {names!r}")
            agencies[code] = Owner("agency", code, names[0], names[1])

        threshold = _threshold(data.get("auto_apply_threshold"), "auto_apply_threshold")
        per_category: dict[str, float] = {}
        for code, value in (data.get("category_thresholds") or {}).items():
            if code not in catalog:
                raise ValueError(
                    f"category_thresholds: unknown category {code!r}; known: {', '.join(catalog.codes)}"
                )
            per_category[code] = _threshold(value, f"category_thresholds[{code!r}]")

        rules: list[RoutingRule] = []
        seen: set[tuple[str, str]] = set()
        for i, entry in enumerate(data.get("rules") or []):
            if not isinstance(entry, dict) or not {"category", "unit", "owner"} <= entry.keys():
                raise ValueError(f"rule #{i}: needs category, unit and owner, got {entry!r}")
            rule = RoutingRule(str(entry["category"]), str(entry["unit"]).strip(), str(entry["owner"]))
            if rule.category != WILDCARD and rule.category not in catalog:
                raise ValueError(
                    f"rule #{i}: unknown category {rule.category!r}; known: {', '.join(catalog.codes)}"
                )
            if not rule.unit:
                raise ValueError(f"rule #{i}: empty unit (use {WILDCARD!r} for every unit)")
            if rule.owner != WARD and rule.owner not in agencies:
                raise ValueError(
                    f"rule #{i}: unknown owner {rule.owner!r}; use {WARD!r} or one of {sorted(agencies)}"
                )
            key = (rule.category, unit_key(rule.unit))
            if key in seen:
                raise ValueError(
                    f"rule #{i}: duplicate rule for category {rule.category!r} and unit {rule.unit!r}"
                )
            seen.add(key)
            rules.append(rule)
        if (WILDCARD, WILDCARD) not in seen:
            raise ValueError("routing config needs a default rule {category: '*', unit: '*'}")
        return cls(tuple(rules), agencies, threshold, per_category, catalog)

    def rule_for(self, category_code: str, unit: str) -> RoutingRule:
        """The most specific rule for a category in a unit."""
        self.catalog.get(category_code)  # KeyError naming an unknown category
        if not isinstance(unit, str) or not unit.strip():
            raise ValueError(f"admin unit must be a non-empty string, got {unit!r}")
        wanted = unit_key(unit)
        for category, unit_pattern in (
            (category_code, wanted),
            (WILDCARD, wanted),
            (category_code, WILDCARD),
            (WILDCARD, WILDCARD),
        ):
            for rule in self.rules:
                if rule.category == category and unit_key(rule.unit) == unit_pattern:
                    return rule
        raise AssertionError("unreachable: the default rule is validated at load")  # pragma: no cover

    def owner_for(self, category_code: str, unit: str) -> Owner:
        """The agency or ward committee that owns this category in this unit."""
        rule = self.rule_for(category_code, unit)
        if rule.owner == WARD:
            unit = " ".join(unit.split())
            return Owner("ward_committee", f"ubnd:{unit}", f"UBND {unit}", f"People's Committee of {unit}")
        return self.agencies[rule.owner]

    def threshold_for(self, category_code: str) -> float:
        return self.category_thresholds.get(category_code, self.auto_apply_threshold)

    def decide(self, suggestion: Suggestion, unit: str) -> RoutingDecision:
        """Route a classifier suggestion: assigned at once above the threshold, else queued."""
        code = suggestion.category_code
        return RoutingDecision(
            category_code=code,
            unit=unit,
            owner=self.owner_for(code, unit),
            confidence=suggestion.confidence,
            threshold=self.threshold_for(code),
            rule=self.rule_for(code, unit),
        )


@cache
def _known_unit_keys() -> dict[str, str]:
    """Every unit name of the shipped or installed boundary sets, by comparison key → display name."""
    from geodata.boundaries import load_boundary_sets

    out: dict[str, str] = {}
    for bset in load_boundary_sets():
        for u in bset.leaves():
            for name in (u.full_name, f"{u.kind or ''} {u.name}".strip()):
                out.setdefault(unit_key(name), name)
    return out


def known_owner(kind: str | None, code: str | None, table: RoutingTable | None = None) -> Owner | None:
    """The owner an assignment names, if it exists: an agency of the routing table, or the People's
    Committee (``ubnd:<unit>``) of a unit of the city; ``None`` for anything else."""
    if not code:
        return None
    if kind == "agency":
        return (table or default_routing()).agencies.get(code)
    if kind == "ward_committee" and code.startswith("ubnd:"):
        name = _known_unit_keys().get(unit_key(code.removeprefix("ubnd:")))
        if name is not None:
            return Owner("ward_committee", f"ubnd:{name}", f"UBND {name}", f"People's Committee of {name}")
    return None


@cache
def default_routing() -> RoutingTable:
    return RoutingTable.load()
