"""The directive state machine: a directive's state is what its history of changes says.

A directive (chỉ đạo) goes to one or many recipients; each recipient's part (an *assignment*)
moves on its own:

    đã gửi (sent) → đã tiếp nhận (acknowledged) → đang thực hiện (in progress)
    → báo cáo hoàn thành (reported) → đã nghiệm thu (accepted)
                                    ↘ trả lại (returned) → … → reported again

An assignment may ask for an extension with a reason (granted: a new deadline; refused: the old one
stands), and is escalated (level 1: the recipient's head; level 2: the standing office) when it is
not acknowledged in time or runs overdue. The leader may cancel the directive. The directive is
closed when every assignment is accepted (or cancelled).

:func:`apply` is pure: the store calls it for each change and writes the event and the new
projection in one transaction; :func:`replay` rebuilds the state from the history alone (tests
check the two agree).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Priority(StrEnum):
    NORMAL = "normal"  # thường: deadline in working days
    URGENT = "urgent"  # khẩn: deadline in hours
    FLASH = "flash"  # hỏa tốc: deadline in hours, acknowledgement within minutes


PRIORITY_NAMES: dict[Priority, tuple[str, str]] = {
    Priority.NORMAL: ("Thường", "Normal"),
    Priority.URGENT: ("Khẩn", "Urgent"),
    Priority.FLASH: ("Hỏa tốc", "Flash"),
}


class Status(StrEnum):
    """One assignment's status."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    REPORTED = "reported"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    CANCELLED = "cancelled"


STATUS_NAMES: dict[Status, tuple[str, str]] = {
    Status.SENT: ("Đã gửi", "Sent"),
    Status.ACKNOWLEDGED: ("Đã tiếp nhận", "Acknowledged"),
    Status.IN_PROGRESS: ("Đang thực hiện", "In progress"),
    Status.REPORTED: ("Báo cáo hoàn thành", "Reported done"),
    Status.ACCEPTED: ("Đã nghiệm thu", "Accepted"),
    Status.RETURNED: ("Trả lại", "Sent back"),
    Status.CANCELLED: ("Đã hủy", "Cancelled"),
}

OPEN_STATUSES = frozenset({Status.SENT, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED})
"""Statuses in which the recipient still owes work: these count towards overdue."""
DONE_STATUSES = frozenset({Status.ACCEPTED, Status.CANCELLED})


def status_name(status: Status | str, lang: str = "vi") -> str:
    vi, en = STATUS_NAMES[Status(status)]
    return vi if lang == "vi" else en


def priority_name(priority: Priority | str, lang: str = "vi") -> str:
    vi, en = PRIORITY_NAMES[Priority(priority)]
    return vi if lang == "vi" else en


class Kind(StrEnum):
    """What a change does (stored as ``directive_events.kind``)."""

    CREATED = "created"
    ACKNOWLEDGED = "acknowledged"
    PROGRESS = "progress"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_GRANTED = "extension_granted"
    EXTENSION_REFUSED = "extension_refused"
    REPORTED = "reported"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


KIND_NAMES: dict[Kind, tuple[str, str]] = {
    Kind.CREATED: ("Giao nhiệm vụ", "Assigned"),
    Kind.ACKNOWLEDGED: ("Xác nhận đã nhận", "Acknowledged"),
    Kind.PROGRESS: ("Báo cáo tiến độ", "Progress note"),
    Kind.EXTENSION_REQUESTED: ("Xin gia hạn", "Extension requested"),
    Kind.EXTENSION_GRANTED: ("Đồng ý gia hạn", "Extension granted"),
    Kind.EXTENSION_REFUSED: ("Không đồng ý gia hạn", "Extension refused"),
    Kind.REPORTED: ("Báo cáo hoàn thành", "Reported done"),
    Kind.ACCEPTED: ("Nghiệm thu", "Accepted"),
    Kind.RETURNED: ("Trả lại, yêu cầu làm tiếp", "Sent back"),
    Kind.ESCALATED: ("Nhắc, báo cáo cấp trên", "Escalated"),
    Kind.CANCELLED: ("Hủy chỉ đạo", "Cancelled"),
}


def kind_name(kind: Kind | str, lang: str = "vi") -> str:
    vi, en = KIND_NAMES[Kind(kind)]
    return vi if lang == "vi" else en


class EscalationReason(StrEnum):
    NOT_ACKNOWLEDGED = "not_acknowledged"
    OVERDUE = "overdue"


