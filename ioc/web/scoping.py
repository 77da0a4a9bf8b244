"""Data scoping where the data is read: what of the shared snapshot and of the alerts one user sees.

The live snapshot is shared by every viewer, so it is filtered at read time by the viewer's scope
(ward users: their units' reports and alerts; department users: their sector's alerts). Filtered
copies are cached per (snapshot, role, scope), so the layers are still built and serialised once
per scope, not per browser.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache, lru_cache

from alerts.feed import alert_resource
from alerts.model import Alert, load_agencies
from ioc.access import Action, Principal, Resource, Role, Scope, decide
from ioc.sources import SOURCES
from ioc.state import AlertRow, CityState, ReportRow
from ioc.web.snapshot import Snapshot


def may(principal: Principal | None, a: Alert, action: Action = Action.VIEW) -> bool:
    return decide(principal, alert_resource(a), action).allowed


@cache
def _owner_codes() -> dict[str, str]:
    """Source kind → the agency code that owns its data (alerts/agencies.yaml via the declarations)."""
    agencies = load_agencies().agencies
    return {k: agencies[s.owner].code for k, s in SOURCES.items() if s.owner in agencies}


def _row_resource(state: CityState, row: AlertRow) -> Resource:
    src = state.sources.get(row.source_id) if row.source_id else None
    sector = _owner_codes().get(src.kind) if src is not None else None
    return Resource.obj("alert", admin_unit=row.admin_unit or (src.admin_unit if src else None), sector=sector)


def _report_resource(row: ReportRow) -> Resource:
    return Resource.obj("ticket", admin_unit=row.admin_unit)


def _filter(state: CityState, p: Principal) -> CityState:
    alerts = tuple(a for a in state.alerts if decide(p, _row_resource(state, a)).allowed)
    reports = tuple(r for r in state.reports if p.scope.covers(r.admin_unit))
    return replace(state, alerts=alerts, reports=reports)


@lru_cache(maxsize=64)
def _scoped(snap: Snapshot, role: Role, scope: Scope) -> Snapshot:
    p = Principal("scope", role, scope)
    return replace(snap, live=_filter(snap.live, p), history={h: _filter(s, p) for h, s in snap.history.items()})


def scoped_snapshot(snap: Snapshot, principal: Principal | None) -> Snapshot:
    """The snapshot as ``principal`` may see it (the same object for city-wide users)."""
    if principal is None or not principal.scoped:
        return snap
    return _scoped(snap, principal.role, principal.scope)
