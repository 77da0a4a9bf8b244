"""Ticket repository (psycopg 3): typed rows in, typed rows out, constant parameterised SQL.

Every change goes through :func:`apply_change`, which in one transaction locks the ticket, runs the
pure state machine (:mod:`ioc.tickets.workflow`), appends the event to ``ticket_events``, rewrites
the ``tickets`` projection and writes the audit log. So the projection always equals the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, LiteralString

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ioc.access import Action, Principal, Resource, Role, decide, may_at_all
from ioc.access import Scope as AccessScope
from ioc.audit import audit
from ioc.crypto import Keyring, decrypt_opt, default_keyring, encrypt_opt
from ioc.tickets import workflow as wf
from ioc.tickets.privacy import public_media, public_text
from ioc.tickets.workflow import Change, Kind, Status, TicketState


class TicketNotFound(LookupError):
    """No ticket with that id (the message names it)."""


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A citizen report about to become a ticket."""

    ticket_id: str
    received_at: datetime
    channel: str
    text: str
    lon: float
    lat: float
    admin_unit: str | None = None
    photo_urls: tuple[str, ...] = ()
    reporter_name: str | None = field(default=None, repr=False)
    reporter_phone: str | None = field(default=None, repr=False)
    source_event_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        if not self.ticket_id or len(self.ticket_id) > 64:
            raise ValueError(f"ticket_id must be 1..64 characters, got {self.ticket_id!r}")
        if not self.text.strip():
            raise ValueError(f"ticket {self.ticket_id!r}: empty text")
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"ticket {self.ticket_id!r}: bad coordinates lat={self.lat!r}, lon={self.lon!r}")
        if self.received_at.tzinfo is None:
            raise ValueError(f"ticket {self.ticket_id!r}: received_at must be timezone-aware")


@dataclass(frozen=True)
class TicketRow:
    """One row of ``tickets``: the report and its current state."""

    ticket_id: str
    received_at: datetime
    source_event_id: uuid.UUID | None
    channel: str
    text: str
    lon: float
    lat: float
    admin_unit: str | None
    photo_urls: list[str]
    reporter_name: str | None = field(repr=False)
    reporter_phone: str | None = field(repr=False)
    status: str
    category: str | None
    category_confirmed: bool
    suggested_category: str | None
    suggested_confidence: float | None
    owner_kind: str | None
    owner_code: str | None
    owner_name: str | None
    deadline: datetime | None
    first_answered_at: datetime | None
    answered_at: datetime | None
    answered_on_time: bool | None
    answer: str | None
    closed_at: datetime | None
    verdict: str | None
    merged_into: str | None
    duplicate_of: str | None
    published: bool
    version: int
    updated_at: datetime

    def state(self) -> TicketState:
        names = {f.name for f in fields(TicketState)}
        values = {n: getattr(self, n) for n in names}
        values["status"] = Status(self.status)
        return TicketState(**values)


@dataclass(frozen=True)
class TicketEventRow:
    """One entry of a ticket's history."""

    id: int
    ticket_id: str
    seq: int
    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str
    details: dict[str, Any]

    def change(self) -> Change:
        return Change.from_details(self.kind, self.at, self.actor, self.details)


