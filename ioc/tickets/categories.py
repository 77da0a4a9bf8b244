"""Report categories as configuration: loaded from ``categories.yaml`` and validated once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml

DEFAULT_PATH = Path(__file__).with_name("categories.yaml")

Urgency = Literal["urgent", "on_site"]
_URGENCIES: tuple[Urgency, ...] = ("urgent", "on_site")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True, slots=True)
class UrgencyClass:
    """A deadline class: how many working days a report of this class may wait for an answer."""

    code: Urgency
    name_vi: str
    name_en: str
    deadline_working_days: int


@dataclass(frozen=True, slots=True)
class Category:
    """One report category; ``deadline_working_days`` is resolved from its class unless overridden."""

    code: str
    name_vi: str
    name_en: str
    urgency: Urgency
    deadline_working_days: int

    def name(self, lang: str = "vi") -> str:
        """The display name in ``vi`` or ``en``."""
        if lang not in ("vi", "en"):
            raise ValueError(f"unsupported language {lang!r}: use 'vi' or 'en'")
        return self.name_vi if lang == "vi" else self.name_en


@dataclass(frozen=True, slots=True)
class CategoryCatalog:
    """The ordered set of categories and urgency classes."""

    categories: tuple[Category, ...]
    urgency_classes: tuple[UrgencyClass, ...]

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __contains__(self, code: object) -> bool:
        return any(c.code == code for c in self.categories)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)

    def get(self, code: str) -> Category:
        """The category with this code; ``KeyError`` naming the code and the known ones otherwise."""
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(f"unknown category code {code!r}; known: {', '.join(self.codes)}")

    def urgency_class(self, code: str) -> UrgencyClass:
        for u in self.urgency_classes:
            if u.code == code:
                return u
        raise KeyError(f"unknown urgency class {code!r}; known: {', '.join(_URGENCIES)}")


def _require_str(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _days(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 60:
        raise ValueError(f"{where}: deadline_working_days must be an integer in 1..60, got {value!r}")
    return value


def parse_catalog(data: dict) -> CategoryCatalog:
    """Validate the parsed YAML; errors name the offending entry and value."""
    if not isinstance(data, dict):
        raise ValueError(f"categories config must be a mapping, got {type(data).__name__}")
    raw_classes = data.get("urgency_classes")
    if not isinstance(raw_classes, dict):
        raise ValueError("categories config: 'urgency_classes' mapping is missing")
    classes: dict[str, UrgencyClass] = {}
    for code, entry in raw_classes.items():
        where = f"urgency class {code!r}"
        if code not in _URGENCIES:
            raise ValueError(f"{where}: unknown class, expected one of {_URGENCIES}")
        classes[code] = UrgencyClass(
            code=code,
            name_vi=_require_str(entry, "name_vi", where),
            name_en=_require_str(entry, "name_en", where),
            deadline_working_days=_days(entry.get("deadline_working_days"), where),
        )
    missing = set(_URGENCIES) - set(classes)
    if missing:
        raise ValueError(f"categories config: urgency classes missing: {sorted(missing)}")

    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise ValueError("categories config: 'categories' must be a non-empty list")
    categories: list[Category] = []
    for i, entry in enumerate(raw_categories):
        where = f"category #{i}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a mapping, got {entry!r}")
        code = _require_str(entry, "code", where)
        where = f"category {code!r}"
        if not _CODE.match(code):
            raise ValueError(f"{where}: code must match {_CODE.pattern}")
        if any(c.code == code for c in categories):
            raise ValueError(f"{where}: duplicate code")
        urgency = entry.get("urgency")
        if urgency not in classes:
            raise ValueError(f"{where}: unknown urgency {urgency!r}, expected one of {_URGENCIES}")
        days = entry.get("deadline_working_days", classes[urgency].deadline_working_days)
        categories.append(
            Category(
                code=code,
                name_vi=_require_str(entry, "name_vi", where),
                name_en=_require_str(entry, "name_en", where),
                urgency=urgency,
                deadline_working_days=_days(days, where),
            )
        )
    return CategoryCatalog(tuple(categories), tuple(classes[u] for u in _URGENCIES))


def load_catalog(path: Path | str | None = None) -> CategoryCatalog:
    """Load and validate a categories file (the packaged ``categories.yaml`` by default)."""
    if path is None:
        return _default_catalog()
    return parse_catalog(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


@cache
def _default_catalog() -> CategoryCatalog:
    return parse_catalog(yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8")))
