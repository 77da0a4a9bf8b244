"""Directive repository (psycopg 3): typed rows in and out, constant parameterised SQL.

Every change goes through :func:`act` (or :func:`create_directive`), which in one transaction locks
the directive, runs the pure state machine (:mod:`ioc.directives.workflow`), appends the event,
rewrites the projection, queues the deliveries (e-mail, webhooks) and writes the audit log.

Read functions take ``scope``: ``None`` sees everything (leaders, the standing office); a set of
recipient codes limits the rows to the assignments of those recipients (a ward sees only the
directives addressed to it, and of those only its own part).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, LiteralString

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ioc.audit import audit
from ioc.directives import workflow as wf
from ioc.directives.deadlines import DeadlineSpec, ack_due_for, deadline_for, escalation_due
from ioc.directives.recipients import RecipientKind, registry
from ioc.directives.workflow import Assignment, Change, DirectiveState, Kind, Priority, Status
from ioc.tickets.calendar import WorkingCalendar

Scope = frozenset[str] | None
LEADER_ROLES = frozenset({"leader", "standing_office", "admin"})
"""Roles that create, accept, send back, extend and cancel directives (and see every one)."""
RECIPIENT_KINDS = frozenset(
    {Kind.ACKNOWLEDGED, Kind.PROGRESS, Kind.EXTENSION_REQUESTED, Kind.REPORTED}
)
LEADER_KINDS = frozenset(
    {Kind.EXTENSION_GRANTED, Kind.EXTENSION_REFUSED, Kind.ACCEPTED, Kind.RETURNED, Kind.CANCELLED}
)
ABOUT_KINDS = ("alert", "ticket", "kpi", "unit")
SYSTEM_ACTOR = "system:directives"


class DirectiveNotFound(LookupError):
    """No directive with that id in the viewer's scope (the message names it)."""


class NotAllowed(PermissionError):
    """The actor may not make this change (the message says why)."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: ``scope`` is the recipient codes they act for (``None``: no recipient membership)."""

    username: str
    role: str
    scope: frozenset[str] = frozenset()

    @property
    def is_leader(self) -> bool:
        return self.role in LEADER_ROLES

    def read_scope(self) -> Scope:
        """What this actor may read: everything for leaders and operators without membership."""
        if self.is_leader:
            return None
        return self.scope


@dataclass(frozen=True, slots=True)
class NewDirective:
    title: str
    body: str
    priority: Priority
    amount: int  # working days (normal) or hours (urgent, flash)
    recipients: tuple[str, ...]
    about_kind: str | None = None
    about_id: str | None = None

    def __post_init__(self) -> None:
        if not self.title.strip() or len(self.title) > 300:
            raise ValueError("a directive needs a title of 1..300 characters")
        if not self.body.strip():
            raise ValueError("a directive needs its text")
        if (self.about_kind is None) != (self.about_id is None):
            raise ValueError("about_kind and about_id go together")
        if self.about_kind is not None and self.about_kind not in ABOUT_KINDS:
            raise ValueError(f"about_kind must be one of {ABOUT_KINDS}, got {self.about_kind!r}")
        DeadlineSpec(self.priority, self.amount)  # raises with the reason


@dataclass(frozen=True)
class DirectiveRow:
    directive_id: int
    title: str
    body: str
    priority: str
    deadline_unit: str
    deadline_amount: int
    about_kind: str | None
    about_id: str | None
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None
    closed: bool
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class AssignmentRow:
    directive_id: int
    recipient_code: str
    status: str
    deadline: datetime
    original_deadline: datetime
    ack_due: datetime
    acknowledged_at: datetime | None
    reported_at: datetime | None
    result: str | None
    accepted_at: datetime | None
    on_time: bool | None
    extension_pending: bool
    requested_deadline: datetime | None
    escalation_level: int
    notes: int
    updated_at: datetime

    def assignment(self) -> Assignment:
        return Assignment(
            recipient=self.recipient_code, status=Status(self.status), deadline=self.deadline,
            ack_due=self.ack_due, original_deadline=self.original_deadline,
            acknowledged_at=self.acknowledged_at, reported_at=self.reported_at, result=self.result,
            accepted_at=self.accepted_at, on_time=self.on_time, extension_pending=self.extension_pending,
            requested_deadline=self.requested_deadline, escalation_level=self.escalation_level,
            notes=self.notes, updated_at=self.updated_at,
        )  # fmt: skip


