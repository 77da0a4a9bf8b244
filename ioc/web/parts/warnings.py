"""Snapshot parts of the early warnings: what the budget, public-order, flood and SOC panels, the flood
and simulation layers and the wall need, read once per tick (or every few ticks) for every viewer.

Restricted parts (``warnings.budget``, ``warnings.public_order``) are read like the others but only
the pages that may show them (``ioc/web/pages/budget.py``, ``public_order.py``) put them into a
state; :data:`MAP_PARTS` lists those any map viewer may see (the shared map's state can carry them).
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from ioc import warnings as w
from ioc.web.parts import SnapshotPart

MAP_PARTS = ("warnings.floods", "warnings.simulation")
RESTRICTED_PARTS = ("warnings.budget", "warnings.public_order")


def read_floods(conn: psycopg.Connection, asof: datetime) -> w.FloodView:
    return w.FloodView(asof, w.water_levels(conn, asof), w.rain_totals(conn, asof), w.flood_signals(conn, asof),
                       w.flood_area_views(conn, asof))  # fmt: skip


def read_public_order(conn: psycopg.Connection, asof: datetime) -> w.PublicOrderView:
    return w.PublicOrderView(asof, w.public_order_units(conn, asof), w.public_order_hourly(conn, asof))


def read_budget(conn: psycopg.Connection, asof: datetime) -> w.BudgetPanel:
    from alerts.rules import load_rule_config

    watched = next((r.series for r in load_rule_config().rules if r.type == "budget_ytd_plan"), None)
    return w.budget_panel(w.budget_days(conn, asof), asof, watched=watched or None)


def read_soc(conn: psycopg.Connection, asof: datetime) -> w.SocView:
    return w.SocView(asof, w.soc_open(conn, asof), w.soc_days(conn, asof))


def read_simulations(conn: psycopg.Connection, asof: datetime) -> tuple[w.SimulationView, ...]:
    return w.simulation_views(conn)


def read_alerts(conn: psycopg.Connection, asof: datetime) -> tuple[w.WarningAlert, ...]:
    return w.warning_alerts(conn)


PARTS = (
    SnapshotPart("warnings.floods", read_floods, queries=4, every=1, default=w.EMPTY_FLOODS),
    SnapshotPart("warnings.public_order", read_public_order, queries=2, every=1, default=w.EMPTY_PUBLIC_ORDER),
    SnapshotPart("warnings.budget", read_budget, queries=1, every=30, default=w.EMPTY_BUDGET),  # daily data
    SnapshotPart("warnings.soc", read_soc, queries=2, every=5, default=w.EMPTY_SOC),
    SnapshotPart("warnings.simulation", read_simulations, queries=1, every=10, default=()),
    SnapshotPart("warnings.alerts", read_alerts, queries=1, every=1, default=()),
)
