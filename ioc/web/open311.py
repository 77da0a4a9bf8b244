"""Open311 GeoReport v2 over the citizen-report tickets, mounted at ``/open311/v2`` (JSON only).

* ``GET services.json``: one service per report category;
* ``GET requests.json``: tickets filtered by ``service_request_id``, ``service_code``, ``status``,
  ``start_date``/``end_date`` (default: the last 90 days, at most 1000; dates outside 2000–2100 are
  refused with 400);
* ``GET requests/{id}.json``: one ticket, as a one-element list (as the specification says);
* ``POST requests.json``: a new ticket (an ``api_key`` whose role may create tickets; rate-limited
  per key and per client address; validated like the feedback topic).

**Public means published and de-identified.** Without a key, GETs return only tickets a staff
member published, with the copy de-identified at publication (:mod:`ioc.tickets.privacy`: names,
phones, e-mails, ID and plate numbers, house numbers scrubbed; coordinates rounded to ~100 m;
photos only when published and only ``https``; lengths capped). A staff system's key (bound to a
role and a scope, ``ioc tickets apikey add``) also sees the unpublished tickets of its scope, still
without personal data. Who may call which route is :mod:`ioc.access`'s decision.

A POST writes the ticket directly through the same intake as the spine (classifier suggestion,
routing, deadline, duplicates) rather than through Kafka, so the client gets the
``service_request_id`` at once. The API is its own small Flask app dispatched under the prefix.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import psycopg
from psycopg_pool import ConnectionPool
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from ioc.access import ROUTES, Action, Principal, Resource, decide, may_at_all
from ioc.accounts import ApiClient, client_for_key
from ioc.i18n import TZ
from ioc.settings import Settings
from ioc.sources.feedback import FeedbackEvent
from ioc.tickets import store
from ioc.tickets.categories import load_catalog
from ioc.tickets.classifier import Suggestion
from ioc.tickets.privacy import PUBLIC_ANSWER_MAX, public_media, public_point, public_text
from ioc.tickets.store import NewTicket, Publication, TicketRow, Viewer
from ioc.tickets.workflow import OPEN_STATUSES, Status, status_name

PREFIX = "/open311/v2"
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_IDS = 100
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


def request_doc(row: TicketRow, primary: TicketRow | None = None, lang: str = "vi",
                publication: Publication | None = None, *, exact: bool = False) -> dict[str, Any]:  # fmt: skip
    """One ticket as a GeoReport service request, de-identified.

    ``publication``: the copy made when staff published it (its text is what the public reads);
    ``exact``: staff keys get exact coordinates, the public a point rounded to about 100 m."""
    catalog = load_catalog()
    code = row.category or row.suggested_category
    follow = primary if row.status == Status.MERGED and primary is not None else row
    notes = status_name(row.status, lang)
    if row.status == Status.MERGED:
        notes += f" → {row.merged_into}: {status_name(follow.status, lang)}"
    answer = publication.answer if publication is not None else follow.answer
    if answer:
        notes += ": " + public_text(answer, row.reporter_name, row.reporter_phone, limit=PUBLIC_ANSWER_MAX)
    text = publication.text if publication is not None else row.text
    photos = public_media(publication.photo_urls if publication is not None else row.photo_urls)
    lat, lon = (row.lat, row.lon) if exact else public_point(row.lat, row.lon)
    deadline = follow.deadline
    return {
        "service_request_id": row.ticket_id,
        "status": "closed" if follow.status in _CLOSED else "open",
        "status_notes": notes,
        "service_name": catalog.get(code).name(lang) if code in catalog else None,
        "service_code": code,
        "description": public_text(text, row.reporter_name, row.reporter_phone),
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
        "lat": lat,
        "long": lon,
        "media_url": photos[0] if photos else None,
    }


_SELECT_REQUESTS = (
    "SELECT t.ticket_id FROM tickets t WHERE (%(ids)s::text[] IS NULL OR t.ticket_id = ANY(%(ids)s))"
    " AND (%(codes)s::text[] IS NULL OR coalesce(t.category, t.suggested_category) = ANY(%(codes)s))"
    " AND t.received_at >= %(start)s AND t.received_at < %(end)s"
    # Merged tickets follow their primary's status: filtered after the lookup.
    " AND (%(statuses)s::text[] IS NULL OR t.status = 'merged' OR t.status = ANY(%(statuses)s))"
    " AND (NOT %(public)s OR EXISTS (SELECT 1 FROM ticket_publications p WHERE p.ticket_id = t.ticket_id))"
    " AND (NOT %(scoped)s OR t.owner_code = ANY(%(owners)s) OR t.admin_unit = ANY(%(units)s))"
    " ORDER BY t.received_at DESC LIMIT %(limit)s"
)
_RATE = (
    "SELECT count(*) FILTER (WHERE client = %(client)s), count(*) FILTER (WHERE ip = %(ip)s)"
    " FROM open311_requests WHERE at > now() - INTERVAL '1 minute' AND (client = %(client)s OR ip = %(ip)s)"
)


def _date_param(name: str) -> datetime | None:
    value = flask.request.args.get(name)
    if not value:
        return None
    if len(value) > 40:
        raise Open311Error(400, f"{name} is not a W3C datetime")
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
        d = d if d.tzinfo else d.replace(tzinfo=TZ)
        d.astimezone(UTC)  # years near 1 or 9999 overflow here
    except (ValueError, OverflowError):
        raise Open311Error(400, f"{name} is not a W3C datetime: {value!r}") from None
    if not EARLIEST <= d <= LATEST:
        raise Open311Error(400, f"{name} {value!r} is outside {EARLIEST.year}–{LATEST.year}")
    return d


def _float_param(values: Any, name: str, lo: float, hi: float) -> float:
    raw = values.get(name)
    if raw in (None, ""):
        raise Open311Error(400, f"{name} is required")
    try:
        v = float(raw)
    except (TypeError, ValueError):
        raise Open311Error(400, f"{name} is not a number") from None
    if not lo <= v <= hi:
        raise Open311Error(400, f"{name} {v} is outside Vietnam ({lo}..{hi})")
    return v


def _text_param(values: Any, name: str) -> str:
    v = values.get(name)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Open311Error(400, f"{name} must be text")
    return v.strip()


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
    api = flask.Flask("ioc-open311", static_folder=None)
    api.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    api.json.ensure_ascii = False  # type: ignore[attr-defined]
    lock = threading.Lock()
    cache: dict[str, Any] = {}  # the intake models, built once (immutable once built)

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

    def client_ip() -> str:
        return flask.request.remote_addr or "?"

    def api_client(values: Any | None = None) -> ApiClient | None:
        """The caller's key (``api_key`` parameter or ``X-Api-Key`` header), if any; a wrong key is 403."""
        vals = values if values is not None else flask.request.args
        key = flask.request.headers.get("X-Api-Key") or (vals.get("api_key") if hasattr(vals, "get") else None)
        if not key:
            return None
        if not isinstance(key, str):
            raise Open311Error(400, "api_key must be text")
        with pool.connection() as conn:
            client = client_for_key(conn, key)
        if client is None:
            raise Open311Error(403, "api_key is missing or not valid")
        return client

    @api.before_request
    def enforce() -> None:
        req = flask.request
        if req.content_length is not None and req.content_length > settings.max_request_bytes:
            raise Open311Error(413, f"request body over {settings.max_request_bytes} bytes")
        if req.url_rule is None or req.method == "OPTIONS":
            return
        method = "GET" if req.method == "HEAD" else req.method
        route = Resource.route(method, req.url_rule.rule)
        if route.name not in ROUTES:  # default deny; a keyed route is decided with its key in the view
            raise Open311Error(403, "not allowed: no policy for this route")

    @api.after_request
    def headers(response: flask.Response) -> flask.Response:
        h = response.headers
        h["X-Content-Type-Options"] = "nosniff"
        h["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "no-referrer"
        h.setdefault("Cache-Control", "no-store")
        return response

    @api.errorhandler(Open311Error)
    def _error(exc: Open311Error) -> flask.Response:
        resp = flask.jsonify([{"code": exc.code, "description": exc.description}])
        resp.status_code = exc.code
        return resp

    @api.errorhandler(404)
    def _not_found(_exc: Exception) -> flask.Response:
        return _error(Open311Error(404, f"no such resource: {flask.request.path[:200]}"))

    @api.errorhandler(405)
    def _not_allowed(_exc: Exception) -> flask.Response:
        return _error(Open311Error(405, f"method {flask.request.method} not allowed here"))

    @api.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc: Exception) -> flask.Response:
        return _error(Open311Error(413, f"request body over {settings.max_request_bytes} bytes"))

    def lang() -> str:
        return "en" if flask.request.args.get("lang") == "en" else "vi"

    @api.get("/services.<fmt>")
    def services(fmt: str) -> flask.Response:
        json_only(fmt)
        resp = flask.jsonify(service_list(lang()))
        resp.headers["Cache-Control"] = "public, max-age=300"
        return resp

    @api.get("/services/<code>.<fmt>")
    def service_definition(code: str, fmt: str) -> flask.Response:
        json_only(fmt)
        if code not in load_catalog():
            raise Open311Error(404, f"unknown service_code {code[:64]!r}")
        return flask.jsonify({"service_code": code, "attributes": []})

    def reader() -> Viewer | None:
        """``None`` for the public; a staff key's viewer (its role and scope) otherwise."""
        client = api_client()
        if client is None:
            return None
        if not may_at_all(client.principal, "ticket", Action.VIEW):
            raise Open311Error(403, f"the key's role {client.principal.role.value!r} may not read tickets")
        return Viewer.of(client.principal)

    @api.get("/requests.<fmt>")
    def list_requests(fmt: str) -> flask.Response:
        json_only(fmt)
        viewer = reader()
        args = flask.request.args
        ids = [x.strip() for x in args.get("service_request_id", "").split(",") if x.strip()][: MAX_IDS + 1]
        if len(ids) > MAX_IDS:
            raise Open311Error(400, f"at most {MAX_IDS} service_request_id values")
        codes = [x.strip() for x in args.get("service_code", "").split(",") if x.strip()][:50]
        statuses = {x.strip() for x in args.get("status", "").split(",") if x.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open and/or closed")
        end = _date_param("end_date") or datetime.now(UTC) + timedelta(seconds=1)
        start = _date_param("start_date") or end - DEFAULT_WINDOW
        if ids:
            start, end = EARLIEST, LATEST
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
            "public": viewer is None,
            "scoped": viewer is not None and viewer.scoped,
            "owners": viewer.owner_codes() if viewer is not None else [],
            "units": viewer.units() if viewer is not None else [],
            "limit": MAX_RESULTS,
        }
        with pool.connection() as conn:
            found = [r[0] for r in conn.execute(_SELECT_REQUESTS, params).fetchall()]
            docs = [d for d in (_doc(conn, tid, lang(), viewer) for tid in found) if d is not None]
        if statuses:
            docs = [d for d in docs if d["status"] in statuses]
        return flask.jsonify(docs)

    @api.get("/requests/<request_id>.<fmt>")
    def one_request(request_id: str, fmt: str) -> flask.Response:
        json_only(fmt)
        viewer = reader()
        with pool.connection() as conn:
            doc = _doc(conn, request_id, lang(), viewer) if len(request_id) <= 64 else None
        if doc is None:  # unknown, unpublished, or outside the key's scope: the same answer
            raise Open311Error(404, f"no service request {request_id[:64]!r}")
        return flask.jsonify([doc])

    def rate_limit(conn: psycopg.Connection, client: str) -> None:
        limit = settings.open311_posts_per_minute
        n_client, n_ip = conn.execute(_RATE, {"client": client, "ip": client_ip()}).fetchone()  # type: ignore[misc]
        if n_client >= limit or n_ip >= limit:
            exc = Open311Error(429, f"more than {limit} requests a minute: slow down")
            raise exc
        conn.execute("INSERT INTO open311_requests (client, ip) VALUES (%s, %s)", (client, client_ip()))

    @api.post("/requests.<fmt>")
    def create_request(fmt: str) -> tuple[flask.Response, int]:
        json_only(fmt)
        values = flask.request.values if not flask.request.is_json else flask.request.get_json(silent=True)
        if not isinstance(values, dict) and not hasattr(values, "getlist"):
            raise Open311Error(400, "the body must be a form or a JSON object")
        client = api_client(values)
        if client is None:
            raise Open311Error(403, "api_key is missing or not valid")
        p: Principal = client.principal
        if not decide(p, Resource.route("POST", "/requests.<fmt>")) or not may_at_all(p, "ticket", Action.CREATE):
            raise Open311Error(403, f"the key's role {p.role.value!r} may not create requests")
        code = _text_param(values, "service_code")
        catalog = load_catalog()
        if code not in catalog:
            raise Open311Error(400, f"unknown service_code {code[:64]!r}; known: {', '.join(catalog.codes)}")
        lat = _float_param(values, "lat", 8.0, 24.0)
        lon = _float_param(values, "long", 102.0, 110.0)
        description = _text_param(values, "description")
        if not description:
            raise Open311Error(400, "description is required")
        media = _text_param(values, "media_url")
        if media and not public_media([media]):
            raise Open311Error(400, "media_url must be an https link")
        name = " ".join(x for x in (_text_param(values, "last_name"), _text_param(values, "first_name")) if x) or None
        phone = _text_param(values, "phone") or None
        now = datetime.now(UTC)
        ticket_id = f"O311-{uuid.uuid4().hex[:12]}"
        try:  # the same rules as a report on the feedback topic (lengths, phone pattern, photos)
            FeedbackEvent(event_id=uuid.uuid4(), source_id="open311", event_time=now, ticket_id=ticket_id,
                          text=description, lon=lon, lat=lat, photo_urls=(media,) if media else (),
                          reporter_name=name, reporter_phone=phone)  # fmt: skip
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            field = {"reporter_name": "first_name/last_name", "reporter_phone": "phone", "text": "description",
                     "photo_urls": "media_url"}.get(str(first["loc"][0]), str(first["loc"][0]))  # fmt: skip
            raise Open311Error(400, f"{field} is not valid: {first['type'].replace('_', ' ')}") from None
        new = NewTicket(
            ticket_id=ticket_id,
            received_at=now,
            channel="open311:" + client.name,
            text=description,
            lon=lon,
            lat=lat,
            admin_unit=locate(lon, lat, now),
            photo_urls=(media,) if media else (),
            reporter_name=name,
            reporter_phone=phone,
        )
        with pool.connection() as conn:
            rate_limit(conn, client.name)
            it = intake()
            confidence = it.classifier.probabilities(description).get(code, 0.0)
            suggestion = Suggestion(code, catalog.get(code).name_vi, confidence)
            row = it.receive(conn, new, suggestion, now)
        if row is None:
            raise Open311Error(409, "this service request exists already")
        notice = request_doc(row, exact=True)["service_notice"]
        return flask.jsonify(
            [{"service_request_id": row.ticket_id, "service_notice": notice, "account_id": None}]
        ), 201

    def _doc(conn: psycopg.Connection, ticket_id: str, lg: str, viewer: Viewer | None) -> dict[str, Any] | None:
        row = store.get_ticket(conn, ticket_id)
        if row is None:
            return None
        pub = store.publication(conn, ticket_id)
        if viewer is None and pub is None:
            return None  # the public sees published tickets only
        if viewer is not None and not viewer.can_see(row):
            return None
        primary = store.get_ticket(conn, row.merged_into) if row.merged_into else None
        return request_doc(row, primary, lg, pub, exact=viewer is not None)

    server.wsgi_app = DispatcherMiddleware(server.wsgi_app, {PREFIX: api.wsgi_app})  # type: ignore[method-assign]
    server.extensions["ioc_open311"] = api
    return api