@dataclass(frozen=True)
class EventRow:
    id: int
    directive_id: int
    seq: int
    at: datetime
    actor: str
    kind: str
    recipient_code: str | None
    details: dict[str, Any]

    def change(self) -> Change:
        return Change.from_details(self.kind, self.at, self.actor, self.recipient_code, self.details)


@dataclass(frozen=True)
class BoardRow:
    """One assignment as the leader's board and the inbox list it."""

    directive_id: int
    title: str
    priority: str
    created_at: datetime
    created_by: str
    about_kind: str | None
    about_id: str | None
    recipient_code: str
    status: str
    deadline: datetime
    ack_due: datetime
    escalation_level: int
    extension_pending: bool
    overdue: bool
    total: int = 0


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    directive_id: int
    recipient_code: str
    event_seq: int
    channel: str
    address: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class FileRow:
    file_id: uuid.UUID
    directive_id: int
    recipient_code: str
    filename: str
    content_type: str
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class FileData:
    meta: FileRow
    data: bytes


_DIRECTIVE_COLUMNS: LiteralString = (
    "directive_id, title, body, priority, deadline_unit, deadline_amount, about_kind, about_id, created_by,"
    " created_at, cancelled_at, closed, version, updated_at"
)
_ASSIGNMENT_COLUMNS: LiteralString = (
    "directive_id, recipient_code, status, deadline, original_deadline, ack_due, acknowledged_at, reported_at,"
    " result, accepted_at, on_time, extension_pending, requested_deadline, escalation_level, notes, updated_at"
)
_INSERT_DIRECTIVE: LiteralString = (
    "INSERT INTO directives (title, body, priority, deadline_unit, deadline_amount, about_kind, about_id,"
    " created_by, created_at, version, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s)"
    " RETURNING directive_id"
)
_INSERT_ASSIGNMENT: LiteralString = (
    "INSERT INTO directive_assignments (directive_id, recipient_code, status, deadline, original_deadline,"
    " ack_due, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_UPDATE_ASSIGNMENT: LiteralString = (
    "UPDATE directive_assignments SET status = %(status)s, deadline = %(deadline)s,"
    " acknowledged_at = %(acknowledged_at)s, reported_at = %(reported_at)s, result = %(result)s,"
    " accepted_at = %(accepted_at)s, on_time = %(on_time)s, extension_pending = %(extension_pending)s,"
    " requested_deadline = %(requested_deadline)s, escalation_level = %(escalation_level)s,"
    " notes = %(notes)s, updated_at = %(updated_at)s"
    " WHERE directive_id = %(directive_id)s AND recipient_code = %(recipient)s"
)
_INSERT_EVENT: LiteralString = (
    "INSERT INTO directive_events (directive_id, seq, at, actor, kind, recipient_code, details)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_BOARD: LiteralString = (
    "SELECT d.directive_id, d.title, d.priority, d.created_at, d.created_by, d.about_kind, d.about_id,"
    " a.recipient_code, a.status, a.deadline, a.ack_due, a.escalation_level, a.extension_pending,"
    " (a.status = ANY(%(open)s) AND a.deadline < %(now)s) AS overdue, count(*) OVER () AS total"
    " FROM directive_assignments a JOIN directives d USING (directive_id)"
    " WHERE (%(scope)s::text[] IS NULL OR a.recipient_code = ANY(%(scope)s))"
    " AND (%(statuses)s::text[] IS NULL OR a.status = ANY(%(statuses)s))"
    " AND (%(recipients)s::text[] IS NULL OR a.recipient_code = ANY(%(recipients)s))"
    " AND (%(directive)s::bigint IS NULL OR a.directive_id = %(directive)s)"
    " ORDER BY (a.status = ANY(%(open)s) AND a.deadline < %(now)s) DESC,"
    " (a.status = ANY(%(open)s)) DESC, a.deadline ASC, a.directive_id DESC, a.recipient_code"
    " LIMIT %(limit)s"
)
_OPEN = [s.value for s in wf.OPEN_STATUSES]


def _scope_list(scope: Scope) -> list[str] | None:
    return None if scope is None else sorted(scope)


