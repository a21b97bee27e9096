"""A promise to pay is judged from its loan's payments alone: kept, broken or open."""

from datetime import date

import pytest

from arrears.domain.errors import Refusal
from arrears.domain.loan import Payment
from arrears.domain.promises import (
    PROMISE_DAYS,
    Promise,
    Verdict,
    judge_promise,
    refuse_promise_amount,
    refuse_promise_terms,
)

PROMISE = Promise("PR1", 50_000, date(2025, 2, 5), date(2025, 2, 7))


def paid(*rows: tuple[int, date]) -> list[Payment]:
    return [Payment(f"P{n}", amount, day) for n, (amount, day) in enumerate(rows)]


def test_a_promise_is_kept_on_the_day_the_money_paid_since_reaches_it() -> None:
    money = paid((30_000, date(2025, 2, 5)), (20_000, date(2025, 2, 7)), (9_000, date(2025, 2, 7)))
    assert judge_promise(PROMISE, money, date(2025, 2, 9)) == Verdict(
        "kept", date(2025, 2, 7), 59_000
    )
    # Before its due day, what was paid so far holds it open.
    assert judge_promise(PROMISE, money, date(2025, 2, 6)) == Verdict("open", None, 30_000)


def test_money_of_the_day_the_promise_is_made_counts_towards_it() -> None:
    # The desk and the feeds know the day of each, not the hour: that day's money is paid
    # since the promise, whenever in the day it came.
    made = paid((60_000, PROMISE.made_on))
    assert judge_promise(PROMISE, made, date(2025, 2, 8)) == Verdict(
        "kept", PROMISE.made_on, 60_000
    )


def test_money_before_the_promise_or_after_its_day_does_not_count() -> None:
    money = paid((40_000, date(2025, 2, 4)), (49_999, date(2025, 2, 6)), (1, date(2025, 2, 8)))
    assert judge_promise(PROMISE, money, date(2025, 2, 7)) == Verdict("open", None, 49_999)
    # Broken the day after its due day, a fen short.
    assert judge_promise(PROMISE, money, date(2025, 2, 8)) == Verdict(
        "broken", date(2025, 2, 8), 49_999
    )
    # Money dated after the day judged is not paid yet.
    assert judge_promise(PROMISE, paid((50_000, date(2025, 2, 6))), date(2025, 2, 5)) == Verdict(
        "open", None, 0
    )


def test_a_promise_falls_due_from_today_to_thirty_days_ahead() -> None:
    today = date(2025, 10, 1)
    refuse_promise_terms(1, today, today)
    refuse_promise_terms(1, date(2025, 10, 31), today)  # the 30th day ahead
    with pytest.raises(Refusal, match=r"at most 30 days ahead \(2025-11-01 is after 2025-10-31\)"):
        refuse_promise_terms(1, date(2025, 11, 1), today)
    with pytest.raises(Refusal, match=r"in the past \(2025-09-30 is before 2025-10-01\)"):
        refuse_promise_terms(1, date(2025, 9, 30), today)
    with pytest.raises(Refusal, match="greater than zero"):
        refuse_promise_terms(0, today, today)
    assert PROMISE_DAYS == 30


def test_a_promise_is_for_at_most_what_the_loan_owes_in_all_on_its_day() -> None:
    due, today = date(2025, 10, 8), date(2025, 10, 1)
    refuse_promise_amount(1_617_415, due, today, 1_617_415)
    with pytest.raises(Refusal, match=r"16174\.16 is more than .* on 2025-10-08 \(16174\.15, "
                                      r"counting what is paid from 2025-10-01 on"):  # fmt: skip
        refuse_promise_amount(1_617_416, due, today, 1_617_415)
    with pytest.raises(Refusal, match="owes nothing on 2025-10-08"):
        refuse_promise_amount(1, due, today, 0)
