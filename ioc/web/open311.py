"""Open311 GeoReport v2 over the citizen-report tickets, mounted at ``/open311/v2`` (JSON only).

* ``GET services.json``: one service per report category;
* ``POST requests.json``: a new ticket (needs ``api_key``; see ``ioc tickets apikey add``);
* ``GET requests.json``: tickets filtered by ``service_request_id``, ``service_code``, ``status``,
  ``start_date``/``end_date`` (default: the last 90 days, at most 1000);
* ``GET requests/{id}.json``: one ticket, as a one-element list (as the specification says).

Reporter name and phone are accepted on POST and never returned; descriptions are scrubbed of
phone numbers. A POST writes the ticket directly through the same intake as the spine (classifier
suggestion, routing, deadline, duplicates) rather than through Kafka, so the client gets the
``service_request_id`` at once. The API is its own small Flask app dispatched under the prefix, so
the dashboard's login guard does not apply to it; it has its own key check.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import psycopg
from psycopg_pool import ConnectionPool
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from ioc.accounts import client_for_key
from ioc.i18n import TZ
from ioc.settings import Settings
from ioc.tickets import store
from ioc.tickets.categories import load_catalog
from ioc.tickets.classifier import Suggestion
from ioc.tickets.privacy import scrub_text
from ioc.tickets.store import NewTicket, TicketRow
from ioc.tickets.workflow import OPEN_STATUSES, Status, status_name

PREFIX = "/open311/v2"
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
_PHONE_RE = re.compile(r"^\+?[0-9 .-]{8,20}$")
_CLOSED = {Status.ANSWERED.value, Status.CLOSED.value, Status.MERGED.value}


class Open311Error(Exception):
    """An error answered as GeoReport's ``[{"code": …, "description": …}]``."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _iso(dt: datetime | None) -> str | None:
    """W3C datetime in Hải Phòng time, e.g. ``2026-11-23T08:00:00+07:00``."""
    return None if dt is None else dt.astimezone(TZ).isoformat(timespec="seconds")


def service_list(lang: str = "vi") -> list[dict[str, Any]]:
    """GeoReport services: the report categories."""
    out = []
    for c in load_catalog():
        out.append(
            {
                "service_code": c.code,
                "service_name": c.name(lang),
                "description": c.name_en if lang == "vi" else c.name_vi,
                "metadata": False,
                "type": "realtime",
                "keywords": c.urgency,
                "group": "urgent" if c.urgency == "urgent" else "on_site",
            }
        )
    return out


def request_doc(row: TicketRow, primary: TicketRow | None = None, lang: str = "vi") -> dict[str, Any]:
    """One ticket as a GeoReport service request (no personal data)."""
    catalog = load_catalog()
    code = row.category or row.suggested_category
    follow = primary if row.status == Status.MERGED and primary is not None else row
    notes = status_name(row.status, lang)
    if row.status == Status.MERGED:
        notes += f" → {row.merged_into}: {status_name(follow.status, lang)}"
    if follow.answer:
        notes += ": " + scrub_text(follow.answer, row.reporter_name, row.reporter_phone)
    deadline = follow.deadline
    return {
        "service_request_id": row.ticket_id,
        "status": "closed" if follow.status in _CLOSED else "open",
        "status_notes": notes,
        "service_name": catalog.get(code).name(lang) if code in catalog else None,
        "service_code": code,
        "description": scrub_text(row.text, row.reporter_name, row.reporter_phone),
        "agency_responsible": follow.owner_name,
        "service_notice": None
        if deadline is None
        else ("Hạn trả lời: " if lang == "vi" else "Answer due: ")
        + f"{deadline.astimezone(TZ):%H:%M %d/%m/%Y}",
        "requested_datetime": _iso(row.received_at),
        "updated_datetime": _iso(max(row.updated_at, follow.updated_at)),
        "expected_datetime": _iso(deadline),
        "address": row.admin_unit,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.photo_urls[0] if row.photo_urls else None,
    }


