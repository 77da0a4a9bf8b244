"""Layout builders of ``/leader/kpi``: each 766 indicator and the total with its value, its change on
the previous period and on the same period a year before, a 12-month sparkline and the catalogue's
target line where the catalogue sets one.

Pure functions of the snapshot part ``kpi`` (:class:`ioc.web.parts.kpi.KpiPart`) and the KPI
catalogue: no query here. Each figure's definition, source and as-of moment sit in a details element.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from ioc.i18n import Lang, fmt_datetime, fmt_number
from ioc.kpi.catalogue import Catalogue, Kpi, Target, load_catalogue
from ioc.kpi.i18n import tk
from ioc.kpi.index766 import INDICATORS, MAX_POINTS, SPECS, ScoreCard
from ioc.web.leader_views import unit_label
from ioc.web.parts.kpi import KpiPart

TOTAL = "total"
TOTAL_KPI = "d766.subset_total"  # the catalogue's entry for the dossier-computable 766 total
CITY = "*"  # the unit selector's value for the whole city
VALUE_COLOUR = "#1f4e99"
TARGET_COLOUR = "#b42318"
THRESHOLD_COLOUR = "#6b7280"
# A code-like aside of the catalogue's definitions (where the code keeps a list), not for readers.
_CODE_ASIDE = re.compile(r"\s*\((?:xem|see)\b[^()]*?\b[a-z0-9]+[._][A-Za-z0-9_.*]+[^()]*\)")


@dataclass(frozen=True, slots=True)
class KpiRow:
    """One indicator (or the total) as the page shows it; ``None`` where there were no dossiers.

    Values are points for the total and percent (0..100) for an indicator; changes are in the
    same unit (points, or percentage points)."""

    key: str  # "total" or a 766 indicator id
    kpi: Kpi
    value: float | None
    previous: float | None
    year_before: float | None
    spark: tuple[tuple[str, float | None], ...]  # month label, value; oldest first
    target: Target | None  # from the catalogue
    threshold: float | None  # the index's own full-points rule, in percent
    as_of: datetime

    @property
    def change(self) -> float | None:
        return None if self.value is None or self.previous is None else self.value - self.previous

    @property
    def change_yoy(self) -> float | None:
        return None if self.value is None or self.year_before is None else self.value - self.year_before

    @property
    def percent(self) -> bool:
        return self.key != TOTAL


def figure_of(card: ScoreCard | None, key: str) -> float | None:
    """The figure the page shows for a card: total points, or the indicator's ratio in percent."""
    if card is None or card.dossiers == 0:
        return None
    if key == TOTAL:
        return float(card.total)
    r = card.indicator(key).ratio
    return None if r is None else float(r) * 100


def catalogue_kpi(catalogue: Catalogue, key: str) -> Kpi:
    if key == TOTAL:
        return catalogue.get(TOTAL_KPI)
    return next(k for k in catalogue.kpis if k.index766_id == key)


def current_target(kpi: Kpi, year: int) -> Target | None:
    """The city-wide target for ``year`` or the next year that has one, else the latest one set."""
    city = sorted((t for t in kpi.targets if t.scope is None), key=lambda t: t.year)
    return next((t for t in city if t.year >= year), city[-1] if city else None)


@cache
def shipped_catalogue() -> Catalogue:
    return load_catalogue()


def kpi_rows(part: KpiPart, kind: str, unit: str | None = None,
             catalogue: Catalogue | None = None) -> tuple[KpiRow, ...]:  # fmt: skip
    """The total first, then the indicators in the index's order, for the city or one unit."""
    cat = catalogue or shipped_catalogue()
    pi = part.period(kind)
    if pi is None:
        return ()
    cur, prev, yoy = part.cards(kind, unit)
    trend = part.trend if unit is None else part.unit_trend(unit)
    year = pi.period.start.year
    rows = []
    for key in (TOTAL, *(s.id for s in INDICATORS)):
        kpi = catalogue_kpi(cat, key)
        threshold = SPECS[key].threshold if key != TOTAL else None
        rows.append(KpiRow(
            key, kpi, figure_of(cur, key), figure_of(prev, key), figure_of(yoy, key),
            tuple((label, figure_of(c, key)) for label, c in trend), current_target(kpi, year),
            None if threshold is None else float(threshold) * 100, pi.as_of,
        ))  # fmt: skip
    return tuple(rows)


# --- formatting ---------------------------------------------------------------------------------