class TransitionError(ValueError):
    """A change that the assignment's current status does not allow (the message names both)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change. Directive-wide changes (created, cancelled) have ``recipient=None``."""

    kind: Kind
    at: datetime
    actor: str
    recipient: str | None = None
    recipients: tuple[str, ...] = ()  # CREATED only
    deadline: datetime | None = None  # CREATED: everyone's; EXTENSION_*/RETURNED: the new one
    ack_due: datetime | None = None  # CREATED only
    note: str | None = None  # progress note, result, reason
    files: tuple[str, ...] = ()  # attachment ids (directive_files.file_id)
    level: int | None = None  # ESCALATED: 1 head, 2 standing office
    reason: EscalationReason | None = None  # ESCALATED

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"change time must be timezone-aware, got {self.at.isoformat()}")
        if not self.actor or not self.actor.strip():
            raise ValueError(f"change {self.kind.value!r} needs an actor, got {self.actor!r}")

    def details(self) -> dict[str, object]:
        """The fields this change sets, for ``directive_events.details`` (JSON)."""
        out: dict[str, object] = {}
        if self.recipients:
            out["recipients"] = list(self.recipients)
        if self.deadline is not None:
            out["deadline"] = self.deadline.isoformat()
        if self.ack_due is not None:
            out["ack_due"] = self.ack_due.isoformat()
        if self.note is not None:
            out["note"] = self.note
        if self.files:
            out["files"] = list(self.files)
        if self.level is not None:
            out["level"] = self.level
        if self.reason is not None:
            out["reason"] = self.reason.value
        return out

    @classmethod
    def from_details(
        cls, kind: str, at: datetime, actor: str, recipient: str | None, details: dict[str, object]
    ) -> Change:
        """Rebuild a change from a stored event (inverse of :meth:`details`)."""
        d = details

        def when(name: str) -> datetime | None:
            v = d.get(name)
            return datetime.fromisoformat(str(v)) if v else None

        level = d.get("level")
        reason = d.get("reason")
        return cls(
            kind=Kind(kind),
            at=at,
            actor=actor,
            recipient=recipient,
            recipients=tuple(str(r) for r in d.get("recipients", ()) or ()),  # type: ignore[union-attr]
            deadline=when("deadline"),
            ack_due=when("ack_due"),
            note=str(d["note"]) if d.get("note") is not None else None,
            files=tuple(str(f) for f in d.get("files", ()) or ()),  # type: ignore[union-attr]
            level=int(level) if level is not None else None,  # type: ignore[call-overload]
            reason=EscalationReason(str(reason)) if reason else None,
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    """One recipient's part of a directive (the ``directive_assignments`` projection)."""

    recipient: str
    status: Status
    deadline: datetime
    ack_due: datetime
    original_deadline: datetime
    acknowledged_at: datetime | None = None
    reported_at: datetime | None = None
    result: str | None = None
    accepted_at: datetime | None = None
    on_time: bool | None = None  # set when accepted: was the accepted report in by the deadline?
    extension_pending: bool = False
    requested_deadline: datetime | None = None
    escalation_level: int = 0
    notes: int = 0
    updated_at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and now > self.deadline


@dataclass(frozen=True, slots=True)
class DirectiveState:
    created_at: datetime
    created_by: str
    assignments: tuple[Assignment, ...]
    cancelled_at: datetime | None = None
    version: int = 0

    @property
    def closed(self) -> bool:
        return all(a.status in DONE_STATUSES for a in self.assignments)

    def assignment(self, recipient: str) -> Assignment:
        for a in self.assignments:
            if a.recipient == recipient:
                return a
        raise TransitionError(f"{recipient!r} is not a recipient of this directive")


# Which assignment statuses each recipient-level kind may start from.
_ALLOWED: dict[Kind, frozenset[Status]] = {
    Kind.ACKNOWLEDGED: frozenset({Status.SENT}),
    Kind.PROGRESS: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED}),
    Kind.EXTENSION_REQUESTED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED}),
    Kind.EXTENSION_GRANTED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED}),
    Kind.EXTENSION_REFUSED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED}),
    Kind.REPORTED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RETURNED}),
    Kind.ACCEPTED: frozenset({Status.REPORTED}),
    Kind.RETURNED: frozenset({Status.REPORTED}),
    Kind.ESCALATED: OPEN_STATUSES,
}


def _need(value: object, what: str, change: Change) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"change {change.kind.value!r} needs {what}")


