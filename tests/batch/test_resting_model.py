"""A loan the summary lets rest changes, until it wakes or money comes, only as the resting
model says: its lines as book_night.runs_carried carries them on, its balances rolled by its
daily penalty and outstanding principal, its state from its summary, and no posting but its
runs of penalty days; and no stage rule the watch stands for reads it otherwise than on the
summary's day (its stage stays as it was). The ledger, stepped one day at a time, is the
truth."""

from datetime import date, timedelta

import numpy as np
import polars as pl
from hypothesis import event, given, settings
from hypothesis import strategies as st

from arrears.adapters.book_night import runs_carried
from arrears.batch.advance import advance
from arrears.batch.ageing import SUMMARY_ONLY, Watch, states_from_summaries, summarise_loans
from arrears.batch.book import (
    INSTALMENT_SCHEMA,
    LOAN_SCHEMA,
    PAYMENT_SCHEMA,
    Book,
    fresh_instalments,
)
from arrears.batch.ledger import Postings
from arrears.batch.ledger_arrays import day_number

START = date(2025, 1, 1)
DAYS = 24
WATCHES = (Watch(), Watch(due_within=(1, 3), dpd=(1, 4), amounts=(1_000, 100_000), buckets=True))


@st.composite
def loans(draw: st.DrawFn, n: int) -> tuple[dict[str, object], list[dict[str, object]]]:
    """A loan's terms and schedule: grace of 0–10 days, effective due dates moved by
    holidays, penalty rates from none to huge, a cap or none, a late fee, credit held or
    none, 1–4 lines close together, tiny principals and interest-only lines."""
    capped = draw(st.booleans())
    pen_num, pen_den = draw(st.sampled_from([(18, 100), (1, 1_000_000), (365, 100), (0, 1)]))
    loan = {
        "loan_id": f"L{n}", "borrower_id": f"B{n}", "product": "p", "contract_date": START,
        "principal": 0, "state_date": START - timedelta(days=1), "pen_num": pen_num,
        "pen_den": pen_den, "cap_num": draw(st.sampled_from([1, 24, 36])) if capped else None,
        "cap_den": 100 if capped else None, "cap_rule": None, "cap_source": None,
        "day_count": draw(st.sampled_from([360, 365])),
        "grace_days": draw(st.sampled_from([0, 1, 3, 5, 10])),
        "late_fee": draw(st.sampled_from([0, 500, 5000])), "rank_fees": 0, "rank_penalty": 1,
        "rank_interest": 2, "rank_principal": 3, "charged": 0,
        "principal_days": draw(st.sampled_from([0, 10_000_000])),
        "credit": draw(st.sampled_from([0, 0, 0, 49])),  # money held: it pays every day
    }  # fmt: skip
    lines = []
    due = START + timedelta(days=draw(st.integers(1, 6)))
    for seq in range(1, draw(st.integers(1, 4)) + 1):
        lines.append({
            "loan_id": f"L{n}", "seq": seq, "due_date": due,
            "eff_due": due + timedelta(days=draw(st.sampled_from([0, 0, 1, 2, 4]))),
            "principal_due": draw(st.sampled_from([0, 1, 100, 10_000, 1_000_000])),
            "interest_due": draw(st.sampled_from([0, 50, 5000])),
            "fee_due": draw(st.sampled_from([0, 300])),
        })  # fmt: skip
        due += timedelta(days=draw(st.integers(1, 10)))
    return loan, lines


@st.composite
def books(draw: st.DrawFn) -> Book:
    """A few loans and some payments over the days run."""
    made = [draw(loans(n)) for n in range(draw(st.integers(1, 3)))]
    payments = [
        {"payment_id": f"P{n}-{k}", "loan_id": f"L{n}", "paid_on": START + timedelta(days=day),
         "amount": draw(st.sampled_from([1, 50, 400, 5000, 100_000, 2_000_000]))}
        for n in range(len(made))
        for k, day in enumerate(draw(st.lists(st.integers(0, DAYS - 1), max_size=3)))
    ]  # fmt: skip
    schedule = pl.DataFrame([line for _, lines in made for line in lines])
    lines = fresh_instalments(schedule).drop("eff_due")
    lines = lines.join(schedule.select("loan_id", "seq", "eff_due"), on=["loan_id", "seq"])
    return Book(
        pl.DataFrame([loan for loan, _ in made], schema=LOAN_SCHEMA),
        lines.select(list(INSTALMENT_SCHEMA)).sort("loan_id", "due_date", "seq"),
        pl.DataFrame(payments, schema=PAYMENT_SCHEMA),
    )


