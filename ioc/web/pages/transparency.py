"""Transparency (``/transparency``): answered reports the desk chose to publish, without personal data.

Only the de-identified copy made at publication (``ticket_publications``) is read: no name, no
phone, phone numbers and the reporter's name scrubbed from the text and the answer.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import html

from ioc.tickets import store
from ioc.tickets.i18n import t
from ioc.web import auth, components
from ioc.web import tickets_views as views
from ioc.web.pages import triage_ids as tid
from ioc.web.tickets_views import catalog, subnav

dash.register_page(__name__, path="/transparency", name="transparency", title="IOC Hải Phòng – Công khai")


def layout(**_query: Any) -> html.Div:
    lang = auth.current_lang()
    with flask.current_app.extensions["ioc"]["pool"].connection() as conn:
        published = store.publications(conn)
    cards = [views.publication_card(p, lang, catalog()) for p in published]
    return html.Div(
        [
            components.navbar(lang, "/transparency", auth.current_user(), auth.csrf_token()),
            dbc.Container(
                [
                    subnav(lang, "/transparency"),
                    html.H1(t("page.transparency", lang), className="h4"),
                    html.P(t("transparency.intro", lang), className="text-muted"),
                    html.Div(cards or html.P(t("transparency.empty", lang)), id=tid.TRANSPARENCY_LIST),
                ],
                fluid="md",
            ),
        ],
        id=tid.TRANSPARENCY,
        className="ioc-transparency",
    )
