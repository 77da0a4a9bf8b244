"""Pure layout builders and rules of the triage desk: data in, Dash components out.

No queries and no callbacks here (``ioc/pages/triage.py`` wires them), so the builders are
tested by comparing their output, without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import dash_bootstrap_components as dbc
import dash_leaflet as dl
from dash import html

from geodata.names import unit_outline
from ioc.i18n import Lang, fmt_datetime, fmt_number
from ioc.tickets.calendar import WorkingCalendar, default_calendar
from ioc.tickets.categories import CategoryCatalog, load_catalog
from ioc.tickets.i18n import t
from ioc.tickets.privacy import ReporterView, scrub_text
from ioc.tickets.stats import StatsRow
from ioc.tickets.store import Publication, QueueRow, TicketEventRow, TicketRow, Viewer
from ioc.tickets.workflow import OPEN_STATUSES, Status, status_name
from ioc.web.pages import triage_ids as tid
from ioc.web.photos import SIM_PHOTO_PREFIX

SHOWN = 200  # rows drawn in the browser (the most urgent); the title shows how many match
STATUS_COLOUR = {
    "received": "secondary", "classified": "info", "assigned": "primary", "in_progress": "warning",
    "answered": "success", "closed": "dark", "reopened": "danger", "merged": "light",
}  # fmt: skip

# Which actions a status allows (the workflow decides finally; this only enables buttons).
_ACTION_STATUSES: dict[str, frozenset[str]] = {
    "confirm": frozenset({"received", "classified", "assigned", "reopened"}),
    "assign": frozenset({"classified", "assigned", "in_progress", "reopened"}),
    "start": frozenset({"assigned", "reopened"}),
    "answer": frozenset({"assigned", "in_progress", "reopened"}),
    "merge": frozenset(s.value for s in OPEN_STATUSES),
    "publish": frozenset({"answered", "closed"}),
    "verdict": frozenset({"answered", "closed"}),
}
OWNER_ACTIONS = frozenset({"start", "answer"})  # what an agency or ward user may do on its own tickets


@cache
def catalog() -> CategoryCatalog:
    """The packaged category catalogue (read once per process)."""
    return load_catalog()


def subnav(lang: Lang, active: str) -> html.Div:
    """Links between the desk and the transparency page (the main navbar belongs to the dashboard)."""
    links = [("/triage", "nav.queue"), ("/transparency", "nav.transparency")]
    return dbc.Nav(
        [dbc.NavLink(t(k, lang), href=p, active=p == active, external_link=True) for p, k in links],
        pills=True,
        className="my-2",
    )


def allowed_actions(viewer: Viewer, ticket: TicketRow | None) -> frozenset[str]:
    """The actions ``viewer`` may take on ``ticket`` now (empty when it may not see or act on it).

    The policy (:mod:`ioc.access`) decides whether the viewer may act at all: city-wide triage staff
    and admins take every action, ward and department users start and answer their own tickets,
    leaders and operators read."""
    if ticket is None or not viewer.can_see(ticket) or not viewer.can_act(ticket):
        return frozenset()
    mine = OWNER_ACTIONS if viewer.scoped else frozenset(_ACTION_STATUSES)
    out = {a for a in mine if ticket.status in _ACTION_STATUSES[a]}
    if ticket.published:
        out.discard("publish")
    return frozenset(out)


def time_left(
    deadline: datetime | None, status: str, now: datetime, calendar: WorkingCalendar | None = None
) -> timedelta | None:
    """Working time left to answer (negative when overdue); ``None`` once answered or without deadline."""
    if deadline is None or status not in {s.value for s in OPEN_STATUSES}:
        return None
    return (calendar or default_calendar()).working_time_left(deadline, now)


def fmt_left(left: timedelta | None, lang: Lang) -> str:
    if left is None:
        return t("left.none", lang)
    minutes = int(abs(left).total_seconds() // 60)
    key = "left.remaining" if left >= timedelta(0) else "left.overdue"
    return t(key, lang, h=minutes // 60, m=f"{minutes % 60:02d}")


def category_label(code: str | None, confirmed: bool, suggested: str | None, confidence: float | None,
                   catalog: CategoryCatalog, lang: Lang) -> str:  # fmt: skip
    if code and code in catalog and confirmed:
        return catalog.get(code).name(lang)
    guess = code or suggested
    if guess and guess in catalog:
        pct = round((confidence or 0) * 100)
        return t("suggested", lang, name=catalog.get(guess).name(lang), pct=pct)
    return "—"


def queue_table(
    rows: Sequence[QueueRow],
    *,
    now: datetime,
    lang: Lang,
    viewer: Viewer,
    catalog: CategoryCatalog,
    selected: str | None = None,
    shown: int = SHOWN,
    calendar: WorkingCalendar | None = None,
) -> html.Div:
    """The queue, least working time left first (the order the rows arrive in)."""
    if not rows:
        return html.Div(html.P(t("queue.empty", lang), className="text-muted"), className="ioc-triage-queue")
    head = html.Thead(
        html.Tr([html.Th(t(k, lang)) for k in ("queue.id", "queue.left", "queue.category", "queue.unit",
                                                "queue.owner", "queue.status", "queue.text")])
    )  # fmt: skip
    body = []
    for r in rows[:shown]:
        left = time_left(r.deadline, r.status, now, calendar)
        overdue = left is not None and left < timedelta(0)
        text = r.text if viewer.is_triage else scrub_text(r.text, r.reporter_name)
        body.append(
            html.Tr(
                [
                    html.Td(r.ticket_id, className="text-nowrap"),
                    html.Td([html.Span(fmt_left(left, lang), className="fw-semibold"),
                             html.Br(), html.Small(t("left.clock", lang, time=fmt_datetime(r.deadline, lang)),
                                                   className="text-muted")] if r.deadline and left is not None
                            else fmt_left(left, lang),
                            className="text-nowrap", title=t("left.working_note", lang)),
                    html.Td(
                        category_label(
                            r.category,
                            r.category_confirmed,
                            r.suggested_category,
                            r.suggested_confidence,
                            catalog,
                            lang,
                        )
                    ),  # fmt: skip
                    html.Td(r.admin_unit or "—"),
                    html.Td(r.owner_name or "—"),
                    html.Td(
                        dbc.Badge(status_name(r.status, lang), color=STATUS_COLOUR.get(r.status, "secondary"))
                    ),
                    html.Td(text[:140], className="ioc-triage-text"),
                ],
                id=tid.queue_row(r.ticket_id),
                n_clicks=0,
                tabIndex="0",
                className="ioc-triage-row"
                + (" table-danger ioc-overdue" if overdue else "")
                + (" table-active active" if r.ticket_id == selected else ""),
            )
        )
    return html.Div(
        [
            html.H2(
                t("queue.title", lang, shown=min(len(rows), shown), total=max(len(rows), rows[0].total)),
                className="h6",
            ),
            dbc.Table([head, html.Tbody(body)], hover=True, size="sm", className="ioc-triage-table mb-0"),
        ],
        className="ioc-triage-queue",
    )


def history_list(
    events: Sequence[TicketEventRow], viewer: Viewer, lang: Lang, reporter: TicketRow
) -> html.Ol:
    items = []
    for e in events:
        d = e.details
        bits: list[str] = []
        if e.kind in ("classified", "suggested") and d.get("category"):
            code = str(d["category"])
            name = catalog().get(code).name(lang) if code in catalog() else code
            bits.append(name + (f" ({float(d['confidence']):.2f})" if "confidence" in d else ""))
        if d.get("owner_name") or d.get("owner_code"):
            bits.append(str(d.get("owner_name") or d.get("owner_code")))
        if d.get("verdict"):
            bits.append(t(f"verdict.{d['verdict']}", lang))
        for key in ("reason", "answer", "text", "comment"):
            if d.get(key):
                value = str(d[key])
                if not viewer.is_triage:
                    value = scrub_text(value, reporter.reporter_name, reporter.reporter_phone)
                bits.append(value)
        if d.get("merged_into"):
            bits.append("→ " + str(d["merged_into"]))
        if d.get("duplicate_of"):
            bits.append(t("detail.duplicate", lang, id=d["duplicate_of"]))
        items.append(
            html.Li(
                [
                    html.Span(fmt_datetime(e.at, lang), className="text-muted me-2"),
                    html.B(t(f"kind.{e.kind}", lang), className="me-2"),
                    html.Span(f"({e.actor})", className="text-muted me-2"),
                    html.Span(" · ".join(bits)),
                ],
                className=f"ioc-history-{e.kind}",
            )
        )
    return html.Ol(items, className="ioc-triage-history list-unstyled small")


def detail_view(
    ticket: TicketRow,
    events: Sequence[TicketEventRow],
    reporter: ReporterView,
    *,
    viewer: Viewer,
    now: datetime,
    lang: Lang,
    catalog: CategoryCatalog,
    calendar: WorkingCalendar | None = None,
    merged: Sequence[str] = (),
) -> html.Div:
    """One ticket: state, deadline, reporter (masked unless triage), text, photos, history.

    ``merged``: duplicates merged into this ticket; their reporters follow its answer.
    """
    left = time_left(ticket.deadline, ticket.status, now, calendar)
    text = (
        ticket.text
        if viewer.is_triage
        else scrub_text(ticket.text, ticket.reporter_name, ticket.reporter_phone)
    )
    reporter_line = " · ".join(x for x in (reporter.name, reporter.phone) if x) or "—"
    notes = []
    if ticket.duplicate_of and ticket.status != Status.MERGED:
        notes.append(
            dbc.Badge(t("detail.duplicate", lang, id=ticket.duplicate_of), color="warning", className="me-1")
        )
    if ticket.merged_into:
        notes.append(dbc.Badge(t("detail.merged", lang, id=ticket.merged_into), color="secondary"))
    if merged:
        notes.append(dbc.Badge(t("detail.merged_from", lang, ids=", ".join(merged)), color="info"))
    photos = [
        html.A(
            html.Img(src=photo_src(u), alt=f"{ticket.ticket_id} #{i + 1}", className="ioc-triage-photo me-2"),
            href=photo_src(u),
            target="_blank",
            rel="noopener",
        )  # fmt: skip
        for i, u in enumerate(ticket.photo_urls)
    ]
    answer = (
        ticket.answer
        if viewer.is_triage or not ticket.answer
        else scrub_text(ticket.answer, ticket.reporter_name, ticket.reporter_phone)
    )
    return html.Div(
        [
            html.H2(
                [
                    ticket.ticket_id + " ",
                    dbc.Badge(
                        status_name(ticket.status, lang), color=STATUS_COLOUR.get(ticket.status, "secondary")
                    ),
                ],
                className="h5",
            ),
            html.Div(notes),
            html.P(
                [
                    t(
                        "detail.received",
                        lang,
                        time=fmt_datetime(ticket.received_at, lang),
                        channel=t(f"channel.{ticket.channel}", lang) if ticket.channel else "—",
                    ),
                    html.Br(),
                    html.Span(
                        t(
                            "detail.deadline",
                            lang,
                            time=fmt_datetime(ticket.deadline, lang),
                            left=fmt_left(left, lang),
                        ),
                        className="fw-semibold"
                        + (" text-danger" if left is not None and left < timedelta(0) else ""),
                        title=t("left.working_note", lang),
                    ),
                    html.Br(),
                    category_label(
                        ticket.category,
                        ticket.category_confirmed,
                        ticket.suggested_category,
                        ticket.suggested_confidence,
                        catalog,
                        lang,
                    ),  # fmt: skip
                    " · ",
                    ticket.admin_unit or "—",
                    " · ",
                    ticket.owner_name or "—",
                ],
                className="small mb-2",
            ),
            html.Blockquote(text, className="ioc-triage-report border-start ps-2"),
            html.P(
                [
                    html.B(t("detail.reporter", lang) + ": "),
                    html.Span(reporter_line, className="ioc-reporter"),
                    " ",
                    html.Span(
                        t("detail.masked" if reporter.masked else "detail.audited", lang),
                        className="text-muted",
                    ),
                ],
                className="small",
            ),
            html.Div([html.B(t("detail.answer", lang) + ": "), answer], className="small mb-2")
            if answer
            else None,
            html.H3(t("detail.photos", lang), className="h6"),
            html.Div(photos or html.P(t("detail.no_photos", lang), className="text-muted small")),
            html.H3(t("detail.history", lang), className="h6 mt-2"),
            history_list(events, viewer, lang, ticket),
        ],
        className="ioc-triage-detail-body",
    )


def photo_src(url: str) -> str:
    """Where the browser loads a photo: the product's own simulated photos from this server (whatever
    host the simulator wrote), any other photo as sent."""
    path = urlsplit(url).path
    return path if path.startswith(SIM_PHOTO_PREFIX) else url


def map_layer(ticket: TicketRow, neighbours: Sequence[tuple[str, float, float]] = ()) -> list[Any]:
    """The ticket's unit outline, the ticket (red) and nearby open tickets (orange) as circle markers."""
    unit = unit_outline(ticket.admin_unit)
    out: list[Any] = [dl.GeoJSON(data=unit, style={"color": "#2c3e50", "weight": 2, "dashArray": "6 4",
                                                   "fillOpacity": 0.04}, interactive=False)] if unit else []  # fmt: skip
    out += [
        dl.CircleMarker(center=[lat, lon], radius=7, color="#e67e22", children=dl.Tooltip(tid_))
        for tid_, lat, lon in neighbours
    ]
    out.append(dl.CircleMarker(center=[ticket.lat, ticket.lon], radius=11, color="#c0392b", fillOpacity=0.7,
                               children=dl.Tooltip(ticket.ticket_id)))  # fmt: skip
    return out