@settings(max_examples=12, deadline=None)
@given(books())
def test_a_resting_loan_changes_only_as_its_resting_model_says(book: Book) -> None:
    truth, posted = {}, {}
    for k in range(DAYS):
        day = START + timedelta(days=k)
        # Every line has its effective due date: the terms (its calendar) are not asked.
        book, postings = advance(book, day, None)  # type: ignore[arg-type]
        truth[day] = (_by_loan(book.loans), _by_loan(book.instalments))
        posted[day] = postings
    paid = book.payments.group_by("loan_id").agg("paid_on").rows()
    paydays = {loan: sorted(days) for loan, days in paid}
    for k in range(DAYS):
        day = START + timedelta(days=k)
        loans, lines = truth[day]
        for watch in WATCHES:
            everyone = pl.concat(list(loans.values()))
            summaries = summarise_loans(everyone, pl.concat(list(lines.values())), day, watch)
            summaries = summaries.with_columns(pl.lit(day).alias("summary_day"))
            for summary in summaries.partition_by("loan_id"):
                loan = summary.item(0, "loan_id")
                wake = summary.item(0, "wake_on")
                money = [d for d in paydays.get(loan, []) if d > day]
                until = min([START + timedelta(days=DAYS), *money, *([wake] if wake else [])])
                waiting = lines[loan].filter(~pl.col("beyond_grace") & (pl.col("pending_days") > 0))
                if (until - day).days > 1:
                    event("rests waiting out grace" if waiting.height else "rests")
                for rested in range(1, (until - day).days):
                    later = day + timedelta(days=rested)
                    _rested_as_modelled(loans[loan], lines[loan], summary, truth[later], later,
                                        rested, posted[later], watch)  # fmt: skip


def _by_loan(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {key[0]: part for key, part in frame.partition_by("loan_id", as_dict=True).items()}


def _rested_as_modelled(
    loan: pl.DataFrame, lines: pl.DataFrame, summary: pl.DataFrame,
    later: tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]], day: date, rested: int,
    postings: Postings, watch: Watch,
) -> None:  # fmt: skip
    """The ledger's loan on `day`, `rested` days after its summary, is the model's."""
    loan_id = loan.item(0, "loan_id")
    true_loan, true_lines = later[0][loan_id], later[1][loan_id]
    state = np.full(lines.height, day_number(day) - rested)
    carried = runs_carried(lines, state, np.full(lines.height, rested))
    assert true_lines.equals(carried), f"{loan_id} lines on {day}, resting {rested} days"
    outstanding = int((lines["principal_due"] - lines["paid_principal"]).sum())
    model = {
        "charged": loan.item(0, "charged") + summary.item(0, "daily_penalty") * rested,
        "principal_days": loan.item(0, "principal_days") + outstanding * rested,
        "credit": loan.item(0, "credit"),
    }
    assert {name: true_loan.item(0, name) for name in model} == model, f"{loan_id} on {day}"
    signed = loan.get_column("contract_date")
    resting = states_from_summaries(summary, day, signed).drop(*SUMMARY_ONLY)
    worked = summarise_loans(true_loan, true_lines, day, watch)
    worked = states_from_summaries(
        worked.with_columns(pl.lit(day).alias("summary_day")), day, signed
    )
    assert resting.equals(worked.drop(*SUMMARY_ONLY)), f"{loan_id} state on {day}"
    # No rule the watch stands for reads it otherwise than on the summary's day: a store
    # leaving it resting keeps its case as it was.
    first = states_from_summaries(summary, summary.item(0, "summary_day"), signed)
    assert _watched(first, watch) == _watched(resting, watch), f"{loan_id} watched on {day}"
    for name in ("cuts", "allocations"):
        assert postings.frame(name).filter(pl.col("loan_id") == loan_id).height == 0
    charges = postings.frame("charges").filter(pl.col("loan_id") == loan_id)
    runs = (pl.col("kind") == "penalty") & (pl.col("last_day") == day)
    assert charges.filter(~runs).height == 0, f"{loan_id} posted more than its runs on {day}"


def _watched(state: pl.DataFrame, watch: Watch) -> tuple[object, ...]:
    """What the rules `watch` stands for read of a loan's state: whether its days to the next
    due date are within each N, its dpd and overdue total reach each value, its bucket."""
    row = state.row(0, named=True)
    days = row["to_next_due"]
    overdue = sum(row[f"overdue_{part}"] for part in ("principal", "interest", "penalty", "fees"))
    return (
        tuple(days is not None and 0 <= days <= n for n in watch.due_within),
        tuple(row["dpd"] >= v for v in watch.dpd),
        tuple(overdue >= a for a in watch.amounts),
        row["bucket"] if watch.buckets else None,
    )
