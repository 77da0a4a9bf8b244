"""The ticket state machine: a ticket's state is what its history of changes says.

tiếp nhận (received) → phân loại (classified) → đã chuyển (assigned) → đang xử lý (in progress)
→ đã trả lời (answered) → đóng (closed); the citizen's verdict on an answer closes the ticket
(đồng tình) or reopens it (không đồng tình), and a closed ticket can be reopened. A duplicate is
merged into a primary ticket and follows it from then on.

:func:`apply` is pure: the store calls it for each change and writes both the event and the new
state in one transaction; :func:`replay` rebuilds the state from the history alone (tests check
the two agree).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Status(StrEnum):
    RECEIVED = "received"
    CLASSIFIED = "classified"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"
    REOPENED = "reopened"
    MERGED = "merged"


STATUS_NAMES: dict[Status, tuple[str, str]] = {
    Status.RECEIVED: ("Tiếp nhận", "Received"),
    Status.CLASSIFIED: ("Phân loại", "Classified"),
    Status.ASSIGNED: ("Đã chuyển", "Assigned"),
    Status.IN_PROGRESS: ("Đang xử lý", "In progress"),
    Status.ANSWERED: ("Đã trả lời", "Answered"),
    Status.CLOSED: ("Đóng", "Closed"),
    Status.REOPENED: ("Mở lại", "Reopened"),
    Status.MERGED: ("Đã gộp", "Merged"),
}

OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}
)
"""Statuses that still wait for an answer: these count towards overdue."""


def status_name(status: Status | str, lang: str = "vi") -> str:
    vi, en = STATUS_NAMES[Status(status)]
    return vi if lang == "vi" else en


class Kind(StrEnum):
    """What a change does (stored as ``ticket_events.kind``)."""

    RECEIVED = "received"
    SUGGESTED = "suggested"  # classifier suggestion or duplicate hint: no status change
    CLASSIFIED = "classified"
    ASSIGNED = "assigned"
    STARTED = "started"
    ANSWERED = "answered"
    VERDICT = "verdict"
    CLOSED = "closed"
    REOPENED = "reopened"
    MERGED = "merged"
    PUBLISHED = "published"
    NOTE = "note"  # a citizen's update or a staff note


Verdict = Literal["agree", "disagree"]
OwnerKind = Literal["agency", "ward_committee"]


class TransitionError(ValueError):
    """A change that the ticket's current status does not allow (the message names both)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change to a ticket. Only the fields its ``kind`` uses are set."""

    kind: Kind
    at: datetime
    actor: str
    category: str | None = None
    confidence: float | None = None
    auto: bool = False
    owner_kind: OwnerKind | None = None
    owner_code: str | None = None
    owner_name: str | None = None
    reason: str | None = None
    answer: str | None = None
    verdict: Verdict | None = None
    comment: str | None = None
    merged_into: str | None = None
    deadline: datetime | None = None
    duplicate_of: str | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"change time must be timezone-aware, got {self.at.isoformat()}")
        if not self.actor or not self.actor.strip():
            raise ValueError(f"change {self.kind.value!r} needs an actor, got {self.actor!r}")

    def details(self) -> dict[str, object]:
        """The fields this change sets, for ``ticket_events.details`` (JSON)."""
        out: dict[str, object] = {}
        for name in (
            "category",
            "confidence",
            "owner_kind",
            "owner_code",
            "owner_name",
            "reason",
            "answer",
            "verdict",
            "comment",
            "merged_into",
            "duplicate_of",
            "text",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.auto:
            out["auto"] = True
        if self.deadline is not None:
            out["deadline"] = self.deadline.isoformat()
        return out

    @classmethod
    def from_details(cls, kind: str, at: datetime, actor: str, details: dict[str, object]) -> Change:
        """Rebuild a change from a stored event (inverse of :meth:`details`)."""
        d = dict(details)
        deadline = d.pop("deadline", None)
        return cls(
            kind=Kind(kind),
            at=at,
            actor=actor,
            deadline=datetime.fromisoformat(str(deadline)) if deadline else None,
            **d,  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class TicketState:
    """What the history says about a ticket now (the ``tickets`` projection's workflow columns)."""

    status: Status
    received_at: datetime
    version: int = 0
    updated_at: datetime | None = None
    category: str | None = None
    category_confirmed: bool = False
    suggested_category: str | None = None
    suggested_confidence: float | None = None
    owner_kind: OwnerKind | None = None
    owner_code: str | None = None
    owner_name: str | None = None
    deadline: datetime | None = None
    first_answered_at: datetime | None = None
    answered_at: datetime | None = None
    answered_on_time: bool | None = None
    answer: str | None = None
    closed_at: datetime | None = None
    verdict: Verdict | None = None
    merged_into: str | None = None
    duplicate_of: str | None = None
    published: bool = False


# Which statuses each status-changing kind may start from.
_ALLOWED: dict[Kind, frozenset[Status]] = {
    Kind.CLASSIFIED: frozenset({Status.RECEIVED, Status.CLASSIFIED, Status.ASSIGNED, Status.REOPENED}),
    Kind.ASSIGNED: frozenset({Status.CLASSIFIED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}),
    Kind.STARTED: frozenset({Status.ASSIGNED, Status.REOPENED}),
    Kind.ANSWERED: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}),
    Kind.VERDICT: frozenset({Status.ANSWERED, Status.CLOSED}),
    Kind.CLOSED: frozenset({Status.ANSWERED}),
    Kind.REOPENED: frozenset({Status.ANSWERED, Status.CLOSED}),
    Kind.MERGED: OPEN_STATUSES,
    Kind.PUBLISHED: frozenset({Status.ANSWERED, Status.CLOSED}),
    Kind.SUGGESTED: OPEN_STATUSES,
    Kind.NOTE: frozenset(Status),
}


