"""Layout builders of the leaders' cockpit (``/leader``, ``/leader/ranking``, ``/leader/unit``).

Pure functions of the snapshot part ``kpi`` (:class:`ioc.web.parts.kpi.KpiPart`): no query here.
Every figure says where it comes from (its definition on hover, the source and as-of date below).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import quote

import plotly.graph_objects as go
from dash import dash_table, dcc, html
from dash.dash_table.Format import Format, Scheme, Sign

from ioc.i18n import Lang, fmt_datetime, fmt_number
from ioc.kpi.catalogue import Unit
from ioc.kpi.figures import Figure, current_figures, document_values, hand_kpis
from ioc.kpi.i18n import tk
from ioc.kpi.index766 import INDICATORS, MAX_POINTS, NOT_COMPUTABLE, SPECS, ScoreCard
from ioc.kpi.live import PeriodIndex
from ioc.kpi.seed import KpiValue
from ioc.kpi.units import units_by_code
from ioc.web.parts.kpi import KpiPart, LateDossier
from ioc.web.warnings_views import card

PERIOD_KINDS = ("month", "quarter", "half", "year")
UNDER_POINTS = Decimal(40)  # units below this (of 56) are highlighted as under-performing
INDICATOR_CHOICES = ("total", *(s.id for s in INDICATORS))


def unit_label(code: str, lang: Lang) -> str:
    u = units_by_code().get(code)
    return code if u is None else u.name(lang)


def unit_href(code: str, kind: str = "month") -> str:
    return f"/leader/unit?u={quote(code)}&p={kind}"


def _pct(v: Decimal | float | None, lang: Lang, decimals: int = 1) -> str:
    return "—" if v is None else fmt_number(float(v) * 100, lang, decimals) + " %"


def _pts(v: Decimal | float | None, lang: Lang) -> str:
    return "—" if v is None else fmt_number(float(v), lang, 2)


def _signed(v: Decimal | float | None, lang: Lang) -> str:
    if v is None:
        return "—"
    text = fmt_number(abs(float(v)), lang, 2)
    return ("+" if v > 0 else "−" if v < 0 else "±") + text


def period_selector(cid: str, lang: Lang, value: str = "month") -> dcc.RadioItems:
    return dcc.RadioItems(
        id=cid, value=value, inline=True, className="ioc-leader-periods",
        options=[{"label": tk(f"period.{k}", lang), "value": k} for k in PERIOD_KINDS],
        inputClassName="btn-check", labelClassName="btn btn-outline-primary btn-lg me-2 mb-2",
    )  # fmt: skip


def indicator_name(indicator: str, lang: Lang) -> str:
    if indicator == "total":
        return tk("col.total", lang)
    s = SPECS[indicator]
    return f"{s.id} · {s.name_en if lang == 'en' else s.name_vi}"


def value_of(card_: ScoreCard, indicator: str) -> float | None:
    """The number a ranking or map shows: total points, or the indicator's ratio (0..1)."""
    if indicator == "total":
        return float(card_.total)
    r = card_.indicator(indicator).ratio
    return None if r is None else float(r)


# --- /leader ---------------------------------------------------------------------------------------


def headline(pi: PeriodIndex | None, lang: Lang) -> list[Any]:
    """The 766 total, its band (not applicable on 56 points, said so), the rank spread, the change."""
    if pi is None:
        return [card(tk("total", lang), "—", tk("asof", lang, time="—"), cid="leader-total")]
    city = pi.city
    change = None if pi.previous_city is None else city.total - pi.previous_city.total
    yoy = None if pi.year_before_city is None else city.total - pi.year_before_city.total
    best = unit_label(pi.units[0].unit, lang) if pi.units else "—"
    worst = unit_label(pi.units[-1].unit, lang) if pi.units else "—"
    sub = " · ".join([tk("total.sub", lang, total=_pts(city.total, lang), max=city.max, n=fmt_number(city.dossiers, lang)),
                      tk("change", lang, delta=_signed(change, lang)), tk("yoy", lang, delta=_signed(yoy, lang))])  # fmt: skip
    return [
        html.Div([
            html.Div(tk("total", lang) + f" · {pi.period.label}", className="ioc-kpi-title"),
            html.Div(_pts(city.total, lang), className="ioc-kpi-value ioc-leader-total", id="leader-total"),
            html.Div(sub, className="ioc-kpi-sub"),
            html.Div(tk("band.na", lang, max=MAX_POINTS), className="ioc-kpi-sub", title=tk("band.note", lang, max=MAX_POINTS),
                     id="leader-band"),
            html.Div(tk("rank.city", lang, n=len(pi.units), best=best, worst=worst), className="ioc-kpi-sub"),
        ], className="ioc-kpi ioc-wkpi ioc-leader-head"),
    ]  # fmt: skip


