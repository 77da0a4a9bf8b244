"""The KPI catalogue of the leaders' cockpit (``catalogue.yaml``): typed, validated, cited.

Every indicator the cockpit shows is declared once: names (Vietnamese first), definition,
formula, unit, where its numbers come from (a live feed, or ``document``), how often, the owner
agency, the levels it is shown at, which way is better, and its targets. Every target and every
documented figure cites a file of ``shared/data/documents/`` with line numbers and the exact
words (``quote``), so :func:`verify_citations` can check them against the documents.

Series whose definitions differ are separate entries, never one series: the 2022 online-dossier
rate of Kế hoạch 128/KH-UBND, the 2024 rate reported to the National Committee, the 2021–2025
full-online (toàn trình) rate and the live 766 indicators 3.3 and 3.F are five ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ioc.kpi.index766 import INDICATOR_IDS


class Frequency(StrEnum):
    REALTIME = "realtime"
    DAILY = "daily"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"  # a figure quoted once in a report or speech


class Level(StrEnum):
    CITY = "city"
    SECTOR = "sector"  # a department (sở, ngành) or a group of units
    UNIT = "unit"  # a commune-level unit (xã, phường, đặc khu) or one agency


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"
    NEUTRAL = "neutral"  # context: more is neither better nor worse (e.g. security alerts found)


class Unit(StrEnum):
    PERCENT = "percent"
    POINTS = "points"
    COUNT = "count"
    MBPS = "mbps"


# Live feeds the cockpit will read; "document" means the values come from the city's documents.
LIVE_FEEDS: frozenset[str] = frozenset({"dossiers", "tickets", "directives"})
DOCUMENT = "document"
COMPARATORS: frozenset[str] = frozenset({"=", ">=", ">", "<=", "<"})

_ID = re.compile(r"[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)+")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.txt")


class CatalogueError(ValueError):
    """A bad catalogue: the message names the entry (position and id) and the field."""


@dataclass(frozen=True, slots=True)
class Citation:
    """Words of a document at given lines (1-based, inclusive), as they are written there."""

    file: str  # a file name in shared/data/documents/
    first_line: int
    last_line: int
    quote: str
    note_vi: str | None = None

    @property
    def lines(self) -> str:
        return (
            str(self.first_line)
            if self.first_line == self.last_line
            else f"{self.first_line}-{self.last_line}"
        )


@dataclass(frozen=True, slots=True)
class Target:
    """A target set by a document: ``comparator value`` by ``year`` (for ``scope``, if given)."""

    value: Decimal
    comparator: str
    year: int
    citations: tuple[Citation, ...]
    scope: str | None = None  # e.g. "cấp xã" when one KPI has a target per level
    note_vi: str | None = None


@dataclass(frozen=True, slots=True)
class Kpi:
    id: str
    name_vi: str
    name_en: str
    definition_vi: str
    definition_en: str
    formula: str
    unit: Unit
    source: str  # a LIVE_FEEDS id, or "document"
    frequency: Frequency
    owner: str  # full Vietnamese name of the owner agency
    levels: tuple[Level, ...]
    direction: Direction
    targets: tuple[Target, ...] = ()
    evidence: tuple[Citation, ...] = ()  # where the documents state the figure or the definition
    index766_id: str | None = None
    reference: str | None = None  # a source outside documents/ (e.g. index766.md §8)


@dataclass(frozen=True, slots=True)
class Catalogue:
    version: int
    kpis: tuple[Kpi, ...]

    def get(self, kpi_id: str) -> Kpi:
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(f"no KPI {kpi_id!r} in the catalogue")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.kpis)

    def citations(self) -> list[tuple[Kpi, Target | None, Citation]]:
        """Every citation with the KPI (and target) it supports."""
        out: list[tuple[Kpi, Target | None, Citation]] = []
        for k in self.kpis:
            out += [(k, t, c) for t in k.targets for c in t.citations]
            out += [(k, None, c) for c in k.evidence]
        return out


_KPI_REQUIRED = (
    "id", "name_vi", "name_en", "definition_vi", "definition_en", "formula", "unit", "source",
    "frequency", "owner", "levels", "direction",
)  # fmt: skip
_KPI_OPTIONAL = ("targets", "evidence", "index766_id", "reference")
_TARGET_REQUIRED = ("value", "comparator", "year", "citations")
_TARGET_OPTIONAL = ("scope", "note_vi")
_CITATION_REQUIRED = ("file", "lines", "quote")
_CITATION_OPTIONAL = ("note_vi",)


class _Where:
    """Builds messages that say which entry and which field is wrong."""

    def __init__(self, origin: str, index: int, kpi_id: object) -> None:
        self.prefix = f"{origin}: KPI entry {index}" + (f" ({kpi_id!r})" if isinstance(kpi_id, str) else "")

    def error(self, path: str, problem: str) -> CatalogueError:
        return CatalogueError(f"{self.prefix}, field '{path}': {problem}")


def _keys(
    w: _Where, path: str, data: object, required: Sequence[str], optional: Sequence[str]
) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise w.error(path or "(entry)", f"expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(required) - set(optional))
    if unknown:
        raise w.error(f"{path}{unknown[0]}", f"unknown field (allowed: {', '.join((*required, *optional))})")
    for name in required:
        if name not in data or data[name] is None:
            raise w.error(f"{path}{name}", "missing")
    return data


def _text(w: _Where, path: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise w.error(path, f"expected non-empty text, got {value!r}")
    return value.strip()


def _enum(w: _Where, path: str, value: object, enum: type[StrEnum]) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise w.error(path, f"{value!r} is not one of {', '.join(e.value for e in enum)}") from None


def _decimal(w: _Where, path: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise w.error(path, f"expected a number, got {value!r}")
    try:
        d = Decimal(str(value))  # str(): YAML's 27.9 is a float; keep the digits as written
    except InvalidOperation:
        raise w.error(path, f"expected a number, got {value!r}") from None
    if not d.is_finite():
        raise w.error(path, f"expected a finite number, got {value!r}")
    return d


def _citation(w: _Where, path: str, data: object) -> Citation:
    d = _keys(w, path, data, _CITATION_REQUIRED, _CITATION_OPTIONAL)
    file = _text(w, f"{path}file", d["file"])
    if not _FILE.fullmatch(file):
        raise w.error(f"{path}file", f"{file!r} is not a plain .txt file name of shared/data/documents/")
    lines = d["lines"]
    if isinstance(lines, int) and not isinstance(lines, bool):
        first = last = lines
    elif isinstance(lines, list) and len(lines) == 2 and all(type(x) is int for x in lines):
        first, last = lines
    else:
        raise w.error(f"{path}lines", f"expected a line number or [first, last], got {lines!r}")
    if not 1 <= first <= last:
        raise w.error(f"{path}lines", f"expected 1 ≤ first ≤ last, got {lines!r}")
    note = d.get("note_vi")
    return Citation(file, first, last, _text(w, f"{path}quote", d["quote"]),
                    None if note is None else _text(w, f"{path}note_vi", note))  # fmt: skip


def _citations(w: _Where, path: str, value: object) -> tuple[Citation, ...]:
    if not isinstance(value, list):
        raise w.error(path, f"expected a list, got {type(value).__name__}")
    return tuple(_citation(w, f"{path}[{i}].", c) for i, c in enumerate(value))


def _target(w: _Where, path: str, data: object) -> Target:
    d = _keys(w, path, data, _TARGET_REQUIRED, _TARGET_OPTIONAL)
    comparator = d["comparator"]
    if comparator not in COMPARATORS:
        raise w.error(f"{path}comparator", f"{comparator!r} is not one of {', '.join(sorted(COMPARATORS))}")
    year = d["year"]
    if type(year) is not int or not 2000 <= year <= 2100:
        raise w.error(f"{path}year", f"expected a year 2000–2100, got {year!r}")
    citations = _citations(w, f"{path}citations", d["citations"])
    if not citations:
        raise w.error(f"{path}citations", "a target needs at least one citation")
    scope, note = d.get("scope"), d.get("note_vi")
    return Target(
        _decimal(w, f"{path}value", d["value"]), comparator, year, citations,
        None if scope is None else _text(w, f"{path}scope", scope),
        None if note is None else _text(w, f"{path}note_vi", note),
    )  # fmt: skip


def _kpi(origin: str, index: int, data: object) -> Kpi:
    w = _Where(origin, index, data.get("id") if isinstance(data, dict) else None)
    d = _keys(w, "", data, _KPI_REQUIRED, _KPI_OPTIONAL)
    kpi_id = _text(w, "id", d["id"])
    if not _ID.fullmatch(kpi_id):
        raise w.error("id", f"{kpi_id!r} is not a dotted lower-case id such as 'reports.on_time'")
    source = _text(w, "source", d["source"])
    if source != DOCUMENT and source not in LIVE_FEEDS:
        raise w.error(
            "source", f"{source!r} is neither 'document' nor a live feed ({', '.join(sorted(LIVE_FEEDS))})"
        )
    levels_raw = d["levels"]
    if not isinstance(levels_raw, list) or not levels_raw:
        raise w.error("levels", f"expected a non-empty list, got {levels_raw!r}")
    levels = tuple(_enum(w, f"levels[{i}]", v, Level) for i, v in enumerate(levels_raw))
    if len(set(levels)) != len(levels):
        raise w.error("levels", "a level appears twice")
    targets_raw = d.get("targets", [])
    if not isinstance(targets_raw, list):
        raise w.error("targets", f"expected a list, got {type(targets_raw).__name__}")
    targets = tuple(_target(w, f"targets[{i}].", t) for i, t in enumerate(targets_raw))
    evidence = _citations(w, "evidence", d.get("evidence", []))
    if source == DOCUMENT and not targets and not evidence:
        raise w.error("evidence", "a KPI whose values come from documents must cite at least one")
    index766_id = d.get("index766_id")
    if index766_id is not None and index766_id not in INDICATOR_IDS:
        raise w.error(
            "index766_id", f"{index766_id!r} is not a computed 766 indicator ({', '.join(INDICATOR_IDS)})"
        )
    reference = d.get("reference")
    return Kpi(
        kpi_id, _text(w, "name_vi", d["name_vi"]), _text(w, "name_en", d["name_en"]),
        _text(w, "definition_vi", d["definition_vi"]), _text(w, "definition_en", d["definition_en"]),
        _text(w, "formula", d["formula"]), _enum(w, "unit", d["unit"], Unit), source,
        _enum(w, "frequency", d["frequency"], Frequency), _text(w, "owner", d["owner"]), levels,
        _enum(w, "direction", d["direction"], Direction), targets, evidence, index766_id,
        None if reference is None else _text(w, "reference", reference),
    )  # fmt: skip


def parse_catalogue(data: object, origin: str = "catalogue") -> Catalogue:
    """Validate a parsed YAML document; :class:`CatalogueError` names the first bad entry."""
    if not isinstance(data, dict) or set(data) != {"version", "kpis"}:
        raise CatalogueError(f"{origin}: expected exactly the keys 'version' and 'kpis'")
    if data["version"] != 1:
        raise CatalogueError(f"{origin}: unsupported version {data['version']!r} (expected 1)")
    if not isinstance(data["kpis"], list) or not data["kpis"]:
        raise CatalogueError(f"{origin}: 'kpis' must be a non-empty list")
    kpis = tuple(_kpi(origin, i + 1, entry) for i, entry in enumerate(data["kpis"]))
    seen: dict[str, int] = {}
    for i, k in enumerate(kpis, 1):
        if k.id in seen:
            raise CatalogueError(
                f"{origin}: KPI entry {i} ({k.id!r}), field 'id': duplicate of entry {seen[k.id]}"
            )
        seen[k.id] = i
    mapped = [k.index766_id for k in kpis if k.index766_id]
    for i766 in INDICATOR_IDS:
        if mapped.count(i766) != 1:
            raise CatalogueError(
                f"{origin}: 766 indicator {i766!r} must have exactly one KPI entry, has {mapped.count(i766)}"
            )
    return Catalogue(1, kpis)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The shipped catalogue (or the file at ``path``), validated."""
    if path is None:
        text = resources.files("ioc.kpi").joinpath("catalogue.yaml").read_text(encoding="utf-8")
        origin = "ioc/kpi/catalogue.yaml"
    else:
        text, origin = path.read_text(encoding="utf-8"), str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{origin}: not valid YAML: {exc}") from None
    return parse_catalogue(data, origin)


