"""The Decision 766 subset (index766.md section 8) on small hand-written CSVs, computed by hand.

Every expected number is worked out in the comment beside it from the written rules, not from
running the code. AS_OF is the end of November 2026, Hải Phòng time.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ioc.kpi.cli import register
from ioc.kpi.dossier_csv import (
    COLUMNS,
    DossierCsvError,
    index_from_csv,
    iter_rows,
    parse_timestamp,
    read_book,
)
from ioc.kpi.index766 import (
    INDICATOR_IDS,
    MAX_POINTS,
    NOT_COMPUTABLE,
    Channel,
    DossierRecord,
    Index766Accumulator,
    Index766Book,
    Index766Counts,
    IndicatorCount,
    Rating,
    band,
    compute,
    round_half_up,
    score,
)

ROOT = Path(__file__).resolve().parents[1]
AS_OF_TEXT = "2026-11-30T23:59:59+07:00"
AS_OF = parse_timestamp(AS_OF_TEXT)

# A plain dossier: filed at the counter, not eligible for full online, no fee, completed on time,
# nothing digitised, not rated. Each test changes only what it is about.
BASE = {
    "dossier_id": "", "unit": "U1", "channel": "counter", "eligible_full_online": "false",
    "full_online": "false", "received_at": "2026-11-02T08:00:00+07:00", "due_at": "2026-11-10T17:00:00+07:00",
    "completed_at": "2026-11-09T10:00:00+07:00", "supplement_requests": "0", "fee_vnd": "0",
    "paid_online": "false", "e_result": "false", "digitised": "false", "reused_data": "false",
    "rating": "", "complained": "false",
}  # fmt: skip


def rows(*changes: dict[str, str], unit: str = "U1") -> list[dict[str, str]]:
    """One row per ``changes`` dict, over BASE, with ids D1, D2, … ."""
    out = []
    for i, ch in enumerate(changes, 1):
        out.append({**BASE, "dossier_id": f"{unit}-D{i}", "unit": unit, **ch})
    return out


def csv_text(data: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(data)
    return buf.getvalue()


def run(data: list[dict[str, str]], as_of: datetime = AS_OF):
    return index_from_csv(io.StringIO(csv_text(data)), as_of)


def line(result, indicator: str, unit: str | None = None):
    card = result.city if unit is None else next(u.card for u in result.units if u.unit == unit)
    return card.indicator(indicator)


# ---------------------------------------------------------------------------------------------
# 2.1 and the on-time rule


def test_on_time_rule_for_completed_and_in_progress_dossiers() -> None:
    data = rows(
        {},  # D1 completed 9/11 before due 10/11, no supplement: on time
        {"completed_at": "2026-11-10T17:00:00+07:00"},  # D2 completed exactly at due: on time (≤)
        {"completed_at": "2026-11-10T17:00:01+07:00"},  # D3 one second late: late
        {"supplement_requests": "2"},  # D4 completed early but asked twice for documents: late
        {"supplement_requests": "1"},  # D5 one request is allowed: on time
        {"completed_at": "", "due_at": "2026-12-05T17:00:00+07:00"},  # D6 open, due after as_of: on time
        {
            "completed_at": "",
            "due_at": "2026-11-30T16:59:59+00:00",
        },  # D7 open, due == as_of (other offset): on time
        {"completed_at": "", "due_at": "2026-11-30T23:59:58+07:00"},  # D8 open, due 1 s before as_of: late
        {"completed_at": "", "due_at": "2026-12-05T17:00:00+07:00", "supplement_requests": "2"},  # D9 late
    )
    s = line(run(data), "2.1")
    # on time: D1, D2, D5, D6, D7 = 5 of 9; R = 0.5555… → 0.5556; points 20 × 5/9 = 11.111… → 11.11
    assert (s.numerator, s.denominator, s.ratio, s.points, s.empty) == (
        5,
        9,
        Decimal("0.5556"),
        Decimal("11.11"),
        False,
    )


def test_in_progress_dossiers_are_judged_at_as_of_and_completed_ones_are_not() -> None:
    data = rows(
        {"completed_at": "", "due_at": "2026-11-20T17:00:00+07:00"},  # open, due 20/11
        {
            "completed_at": "2026-12-03T09:00:00+07:00",
            "due_at": "2026-12-05T17:00:00+07:00",
        },  # completed after as_of
        {
            "completed_at": "2026-11-25T09:00:00+07:00",
            "due_at": "2026-11-20T17:00:00+07:00",
        },  # completed late
    )
    book = read_book(io.StringIO(csv_text(data)))
    # At 15/11 the open dossier is within its deadline: on time = open + completed-on-time = 2 of 3.
    early = score(book.city().counts(parse_timestamp("2026-11-15T00:00:00+07:00"))).indicator("2.1")
    # At the end of November it is overdue: only the dossier completed 3/12 (≤ due 5/12) is on time.
    # Completion after as_of still counts as completion: rows are kept as given.
    late = score(book.city().counts(AS_OF)).indicator("2.1")
    assert (early.numerator, late.numerator, late.denominator) == (2, 1, 3)
    # 20 × 2/3 = 13.333… → 13.33; 20 × 1/3 = 6.666… → 6.67
    assert (early.points, late.points) == (Decimal("13.33"), Decimal("6.67"))


def test_rows_received_after_as_of_are_kept_as_given() -> None:
    # Section 8 computes over the unit's rows; as_of only judges open dossiers. A dossier received
    # after as_of and still open with a later due date counts, and counts as on time.
    data = rows(
        {
            "received_at": "2026-12-02T08:00:00+07:00",
            "due_at": "2026-12-09T17:00:00+07:00",
            "completed_at": "",
        }
    )
    s = line(run(data), "2.1")
    assert (s.numerator, s.denominator, s.points) == (1, 1, Decimal("20.00"))


# ---------------------------------------------------------------------------------------------
# 3.F, 3.3, 3.6, 4.1


def test_full_online_counts_only_eligible_dossiers() -> None:
    data = rows(
        {"eligible_full_online": "true", "full_online": "true"},
        {"eligible_full_online": "true", "full_online": "false"},
        {
            "eligible_full_online": "false",
            "full_online": "true",
        },  # not eligible: neither numerator nor denominator
        {"eligible_full_online": "true", "full_online": "true"},
    )
    s = line(run(data), "3.F")
    # 2 of 3 eligible; R = 0.6667; points 12 × 2/3 = 8.00
    assert (s.numerator, s.denominator, s.ratio, s.points) == (2, 3, Decimal("0.6667"), Decimal("8.00"))


def test_online_share_is_reported_with_no_points() -> None:
    data = rows({"channel": "online"}, {"channel": "counter"}, {"channel": "post"}, {"channel": "counter"})
    result = run(data)
    s = line(result, "3.3")
    # 1 of 4 filed online: R = 0.25, 0 points; the maximum stays 56 (3.3 counts 0)
    assert (s.numerator, s.denominator, s.ratio, s.points) == (1, 4, Decimal("0.2500"), Decimal("0.00"))
    assert result.city.max == MAX_POINTS == 56


def test_online_payment_counts_fee_bearing_dossiers_only() -> None:
    data = rows(
        {"fee_vnd": "50000", "paid_online": "true"},
        {"fee_vnd": "1", "paid_online": "false"},
        {"fee_vnd": "0", "paid_online": "true"},  # no fee: not in the denominator
    )
    s = line(run(data), "3.6")
    # 1 of 2; 6 × 0.5 = 3.00
    assert (s.numerator, s.denominator, s.ratio, s.points) == (1, 2, Decimal("0.5000"), Decimal("3.00"))


def test_e_result_counts_completed_dossiers_only() -> None:
    data = rows(
        {"e_result": "true"},
        {"e_result": "false"},
        {"e_result": "false"},
        {"e_result": "true", "completed_at": "", "due_at": "2026-12-20T17:00:00+07:00"},  # open: not counted
    )
    s = line(run(data), "4.1")
    # 1 of 3 completed; R = 0.3333; 6 × 1/3 = 2.00
    assert (s.numerator, s.denominator, s.ratio, s.points) == (1, 3, Decimal("0.3333"), Decimal("2.00"))


# ---------------------------------------------------------------------------------------------
# Threshold rules: 4.2 and 4.3 at 80 %, 5.4 at 90 %


def _ten(flag: str, k: int) -> list[dict[str, str]]:
    return rows(*({flag: "true" if i < k else "false"} for i in range(10)))


@pytest.mark.parametrize(
    ("k", "points"),
    [
        (7, "3.50"),  # below: 4 × 0.7 / 0.8 = 3.5
        (8, "4.00"),  # at 80 %: full
        (9, "4.00"),  # above: capped at 4
        (1, "0.50"),  # 4 × 0.1 / 0.8 = 0.5
    ],
)
def test_digitisation_threshold_at_80_percent(k: int, points: str) -> None:
    s = line(run(_ten("digitised", k)), "4.2")
    assert (s.numerator, s.denominator, s.points) == (k, 10, Decimal(points))


@pytest.mark.parametrize(("k", "points"), [(5, "1.25"), (8, "2.00"), (10, "2.00"), (3, "0.75")])
def test_reuse_threshold_at_80_percent(k: int, points: str) -> None:
    # 2 × min(1, R / 0.8): 0.5 → 1.25, 0.8 → 2, 1.0 → 2, 0.3 → 0.75
    s = line(run(_ten("reused_data", k)), "4.3")
    assert (s.numerator, s.points) == (k, Decimal(points))


@pytest.mark.parametrize(
    ("unsatisfied", "points"),
    [
        (1, "6.00"),  # R = 0.9: full 6
        (0, "6.00"),  # R = 1.0: capped
        (2, "5.33"),  # R = 0.8: 6 × 0.8 / 0.9 = 5.333… → 5.33
    ],
)
def test_satisfaction_threshold_at_90_percent(unsatisfied: int, points: str) -> None:
    data = rows(*({"rating": "unsatisfied" if i < unsatisfied else "satisfied"} for i in range(10)))
    s = line(run(data), "5.4")
    assert (s.numerator, s.denominator, s.points) == (10 - unsatisfied, 10, Decimal(points))


def test_satisfaction_counts_each_dossier_once() -> None:
    data = rows(
        # D1 unsatisfied AND complained AND late: out of the numerator once, not three times
        {"rating": "unsatisfied", "complained": "true", "completed_at": "2026-11-12T09:00:00+07:00"},
        {"complained": "true"},  # D2 complained about
        {"completed_at": "", "due_at": "2026-11-20T17:00:00+07:00"},  # D3 open and overdue at as_of: late
        {
            "completed_at": "",
            "due_at": "2026-12-20T17:00:00+07:00",
            "rating": "satisfied",
        },  # D4 open, in time
        {"supplement_requests": "2"},  # D5 late by supplements, even though completed before due
        *({} for _ in range(5)),  # D6–D10 fine
    )
    s = line(run(data), "5.4")
    # numerator: D4 + D6…D10 = 6 of 10 (the spec shortcut 100 % − (late % + complained %) would
    # count D1 twice). R = 0.6; 6 × 0.6 / 0.9 = 4.00
    assert (s.numerator, s.denominator, s.ratio, s.points) == (6, 10, Decimal("0.6000"), Decimal("4.00"))


# ---------------------------------------------------------------------------------------------
# Zero denominators, rounding, totals


def test_zero_denominator_gives_null_ratio_full_points_and_empty() -> None:
    # Only open dossiers, not eligible, no fee: 3.F, 3.6 and 4.1 have nothing to count.
    data = rows({"completed_at": "", "due_at": "2026-12-20T17:00:00+07:00"})
    d = json.loads(run(data).to_json())["units"][0]["indicators"]
    assert d["3.F"] == {"numerator": 0, "denominator": 0, "ratio": None, "points": 12.0, "empty": True}
    assert d["3.6"] == {"numerator": 0, "denominator": 0, "ratio": None, "points": 6.0, "empty": True}
    assert d["4.1"] == {"numerator": 0, "denominator": 0, "ratio": None, "points": 6.0, "empty": True}
    assert d["2.1"]["empty"] is False


def test_a_file_with_no_rows_scores_every_indicator_empty() -> None:
    d = json.loads(run([]).to_json())
    assert d["units"] == []
    city = d["city"]
    assert city["dossiers"] == 0 and all(
        v["empty"] and v["ratio"] is None for v in city["indicators"].values()
    )
    # full points everywhere: 20 + 12 + 0 + 6 + 6 + 4 + 2 + 6 = 56
    assert (city["total"], city["max"], city["indicators"]["3.3"]["points"]) == (56.0, 56, 0.0)


def test_half_up_rounding_of_a_ratio_exactly_at_a_five() -> None:
    data = rows(*({} if i == 0 else {"completed_at": "2026-11-11T09:00:00+07:00"} for i in range(32)))
    s = line(run(data), "2.1")
    # 1 of 32 on time: R = 0.03125 exactly → half-up 0.0313 (float/banker's rounding gives 0.0312);
    # points 20 / 32 = 0.625 exactly → 0.63 (round(0.625, 2) gives 0.62)
    assert (s.ratio, s.points) == (Decimal("0.0313"), Decimal("0.63"))
    assert round(0.03125, 4) == 0.0312  # the trap this guards against


def test_round_half_up_is_exact() -> None:
    assert round_half_up(Fraction(12345, 100000), 4) == Decimal("0.1235")
    assert round_half_up(Fraction(12344999, 100000000), 4) == Decimal("0.1234")
    assert round_half_up(Fraction(2, 3), 2) == Decimal("0.67")
    assert round_half_up(Fraction(0), 4) == Decimal("0.0000")
    with pytest.raises(ValueError):
        round_half_up(Fraction(-1, 2), 2)


def _counts(**pairs: tuple[int, int]) -> Index766Counts:
    default = (1, 3)
    return Index766Counts(
        3, tuple(IndicatorCount(i, *pairs.get("i" + i.replace(".", "_"), default)) for i in INDICATOR_IDS)
    )


def test_points_come_from_the_unrounded_ratio() -> None:
    # 3.F with R = 6229/50000 = 0.12458: ratio → 0.1246; points 12 × 0.12458 = 1.49496 → 1.49.
    # From the rounded ratio it would be 12 × 0.1246 = 1.4952 → 1.50.
    card = score(_counts(i3_F=(6229, 50000)))
    s = card.indicator("3.F")
    assert (s.ratio, s.points) == (Decimal("0.1246"), Decimal("1.49"))
    # 0.12345 (2469 / 20000) as the spec's example: ratio 0.1235, points 20 × 0.12345 = 2.469 → 2.47
    s = score(_counts(i2_1=(2469, 20000))).indicator("2.1")
    assert (s.ratio, s.points) == (Decimal("0.1235"), Decimal("2.47"))


def test_total_is_the_sum_of_rounded_points() -> None:
    # Every indicator at 1/4: 2.1 5.00, 3.F 3.00, 3.3 0, 3.6 1.50, 4.1 1.50, 4.2 4 × 0.25/0.8 = 1.25,
    # 4.3 2 × 0.25/0.8 = 0.625 → 0.63 (half-up), 5.4 6 × 0.25/0.9 = 1.666… → 1.67.
    # Rounded sum 14.55; the sum of the unrounded points (14.541…) would round to 14.54.
    card = score(
        _counts(**{k: (1, 4) for k in ("i2_1", "i3_F", "i3_3", "i3_6", "i4_1", "i4_2", "i4_3", "i5_4")})
    )
    assert card.indicator("4.3").points == Decimal("0.63")
    assert card.total == Decimal("14.55")


# ---------------------------------------------------------------------------------------------
# Units, city, JSON layout


def test_units_sorted_and_city_pools_all_rows() -> None:
    data = [
        *rows({}, {"completed_at": "2026-11-11T09:00:00+07:00"}, unit="b"),  # 1 of 2 on time
        *rows({}, unit="A"),  # 1 of 1
        *rows({"completed_at": "2026-11-11T09:00:00+07:00"}, {}, {}, unit="a2"),  # 2 of 3
    ]
    result = run(data)
    assert [u.unit for u in result.units] == ["A", "a2", "b"]  # code-point order
    # the city is pooled, not an average of units: 4 of 6 → 0.6667, 20 × 4/6 = 13.33
    s = result.city.indicator("2.1")
    assert (s.numerator, s.denominator, s.ratio, s.points, result.city.dossiers) == (
        4,
        6,
        Decimal("0.6667"),
        Decimal("13.33"),
        6,
    )


def test_json_layout_and_number_types() -> None:
    text = run(rows({"digitised": "true"}, {"digitised": "false"})).to_json()
    d = json.loads(text)
    assert list(d) == ["as_of", "units", "city"]
    assert d["as_of"] == AS_OF_TEXT
    unit = d["units"][0]
    assert list(unit) == ["unit", "dossiers", "indicators", "total", "max"]
    assert list(d["city"]) == ["dossiers", "indicators", "total", "max"]
    assert list(unit["indicators"]) == ["2.1", "3.F", "3.3", "3.6", "4.1", "4.2", "4.3", "5.4"]
    assert list(unit["indicators"]["4.2"]) == ["numerator", "denominator", "ratio", "points", "empty"]
    # numbers, not strings; whole points written 20.0; max an integer
    assert '"ratio": 0.5, "points": 2.5' in text  # 4.2: 4 × 0.5/0.8 = 2.5
    assert '"2.1": {"numerator": 2, "denominator": 2, "ratio": 1.0, "points": 20.0, "empty": false}' in text
    assert '"max": 56' in text and '"max": 56.0' not in text


# ---------------------------------------------------------------------------------------------
# The accumulator against a direct reading of the rules; merge and removal


def _random_dossier(rng: random.Random, i: int) -> DossierRecord:
    received = AS_OF - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1000))
    due = received + timedelta(days=rng.randint(1, 30))
    completed = None if rng.random() < 0.3 else received + timedelta(days=rng.randint(0, 40))
    return DossierRecord(
        f"R{i}", rng.choice(["U1", "U2", "U3"]), rng.choice(list(Channel)), rng.random() < 0.5,
        rng.random() < 0.5, received, due, completed, rng.choice([0, 0, 1, 2, 3]), rng.choice([0, 0, 10000]),
        rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.8, rng.random() < 0.7,
        rng.choice([None, Rating.SATISFIED, Rating.UNSATISFIED]), rng.random() < 0.1,
    )  # fmt: skip


def _reference(ds: list[DossierRecord], as_of: datetime) -> dict[str, tuple[int, int]]:
    """Section 8 read literally, one indicator at a time (no counters)."""

    def on_time(d: DossierRecord) -> bool:
        if d.supplement_requests > 1:
            return False
        return d.completed_at <= d.due_at if d.completed_at is not None else d.due_at >= as_of

    def count(pred, among) -> tuple[int, int]:  # noqa: ANN001
        pool = [d for d in ds if among(d)]
        return sum(1 for d in pool if pred(d)), len(pool)

    every = lambda d: True  # noqa: E731
    return {
        "2.1": count(on_time, every),
        "3.F": count(lambda d: d.full_online, lambda d: d.eligible_full_online),
        "3.3": count(lambda d: d.channel is Channel.ONLINE, every),
        "3.6": count(lambda d: d.paid_online, lambda d: d.fee_vnd > 0),
        "4.1": count(lambda d: d.e_result, lambda d: d.completed_at is not None),
        "4.2": count(lambda d: d.digitised, every),
        "4.3": count(lambda d: d.reused_data, every),
        "5.4": count(lambda d: d.rating is not Rating.UNSATISFIED and not d.complained and on_time(d), every),
    }


def test_accumulator_matches_a_literal_reading_of_the_rules() -> None:
    rng = random.Random(766)
    ds = [_random_dossier(rng, i) for i in range(600)]
    for as_of in (AS_OF - timedelta(days=10), AS_OF, AS_OF + timedelta(days=20)):
        result = compute(ds, as_of)
        expected = _reference(ds, as_of)
        assert {s.id: (s.numerator, s.denominator) for s in result.city.indicators} == expected
        for u in result.units:
            mine = [d for d in ds if d.unit == u.unit]
            assert {s.id: (s.numerator, s.denominator) for s in u.card.indicators} == _reference(mine, as_of)


def test_merge_and_remove_are_exact_inverses() -> None:
    rng = random.Random(12)
    ds = [_random_dossier(rng, i) for i in range(200)]
    whole = Index766Accumulator()
    for d in ds:
        whole.add(d)
    first, second = Index766Accumulator(), Index766Accumulator()
    for d in ds[:80]:
        first.add(d)
    for d in ds[80:]:
        second.add(d)
    assert Index766Accumulator.merged([first, second]) == whole
    for d in ds[:80]:
        whole.remove(d)
    assert whole == second
    with pytest.raises(ValueError):
        Index766Accumulator().remove(ds[0])


def test_pooled_unit_counts_equal_the_merged_accumulator() -> None:
    rng = random.Random(5)
    book = Index766Book()
    for i in range(300):
        book.add(_random_dossier(rng, i))
    for as_of in (AS_OF - timedelta(days=15), AS_OF):
        pooled = Index766Counts.pooled(acc.counts(as_of) for acc in book.units.values())
        assert pooled == book.city().counts(as_of)
        assert book.result(as_of).city == score(pooled)


def test_a_live_dossier_completing_late_is_replaced_not_added_twice() -> None:
    open_ = DossierRecord(
        "L1", "U1", Channel.ONLINE, True, True, parse_timestamp("2026-11-20T08:00:00+07:00"),
        parse_timestamp("2026-11-27T17:00:00+07:00"), None, 0, 0, False, False, True, True, None, False,
    )  # fmt: skip
    book = Index766Book()
    book.add(open_)
    day = parse_timestamp("2026-11-25T12:00:00+07:00")
    assert score(book.city().counts(day)).indicator("2.1").numerator == 1  # open, within deadline
    done = dataclasses.replace(open_, completed_at=parse_timestamp("2026-11-29T09:00:00+07:00"))
    book.replace(open_, done)
    counts = book.city().counts(AS_OF)
    s = score(counts).indicator("2.1")
    assert (counts.dossiers, s.numerator, s.denominator) == (1, 0, 1)  # completed after due: late
    assert len(book.units["U1"].open_due) == 0


def test_groups_merge_units_into_sectors() -> None:
    book = read_book(
        io.StringIO(csv_text([*rows({}, unit="X1"), *rows({}, {}, unit="X2"), *rows({}, unit="Y1")]))
    )
    groups = book.groups({"X1": "X", "X2": "X", "Y1": "Y"})
    assert {k: v.dossiers for k, v in groups.items()} == {"X": 3, "Y": 1}
    with pytest.raises(KeyError, match="Y1"):
        book.groups({"X1": "X", "X2": "X"})


# ---------------------------------------------------------------------------------------------
# Validation: every refused row names its row and field


def _errors(text: str) -> list:
    return [e for e in iter_rows(io.StringIO(text)) if not isinstance(e, DossierRecord)]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"channel": "fax"}, "channel", "unknown channel 'fax'"),
        ({"completed_at": "2026-11-01T08:00:00+07:00"}, "completed_at", "before it was received"),
        ({"digitised": "TRUE"}, "digitised", "'TRUE' is not true or false"),
        ({"complained": "yes"}, "complained", "not true or false"),
        ({"supplement_requests": "1.5"}, "supplement_requests", "not an integer"),
        ({"fee_vnd": "-100"}, "fee_vnd", "negative number -100"),
        ({"due_at": "2026-11-10T17:00:00"}, "due_at", "no UTC offset"),
        ({"received_at": "10/11/2026"}, "received_at", "not an ISO 8601 timestamp"),
        ({"rating": "good"}, "rating", "unknown rating 'good'"),
        ({"unit": ""}, "unit", "missing value"),
    ],
)
def test_invalid_values_name_row_and_field(change: dict[str, str], field: str, fragment: str) -> None:
    errs = _errors(csv_text(rows({}, change, {})))
    assert len(errs) == 1
    e = errs[0]
    assert (e.row, e.line, e.field) == (2, 3, field)  # second data row, third line of the file
    assert fragment in e.text("en") and e.text("en").startswith(f"row 2 (line 3), field '{field}'")
    assert e.text("vi").startswith(f"hàng 2 (dòng 3 của tệp), cột '{field}'")


def test_duplicate_ids_and_missing_columns_are_refused() -> None:
    data = rows({}, {})
    data[1]["dossier_id"] = data[0]["dossier_id"]
    (e,) = _errors(csv_text(data))
    assert (e.row, e.field) == (2, "dossier_id") and "first at row 1" in e.message_en
    errs = _errors(csv_text(rows({}), columns=tuple(c for c in COLUMNS if c != "rating")))
    assert [(e.row, e.line, e.field) for e in errs] == [(None, 1, "rating")]
    short = csv_text(rows({})) + "X9,U1,online\n"
    (e,) = _errors(short)
    assert (e.row, e.field) == (2, "eligible_full_online")
    with pytest.raises(DossierCsvError) as info:
        read_book(io.StringIO(short))
    assert info.value.errors == (e,)


def test_column_order_is_free_and_blank_lines_are_not_rows() -> None:
    cols = tuple(reversed(COLUMNS))
    text = csv_text(rows({}, {"channel": "online"}), columns=cols).replace("\n", "\n\n", 1)
    result = index_from_csv(io.StringIO(text), AS_OF)
    assert result.city.indicator("3.3").numerator == 1
    text_bad = csv_text(rows({}, {"channel": "bad"}), columns=cols).replace("\n", "\n\n", 1)
    (e,) = _errors(text_bad)
    assert (e.row, e.line) == (2, 4)  # the blank line is not a row but is a line


# ---------------------------------------------------------------------------------------------
# The command


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_cli_json_through_a_real_process(tmp_path: Path) -> None:
    f = tmp_path / "dossiers.csv"
    f.write_text(
        csv_text(rows({}, {"completed_at": "2026-11-11T09:00:00+07:00"}, {"channel": "online"})),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "ioc.cli", "kpi", "index766", "--dossiers", str(f), "--as-of", AS_OF_TEXT, "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    # 2 of 3 on time: 0.6667, 13.33; 3.3 1 of 3
    assert d["city"]["indicators"]["2.1"] == {
        "numerator": 2,
        "denominator": 3,
        "ratio": 0.6667,
        "points": 13.33,
        "empty": False,
    }
    assert d["units"][0]["unit"] == "U1" and d["city"]["max"] == 56


def test_cli_refuses_invalid_rows_with_exit_2_and_nothing_on_stdout(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    data = rows({}, {"channel": "fax"}, {"paid_online": "1"})
    f.write_text(csv_text(data), encoding="utf-8")
    res = CliRunner().invoke(
        _cli(), ["kpi", "index766", "--dossiers", str(f), "--as-of", AS_OF_TEXT, "--json"]
    )
    assert res.exit_code == 2
    assert res.stdout == ""
    assert "row 2 (line 3), field 'channel'" in res.stderr
    assert "row 3 (line 4), field 'paid_online'" in res.stderr
    assert "hàng 2 (dòng 3 của tệp), cột 'channel'" in res.stderr


def test_cli_refuses_as_of_without_offset_and_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "ok.csv"
    f.write_text(csv_text(rows({})), encoding="utf-8")
    res = CliRunner().invoke(
        _cli(), ["kpi", "index766", "--dossiers", str(f), "--as-of", "2026-11-30T23:59:59"]
    )
    assert (
        (res.exit_code, res.stdout) == (2, "") and "--as-of" in res.stderr and "no UTC offset" in res.stderr
    )
    res = CliRunner().invoke(
        _cli(), ["kpi", "index766", "--dossiers", str(tmp_path / "nope.csv"), "--as-of", AS_OF_TEXT]
    )
    assert (res.exit_code, res.stdout) == (2, "")


def test_cli_table_in_vietnamese(tmp_path: Path) -> None:
    f = tmp_path / "ok.csv"
    # with a BOM, as spreadsheet exports write it
    f.write_text(
        "\ufeff" + csv_text(rows({}, {"completed_at": "2026-11-11T09:00:00+07:00"})), encoding="utf-8"
    )
    res = CliRunner().invoke(_cli(), ["kpi", "index766", "--dossiers", str(f), "--as-of", AS_OF_TEXT])
    assert res.exit_code == 0, res.stderr
    assert "Toàn thành phố" in res.stdout and "Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn" in res.stdout
    assert "50,00% 10,00" in res.stdout  # 2.1: 1 of 2, Vietnamese decimal comma


# ---------------------------------------------------------------------------------------------
# Bands and the indicators we cannot compute


@pytest.mark.parametrize(
    ("points", "key", "confirmed"),
    [(100, "xuat_sac", True), (90, "xuat_sac", True), ("89.99", "tot", False), (80, "tot", False),
     (79.99, "kha_trung_binh", False), (50, "kha_trung_binh", False), ("49.99", "yeu", True), (0, "yeu", True)],
)  # fmt: skip
def test_bands_of_the_full_index(points, key: str, confirmed: bool) -> None:  # noqa: ANN001
    b = band(points)
    assert (b.key, b.confirmed) == (key, confirmed)


def test_bands_refuse_the_56_point_subset_and_out_of_range_scores() -> None:
    with pytest.raises(ValueError, match="100-point"):
        band(50, max_points=56)
    with pytest.raises(ValueError):
        band(100.01)


def test_not_computable_indicators_complete_the_100_points() -> None:
    ids = [n.id for n in NOT_COMPUTABLE]
    assert len(ids) == len(set(ids)) and not set(ids) & set(INDICATOR_IDS)
    # 56 computed + 44 not computable = the whole index
    assert MAX_POINTS + sum(n.max_points or 0 for n in NOT_COMPUTABLE) == 100
    assert all(n.reason_vi and n.reason_en and n.name_vi for n in NOT_COMPUTABLE)