# --- writing ----------------------------------------------------------------------------------------


def _check_about(conn: psycopg.Connection, kind: str | None, ref: str | None) -> None:
    """The object a directive is about must exist (the message names it)."""
    if kind is None or ref is None:
        return
    if kind == "kpi":
        from ioc.kpi.catalogue import load_catalogue

        if ref not in load_catalogue().ids:
            raise ValueError(f"no KPI {ref!r} in ioc/kpi/catalogue.yaml")
    elif kind == "unit":
        registry().for_unit(ref)  # KeyError naming it
    elif kind == "alert":
        try:
            uuid.UUID(ref)
        except ValueError:
            raise ValueError(f"not an alert id: {ref!r}") from None
        if conn.execute("SELECT 1 FROM alerts WHERE alert_id = %s", (ref,)).fetchone() is None:
            raise ValueError(f"no alert {ref!r}")
    elif kind == "ticket":
        if conn.execute("SELECT 1 FROM tickets WHERE ticket_id = %s", (ref,)).fetchone() is None:
            raise ValueError(f"no ticket {ref!r}")


def create_directive(
    conn: psycopg.Connection,
    new: NewDirective,
    actor: Actor,
    at: datetime,
    *,
    calendar: WorkingCalendar | None = None,
) -> int:
    """Create a directive and its assignments (one per recipient); returns its id."""
    if not actor.is_leader:
        raise NotAllowed(f"role {actor.role!r} may not create directives")
    reg = registry()
    for code in new.recipients:
        reg.get(code)  # KeyError naming an unknown recipient
    spec = DeadlineSpec(new.priority, new.amount)
    change = Change(
        Kind.CREATED, at, actor.username, recipients=new.recipients,
        deadline=deadline_for(spec, at, calendar), ack_due=ack_due_for(new.priority, at, calendar),
        note=new.title,
    )  # fmt: skip
    state = wf.start(change)
    with conn.transaction():
        _check_about(conn, new.about_kind, new.about_id)
        row = conn.execute(
            _INSERT_DIRECTIVE,
            (new.title.strip(), new.body.strip(), new.priority.value, spec.unit, new.amount, new.about_kind,
             new.about_id, actor.username, at, at),
        ).fetchone()  # fmt: skip
        assert row is not None
        directive_id = int(row[0])
        for a in state.assignments:
            conn.execute(
                _INSERT_ASSIGNMENT,
                (directive_id, a.recipient, a.status.value, a.deadline, a.original_deadline, a.ack_due, at),
            )
        conn.execute(_INSERT_EVENT, (directive_id, 1, at, actor.username, change.kind.value, None,
                                     Jsonb(change.details())))  # fmt: skip
        _queue(conn, directive_id, 1, change, new.title, new.recipients)
        audit(conn, actor.username, "directive.created", f"directive:{directive_id}",
              {"recipients": list(new.recipients), "priority": new.priority.value, "amount": new.amount,
               "about": f"{new.about_kind}:{new.about_id}" if new.about_kind else None})  # fmt: skip
    return directive_id


def _authorise(actor: Actor, change: Change) -> None:
    if change.actor != actor.username:
        raise NotAllowed("a change must be made in the actor's own name")
    if change.kind in LEADER_KINDS and not actor.is_leader:
        raise NotAllowed(f"role {actor.role!r} may not {change.kind.value} a directive")
    if change.kind in RECIPIENT_KINDS and change.recipient not in actor.scope and actor.role != "admin":
        raise NotAllowed(f"{actor.username!r} does not act for {change.recipient!r}")
    if change.kind is Kind.ESCALATED and actor.username != SYSTEM_ACTOR:
        raise NotAllowed("escalations are made by the worker")


