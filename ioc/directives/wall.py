"""The wall's "overdue directives" count: a builder the lead wires into ``ioc/web/pages/wall.py``.

It reads the snapshot part ``directives`` (``ioc/web/parts/directives.py``), never the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from ioc.directives.i18n import tr


@dataclass(frozen=True, slots=True)
class WallCount:
    label: str
    value: int
    colour: str  # a Bootstrap colour: success when none is overdue, danger otherwise
    href: str = "/directives?overdue=1"


def overdue_count(part: object, lang: str = "vi") -> WallCount:
    """The count from the snapshot part (``None`` before the first read shows 0)."""
    n = int(getattr(part, "overdue", 0) or 0)
    return WallCount(tr("wall.overdue", lang), n, "danger" if n else "success")
