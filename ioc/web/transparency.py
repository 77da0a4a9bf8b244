"""Transparency (``/transparency``): answered reports the desk chose to publish, for everyone.

A plain server-rendered page (no Dash, so anonymous visitors never reach a ``/_dash-*`` endpoint).
It reads only the de-identified copy made at publication (``ticket_publications``) and scrubs it
again on the way out (:func:`ioc.tickets.privacy.public_text`), so rows published before a rule
was added are covered too.
"""

from __future__ import annotations

import flask
from psycopg_pool import ConnectionPool

from ioc.i18n import fmt_datetime
from ioc.tickets import store
from ioc.tickets.categories import load_catalog
from ioc.tickets.i18n import t
from ioc.tickets.privacy import PUBLIC_ANSWER_MAX, public_media, public_text
from ioc.web import auth
from ioc.web.pages import triage_ids as tid

_PAGE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t('page.transparency', lang) }} – IOC Hải Phòng</title>
<link rel="stylesheet" href="/assets/00_bootstrap.min.css"><link rel="stylesheet" href="/assets/10_ioc.css">
</head><body class="ioc-transparency">
<nav class="navbar navbar-dark bg-primary py-1"><div class="container-md">
<a class="navbar-brand fw-bold" href="/transparency">IOC Hải Phòng</a>
<span><a class="link-light me-3" href="/lang/{{ other }}?next=/transparency">{{ switch }}</a>
{% if logged_in %}<a class="link-light" href="/">{{ home }}</a>{% else %}<a class="link-light" href="/login">{{ login }}</a>{% endif %}</span>
</div></nav>
<main class="container-md" id="{{ page_id }}">
<h1 class="h4 mt-3">{{ t('page.transparency', lang) }}</h1>
<p class="text-muted">{{ t('transparency.intro', lang) }}</p>
<div id="{{ list_id }}">
{% for c in cards %}<div class="card mb-2 ioc-publication" id="publication-{{ c.id }}"><div class="card-body">
<h2 class="h6">{{ c.category }} · {{ c.unit }}</h2><p class="mb-2">{{ c.text }}</p>
{% for u in c.photos %}<a href="{{ u }}" rel="noopener noreferrer" target="_blank" class="me-2 small">{{ photo }} {{ loop.index }}</a>{% endfor %}
<p class="small mb-0"><b>{{ c.answered }}</b><br>{{ c.answer }}</p></div></div>
{% else %}<p>{{ t('transparency.empty', lang) }}</p>{% endfor %}
</div></main></body></html>"""


def register_transparency(server: flask.Flask, pool: ConnectionPool) -> None:
    """Mount ``GET /transparency`` on the dashboard's server (public: see ioc.access.ROUTES)."""

    @server.get("/transparency")
    def transparency() -> flask.Response:
        lang = auth.current_lang()
        catalog = load_catalog()
        with pool.connection() as conn:
            published = store.publications(conn)
        cards = [
            {
                "id": p.ticket_id,
                "category": catalog.get(p.category).name(lang) if p.category and p.category in catalog else "—",
                "unit": p.admin_unit or "—",
                "text": public_text(p.text),
                "answer": public_text(p.answer, limit=PUBLIC_ANSWER_MAX),
                "photos": public_media(p.photo_urls),
                "answered": t("transparency.answered", lang, time=fmt_datetime(p.answered_at, lang),
                              owner=p.owner_name or "—"),
            }  # fmt: skip
            for p in published
        ]
        html = flask.render_template_string(
            _PAGE, t=t, lang=lang, cards=cards, other="en" if lang == "vi" else "vi",
            switch=t("transparency.switch", lang), logged_in=auth.current_principal() is not None,
            home=t("transparency.home", lang), login=t("transparency.login", lang), photo=t("transparency.photo", lang),
            page_id=tid.TRANSPARENCY, list_id=tid.TRANSPARENCY_LIST,
        )  # fmt: skip
        resp = flask.Response(html, mimetype="text/html")
        resp.headers["Cache-Control"] = "public, max-age=60"
        return resp
