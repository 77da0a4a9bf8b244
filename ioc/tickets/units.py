"""Admin units as people read them: the spine stores unit codes, tickets keep "Phường Lê Chân".

Codes are unique only within a boundary set, so a code is named with the set in force on the
report's local date (``geodata.admin.DatedAdminAssigner``). Routing rules, ward scopes, filters and
the leaders' numbers all use these names.
"""

from __future__ import annotations

import threading
from datetime import datetime

from geodata.admin import AdminAssigner, DatedAdminAssigner


class UnitNames:
    """Code → display name, and point → display name, per boundary set (built on first use)."""

    def __init__(self, dated: DatedAdminAssigner | None = None) -> None:
        self._dated = dated
        self._names: dict[int, dict[str, str]] = {}
        self._lock = threading.Lock()

    def _assigner(self, on: datetime) -> AdminAssigner:
        with self._lock:
            if self._dated is None:
                self._dated = DatedAdminAssigner()
            return self._dated.for_date(on)

    def _table(self, assigner: AdminAssigner) -> dict[str, str]:
        key = id(assigner)
        if key not in self._names:
            self._names[key] = {u.code: f"{u.kind} {u.name}".strip() for u in assigner.units}
        return self._names[key]

    def name(self, code: str | None, on: datetime) -> str | None:
        """The unit's name on that date; an unknown code (or an already readable name) is kept as is."""
        if code is None:
            return None
        return self._table(self._assigner(on)).get(code, code)

    def at(self, lon: float, lat: float, on: datetime) -> str | None:
        """The name of the unit containing the point on that date, or ``None`` outside the city."""
        assigner = self._assigner(on)
        code = assigner.assign(lon, lat)
        return None if code is None else self._table(assigner)[code]