def _share(v: float | None, lang: Lang) -> str:
    return "—" if v is None else fmt_number(v * 100, lang, 1) + " %"


def kpi_cards(total: StatsRow | None, lang: Lang) -> list[Any]:
    """Received, answered, share answered, in progress, overdue, median time, on time, agreeing."""
    r = total
    values = [
        ("stats.received", fmt_number(r.received if r else 0, lang), ""),
        ("stats.answered", fmt_number(r.answered if r else 0, lang), ""),
        ("stats.share_answered", _share(r.share_answered if r else None, lang), ""),
        ("stats.in_progress", fmt_number(r.in_progress if r else 0, lang), ""),
        ("stats.overdue", fmt_number(r.overdue if r else 0, lang), " ioc-kpi-alert" if r and r.overdue else ""),
        ("stats.median", "—" if not r or r.median_hours_to_answer is None
         else t("stats.hours", lang, h=fmt_number(r.median_hours_to_answer, lang, 1)), ""),
        ("stats.on_time", _share(r.share_on_time if r else None, lang), ""),
        ("stats.agree", _share(r.share_agreeing if r else None, lang), ""),
    ]  # fmt: skip
    return [
        dbc.Col(
            html.Div(
                [html.Div(t(k, lang), className="ioc-kpi-title"), html.Div(v, className="ioc-kpi-value")],
                className="ioc-kpi" + tone,
                id=f"triage-kpi-{k.split('.')[1]}",
            ),
            xs=6,
            md=3,
            xl=True,
        )
        for k, v, tone in values
    ]