@dataclass(frozen=True)
class QueueRow:
    """What the triage queue shows of a ticket (no personal data)."""

    ticket_id: str
    received_at: datetime
    status: str
    category: str | None
    category_confirmed: bool
    suggested_category: str | None
    suggested_confidence: float | None
    admin_unit: str | None
    owner_code: str | None
    owner_name: str | None
    deadline: datetime | None
    text: str
    duplicate_of: str | None
    published: bool
    total: int = 0  # rows matching the filter, before the limit
    # Only to scrub the reporter's name from the text shown to non-triage viewers; never displayed.
    reporter_name: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Scope:
    scope_type: str  # 'agency' | 'ward'
    scope_code: str

    def owner_code(self) -> str:
        """The ``tickets.owner_code`` this scope owns (ward committees are ``ubnd:<unit>``)."""
        return self.scope_code if self.scope_type == "agency" else "ubnd:" + " ".join(self.scope_code.split())


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking. The policy (:mod:`ioc.access`) decides from the role and scope what they see:
    which tickets (their scope's), whether the reporter is unmasked (city-wide triage staff only)."""

    username: str
    role: str
    scopes: tuple[Scope, ...] = ()
    access: Principal | None = field(default=None, compare=False)  # when the web app already has it

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        return cls(principal.username, principal.role.value, access=principal)

    def principal(self) -> Principal:
        return self.access if self.access is not None else _principal(self.username, self.role, self.scopes)

    @property
    def is_triage(self) -> bool:
        """May read the reporter's name and phone unmasked (each view is audited)."""
        return may_at_all(self.principal(), "ticket", Action.READ_PERSONAL)

    @property
    def scoped(self) -> bool:
        """Agency and ward users (and anyone with a scope): limited to their scope's tickets."""
        return self.principal().scoped

    @property
    def may_read(self) -> bool:
        return may_at_all(self.principal(), "ticket", Action.VIEW)

    def owner_codes(self) -> list[str]:
        scope = self.principal().scope
        return sorted(scope.sectors | scope.ward_owner_codes)

    def units(self) -> list[str]:
        return sorted(self.principal().scope.units)

    def can_see(self, ticket: TicketRow | QueueRow) -> bool:
        return decide(self.principal(), ticket_resource(ticket), Action.VIEW).allowed

    def can_act(self, ticket: TicketRow | QueueRow) -> bool:
        return decide(self.principal(), ticket_resource(ticket), Action.ACT).allowed


def ticket_resource(ticket: TicketRow | QueueRow) -> Resource:
    """A ticket as the policy sees it: where it is and who owns it."""
    return Resource.obj("ticket", admin_unit=ticket.admin_unit, owner=ticket.owner_code)


@lru_cache(maxsize=256)
def _principal(username: str, role: str, scopes: tuple[Scope, ...]) -> Principal:
    from ioc.accounts import expand_units

    try:
        r = Role(role)
    except ValueError:
        r = Role.DISPLAY  # an unknown role reads no tickets
    base = AccessScope.of([s.scope_code for s in scopes if s.scope_type == "agency"])
    units = expand_units(s.scope_code for s in scopes if s.scope_type == "ward")
    return Principal(username, r, AccessScope(base.sectors, units))


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Triage queue filters; ``None`` means "any"."""

    statuses: tuple[str, ...] | None = tuple(s.value for s in wf.OPEN_STATUSES)
    categories: tuple[str, ...] | None = None
    units: tuple[str, ...] | None = None
    owners: tuple[str, ...] | None = None
    overdue_only: bool = False
    limit: int = 500

    def __post_init__(self) -> None:
        for s in self.statuses or ():
            Status(s)  # ValueError naming the bad status
        if not 0 < self.limit <= 100_000:
            raise ValueError(f"limit must be in 1..100000, got {self.limit!r}")


_COLUMNS: LiteralString = (
    "ticket_id, received_at, source_event_id, channel, text, lon, lat, admin_unit, photo_urls,"
    " reporter_name, reporter_phone, status, category, category_confirmed, suggested_category,"
    " suggested_confidence, owner_kind, owner_code, owner_name, deadline, first_answered_at, answered_at,"
    " answered_on_time, answer, closed_at, verdict, merged_into, duplicate_of, published, version, updated_at"
)
_STATE_COLUMNS = tuple(f.name for f in fields(TicketState))

_INSERT: LiteralString = (
    "INSERT INTO tickets (ticket_id, received_at, source_event_id, channel, text, lon, lat, admin_unit,"
    " photo_urls, reporter_name, reporter_phone, status, deadline, version, updated_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (ticket_id) DO NOTHING"
)
_UPDATE: LiteralString = (
    "UPDATE tickets SET status = %(status)s, version = %(version)s, updated_at = %(updated_at)s,"
    " category = %(category)s, category_confirmed = %(category_confirmed)s,"
    " suggested_category = %(suggested_category)s, suggested_confidence = %(suggested_confidence)s,"
    " owner_kind = %(owner_kind)s, owner_code = %(owner_code)s, owner_name = %(owner_name)s,"
    " deadline = %(deadline)s, first_answered_at = %(first_answered_at)s, answered_at = %(answered_at)s,"
    " answered_on_time = %(answered_on_time)s, answer = %(answer)s, closed_at = %(closed_at)s,"
    " verdict = %(verdict)s, merged_into = %(merged_into)s, duplicate_of = %(duplicate_of)s,"
    " published = %(published)s WHERE ticket_id = %(ticket_id)s"
)
_INSERT_EVENT: LiteralString = (
    "INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, from_status, to_status, details)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_QUEUE: LiteralString = (
    "SELECT ticket_id, received_at, status, category, category_confirmed, suggested_category,"
    " suggested_confidence, admin_unit, owner_code, owner_name, deadline, left(text, 300) AS text,"
    " duplicate_of, published, count(*) OVER () AS total, reporter_name FROM tickets"
    " WHERE (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s))"
    " AND (%(categories)s::text[] IS NULL OR coalesce(category, suggested_category) = ANY(%(categories)s))"
    " AND (%(units)s::text[] IS NULL OR admin_unit = ANY(%(units)s))"
    " AND (%(owners)s::text[] IS NULL OR owner_code = ANY(%(owners)s))"
    " AND (NOT %(overdue)s OR (deadline < %(now)s AND status = ANY(%(open)s)))"
    " AND (NOT %(scoped)s OR owner_code = ANY(%(scope_owners)s) OR admin_unit = ANY(%(scope_units)s))"
    " ORDER BY deadline ASC NULLS LAST, received_at ASC LIMIT %(limit)s"
)


def create_ticket(
    conn: psycopg.Connection, new: NewTicket, actor: str, *, deadline: datetime | None = None,
    ring: Keyring | None = None,
) -> TicketRow | None:
    """Insert a received ticket and its first history event; ``None`` if the id already exists.

    The reporter's name and phone are stored encrypted (:mod:`ioc.crypto`), never in clear."""
    ring = ring or default_keyring()
    change = Change(Kind.RECEIVED, new.received_at, actor, deadline=deadline)
    state = wf.start(change)
    with conn.transaction():
        cur = conn.execute(
            _INSERT,
            (
                new.ticket_id,
                new.received_at,
                new.source_event_id,
                new.channel,
                new.text,
                new.lon,
                new.lat,
                new.admin_unit,
                list(new.photo_urls),
                encrypt_opt(ring, new.reporter_name, "tickets.reporter_name"),
                encrypt_opt(ring, new.reporter_phone, "tickets.reporter_phone"),
                state.status.value,
                deadline,
                state.version,
                state.updated_at,
            ),
        )
        if cur.rowcount == 0:
            return None
        conn.execute(
            _INSERT_EVENT,
            (
                new.ticket_id,
                1,
                change.at,
                actor,
                Kind.RECEIVED.value,
                None,
                state.status.value,
                Jsonb(change.details()),
            ),
        )
        audit(conn, actor, "ticket.received", new.ticket_id, {"channel": new.channel})
    row = get_ticket(conn, new.ticket_id)
    assert row is not None
    return row


def get_ticket(conn: psycopg.Connection, ticket_id: str, *, for_update: bool = False) -> TicketRow | None:
    query: LiteralString = "SELECT " + _COLUMNS + " FROM tickets WHERE ticket_id = %s"
    if for_update:
        query += " FOR UPDATE"
    with conn.cursor(row_factory=class_row(TicketRow)) as cur:
        row = cur.execute(query, (ticket_id,)).fetchone()
    return None if row is None else _decrypted(row)


def _decrypted(row: TicketRow, ring: Keyring | None = None) -> TicketRow:
    """The row with the reporter fields readable in memory; masking and the audit of unmasked views
    happen where they are shown (:func:`ioc.tickets.privacy.reporter_view`)."""
    if row.reporter_name is None and row.reporter_phone is None:
        return row
    ring = ring or default_keyring()
    return replace(row, reporter_name=decrypt_opt(ring, row.reporter_name, "tickets.reporter_name"),
                   reporter_phone=decrypt_opt(ring, row.reporter_phone, "tickets.reporter_phone"))  # fmt: skip


def require_ticket(conn: psycopg.Connection, ticket_id: str, *, for_update: bool = False) -> TicketRow:
    row = get_ticket(conn, ticket_id, for_update=for_update)
    if row is None:
        raise TicketNotFound(f"no ticket {ticket_id!r}")
    return row


def apply_change(conn: psycopg.Connection, ticket_id: str, change: Change) -> TicketRow:
    """Apply one change: event, projection, side tables and audit log in one transaction."""
    with conn.transaction():
        row = require_ticket(conn, ticket_id, for_update=True)
        if change.kind is Kind.MERGED:
            _check_merge(conn, ticket_id, change.merged_into)
        if change.kind is Kind.ASSIGNED:
            change = _check_owner(change)
        new = wf.apply(row.state(), change)
        values = {name: getattr(new, name) for name in _STATE_COLUMNS if name != "received_at"}
        values["status"] = new.status.value
        values["ticket_id"] = ticket_id
        conn.execute(_UPDATE, values)
        conn.execute(
            _INSERT_EVENT,
            (
                ticket_id,
                new.version,
                change.at,
                change.actor,
                change.kind.value,
                row.status,
                new.status.value,
                Jsonb(change.details()),
            ),
        )
        if change.kind is Kind.MERGED:
            conn.execute(
                "INSERT INTO ticket_merges (duplicate_id, primary_id, merged_at, actor) VALUES (%s, %s, %s, %s)",
                (ticket_id, change.merged_into, change.at, change.actor),
            )
        elif change.kind is Kind.VERDICT:
            conn.execute(
                "INSERT INTO ticket_verdicts (ticket_id, at, verdict, comment) VALUES (%s, %s, %s, %s)",
                (ticket_id, change.at, change.verdict, change.comment),
            )
        elif change.kind is Kind.PUBLISHED:
            conn.execute(
                "INSERT INTO ticket_publications (ticket_id, published_at, actor, category, admin_unit,"
                " owner_name, received_at, answered_at, text, answer, photo_urls)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (ticket_id) DO NOTHING",
                (
                    ticket_id,
                    change.at,
                    change.actor,
                    new.category,
                    row.admin_unit,
                    new.owner_name,
                    row.received_at,
                    new.answered_at,
                    public_text(row.text, row.reporter_name, row.reporter_phone),
                    public_text(new.answer or "", row.reporter_name, row.reporter_phone, limit=2000),
                    public_media(row.photo_urls),
                ),
            )
        audit(
            conn,
            change.actor,
            f"ticket.{change.kind.value}",
            ticket_id,
            _audit_details(row.status, new, change),
        )
    return require_ticket(conn, ticket_id)


def _audit_details(before: str, new: TicketState, change: Change) -> dict[str, object]:
    out: dict[str, object] = {"from": before, "to": new.status.value, "seq": new.version}
    for key in ("category", "owner_code", "reason", "verdict", "merged_into"):
        value = getattr(change, key)
        if value is not None:
            out[key] = value
    return out


def _check_owner(change: Change) -> Change:
    """An assignment names an owner that exists: an agency of the routing table or the People's
    Committee of a known unit (the code is made canonical; a missing name is the owner's own)."""
    from ioc.tickets.routing import known_owner

    owner = known_owner(change.owner_kind, change.owner_code)
    if owner is None:
        raise LookupError(f"no owner {change.owner_kind}:{change.owner_code!r}: not an agency or ward committee")
    name = " ".join((change.owner_name or "").split())[:200] or owner.name_vi
    return replace(change, owner_code=owner.code, owner_name=name)


def _check_merge(conn: psycopg.Connection, ticket_id: str, primary_id: str | None) -> None:
    if not primary_id:
        raise ValueError(f"merge of {ticket_id!r} needs the primary ticket id")
    if primary_id == ticket_id:
        raise ValueError(f"cannot merge ticket {ticket_id!r} into itself")
    primary = get_ticket(conn, primary_id)
    if primary is None:
        raise TicketNotFound(f"no primary ticket {primary_id!r} to merge {ticket_id!r} into")
    if primary.status == Status.MERGED:
        raise wf.TransitionError(
            f"cannot merge into {primary_id!r}: it was itself merged into {primary.merged_into!r}"
        )


def history(conn: psycopg.Connection, ticket_id: str) -> list[TicketEventRow]:
    """A ticket's events, oldest first."""
    with conn.cursor(row_factory=class_row(TicketEventRow)) as cur:
        return cur.execute(
            "SELECT id, ticket_id, seq, at, actor, kind, from_status, to_status, details"
            " FROM ticket_events WHERE ticket_id = %s ORDER BY seq",
            (ticket_id,),
        ).fetchall()


def merged_into(conn: psycopg.Connection, primary_id: str) -> list[str]:
    """Tickets merged into ``primary_id`` (their reporters follow the primary)."""
    rows = conn.execute(
        "SELECT duplicate_id FROM ticket_merges WHERE primary_id = %s ORDER BY merged_at, duplicate_id",
        (primary_id,),
    ).fetchall()
    return [r[0] for r in rows]


def queue(conn: psycopg.Connection, viewer: Viewer, flt: QueueFilter, now: datetime) -> list[QueueRow]:
    """Tickets matching the filter that ``viewer`` may see, least time left first."""
    params = {
        "statuses": list(flt.statuses) if flt.statuses is not None else None,
        "categories": list(flt.categories) if flt.categories else None,
        "units": list(flt.units) if flt.units else None,
        "owners": list(flt.owners) if flt.owners else None,
        "overdue": flt.overdue_only,
        "now": now,
        "open": [s.value for s in wf.OPEN_STATUSES],
        "scoped": viewer.scoped,
        "scope_owners": viewer.owner_codes(),
        "scope_units": viewer.units(),
        "limit": flt.limit,
    }
    if not viewer.may_read:
        return []
    with conn.cursor(row_factory=class_row(QueueRow)) as cur:
        rows = cur.execute(_QUEUE, params).fetchall()
    ring = default_keyring()
    return [r if r.reporter_name is None
            else replace(r, reporter_name=decrypt_opt(ring, r.reporter_name, "tickets.reporter_name"))
            for r in rows]  # fmt: skip


def overdue_tickets(conn: psycopg.Connection, now: datetime, limit: int = 1000) -> list[QueueRow]:
    """Open tickets past their deadline, most overdue first (for alerts and the wall)."""
    return queue(conn, Viewer("system", "triage"), QueueFilter(overdue_only=True, limit=limit), now)


def confirmed_labels(conn: psycopg.Connection, since: datetime | None = None) -> list[tuple[str, str]]:
    """``(text, category)`` of tickets whose category a person confirmed: retraining data."""
    rows = conn.execute(
        "SELECT text, category FROM tickets WHERE category_confirmed AND category IS NOT NULL"
        " AND (%s::timestamptz IS NULL OR updated_at >= %s) ORDER BY received_at",
        (since, since),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def status_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Tickets per status from the projection."""
    return {s: n for s, n in conn.execute("SELECT status, count(*) FROM tickets GROUP BY status").fetchall()}


def history_status_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Tickets per status as the history says (the last event's ``to_status``)."""
    rows = conn.execute(
        "SELECT to_status, count(*) FROM (SELECT DISTINCT ON (ticket_id) ticket_id, to_status"
        " FROM ticket_events ORDER BY ticket_id, seq DESC) last GROUP BY to_status"
    ).fetchall()
    return {s: n for s, n in rows}


def scopes_of(conn: psycopg.Connection, username: str) -> tuple[Scope, ...]:
    with conn.cursor(row_factory=class_row(Scope)) as cur:
        return tuple(
            cur.execute(
                "SELECT scope_type, scope_code FROM user_scopes WHERE username = %s ORDER BY 1, 2",
                (username,),
            ).fetchall()
        )


def add_scope(conn: psycopg.Connection, username: str, scope_type: str, scope_code: str, actor: str) -> None:
    """Limit ``username`` to tickets owned by an agency code or a ward (admin unit name)."""
    if scope_type not in ("agency", "ward"):
        raise ValueError(f"scope_type must be 'agency' or 'ward', got {scope_type!r}")
    if not scope_code.strip():
        raise ValueError(f"empty scope code for user {username!r}")
    with conn.transaction():
        if conn.execute("SELECT 1 FROM users WHERE username = %s", (username,)).fetchone() is None:
            raise LookupError(f"no user {username!r}")
        conn.execute(
            "INSERT INTO user_scopes (username, scope_type, scope_code) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (username, scope_type, scope_code.strip()),
        )
        audit(conn, actor, "user.scope", username, {"scope_type": scope_type, "scope_code": scope_code})


def viewer_for(conn: psycopg.Connection, username: str, role: str) -> Viewer:
    return Viewer(username, role, scopes_of(conn, username))


@dataclass(frozen=True)
class Publication:
    ticket_id: str
    published_at: datetime
    category: str | None
    admin_unit: str | None
    owner_name: str | None
    received_at: datetime
    answered_at: datetime | None
    text: str
    answer: str
    photo_urls: list[str] = field(default_factory=list)


def publications(conn: psycopg.Connection, limit: int = 200) -> list[Publication]:
    """Published tickets (de-identified when published), newest first."""
    with conn.cursor(row_factory=class_row(Publication)) as cur:
        return cur.execute(
            "SELECT ticket_id, published_at, category, admin_unit, owner_name, received_at, answered_at, text,"
            " answer, photo_urls FROM ticket_publications ORDER BY published_at DESC LIMIT %s",
            (limit,),
        ).fetchall()


def publication(conn: psycopg.Connection, ticket_id: str) -> Publication | None:
    """The published, de-identified copy of one ticket (``None``: not published)."""
    with conn.cursor(row_factory=class_row(Publication)) as cur:
        return cur.execute(
            "SELECT ticket_id, published_at, category, admin_unit, owner_name, received_at, answered_at, text,"
            " answer, photo_urls FROM ticket_publications WHERE ticket_id = %s",
            (ticket_id,),
        ).fetchone()


def open_points(
    conn: psycopg.Connection, since: datetime, exclude: Sequence[str] = ()
) -> list[tuple[str, str, float, float, datetime]]:
    """(id, category, lat, lon, received_at) of categorised open tickets since ``since`` (duplicate search)."""
    rows = conn.execute(
        "SELECT ticket_id, coalesce(category, suggested_category), lat, lon, received_at FROM tickets"
        " WHERE received_at >= %s AND status = ANY(%s) AND coalesce(category, suggested_category) IS NOT NULL"
        " AND NOT (ticket_id = ANY(%s))",
        (since, [s.value for s in wf.OPEN_STATUSES], list(exclude)),
    ).fetchall()
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