def _tone(share: float) -> str:
    return "ioc-tile-good" if share >= 0.9 else "ioc-tile-fair" if share >= 0.75 else "ioc-tile-bad"


def indicator_tiles(city: ScoreCard | None, lang: Lang) -> list[Any]:
    """One tile per indicator: the ratio, coloured by achievement (points won / points available).

    The live 766 indicators carry no separate target in the catalogue: the index's own rule is
    the target (full points at the threshold, 100 % otherwise); 3.3 is reported with 0 points."""
    if city is None:
        return []
    tiles = []
    for s in city.indicators:
        spec = SPECS[s.id]
        share = 1.0 if spec.max_points == 0 or s.empty else float(s.points) / spec.max_points
        threshold = tk("tile.threshold", lang, t=_pct(spec.threshold, lang, 0)) if spec.threshold else ""
        sub = tk("tile.none", lang) if s.empty else tk("tile.sub", lang, points=_pts(s.points, lang),
                                                         max=spec.max_points, num=fmt_number(s.numerator, lang),
                                                         den=fmt_number(s.denominator, lang))  # fmt: skip
        name = spec.name_en if lang == "en" else spec.name_vi
        tone = "" if spec.max_points == 0 else _tone(share)
        tiles.append(html.Div(
            [html.Div(f"{s.id} · {name}", className="ioc-kpi-title"), html.Div(_pct(s.ratio, lang), className="ioc-kpi-value"),
             html.Div(tk(f"tone.short.{tone}", lang), className="ioc-tile-tone") if tone else None,  # the colour in words too
             html.Div(" · ".join(x for x in (sub, threshold) if x), className="ioc-kpi-sub")],
            className=f"ioc-kpi ioc-wkpi ioc-leader-tile {tone}",
            title=f"{name}. {tk('source', lang)}", id=f"leader-tile-{s.id.replace('.', '_')}",
        ))  # fmt: skip
    return tiles


def tiles_legend(lang: Lang) -> html.Div:
    """What the tiles' colours mean (points won of the indicator's points)."""
    return html.Div([html.Span([html.Span(className=f"ioc-tile-swatch {t}"), tk(f"tone.{t}", lang)], className="me-3")
                     for t in ("ioc-tile-good", "ioc-tile-fair", "ioc-tile-bad")], className="ioc-tiles-legend small mb-2",
                    id="leader-tiles-legend")  # fmt: skip


@cache
def documented() -> tuple[KpiValue, ...]:
    """The documents' figures, read once from the seed file (it does not change while running)."""
    return tuple(document_values())


_UNIT_SUFFIX = {Unit.PERCENT: "\u00a0%", Unit.MBPS: "\u00a0Mbps", Unit.POINTS: "", Unit.COUNT: ""}  # no break before the unit


def figure_text(value: Decimal, unit: Unit, lang: Lang) -> str:
    """A figure as written in ``lang`` with its unit (27,9 % · 2.224 · 40 Mbps)."""
    exponent = value.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return fmt_number(float(value), lang, decimals) + _UNIT_SUFFIX[unit]


# The catalogue's definitions cross-reference other entries by id ("không nối với d766.3_3") and
# tables by name ("bảng tickets"): fine in the data file, codes on a leader's screen. Each id is
# replaced by the entry's name, each table by what it is to a reader.
_REF = re.compile(r"\b[a-z0-9]+\.[a-z0-9_.*]*[a-z0-9*]")
_TABLES = {"vi": (re.compile(r"\b(?:bảng|ở bảng) tickets\b"), "ở bàn tiếp nhận phản ánh"),
           "en": (re.compile(r"\b(?:in )?tickets\b"), "at the triage desk")}  # fmt: skip