def _state(conn: psycopg.Connection, directive_id: int, lock: bool) -> tuple[DirectiveRow, DirectiveState]:
    q: LiteralString = (
        "SELECT " + _DIRECTIVE_COLUMNS + " FROM directives WHERE directive_id = %s FOR UPDATE"
        if lock
        else "SELECT " + _DIRECTIVE_COLUMNS + " FROM directives WHERE directive_id = %s"
    )
    with conn.cursor(row_factory=class_row(DirectiveRow)) as cur:
        d = cur.execute(q, (directive_id,)).fetchone()
    if d is None:
        raise DirectiveNotFound(f"no directive {directive_id}")
    with conn.cursor(row_factory=class_row(AssignmentRow)) as cur:
        rows = cur.execute(
            "SELECT " + _ASSIGNMENT_COLUMNS + " FROM directive_assignments WHERE directive_id = %s"
            " ORDER BY recipient_code",
            (directive_id,),
        ).fetchall()
    state = DirectiveState(
        created_at=d.created_at, created_by=d.created_by, cancelled_at=d.cancelled_at, version=d.version,
        assignments=tuple(r.assignment() for r in rows),
    )  # fmt: skip
    return d, state


def act(conn: psycopg.Connection, directive_id: int, change: Change, actor: Actor) -> DirectiveState:
    """Apply one change (authorised for ``actor``) and persist it; returns the new state."""
    _authorise(actor, change)
    with conn.transaction():
        d, before = _state(conn, directive_id, lock=True)
        after = wf.apply(before, change)
        seq = after.version
        conn.execute(_INSERT_EVENT, (directive_id, seq, change.at, change.actor, change.kind.value,
                                     change.recipient, Jsonb(change.details())))  # fmt: skip
        old = {a.recipient: a for a in before.assignments}
        for a in after.assignments:
            if a != old[a.recipient]:
                conn.execute(_UPDATE_ASSIGNMENT, {**_assignment_params(a), "directive_id": directive_id})
        conn.execute(
            "UPDATE directives SET version = %s, updated_at = %s, cancelled_at = %s, closed = %s"
            " WHERE directive_id = %s",
            (after.version, change.at, after.cancelled_at, after.closed, directive_id),
        )
        targets = _notify(change, after)
        if targets:
            _queue(conn, directive_id, seq, change, d.title, targets)
        audit(conn, change.actor, f"directive.{change.kind.value}", f"directive:{directive_id}",
              {"recipient": change.recipient, "seq": seq, **change.details()})  # fmt: skip
    return after


def _assignment_params(a: Assignment) -> dict[str, Any]:
    return {
        "recipient": a.recipient, "status": a.status.value, "deadline": a.deadline,
        "acknowledged_at": a.acknowledged_at, "reported_at": a.reported_at, "result": a.result,
        "accepted_at": a.accepted_at, "on_time": a.on_time, "extension_pending": a.extension_pending,
        "requested_deadline": a.requested_deadline, "escalation_level": a.escalation_level, "notes": a.notes,
        "updated_at": a.updated_at,
    }  # fmt: skip


# --- deliveries (the outbox) -------------------------------------------------------------------------

_NOTIFY_RECIPIENT = frozenset({Kind.RETURNED, Kind.EXTENSION_GRANTED, Kind.EXTENSION_REFUSED, Kind.CANCELLED})


def _notify(change: Change, after: DirectiveState) -> tuple[str, ...]:
    """Who hears of this change beyond the app (as ``audience:recipient`` targets)."""
    if change.kind is Kind.ESCALATED:
        if change.level == 1:
            return (f"head:{change.recipient}",)
        return (f"staff:{registry().standing_office.code}",)
    if change.kind is Kind.CANCELLED:
        return tuple(a.recipient for a in after.assignments)
    if change.kind in _NOTIFY_RECIPIENT and change.recipient:
        return (change.recipient,)
    return ()


def _queue(
    conn: psycopg.Connection, directive_id: int, seq: int, change: Change, title: str, targets: Sequence[str]
) -> None:
    """One outbox row per enabled channel of each target (``code``, ``staff:code`` or ``head:code``)."""
    from ioc.directives.delivery import message_for

    for target in targets:
        audience, _, code = target.rpartition(":")
        audience = audience or "staff"
        about = change.recipient or code
        rows = conn.execute(
            "SELECT channel, address, secret_env FROM directive_channels"
            " WHERE recipient_code = %s AND audience = %s AND enabled ORDER BY id",
            (code, audience),
        ).fetchall()
        for channel, address, secret_env in rows:
            subject, payload = message_for(directive_id, seq, change, title, about, code)
            conn.execute(
                "INSERT INTO directive_deliveries (directive_id, recipient_code, event_seq, channel, address,"
                " secret_env, subject, payload, next_attempt_at, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (directive_id, code, seq, channel, address, secret_env, subject, Jsonb(payload), change.at,
                 change.at),
            )  # fmt: skip


