"""The ticket state machine: transitions, reopen, merge, verdicts, and status = what history says."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ioc.tickets.workflow import Change, Kind, Status, TicketState, TransitionError, apply, replay, start

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def ch(kind: Kind, minutes: int, **kw: object) -> Change:
    return Change(kind, T0 + timedelta(minutes=minutes), kw.pop("actor", "lan"), **kw)  # type: ignore[arg-type]


def happy_path() -> list[Change]:
    return [
        ch(Kind.RECEIVED, 0, actor="intake", deadline=T0 + timedelta(days=1)),
        ch(Kind.CLASSIFIED, 5, category="environment"),
        ch(Kind.ASSIGNED, 6, owner_kind="agency", owner_code="so_nn_mt", owner_name="Sở NN&MT"),
        ch(Kind.STARTED, 60, actor="agency1"),
        ch(Kind.ANSWERED, 120, actor="agency1", answer="Đã thu gom rác."),
    ]


def test_happy_path_to_closed_by_agreement() -> None:
    state = replay([*happy_path(), ch(Kind.VERDICT, 200, actor="citizen", verdict="agree")])
    assert state.status is Status.CLOSED
    assert state.category == "environment" and state.category_confirmed
    assert state.owner_code == "so_nn_mt"
    assert state.answered_on_time is True
    assert state.first_answered_at == T0 + timedelta(minutes=120)
    assert state.verdict == "agree" and state.closed_at == T0 + timedelta(minutes=200)
    assert state.version == 6


def test_disagreement_reopens_and_a_second_answer_keeps_first_answer_time() -> None:
    later = T0 + timedelta(days=3)
    changes = [
        *happy_path(),
        ch(Kind.VERDICT, 200, actor="citizen", verdict="disagree", deadline=later),
    ]
    state = replay(changes)
    assert state.status is Status.REOPENED and state.verdict == "disagree" and state.deadline == later
    state = apply(state, ch(Kind.STARTED, 300))
    state = apply(state, ch(Kind.ANSWERED, 400, answer="Đã xử lý lại."))
    assert state.status is Status.ANSWERED and state.verdict is None
    assert state.first_answered_at == T0 + timedelta(minutes=120)
    assert state.answered_at == T0 + timedelta(minutes=400)
    closed = apply(state, ch(Kind.CLOSED, 500))
    reopened = apply(closed, ch(Kind.REOPENED, 600))
    assert reopened.status is Status.REOPENED and reopened.closed_at is None


def test_late_answer_is_not_on_time() -> None:
    changes = happy_path()
    changes[-1] = ch(Kind.ANSWERED, 60 * 30, answer="Muộn.")
    assert replay(changes).answered_on_time is False


def test_merge_is_final_and_records_primary() -> None:
    state = replay([ch(Kind.RECEIVED, 0), ch(Kind.MERGED, 3, merged_into="HP-1")])
    assert state.status is Status.MERGED and state.merged_into == "HP-1"
    with pytest.raises(TransitionError, match="'answered' to a ticket in status 'merged'"):
        apply(state, ch(Kind.ANSWERED, 4, answer="x"))
    with pytest.raises(ValueError, match="needs the primary ticket"):
        replay([ch(Kind.RECEIVED, 0), ch(Kind.MERGED, 3)])


@pytest.mark.parametrize(
    ("kinds", "bad"),
    [
        ((), Kind.ANSWERED),  # answer before assignment
        ((), Kind.VERDICT),  # verdict before any answer
        ((Kind.CLASSIFIED,), Kind.STARTED),  # start before assignment
        ((), Kind.CLOSED),
    ],
)
def test_forbidden_transitions_name_the_status(kinds: tuple[Kind, ...], bad: Kind) -> None:
    state = start(ch(Kind.RECEIVED, 0))
    for k in kinds:
        state = apply(state, ch(k, 1, category="traffic"))
    with pytest.raises(TransitionError, match=f"'{bad.value}'.*'{state.status.value}'"):
        apply(state, ch(bad, 2, answer="a", verdict="agree"))


def test_reassignment_needs_a_reason() -> None:
    state = replay(happy_path()[:3])
    with pytest.raises(ValueError, match="reason to reassign"):
        apply(state, ch(Kind.ASSIGNED, 9, owner_kind="ward_committee", owner_code="ubnd:Phường Lê Chân"))
    moved = apply(
        state,
        ch(
            Kind.ASSIGNED,
            9,
            owner_kind="ward_committee",
            owner_code="ubnd:Phường Lê Chân",
            reason="Thuộc phường",
        ),
    )
    assert moved.owner_kind == "ward_committee" and moved.status is Status.ASSIGNED


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Change(Kind.NOTE, datetime(2026, 1, 1), "lan")
    with pytest.raises(ValueError, match="needs an actor"):
        Change(Kind.NOTE, T0, " ")
    state = replay(happy_path())
    with pytest.raises(ValueError, match="'maybe'"):
        apply(state, ch(Kind.VERDICT, 999, verdict="maybe"))
    with pytest.raises(TransitionError, match="must start with 'received'"):
        replay([ch(Kind.CLASSIFIED, 0, category="traffic")])


def test_details_round_trip() -> None:
    c = ch(Kind.VERDICT, 10, verdict="disagree", comment="Chưa sửa", deadline=T0 + timedelta(days=2))
    assert Change.from_details(c.kind.value, c.at, c.actor, c.details()) == c


def _random_history(rng: random.Random, n: int) -> list[Change]:
    """A random valid history: tries random changes, keeps those the machine accepts."""
    changes = [ch(Kind.RECEIVED, 0, deadline=T0 + timedelta(hours=rng.randint(1, 48)))]
    state: TicketState = start(changes[0])
    for i in range(1, n):
        kind = rng.choice(list(Kind)[1:])
        c = ch(
            kind,
            i * 30,
            category=rng.choice(["traffic", "environment"]),
            owner_kind="agency",
            owner_code=rng.choice(["a", "b"]),
            reason="r",
            answer="ok",
            verdict=rng.choice(["agree", "disagree"]),
            merged_into="HP-0",
        )
        try:
            state = apply(state, c)
        except (TransitionError, ValueError):
            continue
        changes.append(c)
    return changes


def test_status_counts_equal_what_history_says() -> None:
    rng = random.Random(7)
    histories = [_random_history(rng, rng.randint(1, 15)) for _ in range(300)]
    incremental = Counter()
    for h in histories:
        state = start(h[0])
        for c in h[1:]:
            state = apply(state, c)
        incremental[state.status] += 1
        assert state == replay(h)
    by_last_event: Counter[Status] = Counter()
    for h in histories:
        state = replay(h)
        by_last_event[state.status] += 1
    assert incremental == by_last_event
    assert len(incremental) >= 6  # the walk reached most statuses, so the check means something