def plain_words(text: str, lang: Lang) -> str:
    """A catalogue definition with references to other entries and tables in words."""
    from ioc.kpi.catalogue import load_catalogue

    names = {k.id: (k.name_vi if lang == "vi" else k.name_en) for k in load_catalogue().kpis}
    out = _REF.sub(lambda m: f"«{names[m.group(0)]}»" if m.group(0) in names else "", text)
    pattern, words = _TABLES["vi" if lang == "vi" else "en"]
    return re.sub(r"\s{2,}", " ", pattern.sub(words, out)).strip()


def document_figures(entries: Sequence[Figure], lang: Lang) -> html.Div:
    """Indicators with no live feed: each one's latest figure (the documents' or entered by hand, the
    newest ``as_of`` wins), its own definition, as-of date and source; ``entries`` is the snapshot
    part ``kpi_figures`` (no query here)."""
    current = current_figures(documented(), entries)
    rows = []
    for k in hand_kpis():
        c = current.get(k.id)
        if c is None:
            continue
        target = next(iter(k.targets), None)
        tgt = "" if target is None else tk("docs.target", lang, cmp=target.comparator,
                                           value=figure_text(target.value, k.unit, lang), year=target.year)
        by = (tk("docs.by_hand", lang, user=c.entered_by, time=fmt_datetime(c.entered_at, lang))
              if c.kind == "hand" else "")
        rows.append(html.Li([
            html.Strong(k.name_vi if lang == "vi" else k.name_en), ": ",
            html.Span(figure_text(c.value, k.unit, lang), id=f"leader-doc-{k.id.replace('.', '_')}"),
            " · ", tk("docs.asof", lang, date=f"{c.as_of:%d/%m/%Y}"),
            html.Span(" · " + " · ".join(x for x in (c.source, by) if x), className="text-muted"),
            html.Span(f" · {tgt}" if tgt else "", className="text-muted"),
        ], title=" ".join(x for x in (plain_words(k.definition_vi if lang == "vi" else k.definition_en, lang), c.note or "") if x)))  # fmt: skip
    body = html.Ul(rows, className="small") if rows else html.P(tk("docs.none", lang), className="small text-muted")
    return html.Div([html.H5(tk("docs", lang)), body], id="leader-docs")


def reports_card(part: KpiPart, lang: Lang) -> Any:
    r = part.reports.get("*")
    if r is None:
        return card(tk("reports", lang), "—", cid="leader-reports")
    sub = tk("reports.sub", lang, on_time=fmt_number(r.answered_on_time, lang), answered=fmt_number(r.answered, lang),
             overdue=fmt_number(r.open_overdue, lang))  # fmt: skip
    return card(tk("reports", lang), _pct(r.on_time_rate, lang), sub, "ioc-kpi-alert" if r.open_overdue else "",
                "leader-reports")


def needs_now(part: KpiPart, pi: PeriodIndex | None, lang: Lang, kind: str) -> html.Div:
    """Overdue dossiers, the worst units and the biggest fall, each one tap from the unit's records."""
    items: list[Any] = []
    overdue = sum(part.overdue_open.values())
    if overdue:
        worst_unit = max(part.overdue_open.items(), key=lambda kv: (kv[1], kv[0]))[0]
        items.append(html.Li(dcc.Link(tk("now.overdue", lang, n=fmt_number(overdue, lang)) + f" — {unit_label(worst_unit, lang)}"
                                      f" ({fmt_number(part.overdue_open[worst_unit], lang)})", href=unit_href(worst_unit, kind),
                                      id="leader-now-overdue")))  # fmt: skip
    if pi is not None and pi.units:
        for i, u in enumerate(reversed(pi.units[-3:])):
            items.append(html.Li(dcc.Link(tk("now.worst", lang, name=unit_label(u.unit, lang), total=_pts(u.card.total, lang)),
                                          href=unit_href(u.unit, kind), id=f"leader-now-worst-{i}")))  # fmt: skip
        falls = [u for u in pi.units if (u.movement or 0) < 0]
        if falls:
            f = min(falls, key=lambda u: (u.movement or 0, u.unit))
            items.append(html.Li(dcc.Link(tk("now.falling", lang, name=unit_label(f.unit, lang), moves=-(f.movement or 0)),
                                          href=unit_href(f.unit, kind))))  # fmt: skip
    if not items:
        items.append(html.Li(tk("now.none", lang)))
    return html.Div([html.H5(tk("now", lang)), html.Ul(items, className="ioc-leader-now")], id="leader-now")