def add_channel(
    conn: psycopg.Connection,
    recipient_code: str,
    channel: str,
    address: str,
    *,
    audience: str = "staff",
    secret_env: str | None = None,
) -> None:
    """Reach ``recipient_code`` by e-mail or webhook (its staff or its head)."""
    registry().get(recipient_code)
    if channel == "webhook" and not address.startswith(("http://", "https://")):
        raise ValueError(f"a webhook address must be an http(s) URL, got {address!r}")
    if channel == "email" and "@" not in address:
        raise ValueError(f"not an e-mail address: {address!r}")
    conn.execute(
        "INSERT INTO directive_channels (recipient_code, channel, address, audience, secret_env)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (recipient_code, channel, address)"
        " DO UPDATE SET audience = EXCLUDED.audience, secret_env = EXCLUDED.secret_env, enabled = true",
        (recipient_code, channel, address, audience, secret_env),
    )


def deliveries(conn: psycopg.Connection, directive_id: int, scope: Scope = None) -> list[DeliveryRow]:
    """Every message queued for a directive, with its status (scoped to the viewer's recipients)."""
    with conn.cursor(row_factory=class_row(DeliveryRow)) as cur:
        return cur.execute(
            "SELECT id, directive_id, recipient_code, event_seq, channel, address, status, attempts,"
            " next_attempt_at, last_error, created_at, sent_at FROM directive_deliveries"
            " WHERE directive_id = %(d)s AND (%(scope)s::text[] IS NULL OR recipient_code = ANY(%(scope)s))"
            " ORDER BY id",
            {"d": directive_id, "scope": _scope_list(scope)},
        ).fetchall()


# --- escalation ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Escalation:
    directive_id: int
    recipient: str
    level: int
    reason: wf.EscalationReason


def escalate_due(
    conn: psycopg.Connection, now: datetime, *, calendar: WorkingCalendar | None = None, limit: int = 500
) -> list[Escalation]:
    """Escalate every open assignment whose acknowledgement time or deadline has passed."""
    rows = conn.execute(
        "SELECT a.directive_id, a.recipient_code, d.priority FROM directive_assignments a"
        " JOIN directives d USING (directive_id)"
        " WHERE a.status = ANY(%s) AND a.escalation_level < 2"
        " AND ((a.status = 'sent' AND a.ack_due < %s) OR a.deadline < %s)"
        " ORDER BY a.deadline LIMIT %s",
        (_OPEN, now, now, limit),
    ).fetchall()
    system = Actor(SYSTEM_ACTOR, "system")
    done: list[Escalation] = []
    for directive_id, recipient, priority in rows:
        with conn.transaction():
            _, state = _state(conn, int(directive_id), lock=True)
            due = escalation_due(state.assignment(recipient), Priority(priority), now, calendar)
            if due is None:
                continue
            level, reason = due
            change = Change(Kind.ESCALATED, now, SYSTEM_ACTOR, recipient=recipient, level=level, reason=reason)
            act(conn, int(directive_id), change, system)  # a savepoint inside the locking transaction
        done.append(Escalation(int(directive_id), recipient, level, reason))
    return done


# --- files ---------------------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
)
ALLOWED_TYPES = frozenset(t for _, _, t in _MAGIC)


def sniff_type(data: bytes) -> str | None:
    """The content type the bytes really are (photos and PDF only), never what the client says."""
    for magic, offset, ctype in _MAGIC:
        if data[offset : offset + len(magic)] == magic and (ctype != "image/webp" or data[:4] == b"RIFF"):
            return ctype
    return None


