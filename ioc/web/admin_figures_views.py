"""Pure layout builders of ``/admin/figures`` (KPI figures by hand): data in, Dash components out.

No queries and no callbacks here (``ioc/web/pages/admin_figures.py`` wires them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import dash_bootstrap_components as dbc
from dash import dcc, html

from ioc.i18n import Lang, fmt_datetime
from ioc.kpi.catalogue import Kpi
from ioc.kpi.figures import NOTE_MAX, SOURCE_MAX, CurrentFigure, Figure
from ioc.kpi.i18n import tk
from ioc.web.components import dropdown_labels
from ioc.web.leader_views import figure_text
from ioc.web.pages import admin_figures_ids as fid


def kpi_name(k: Kpi, lang: Lang) -> str:
    return k.name_en if lang == "en" else k.name_vi


def indicator_options(kpis: Sequence[Kpi], lang: Lang) -> list[dict[str, str]]:
    """Vietnamese (or English) names with the unit and the catalogue id."""
    return [{"label": f"{kpi_name(k, lang)} ({tk(f'fig.unit.{k.unit.value}', lang)}) · {k.id}", "value": k.id}
            for k in kpis]  # fmt: skip


def _head(keys: Sequence[str], lang: Lang) -> html.Thead:
    return html.Thead(html.Tr([html.Th(tk(f"fig.col.{k}", lang)) for k in keys]))


def current_table(kpis: Sequence[Kpi], current: Mapping[str, CurrentFigure], lang: Lang) -> dbc.Table:
    """Every indicator with no live feed: its current figure, as-of date, source and who entered it."""
    rows = []
    for k in kpis:
        c = current.get(k.id)
        cells = [html.Td(kpi_name(k, lang), title=k.id)]
        if c is None:
            cells += [html.Td("—"), html.Td("—"), html.Td("—"), html.Td("—")]
        else:
            by = tk("fig.from_document", lang) if c.kind == "document" else c.entered_by
            cells += [html.Td(figure_text(c.value, k.unit, lang), className="text-end"),
                      html.Td(f"{c.as_of:%d/%m/%Y}"), html.Td(c.source, className="small"), html.Td(by)]  # fmt: skip
        rows.append(html.Tr(cells, id=f"admin-figure-row-{k.id.replace('.', '_')}"))
    return dbc.Table([_head(("indicator", "value", "as_of", "source", "by"), lang), html.Tbody(rows)], hover=True,
                     size="sm", className="ioc-admin-table")  # fmt: skip


def history_table(entries: Sequence[Figure], kpis: Sequence[Kpi], lang: Lang) -> html.Div | dbc.Table:
    """The latest entries by hand, newest first."""
    if not entries:
        return html.P(tk("fig.none", lang), className="text-muted small")
    by_id = {k.id: k for k in kpis}
    rows = []
    for e in entries:
        k = by_id.get(e.kpi_id)
        rows.append(html.Tr([
            html.Td(fmt_datetime(e.entered_at, lang)), html.Td(e.entered_by),
            html.Td(kpi_name(k, lang) if k else e.kpi_id, title=e.kpi_id),
            html.Td(figure_text(e.value, k.unit, lang) if k else str(e.value), className="text-end"),
            html.Td(f"{e.as_of:%d/%m/%Y}"), html.Td(e.source, className="small"), html.Td(e.note or "", className="small"),
        ]))  # fmt: skip
    return dbc.Table([_head(("at", "by", "indicator", "value", "as_of", "source", "note"), lang), html.Tbody(rows)],
                     hover=True, size="sm", className="ioc-admin-table", id="admin-figures-history-table")  # fmt: skip


def figure_form(kpis: Sequence[Kpi], lang: Lang, today: date) -> html.Div:
    """The form that enters one figure."""

    def field(label_key: str, control: object) -> html.Div:
        return html.Div([dbc.Label(tk(label_key, lang), className="small mb-0"), control], className="mb-2")

    return html.Div(
        [
            html.H2(tk("fig.form", lang), className="h6"),
            field("fig.indicator", dcc.Dropdown(labels=dropdown_labels(lang), id=fid.FIGURES_INDICATOR,
                                                options=indicator_options(kpis, lang), clearable=False)),
            field("fig.value", dbc.Input(id=fid.FIGURES_VALUE, type="text", inputMode="decimal", maxLength=40,
                                         autoComplete="off")),
            field("fig.as_of", dbc.Input(id=fid.FIGURES_AS_OF, type="date", min="2015-01-01", max=today.isoformat())),
            field("fig.source", dbc.Input(id=fid.FIGURES_SOURCE, maxLength=SOURCE_MAX)),
            field("fig.note", dbc.Textarea(id=fid.FIGURES_NOTE, maxLength=NOTE_MAX, rows=2)),
            dbc.Button(tk("fig.save", lang), id=fid.FIGURES_SAVE, color="primary", size="sm"),
        ],
        className="ioc-admin-form",
    )  # fmt: skip