def start(change: Change) -> DirectiveState:
    """The state of a new directive from its ``created`` change."""
    if change.kind is not Kind.CREATED:
        raise TransitionError(f"a directive's history must start with 'created', got {change.kind.value!r}")
    if not change.recipients:
        raise ValueError("a directive needs at least one recipient")
    if len(set(change.recipients)) != len(change.recipients):
        raise ValueError(f"recipients listed twice: {sorted(change.recipients)}")
    if change.deadline is None or change.ack_due is None:
        raise ValueError("a directive needs a deadline and an acknowledgement time")
    if change.deadline <= change.at:
        raise ValueError(f"the deadline {change.deadline.isoformat()} is not after {change.at.isoformat()}")
    return DirectiveState(
        created_at=change.at,
        created_by=change.actor,
        version=1,
        assignments=tuple(
            Assignment(r, Status.SENT, change.deadline, change.ack_due, change.deadline, updated_at=change.at)
            for r in change.recipients
        ),
    )


def apply(state: DirectiveState, change: Change) -> DirectiveState:
    """The state after ``change``; :class:`TransitionError` if the current status forbids it."""
    k = change.kind
    if k is Kind.CREATED:
        raise TransitionError("a directive is created only once")
    if k is Kind.CANCELLED:
        if state.closed:
            raise TransitionError("a closed directive cannot be cancelled")
        _need(change.note, "a reason", change)
        return replace(
            state,
            version=state.version + 1,
            cancelled_at=change.at,
            assignments=tuple(
                a if a.status in DONE_STATUSES else replace(a, status=Status.CANCELLED, updated_at=change.at)
                for a in state.assignments
            ),
        )
    _need(change.recipient, "a recipient", change)
    a = state.assignment(str(change.recipient))
    allowed = _ALLOWED[k]
    if a.status not in allowed:
        raise TransitionError(
            f"cannot apply {k.value!r} to {a.recipient!r} in status {a.status.value!r};"
            f" allowed from: {', '.join(sorted(s.value for s in allowed))}"
        )
    a = replace(a, updated_at=change.at)
    if k is Kind.ACKNOWLEDGED:
        a = replace(a, status=Status.ACKNOWLEDGED, acknowledged_at=change.at)
    elif k is Kind.PROGRESS:
        _need(change.note, "the progress note", change)
        a = replace(a, status=Status.IN_PROGRESS, notes=a.notes + 1)
    elif k is Kind.EXTENSION_REQUESTED:
        _need(change.note, "a reason", change)
        _need(change.deadline, "the deadline asked for", change)
        assert change.deadline is not None
        if change.deadline <= a.deadline:
            raise ValueError("an extension must ask for a deadline later than the current one")
        a = replace(a, extension_pending=True, requested_deadline=change.deadline)
    elif k is Kind.EXTENSION_GRANTED:
        if not a.extension_pending:
            raise TransitionError(f"{a.recipient!r} has not asked for an extension")
        new = change.deadline or a.requested_deadline
        assert new is not None
        a = replace(a, extension_pending=False, requested_deadline=None, deadline=new)
    elif k is Kind.EXTENSION_REFUSED:
        if not a.extension_pending:
            raise TransitionError(f"{a.recipient!r} has not asked for an extension")
        _need(change.note, "a reason", change)
        a = replace(a, extension_pending=False, requested_deadline=None)
    elif k is Kind.REPORTED:
        _need(change.note, "the result", change)
        a = replace(a, status=Status.REPORTED, reported_at=change.at, result=change.note, extension_pending=False)
    elif k is Kind.ACCEPTED:
        assert a.reported_at is not None
        a = replace(a, status=Status.ACCEPTED, accepted_at=change.at, on_time=a.reported_at <= a.deadline)
    elif k is Kind.RETURNED:
        _need(change.note, "a reason", change)
        a = replace(a, status=Status.RETURNED, reported_at=None, deadline=change.deadline or a.deadline)
    elif k is Kind.ESCALATED:
        if change.level not in (1, 2) or change.reason is None:
            raise ValueError("an escalation needs level 1 or 2 and a reason")
        if change.level <= a.escalation_level:
            raise TransitionError(f"{a.recipient!r} is already escalated to level {a.escalation_level}")
        a = replace(a, escalation_level=change.level)
    assignments = tuple(a if x.recipient == a.recipient else x for x in state.assignments)
    return replace(state, version=state.version + 1, assignments=assignments)


def replay(changes: Iterable[Change]) -> DirectiveState:
    """The state a history leads to (raises on an impossible history)."""
    it = iter(changes)
    try:
        state = start(next(it))
    except StopIteration:
        raise ValueError("an empty history has no state") from None
    for change in it:
        state = apply(state, change)
    return state