def trend_figure(trend: Sequence[tuple[str, ScoreCard]], lang: Lang, title: str) -> go.Figure:
    labels = [m for m, _ in trend]
    fig = go.Figure(go.Scatter(x=labels, y=[float(c.total) if c.dossiers else None for _, c in trend],
                               mode="lines+markers", name=tk("col.total", lang), connectgaps=False))  # fmt: skip
    fig.add_hline(y=MAX_POINTS, line_dash="dot", annotation_text=f"{MAX_POINTS}", line_color="#2a7")
    fig.update_layout(title=title, template="plotly_white", height=260, margin={"l": 40, "r": 10, "t": 40, "b": 30},
                      yaxis={"range": [0, MAX_POINTS + 2]}, separators=",." if lang == "vi" else ".,")  # fmt: skip
    return fig


# --- /leader/ranking --------------------------------------------------------------------------------


def ranking_rows(pi: PeriodIndex | None, part: KpiPart, indicator: str, lang: Lang) -> list[dict[str, Any]]:
    if pi is None:
        return []
    units = units_by_code()
    rows = []
    for u in pi.units:
        meta = units.get(u.unit)
        v = value_of(u.card, indicator)
        rows.append({
            "rank": u.rank, "unit": f"[{unit_label(u.unit, lang)}]({unit_href(u.unit, pi.period.kind)})", "code": u.unit,
            "level": tk(f"level.{meta.level}", lang) if meta else "—", "dossiers": u.card.dossiers,
            "total": float(u.card.total),
            "value": None if v is None else (round(v, 2) if indicator == "total" else round(v * 100, 2)),
            "move": u.movement, "overdue": part.overdue_open.get(u.unit, 0),
            "under": "yes" if u.card.total < UNDER_POINTS else "no",
        })  # fmt: skip
    return rows


def ranking_table(tid: str, lang: Lang) -> dash_table.DataTable:
    cols = [("rank", "col.rank", "numeric"), ("unit", "col.unit", "text"), ("level", "col.level", "text"),
            ("dossiers", "col.dossiers", "numeric"), ("total", "col.total", "numeric"), ("value", "col.value", "numeric"),
            ("move", "col.move", "numeric"), ("overdue", "col.overdue", "numeric")]  # fmt: skip
    two = Format(precision=2, scheme=Scheme.fixed)
    formats = {"total": two, "value": two, "dossiers": Format().group(True), "move": Format(sign=Sign.positive)}
    return dash_table.DataTable(
        id=tid, columns=[{"id": c, "name": tk(k, lang), "type": ty, **({"presentation": "markdown"} if c == "unit" else {}),
                          **({"format": formats[c]} if c in formats else {})}
                         for c, k, ty in cols],
        # Vietnamese numbers: comma for decimals, dot between thousands (as everywhere else in the app).
        locale_format={"decimal": ",", "group": "."} if lang == "vi" else {"decimal": ".", "group": ","},
        sort_action="native", page_action="none", markdown_options={"link_target": "_self"},
        style_table={"overflowX": "auto", "maxHeight": "70vh", "overflowY": "auto"}, fixed_rows={"headers": True},
        style_header={"whiteSpace": "normal", "height": "auto", "fontWeight": "600"},
        style_cell={"fontSize": "16px", "padding": "10px 8px", "fontFamily": "Be Vietnam Pro, sans-serif",
                    "minWidth": "90px"},
        style_data_conditional=[
            {"if": {"filter_query": "{under} = yes"}, "backgroundColor": "#fde2e1", "color": "#8a1c14"},
            {"if": {"filter_query": "{move} > 0", "column_id": "move"}, "color": "#17803d"},
            {"if": {"filter_query": "{move} < 0", "column_id": "move"}, "color": "#b42318"},
        ],
    )  # fmt: skip


