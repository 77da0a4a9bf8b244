"""Shared by the directive pages: the pool, the acting user with their recipient scope, formats."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import flask
from dash import html

from ioc.directives.store import Actor, with_scope
from ioc.i18n import TZ, Lang
from ioc.web import auth
from ioc.web.snapshot import EXTENSION


def pool() -> Any:
    return flask.current_app.extensions[EXTENSION]["pool"]


def current_actor(conn: Any) -> Actor:
    """The logged-in user with the recipient codes they act for (read per request, never cached):
    their recipient memberships and what their access scope (units, sectors) stands for."""
    from ioc.directives.recipients import codes_for_scope

    actor = with_scope(Actor(auth.current_user() or "?", auth.current_role() or ""), conn)
    principal = auth.current_principal()
    if principal is None or principal.scope.city_wide:
        return actor
    own = codes_for_scope(principal.scope.sectors, principal.scope.units)
    return replace(actor, scope=actor.scope | own)


def allowed(access: dict[str, tuple[frozenset[str], str]], key: str) -> bool:
    roles, _ = access[key]
    return (auth.current_role() or "") in roles


def forbidden(lang: Lang) -> html.Div:
    from ioc.directives.i18n import tr

    return html.Div(html.P(tr("forbidden", lang)), className="container p-5")


def when(dt: datetime | None) -> str:
    return "—" if dt is None else dt.astimezone(TZ).strftime("%H:%M %d/%m/%Y")


def parse_local(value: str | None) -> datetime:
    """``23/11/2026 18:30`` or ISO ``2026-11-23T18:30``, Vietnam time; ValueError naming the value."""
    text = (value or "").strip()
    for pattern in ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=TZ)
        except ValueError:
            continue
    raise ValueError(f"not a time like 23/11/2026 18:30: {text!r}")