def show_value(row: KpiRow, v: float | None, lang: Lang) -> str:
    if v is None:
        return "—"
    return fmt_number(v, lang, 2) + (" %" if row.percent else "")  # ratios have 4 decimals: exact


def show_change(row: KpiRow, v: float | None, lang: Lang) -> str:
    """Signed, in percentage points (indicators) or points (the total)."""
    if v is None:
        return "—"
    decimals = 2
    sign = "+" if round(v, decimals) > 0 else "−" if round(v, decimals) < 0 else "±"
    return f"{sign}{fmt_number(abs(v), lang, decimals)} {tk('kpi.pp' if row.percent else 'kpi.points', lang)}"


def _tone(v: float | None, decimals: int) -> str:
    if v is None or round(v, decimals) == 0:
        return "ioc-kpit-flat"
    return "ioc-kpit-up" if v > 0 else "ioc-kpit-down"  # every indicator here: higher is better


def target_text(t: Target, percent: bool, lang: Lang) -> str:
    value = fmt_number(float(t.value), lang, 1 if percent else 2) + (" %" if percent else "")
    return tk("kpi.target.line", lang, cmp=t.comparator, value=value, year=t.year)


def kpi_name(row: KpiRow, lang: Lang) -> str:
    if row.key == TOTAL:
        return tk("total", lang)
    return f"{row.key} · {row.kpi.name_en if lang == 'en' else row.kpi.name_vi}"


def row_dom_id(key: str) -> str:
    return "leader-kpi-" + key.replace(".", "_").lower()


# --- the sparkline ------------------------------------------------------------------------------


def sparkline(row: KpiRow, lang: Lang) -> go.Figure:
    """The last 12 months, the current month marked, the target dashed and labelled, the full-points
    threshold dotted (its own colour); small but readable at arm's length, no zoom to catch a swipe."""
    labels = [m for m, _ in row.spark]
    ys = [v for _, v in row.spark]
    fig = go.Figure(go.Scatter(
        x=labels, y=ys, mode="lines+markers", name=tk("kpi.legend.value", lang), connectgaps=False,
        line={"color": VALUE_COLOUR, "width": 3}, marker={"size": 7, "color": VALUE_COLOUR},
        hovertemplate="%{x}: %{y:.2f}" + (" %" if row.percent else "") + "<extra></extra>",
    ))  # fmt: skip
    if labels and ys[-1] is not None:
        fig.add_trace(go.Scatter(x=labels[-1:], y=ys[-1:], mode="markers", name=tk("kpi.legend.last", lang),
                                 marker={"size": 12, "color": VALUE_COLOUR, "line": {"color": "#fff", "width": 2}},
                                 hoverinfo="skip"))  # fmt: skip
    top = 100.0 if row.percent else float(MAX_POINTS)
    if row.target is not None:
        fig.add_hline(y=float(row.target.value), line_dash="dash", line_color=TARGET_COLOUR, line_width=2,
                      annotation_text=target_text(row.target, row.percent, lang), annotation_position="top left",
                      annotation_font={"color": TARGET_COLOUR, "size": 13})  # fmt: skip
    if row.threshold is not None:
        fig.add_hline(y=row.threshold, line_dash="dot", line_color=THRESHOLD_COLOUR, line_width=2,
                      annotation_text=tk("kpi.threshold.line", lang, value=fmt_number(row.threshold, lang, 0) + " %"),
                      annotation_position="bottom left", annotation_font={"color": THRESHOLD_COLOUR, "size": 13})  # fmt: skip
    present = [v for v in ys if v is not None] + ([float(row.target.value)] if row.target else []) + (
        [row.threshold] if row.threshold is not None else [])  # fmt: skip
    lo = min(present, default=0.0)
    span = max(present, default=top) - lo
    pad = max(span * 0.15, 2.0)
    fig.update_layout(
        height=130, margin={"l": 36, "r": 8, "t": 8, "b": 24}, template="plotly_white", showlegend=False,
        xaxis={"type": "category", "fixedrange": True, "tickfont": {"size": 11}, "nticks": 4}, dragmode=False,
        yaxis={"fixedrange": True, "range": [max(0.0, lo - pad), min(top, lo + span + pad) if span else lo + pad],
               "tickfont": {"size": 11}, "nticks": 3},
        separators=",." if lang == "vi" else ".,",
    )  # fmt: skip
    return fig