_SELECT_REQUESTS = (
    "SELECT ticket_id FROM tickets WHERE (%(ids)s::text[] IS NULL OR ticket_id = ANY(%(ids)s))"
    " AND (%(codes)s::text[] IS NULL OR coalesce(category, suggested_category) = ANY(%(codes)s))"
    " AND received_at >= %(start)s AND received_at < %(end)s"
    # Merged tickets follow their primary's status: filtered after the lookup.
    " AND (%(statuses)s::text[] IS NULL OR status = 'merged' OR status = ANY(%(statuses)s))"
    " ORDER BY received_at DESC LIMIT %(limit)s"
)


def _date_param(name: str) -> datetime | None:
    value = flask.request.args.get(name)
    if not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C datetime: {value!r}") from None
    return d if d.tzinfo else d.replace(tzinfo=TZ)


def _float_param(values: Any, name: str, lo: float, hi: float) -> float:
    raw = values.get(name)
    if raw in (None, ""):
        raise Open311Error(400, f"{name} is required")
    try:
        v = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} is not a number: {raw!r}") from None
    if not lo <= v <= hi:
        raise Open311Error(400, f"{name} {v} is outside Vietnam ({lo}..{hi})")
    return v


def register_open311(
    server: flask.Flask,
    settings: Settings,
    *,
    intake_factory: Callable[[], Any] | None = None,
    unit_at: Callable[[float, float, datetime], str | None] | None = None,
) -> flask.Flask:
    """Mount the GeoReport v2 API on ``server`` under ``/open311/v2``; returns the API's Flask app.

    Uses the dashboard's connection pool when ``server`` has one, else opens its own. ``intake_factory``
    and ``unit_at`` default to the project's intake (classifier, routing) and admin-unit lookup.
    """
    pool: ConnectionPool | None = server.extensions.get("ioc", {}).get("pool")
    if pool is None:
        pool = ConnectionPool(
            settings.database_dsn(), min_size=1, max_size=4, open=True, kwargs={"autocommit": True},
            name="ioc-open311",
        )  # fmt: skip
    api = flask.Flask("ioc-open311")
    api.json.ensure_ascii = False  # type: ignore[attr-defined]
    lock = threading.Lock()
    cache: dict[str, Any] = {}

    def intake() -> Any:
        with lock:
            if "intake" not in cache:
                if intake_factory is not None:
                    cache["intake"] = intake_factory()
                else:
                    from ioc.tickets.intake import Intake

                    cache["intake"] = Intake.default()
            return cache["intake"]

    def locate(lon: float, lat: float, on: datetime) -> str | None:
        if unit_at is not None:
            return unit_at(lon, lat, on)
        return intake().units.at(lon, lat, on)

    def json_only(fmt: str) -> None:
        if fmt != "json":
            raise Open311Error(400, f"format {fmt!r} is not supported: use .json")

    @api.errorhandler(Open311Error)
    def _error(exc: Open311Error) -> flask.Response:
        resp = flask.jsonify([{"code": exc.code, "description": exc.description}])
        resp.status_code = exc.code
        return resp

    @api.errorhandler(404)
    def _not_found(_exc: Exception) -> flask.Response:
        return _error(Open311Error(404, f"no such resource: {flask.request.path}"))

    def lang() -> str:
        return "en" if flask.request.args.get("lang") == "en" else "vi"

    @api.get("/services.<fmt>")
    def services(fmt: str) -> flask.Response:
        json_only(fmt)
        return flask.jsonify(service_list(lang()))

    @api.get("/services/<code>.<fmt>")
    def service_definition(code: str, fmt: str) -> flask.Response:
        json_only(fmt)
        if code not in load_catalog():
            raise Open311Error(404, f"unknown service_code {code!r}")
        return flask.jsonify({"service_code": code, "attributes": []})

    @api.get("/requests.<fmt>")
    def list_requests(fmt: str) -> flask.Response:
        json_only(fmt)
        args = flask.request.args
        ids = [x.strip() for x in args.get("service_request_id", "").split(",") if x.strip()]
        codes = [x.strip() for x in args.get("service_code", "").split(",") if x.strip()]
        statuses = {x.strip() for x in args.get("status", "").split(",") if x.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, f"status must be open and/or closed, got {sorted(statuses)}")
        end = _date_param("end_date") or datetime.now(UTC) + timedelta(seconds=1)
        start = _date_param("start_date") or end - DEFAULT_WINDOW
        if ids:
            start, end = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
        wanted: list[str] | None = None
        if len(statuses) == 1:
            wanted = (
                sorted(_CLOSED - {"merged"}) if "closed" in statuses else [s.value for s in OPEN_STATUSES]
            )
        params = {
            "ids": ids or None,
            "codes": codes or None,
            "start": start,
            "end": end,
            "statuses": wanted,
            "limit": MAX_RESULTS,
        }
        with pool.connection() as conn:
            found = [r[0] for r in conn.execute(_SELECT_REQUESTS, params).fetchall()]
            docs = [_doc(conn, tid, lang()) for tid in found]
        if statuses:
            docs = [d for d in docs if d["status"] in statuses]
        return flask.jsonify(docs)

    @api.get("/requests/<request_id>.<fmt>")
    def one_request(request_id: str, fmt: str) -> flask.Response:
        json_only(fmt)
        with pool.connection() as conn:
            if store.get_ticket(conn, request_id) is None:
                raise Open311Error(404, f"no service request {request_id!r}")
            return flask.jsonify([_doc(conn, request_id, lang())])

    @api.post("/requests.<fmt>")
    def create_request(fmt: str) -> tuple[flask.Response, int]:
        json_only(fmt)
        values = (
            flask.request.values if not flask.request.is_json else flask.request.get_json(silent=True) or {}
        )
        with pool.connection() as conn:
            client = client_for_key(conn, values.get("api_key"))
            if client is None:
                raise Open311Error(403, "api_key is missing or not valid")
            code = values.get("service_code") or ""
            catalog = load_catalog()
            if code not in catalog:
                raise Open311Error(400, f"unknown service_code {code!r}; known: {', '.join(catalog.codes)}")
            lat = _float_param(values, "lat", 8.0, 24.0)
            lon = _float_param(values, "long", 102.0, 110.0)
            description = (values.get("description") or "").strip()
            if not description:
                raise Open311Error(400, "description is required")
            if len(description) > 5000:
                raise Open311Error(400, f"description is {len(description)} characters, at most 5000")
            phone = (values.get("phone") or "").strip() or None
            if phone is not None and not _PHONE_RE.match(phone):
                raise Open311Error(400, "phone is not a phone number")  # the value itself is personal data
            name = " ".join(x for x in (values.get("last_name"), values.get("first_name")) if x) or None
            media = (values.get("media_url") or "").strip()
            now = datetime.now(UTC)
            new = NewTicket(
                ticket_id=f"O311-{uuid.uuid4().hex[:12]}",
                received_at=now,
                channel="open311:" + client,
                text=description,
                lon=lon,
                lat=lat,
                admin_unit=locate(lon, lat, now),
                photo_urls=(media,) if media else (),
                reporter_name=name,
                reporter_phone=phone,
            )
            it = intake()
            confidence = it.classifier.probabilities(description).get(code, 0.0)
            suggestion = Suggestion(code, catalog.get(code).name_vi, confidence)
            row = it.receive(conn, new, suggestion, now)
        assert row is not None
        notice = request_doc(row)["service_notice"]
        return flask.jsonify(
            [{"service_request_id": row.ticket_id, "service_notice": notice, "account_id": None}]
        ), 201

    def _doc(conn: psycopg.Connection, ticket_id: str, lg: str) -> dict[str, Any]:
        row = store.require_ticket(conn, ticket_id)
        primary = store.get_ticket(conn, row.merged_into) if row.merged_into else None
        return request_doc(row, primary, lg)

    server.wsgi_app = DispatcherMiddleware(server.wsgi_app, {PREFIX: api.wsgi_app})  # type: ignore[method-assign]
    server.extensions["ioc_open311"] = api
    return api
