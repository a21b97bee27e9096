"""When a resting loan must next be worked: the day a stage rule's view of it can change."""

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.batch.advance import advance
from arrears.batch.ageing import Watch, summarise_loans
from arrears.batch.book import (
    INSTALMENT_SCHEMA,
    LOAN_SCHEMA,
    PAYMENT_SCHEMA,
    Book,
    fresh_instalments,
)
from arrears.batch.capping import UNLIMITED, cap_allowance

AS_OF = date(2026, 3, 1)


def _book(due_in: dict[str, int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Current loans, one line each, due the given number of days after AS_OF."""
    ids = sorted(due_in)
    loans = pl.DataFrame({
        "loan_id": ids, "borrower_id": [f"B{i}" for i in ids], "product": ["cn-cash"] * len(ids),
        "grace_days": [3] * len(ids), "credit": [0] * len(ids), "charged": [0] * len(ids),
        "principal_days": [0] * len(ids), "pen_num": [18] * len(ids), "pen_den": [100] * len(ids),
        "day_count": [365] * len(ids), "cap_num": [None] * len(ids), "cap_den": [None] * len(ids),
        "cap_total": [None] * len(ids), "contract_date": [AS_OF - timedelta(days=60)] * len(ids),
    }, schema_overrides=dict.fromkeys(("cap_num", "cap_den", "cap_total"), pl.Int64))  # fmt: skip
    schedule = pl.DataFrame({
        "loan_id": ids, "seq": [1] * len(ids),
        "due_date": [AS_OF + timedelta(days=due_in[i]) for i in ids],
        "principal_due": [100_000] * len(ids), "interest_due": [1_000] * len(ids),
        "fee_due": [0] * len(ids), "eff_due": [None] * len(ids),
    }, schema_overrides={"eff_due": pl.Date})  # fmt: skip
    return loans, fresh_instalments(schedule)


def _wake(due_in: dict[str, int], watch: tuple[int, ...]) -> dict[str, date]:
    loans, lines = _book(due_in)
    summary = summarise_loans(loans, lines, AS_OF, Watch(due_within=watch))
    return dict(summary.select("loan_id", "wake_on").iter_rows())


@pytest.mark.parametrize(
    ("due_in", "watch", "wakes_in"),
    [
        (10, (3,), 7),  # enters the 3-day window on its first day
        (3, (3,), 3),  # in the window today: next change is the line falling due
        (2, (3,), 2),  # inside the window: not every day, only on the due date
        (10, (3, 7), 3),  # the widest threshold is reached first
        (5, (3, 7), 2),  # past the 7-day threshold, the 3-day one is next
        (2, (1, 3), 1),  # a narrower rule (due within 1 day) is reached tomorrow
        (10, (), 10),  # no rule reads the days to the due date
    ],
)
def test_a_current_loan_wakes_when_a_due_within_threshold_is_reached(
    due_in: int, watch: tuple[int, ...], wakes_in: int
) -> None:
    assert _wake({"L1": due_in}, watch) == {"L1": AS_OF + timedelta(days=wakes_in)}


@pytest.mark.parametrize(("watch", "wakes_in"), [((3,), 1), ((), 3)])
def test_a_loan_owing_a_line_due_today_wakes_tomorrow_when_a_rule_reads_its_next_due_date(
    watch: tuple[int, ...], wakes_in: int
) -> None:
    """A holiday moved the line's effective due date two days later: nothing about the loan
    changes before the day after it, but tomorrow its days to the next due date jump from 0
    to none (its only line is due), and a pre-due rule reads them (found by the resting
    model test, tests/batch/test_resting_model.py)."""
    loans, lines = _book({"L1": 0})
    lines = lines.with_columns(pl.lit(AS_OF + timedelta(days=2)).alias("eff_due"))
    summary = summarise_loans(loans, lines, AS_OF, Watch(due_within=watch))
    assert summary.item(0, "next_due") == AS_OF
    assert summary.item(0, "wake_on") == AS_OF + timedelta(days=wakes_in)


def test_a_line_owing_only_fees_wakes_the_day_after_its_effective_due_date() -> None:
    """A line fallen due whose effective due date a holiday moved later, with only a fee left
    to pay: nothing accrues, yet its fee turns overdue the day after that date."""
    loans, lines = _book({"L1": -1})
    lines = lines.with_columns(
        pl.lit(AS_OF + timedelta(days=2)).alias("eff_due"),
        pl.col("principal_due").alias("paid_principal"),
        pl.col("interest_due").alias("interest_charged"),
        pl.col("interest_due").alias("paid_interest"),
        pl.lit(500, pl.Int64).alias("fees_charged"),
    )
    summary = summarise_loans(loans, lines, AS_OF, Watch(due_within=(3,)))
    assert summary.row(0, named=True)["overdue_fees"] == 0  # not past due yet
    assert summary.row(0, named=True)["wake_on"] == AS_OF + timedelta(days=3)
    later = summarise_loans(loans, lines, AS_OF + timedelta(days=3), Watch(due_within=(3,)))
    assert later.row(0, named=True)["overdue_fees"] == 500


# A loan resting past due: one line due 20 days before AS_OF, its principal unpaid, beyond
# grace, its penalty posted each day since as one run of alike days (ledger_kernel._accrue:
# 100,000 × 18 % / 365, half up to the fen = 49).
DAILY = 49
RUN_DAYS = 16


def _past_due(**loan: object) -> tuple[pl.DataFrame, pl.DataFrame]:
    loans, lines = _book({"L1": -20})
    loans = loans.with_columns(pl.lit(value).alias(name) for name, value in loan.items())
    lines = lines.with_columns(
        pl.col("due_date").alias("eff_due"),  # no holiday moved it (the ledger fills it in)
        pl.col("interest_due").alias("interest_charged"),
        pl.col("interest_due").alias("paid_interest"),
        pl.lit(True).alias("beyond_grace"),
        pl.lit(DAILY * RUN_DAYS, pl.Int64).alias("penalty_charged"),
        pl.lit(AS_OF - timedelta(days=RUN_DAYS - 1)).alias("run_first"),
        pl.lit(AS_OF).alias("run_last"),
        pl.lit(100_000, pl.Int64).alias("run_base"),
        pl.lit(DAILY, pl.Int64).alias("run_daily"),
    )
    return loans, lines


def _rests(watch: Watch, **loan: object) -> tuple[date | None, int]:
    """The loan's wake day and daily penalty."""
    loans, lines = _past_due(**loan)
    row = summarise_loans(loans, lines, AS_OF, watch).row(0, named=True)
    return row["wake_on"], row["daily_penalty"]


def test_a_loan_past_due_rests_until_a_stage_rule_may_read_it_differently() -> None:
    # Nothing but its penalty changes: no rule, no cap: it rests until money wakes it.
    assert _rests(Watch()) == (None, DAILY)
    # Its dpd (20 today) reaches 30 in ten days.
    assert _rests(Watch(dpd=(10, 30))) == (AS_OF + timedelta(days=10), DAILY)
    # Its overdue total (100,000 + 16 days' penalty = 100,784) grows by 49 a day: 101,000 is
    # reached on the fifth day (49 × 4 = 196 < 216 ≤ 245).
    assert _rests(Watch(amounts=(50_000, 101_000))) == (AS_OF + timedelta(days=5), DAILY)
    # A rule on buckets: M0 → M1 after the 3 days' grace is past; M1 ends after dpd 30.
    assert _rests(Watch(buckets=True)) == (AS_OF + timedelta(days=11), DAILY)


@pytest.mark.parametrize(
    "change",
    [
        {"run_daily": DAILY - 1},  # tonight's penalty was cut by the cap
        {"run_last": AS_OF - timedelta(days=1)},  # nothing posted tonight
        {"pending": 10},  # penalty waiting out grace
        {"beyond_grace": False},  # still inside grace: it crosses it later
    ],
)
def test_a_loan_past_due_whose_days_are_not_alike_is_worked_tomorrow(
    change: dict[str, object],
) -> None:
    loans, lines = _past_due()
    lines = lines.with_columns(pl.lit(v).cast(lines.schema[k]).alias(k) for k, v in change.items())
    row = summarise_loans(loans, lines, AS_OF, Watch()).row(0, named=True)
    assert (row["wake_on"], row["daily_penalty"]) == (AS_OF + timedelta(days=1), 0)


def test_a_loan_with_credit_is_worked_tomorrow() -> None:
    assert _rests(Watch(), credit=1) == (AS_OF + timedelta(days=1), 0)


@settings(max_examples=200, deadline=None)
@given(
    charged=st.integers(0, 60_000),
    principal_days=st.integers(100_000, 40_000_000),
    cap=st.sampled_from([(24, 100), (36, 100), (1, 3), (1240, 10_000)]),
    # A limit on total charges besides (the product's own cap_total × principal): none, or
    # one met soon, later, or never within the days stepped.
    total=st.one_of(st.none(), st.integers(0, 200_000)),
)
def test_a_capped_loan_rests_until_the_day_its_cap_would_cut_the_penalty(
    charged: int, principal_days: int, cap: tuple[int, int], total: int | None
) -> None:
    """Day t after AS_OF posts the penalty whole while charged + 49·t fits the allowance of
    that day (the principal-days before it) and the total: found by stepping, against the
    store's formula."""
    num, den = cap
    expected = None
    for t in range(1, 2_000):
        allowance = cap_allowance(principal_days + 100_000 * (t - 1), num, den, 365)
        if charged + DAILY * t > min(allowance, UNLIMITED if total is None else total):
            expected = AS_OF + timedelta(days=t)
            break
    wake, _ = _rests(Watch(), charged=charged, principal_days=principal_days, cap_num=num,
                     cap_den=den, cap_total=total)  # fmt: skip
    if expected is None:  # its allowance outgrows the penalty: never cut
        assert wake is None or wake > AS_OF + timedelta(days=2_000)
    else:
        assert wake == expected


def test_a_limit_on_total_charges_met_only_past_the_last_day_a_run_may_reach_is_never() -> None:
    # 49 a day under a limit of 1,500,000.00 is met in 3 million days, in the year 10407: no
    # run reaches it (and no Python date holds it), so the loan rests until money wakes it.
    assert _rests(Watch(), cap_num=1, cap_den=1, principal_days=10**12,
                  cap_total=150_000_000) == (None, DAILY)  # fmt: skip


@pytest.mark.parametrize("credit", [49, 0])
def test_a_loan_holding_credit_with_days_of_pending_penalty_to_clear_is_worked_tomorrow(
    credit: int,
) -> None:
    """A line of a tiny principal paid inside grace: its daily penalty rounded to nothing, yet
    it counts two days of pending penalty. The next day money comes to the loan the ledger
    clears them, and to a loan holding credit money comes every day: it must be worked
    tomorrow. Without credit nothing changes until money comes (found by the resting model
    test, tests/batch/test_resting_model.py)."""
    due = AS_OF - timedelta(days=3)
    loans = pl.DataFrame([{
        "loan_id": "L1", "borrower_id": "B1", "product": "p", "contract_date": due,
        "principal": 1, "state_date": AS_OF, "pen_num": 18, "pen_den": 100, "cap_num": None,
        "cap_den": None, "cap_total": None, "cap_rule": None, "cap_source": None, "day_count": 365,
        "grace_days": 10, "late_fee": 0, "rank_fees": 0, "rank_penalty": 1, "rank_interest": 2,
        "rank_principal": 3, "charged": 0, "principal_days": 5, "credit": credit,
    }], schema=LOAN_SCHEMA)  # fmt: skip
    schedule = pl.DataFrame({
        "loan_id": ["L1"], "seq": [1], "due_date": [due], "principal_due": [1],
        "interest_due": [0], "fee_due": [0], "eff_due": [due],
    })  # fmt: skip
    lines = fresh_instalments(schedule).with_columns(
        pl.lit(1, pl.Int64).alias("paid_principal"),
        pl.lit(due + timedelta(days=1)).alias("pending_first"),
        pl.lit(2, pl.Int64).alias("pending_days"),
        pl.lit(1, pl.Int64).alias("pending_base"),
    )
    book = Book(loans, lines.select(list(INSTALMENT_SCHEMA)), pl.DataFrame(schema=PAYMENT_SCHEMA))
    wake = summarise_loans(loans, book.instalments, AS_OF).item(0, "wake_on")
    after, _ = advance(book, AS_OF + timedelta(days=1), None)  # type: ignore[arg-type]
    days = after.instalments.item(0, "pending_days")
    if credit:
        assert (wake, days) == (AS_OF + timedelta(days=1), 0)
    else:
        assert (wake, days) == (None, 2)