BINS: tuple[tuple[float, str], ...] = ((0.0, "#b42318"), (0.6, "#ef6c00"), (0.75, "#f9c74f"), (0.85, "#90be6d"),
                                        (0.95, "#2e7d32"))  # share of the scale's top: lower bounds, colours


@cache
def commune_rings() -> dict[str, tuple[tuple[list[float], list[float]], ...]]:
    """Each commune-level unit's outer rings (lon, lat), simplified for the browser, by code."""
    from datetime import date

    from geodata.boundaries import DEFAULT_SETS_DIR, boundary_set_for, load_boundary_sets

    bset = boundary_set_for(date(2025, 7, 1), load_boundary_sets(DEFAULT_SETS_DIR))
    out: dict[str, tuple[tuple[list[float], list[float]], ...]] = {}
    for u in bset.leaves():
        geom = u.geometry.simplify(0.002, preserve_topology=True)
        polys = list(getattr(geom, "geoms", [geom]))
        out[u.code] = tuple((list(p.exterior.xy[0]), list(p.exterior.xy[1])) for p in polys if not p.is_empty)
    return out


def choropleth(pi: PeriodIndex | None, indicator: str, lang: Lang) -> go.Figure:
    """The communes coloured by the indicator in five classes with a legend (plain axes: no map
    service, no download), hover names the unit and its value."""
    rings = commune_rings()
    top = float(MAX_POINTS) if indicator == "total" else 1.0
    by_unit = {u.unit: value_of(u.card, indicator) for u in (pi.units if pi else ())}
    fig = go.Figure()
    classes: list[list[str]] = [[] for _ in BINS] + [[]]  # the last: no data
    for code in rings:
        v = by_unit.get(code)
        if v is None:
            classes[-1].append(code)
            continue
        share = v / top
        classes[max(i for i, (lo, _c) in enumerate(BINS) if share >= lo)].append(code)
    bounds = [lo for lo, _ in BINS] + [1.0]
    for i, codes in enumerate(classes):
        if not codes:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        texts: list[str | None] = []
        for code in codes:
            v = by_unit.get(code)
            label = f"{unit_label(code, lang)}: " + ("—" if v is None else
                                                     _pts(v, lang) if indicator == "total" else _pct(v, lang))
            for x, y in rings[code]:
                xs += [*x, None]
                ys += [*y, None]
                texts += [label] * len(x) + [None]
        if i < len(BINS):
            lo, hi = bounds[i] * top, bounds[i + 1] * top
            name = (f"{fmt_number(lo, lang, 0)}–{fmt_number(hi, lang, 0)}" if indicator == "total"
                    else f"{fmt_number(lo * 100, lang, 0)}–{fmt_number(hi * 100, lang, 0)} %")
            colour = BINS[i][1]
        else:
            name, colour = "—", "#d0d5dd"
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines", name=name,
                                 line={"color": "#ffffff", "width": 0.6}, text=texts, hoveron="fills+points",
                                 hovertemplate="%{text}<extra></extra>"))  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / 0.935)  # cos(21°): metres look square
    fig.update_layout(height=480, margin={"l": 0, "r": 0, "t": 0, "b": 0}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.02, "title": {"text": indicator_name(indicator, lang)[:30]}},
                      separators=",." if lang == "vi" else ".,", dragmode=False)  # fmt: skip
    return fig


# --- /leader/unit -----------------------------------------------------------------------------------


def indicator_table(card_: ScoreCard, lang: Lang) -> html.Table:
    head = html.Thead(html.Tr([html.Th(tk(k, lang)) for k in ("col.indicator", "col.ratio", "col.points", "col.max")]))
    body = html.Tbody([
        html.Tr([html.Td(indicator_name(s.id, lang)), html.Td(_pct(s.ratio, lang)), html.Td(_pts(s.points, lang)),
                 html.Td(SPECS[s.id].max_points)])
        for s in card_.indicators
    ] + [html.Tr([html.Th(tk("col.total", lang)), html.Td(""), html.Th(_pts(card_.total, lang)), html.Th(card_.max)])])  # fmt: skip
    return html.Table([head, body], className="table table-sm ioc-leader-indicators", id="leader-unit-indicators")


