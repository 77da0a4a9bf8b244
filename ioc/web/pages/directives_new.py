"""``/directives/new``: the leader's board with the new-directive form open (``?alert=<id>``,
``?ticket=``, ``?kpi=``, ``?unit=`` prefill it and link the directive to that object)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from ioc.web.pages import directives

dash.register_page(__name__, path="/directives/new", name="directives-new", title="IOC Hải Phòng – Giao nhiệm vụ")

ACCESS = {"/directives/new": directives.ACCESS["/directives/new"]}


def layout(**query: Any) -> html.Div:
    return directives.layout(new="1", **query)