def stats_table(rows: Sequence[StatsRow], by: str, lang: Lang, catalog: CategoryCatalog) -> dbc.Table:
    head = html.Thead(
        html.Tr(
            [html.Th(t(f"by.{by}", lang))]
            + [
                html.Th(t(k, lang))
                for k in (
                    "stats.received",
                    "stats.answered",
                    "stats.share_answered",
                    "stats.open",
                    "stats.overdue",
                    "stats.median",
                    "stats.on_time",
                    "stats.agree",
                )
            ]  # fmt: skip
        )
    )
    body = []
    for r in rows:
        key = catalog.get(r.key).name(lang) if by == "category" and r.key in catalog else r.key
        if by == "total":
            key = t("by.total", lang)
        body.append(
            html.Tr(
                [
                    html.Td(key),
                    html.Td(fmt_number(r.received, lang)),
                    html.Td(fmt_number(r.answered, lang)),
                    html.Td(_share(r.share_answered, lang)),
                    html.Td(fmt_number(r.open, lang)),
                    html.Td(fmt_number(r.overdue, lang)),
                    html.Td(
                        "—"
                        if r.median_hours_to_answer is None
                        else fmt_number(r.median_hours_to_answer, lang, 1)
                    ),
                    html.Td(_share(r.share_on_time, lang)),
                    html.Td(_share(r.share_agreeing, lang)),
                ]
            )
        )
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, className="ioc-triage-stats")


def publication_card(p: Publication, lang: Lang, catalog: CategoryCatalog) -> dbc.Card:
    """One published ticket: de-identified text and the answer (stored scrubbed at publication)."""
    category = catalog.get(p.category).name(lang) if p.category and p.category in catalog else "—"
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2(f"{category} · {p.admin_unit or '—'}", className="h6"),
                html.P(p.text, className="mb-2"),
                html.P(
                    [
                        html.B(
                            t(
                                "transparency.answered",
                                lang,
                                time=fmt_datetime(p.answered_at, lang),
                                owner=p.owner_name or "—",
                            )
                        ),  # fmt: skip
                        html.Br(),
                        p.answer,
                    ],
                    className="small mb-0",
                ),
            ]
        ),
        className="mb-2 ioc-publication",
        id=f"publication-{p.ticket_id}",
    )