# ---------------------------------------------------------------------------------------------
# Checking citations against the documents


def normalise(text: str) -> str:
    """Whitespace collapsed: quotes span the documents' wrapped lines."""
    return " ".join(text.split())


def document_lines(path: Path) -> list[str]:
    """Lines as ``sed -n Np`` numbers them (split on newline only)."""
    return path.read_text(encoding="utf-8").split("\n")


def figure_pattern(value: Decimal) -> re.Pattern[str]:
    """The number as the documents may write it: 27,9 / 27.9, 2.224 / 2,224 / 2224, 01 for 1."""
    plain = format(value.normalize(), "f")
    whole, _, frac = plain.partition(".")
    grouped = f"{int(whole):,}"
    variants = {plain, plain.replace(".", ",")}
    for sep, dec in ((".", ","), (",", ".")):
        g = grouped.replace(",", sep)
        variants.add(g + (dec + frac if frac else ""))
    alternatives = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    return re.compile(rf"(?<![\d.,])0*(?:{alternatives})(?![\d])(?![.,]\d)")


def verify_citations(catalogue: Catalogue, documents_dir: Path) -> list[str]:
    """Problems with the citations: a missing file or line, a quote not at its lines, a target
    whose value is not in its quote. Empty when every citation holds."""
    problems: list[str] = []
    cache: dict[str, list[str]] = {}
    for kpi, target, c in catalogue.citations():
        where = f"{kpi.id}: {c.file}:{c.lines}"
        if c.file not in cache:
            path = documents_dir / c.file
            if not path.is_file():
                problems.append(f"{where}: no such document")
                continue
            cache[c.file] = document_lines(path)
        lines = cache[c.file]
        if c.last_line > len(lines):
            problems.append(f"{where}: the document has only {len(lines)} lines")
            continue
        text = normalise(" ".join(lines[c.first_line - 1 : c.last_line]))
        if normalise(c.quote) not in text:
            problems.append(f"{where}: quote not found: {c.quote!r}")
        if target is not None and not figure_pattern(target.value).search(c.quote):
            problems.append(f"{where}: target value {target.value} not in the quote {c.quote!r}")
    return problems