def legend(lang: Lang) -> html.Div:
    """What the sparklines' lines mean (colour and dash), once for the page."""
    def item(cls: str, key: str) -> html.Span:
        return html.Span([html.Span(className=f"ioc-kpit-swatch {cls}"), tk(key, lang)], className="me-3 text-nowrap")

    return html.Div([item("ioc-kpit-sw-value", "kpi.legend.value"), item("ioc-kpit-sw-last", "kpi.legend.last"),
                     item("ioc-kpit-sw-target", "kpi.legend.target"), item("ioc-kpit-sw-threshold", "kpi.legend.threshold")],
                    className="ioc-kpit-legend small mb-2", id="leader-kpi-legend")  # fmt: skip


# --- the cards ----------------------------------------------------------------------------------


def details(row: KpiRow, lang: Lang) -> html.Details:
    k = row.kpi
    definition = _CODE_ASIDE.sub("", k.definition_en if lang == "en" else k.definition_vi)
    source = tk("kpi.source.dossiers", lang) if k.source == "dossiers" else k.source
    items = [(tk("kpi.definition", lang), definition), (tk("kpi.formula", lang), k.formula),
             (tk("kpi.source", lang), source), (tk("kpi.owner", lang), k.owner),
             (tk("kpi.asof", lang), fmt_datetime(row.as_of, lang)),
             (tk("kpi.target", lang), target_text(row.target, row.percent, lang) if row.target else tk("kpi.no_target", lang))]  # fmt: skip
    return html.Details([
        html.Summary(tk("kpi.details", lang)),
        html.Dl([x for label, text in items for x in (html.Dt(label), html.Dd(text))], className="ioc-kpit-dl"),
    ], className="ioc-kpit-details")  # fmt: skip


def kpi_card(row: KpiRow, kind: str, lang: Lang) -> html.Div:
    dom = row_dom_id(row.key)
    decimals = 2
    name = kpi_name(row, lang)
    title = (f"{name}. {tk('kpi.source', lang)}: {tk('kpi.source.dossiers', lang)}. "
             f"{tk('kpi.asof', lang)} {fmt_datetime(row.as_of, lang)}")  # fmt: skip
    changes = html.Div([
        html.Div([html.Span(tk(f"kpi.prev.{kind}", lang), className="ioc-kpit-clabel"),
                  html.B(show_change(row, row.change, lang), id=f"{dom}-change", className=_tone(row.change, decimals))],
                 className="ioc-kpit-change"),
        html.Div([html.Span(tk("kpi.yoy", lang), className="ioc-kpit-clabel"),
                  html.B(show_change(row, row.change_yoy, lang), id=f"{dom}-yoy", className=_tone(row.change_yoy, decimals))],
                 className="ioc-kpit-change"),
    ], className="ioc-kpit-changes")  # fmt: skip
    return html.Div([
        html.Div(name, className="ioc-kpi-title"),
        html.Div([html.Div(show_value(row, row.value, lang), className="ioc-kpi-value", id=f"{dom}-value", title=title),
                  changes], className="ioc-kpit-head"),
        html.Div(dcc.Graph(figure=sparkline(row, lang), config={"displayModeBar": False, "scrollZoom": False},
                           id=f"{dom}-spark", className="ioc-kpit-spark", style={"height": "130px"}),
                 title=tk("kpi.spark", lang, name=name)),
        html.Div(target_text(row.target, row.percent, lang), className="ioc-kpit-target", id=f"{dom}-target")
        if row.target else None,
        details(row, lang),
    ], className="ioc-kpi ioc-wkpi ioc-kpit-card", id=dom)  # fmt: skip


def kpi_cards(rows: Sequence[KpiRow], kind: str, lang: Lang) -> list[Any]:
    if not rows or all(r.value is None for r in rows):
        return [html.P(tk("kpi.none", lang), id="leader-kpi-empty")]
    return [html.Div(kpi_card(r, kind, lang), className="col-12 col-md-6 col-xl-4") for r in rows]


def unit_options(part: KpiPart, lang: Lang) -> list[dict[str, str]]:
    """The city first, then the units with dossiers this year, by name."""
    pi = part.period("year")
    units = sorted({u.unit for u in pi.units} if pi else set(), key=lambda c: unit_label(c, lang))
    return [{"label": tk("kpi.city", lang), "value": CITY}] + [{"label": unit_label(c, lang), "value": c} for c in units]