def _hours_late(d: LateDossier, now: datetime) -> float:
    return round(((d.completed_at or now) - d.due_at).total_seconds() / 3600, 1)


def late_table(rows: Sequence[LateDossier], now: datetime, lang: Lang) -> Any:
    if not rows:
        return html.P(tk("unit.none", lang), id="leader-unit-late")
    data = [{"id": d.dossier_id, "procedure": d.procedure_name or "—",
             "channel": tk(f"channel.{d.channel}", lang) if d.channel else "—",
             "received": fmt_datetime(d.received_at, lang), "due": fmt_datetime(d.due_at, lang),
             "completed": fmt_datetime(d.completed_at, lang) if d.completed_at else tk("open", lang),
             "late": _hours_late(d, now), "supp": d.supplement_requests} for d in rows]  # fmt: skip
    cols = ["id", "procedure", "channel", "received", "due", "completed", "late", "supp"]
    return dash_table.DataTable(
        id="leader-unit-late", data=data, columns=[{"id": c, "name": tk(f"col.{c}", lang)} for c in cols],
        sort_action="native", page_size=25, style_table={"overflowX": "auto"},
        style_cell={"fontSize": "15px", "padding": "8px", "fontFamily": "Be Vietnam Pro, sans-serif",
                    "whiteSpace": "normal", "height": "auto"},
    )  # fmt: skip


def not_computable(lang: Lang) -> html.Details:
    return html.Details([
        html.Summary(tk("not_computable", lang)),
        html.Ul([html.Li([html.Strong(f"{n.id} · {n.name_en if lang == 'en' else n.name_vi}"), ": ",
                          n.reason_en if lang == "en" else n.reason_vi]) for n in NOT_COMPUTABLE], className="small"),
    ])  # fmt: skip


# --- the wall's rotating panel ----------------------------------------------------------------------


WALL_TOP = 5  # best and worst units shown on the wall: legible at 5 m, the whole table is on /leader/ranking


def wall_index_panel(part: KpiPart | None, lang: Lang) -> html.Div:
    """For the wall: this month's 766 total of the city and the five best and five worst units with
    their movement since last month (no records: the wall is seen by everyone in the room)."""
    pi = part.period("month") if part is not None else None
    if pi is None or not pi.units:
        return html.Div(html.P(tk("wall.none", lang), className="text-muted"), className="ioc-wall-index")
    city = pi.city

    def line(u: Any) -> html.Tr:
        move = u.movement
        arrow = "—" if move is None else ("▲" if move > 0 else "▼" if move < 0 else "=")
        cls = "ioc-move-up" if move and move > 0 else "ioc-move-down" if move and move < 0 else ""
        return html.Tr([html.Td(str(u.rank), className="num"), html.Td(unit_label(u.unit, lang)),
                        html.Td(_pts(u.card.total, lang), className="num"),
                        html.Td(f"{arrow} {abs(move)}" if move else arrow, className=f"num {cls}",
                                title=tk("wall.movement", lang))])  # fmt: skip

    worst = [u for u in pi.units[-WALL_TOP:] if u not in pi.units[:WALL_TOP]]
    return html.Div([
        html.Div([html.Span(tk("total", lang) + f" · {pi.period.label}", className="ioc-kpi-title"),
                  html.B(f"{_pts(city.total, lang)} / {city.max}", className="ioc-wall-index-total", id="wall-index-total")]),
        html.H3(tk("wall.best", lang), className="h6 mt-2"),
        html.Table(html.Tbody([line(u) for u in pi.units[:WALL_TOP]]), className="ioc-wall-table", id="wall-index-best"),
        html.H3(tk("wall.worst", lang), className="h6 mt-2"),
        html.Table(html.Tbody([line(u) for u in worst]), className="ioc-wall-table", id="wall-index-worst"),
    ], className="ioc-wall-index")  # fmt: skip