def _require(value: object, name: str, change: Change) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"change {change.kind.value!r} needs {name}, got {value!r}")


def start(change: Change) -> TicketState:
    """The state of a new ticket from its ``received`` change."""
    if change.kind is not Kind.RECEIVED:
        raise TransitionError(f"a ticket's history must start with 'received', got {change.kind.value!r}")
    return TicketState(
        status=Status.RECEIVED,
        received_at=change.at,
        version=1,
        updated_at=change.at,
        deadline=change.deadline,
    )


def apply(state: TicketState, change: Change) -> TicketState:
    """The state after ``change``; :class:`TransitionError` if the current status forbids it."""
    if change.kind is Kind.RECEIVED:
        raise TransitionError("a ticket is received only once")
    allowed = _ALLOWED[change.kind]
    if state.status not in allowed:
        raise TransitionError(
            f"cannot apply {change.kind.value!r} to a ticket in status {state.status.value!r};"
            f" allowed from: {', '.join(sorted(s.value for s in allowed))}"
        )
    s = replace(state, version=state.version + 1, updated_at=change.at)
    k = change.kind
    if k is Kind.SUGGESTED:
        return replace(
            s,
            suggested_category=change.category or s.suggested_category,
            suggested_confidence=change.confidence
            if change.confidence is not None
            else s.suggested_confidence,
            duplicate_of=change.duplicate_of or s.duplicate_of,
            deadline=change.deadline or s.deadline,
        )
    if k is Kind.CLASSIFIED:
        _require(change.category, "a category", change)
        # Confirming the category a ticket already has (or was routed by) never moves it backwards;
        # a different category sends an assigned ticket back: the owner may no longer be right.
        confirming = change.category in (state.category, state.suggested_category)
        keep = confirming and state.status not in (Status.RECEIVED, Status.CLASSIFIED)
        return replace(
            s,
            status=state.status if keep else Status.CLASSIFIED,
            category=change.category,
            category_confirmed=not change.auto,
            deadline=change.deadline or s.deadline,
        )
    if k is Kind.ASSIGNED:
        _require(change.owner_code, "an owner", change)
        if change.owner_kind not in ("agency", "ward_committee"):
            raise ValueError(f"owner_kind must be 'agency' or 'ward_committee', got {change.owner_kind!r}")
        if state.owner_code is not None and state.owner_code != change.owner_code:
            _require(change.reason, "a reason to reassign", change)
        return replace(
            s,
            status=Status.ASSIGNED,
            owner_kind=change.owner_kind,
            owner_code=change.owner_code,
            owner_name=change.owner_name or change.owner_code,
        )
    if k is Kind.STARTED:
        return replace(s, status=Status.IN_PROGRESS)
    if k is Kind.ANSWERED:
        _require(change.answer, "the answer text", change)
        on_time = state.deadline is None or change.at <= state.deadline
        return replace(
            s,
            status=Status.ANSWERED,
            answer=change.answer,
            answered_at=change.at,
            first_answered_at=state.first_answered_at or change.at,
            answered_on_time=on_time if state.first_answered_at is None else state.answered_on_time,
            verdict=None,
        )
    if k is Kind.VERDICT:
        if change.verdict not in ("agree", "disagree"):
            raise ValueError(f"verdict must be 'agree' or 'disagree', got {change.verdict!r}")
        if change.verdict == "agree":
            return replace(s, status=Status.CLOSED, verdict="agree", closed_at=state.closed_at or change.at)
        return replace(
            s,
            status=Status.REOPENED,
            verdict="disagree",
            closed_at=None,
            deadline=change.deadline or s.deadline,
        )
    if k is Kind.CLOSED:
        return replace(s, status=Status.CLOSED, closed_at=change.at)
    if k is Kind.REOPENED:
        return replace(s, status=Status.REOPENED, closed_at=None, deadline=change.deadline or s.deadline)
    if k is Kind.MERGED:
        _require(change.merged_into, "the primary ticket", change)
        return replace(s, status=Status.MERGED, merged_into=change.merged_into, closed_at=change.at)
    if k is Kind.PUBLISHED:
        return replace(s, published=True)
    return s  # NOTE: history only


def replay(changes: Iterable[Change]) -> TicketState:
    """The state a history leads to (raises on an impossible history)."""
    it = iter(changes)
    try:
        state = start(next(it))
    except StopIteration:
        raise ValueError("an empty history has no state") from None
    for change in it:
        state = apply(state, change)
    return state