def add_file(
    conn: psycopg.Connection,
    directive_id: int,
    recipient: str,
    filename: str,
    data: bytes,
    actor: Actor,
    at: datetime,
    *,
    max_bytes: int,
) -> uuid.UUID:
    """Store an attachment for ``recipient``'s part; refuses other types, oversize and foreign parts."""
    if recipient not in actor.scope and not actor.is_leader:
        raise NotAllowed(f"{actor.username!r} does not act for {recipient!r}")
    if not data:
        raise ValueError("empty file")
    if len(data) > max_bytes:
        raise ValueError(f"file too large: {len(data):,} bytes, the limit is {max_bytes:,}")
    ctype = sniff_type(data)
    if ctype is None:
        raise ValueError("only photos (JPEG, PNG, WebP) and PDF files are accepted")
    safe = "".join(c for c in filename.replace("\\", "/").rsplit("/", 1)[-1] if c.isprintable())[:120] or "file"
    file_id = uuid.uuid4()
    with conn.transaction():
        _, state = _state(conn, directive_id, lock=False)
        state.assignment(recipient)
        conn.execute(
            "INSERT INTO directive_files (file_id, directive_id, recipient_code, filename, content_type,"
            " size_bytes, sha256, data, uploaded_by, uploaded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (file_id, directive_id, recipient, safe, ctype, len(data), hashlib.sha256(data).hexdigest(), data,
             actor.username, at),
        )  # fmt: skip
        audit(conn, actor.username, "directive.file_added", f"directive:{directive_id}",
              {"file": str(file_id), "recipient": recipient, "type": ctype, "bytes": len(data)})  # fmt: skip
    return file_id


def files(conn: psycopg.Connection, directive_id: int, scope: Scope = None) -> list[FileRow]:
    with conn.cursor(row_factory=class_row(FileRow)) as cur:
        return cur.execute(
            "SELECT file_id, directive_id, recipient_code, filename, content_type, size_bytes, uploaded_by,"
            " uploaded_at FROM directive_files WHERE directive_id = %(d)s"
            " AND (%(scope)s::text[] IS NULL OR recipient_code = ANY(%(scope)s)) ORDER BY uploaded_at",
            {"d": directive_id, "scope": _scope_list(scope)},
        ).fetchall()


def get_file(conn: psycopg.Connection, file_id: uuid.UUID, scope: Scope = None) -> FileData | None:
    """The file when it belongs to a recipient in ``scope`` (``None`` otherwise: no hint it exists)."""
    row = conn.execute(
        "SELECT file_id, directive_id, recipient_code, filename, content_type, size_bytes, uploaded_by,"
        " uploaded_at, data FROM directive_files WHERE file_id = %(f)s"
        " AND (%(scope)s::text[] IS NULL OR recipient_code = ANY(%(scope)s))",
        {"f": file_id, "scope": _scope_list(scope)},
    ).fetchone()
    if row is None:
        return None
    return FileData(FileRow(*row[:8]), bytes(row[8]))


# --- reading -------------------------------------------------------------------------------------------


def get_directive(conn: psycopg.Connection, directive_id: int, scope: Scope = None) -> DirectiveRow:
    """The directive, if the viewer may see it (a scoped viewer: only if one of its recipients)."""
    with conn.cursor(row_factory=class_row(DirectiveRow)) as cur:
        d = cur.execute(
            "SELECT " + _DIRECTIVE_COLUMNS + " FROM directives d WHERE directive_id = %(d)s"
            " AND (%(scope)s::text[] IS NULL OR EXISTS (SELECT 1 FROM directive_assignments a"
            " WHERE a.directive_id = d.directive_id AND a.recipient_code = ANY(%(scope)s)))",
            {"d": directive_id, "scope": _scope_list(scope)},
        ).fetchone()
    if d is None:
        raise DirectiveNotFound(f"no directive {directive_id}")
    return d


def assignments(conn: psycopg.Connection, directive_id: int, scope: Scope = None) -> list[AssignmentRow]:
    with conn.cursor(row_factory=class_row(AssignmentRow)) as cur:
        return cur.execute(
            "SELECT " + _ASSIGNMENT_COLUMNS + " FROM directive_assignments WHERE directive_id = %(d)s"
            " AND (%(scope)s::text[] IS NULL OR recipient_code = ANY(%(scope)s)) ORDER BY recipient_code",
            {"d": directive_id, "scope": _scope_list(scope)},
        ).fetchall()


def history(conn: psycopg.Connection, directive_id: int, scope: Scope = None) -> list[EventRow]:
    """The events a viewer may see: directive-wide ones and those of recipients in ``scope``."""
    with conn.cursor(row_factory=class_row(EventRow)) as cur:
        return cur.execute(
            "SELECT id, directive_id, seq, at, actor, kind, recipient_code, details FROM directive_events"
            " WHERE directive_id = %(d)s AND (%(scope)s::text[] IS NULL OR recipient_code IS NULL"
            " OR recipient_code = ANY(%(scope)s)) ORDER BY seq",
            {"d": directive_id, "scope": _scope_list(scope)},
        ).fetchall()


def replayed(conn: psycopg.Connection, directive_id: int) -> DirectiveState:
    """The state rebuilt from the full history alone (equals the projection)."""
    return wf.replay(e.change() for e in history(conn, directive_id))


def projected(conn: psycopg.Connection, directive_id: int) -> DirectiveState:
    return _state(conn, directive_id, lock=False)[1]


def board(
    conn: psycopg.Connection,
    now: datetime,
    *,
    scope: Scope = None,
    statuses: Sequence[str] | None = None,
    recipients: Sequence[str] | None = None,
    directive_id: int | None = None,
    limit: int = 300,
) -> list[BoardRow]:
    """Assignments overdue first, then open ones by deadline, then the rest (scoped)."""
    for s in statuses or ():
        Status(s)
    with conn.cursor(row_factory=class_row(BoardRow)) as cur:
        return cur.execute(
            _BOARD,
            {"open": _OPEN, "now": now, "scope": _scope_list(scope),
             "statuses": list(statuses) if statuses else None,
             "recipients": list(recipients) if recipients else None, "directive": directive_id,
             "limit": limit},
        ).fetchall()  # fmt: skip


def directives_about(conn: psycopg.Connection, kind: str, ref: str, scope: Scope = None) -> list[DirectiveRow]:
    """The directives about one alert, ticket, KPI or unit (the link back from that object)."""
    if kind not in ABOUT_KINDS:
        raise ValueError(f"kind must be one of {ABOUT_KINDS}, got {kind!r}")
    with conn.cursor(row_factory=class_row(DirectiveRow)) as cur:
        return cur.execute(
            "SELECT " + _DIRECTIVE_COLUMNS + " FROM directives d WHERE about_kind = %(k)s AND about_id = %(r)s"
            " AND (%(scope)s::text[] IS NULL OR EXISTS (SELECT 1 FROM directive_assignments a"
            " WHERE a.directive_id = d.directive_id AND a.recipient_code = ANY(%(scope)s)))"
            " ORDER BY created_at DESC",
            {"k": kind, "r": ref, "scope": _scope_list(scope)},
        ).fetchall()


@dataclass(frozen=True, slots=True)
class BoardCounts:
    """Assignments per status and the overdue ones (for the board header, the wall and the snapshot)."""

    by_status: tuple[tuple[str, int], ...]
    overdue: int
    escalated: int
    extension_pending: int

    @property
    def open(self) -> int:
        return sum(n for s, n in self.by_status if Status(s) in wf.OPEN_STATUSES)


def board_counts(conn: psycopg.Connection, now: datetime, scope: Scope = None) -> BoardCounts:
    """One statement, whatever the number of directives."""
    rows = conn.execute(
        "SELECT status, count(*), count(*) FILTER (WHERE status = ANY(%(open)s) AND deadline < %(now)s),"
        " count(*) FILTER (WHERE status = ANY(%(open)s) AND escalation_level > 0),"
        " count(*) FILTER (WHERE extension_pending) FROM directive_assignments"
        " WHERE (%(scope)s::text[] IS NULL OR recipient_code = ANY(%(scope)s)) GROUP BY status",
        {"open": _OPEN, "now": now, "scope": _scope_list(scope)},
    ).fetchall()
    by = {str(r[0]): int(r[1]) for r in rows}
    return BoardCounts(
        by_status=tuple((s.value, by.get(s.value, 0)) for s in Status),
        overdue=sum(int(r[2]) for r in rows),
        escalated=sum(int(r[3]) for r in rows),
        extension_pending=sum(int(r[4]) for r in rows),
    )


def with_scope(actor: Actor, conn: psycopg.Connection) -> Actor:
    """``actor`` with its recipient memberships read from ``directive_members``."""
    from ioc.directives.recipients import scope_of

    return replace(actor, scope=scope_of(conn, actor.username))


def recipient_kind(code: str) -> RecipientKind:
    return registry().get(code).kind
