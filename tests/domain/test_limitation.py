"""The limitation rule: a lawyer's letter or legal review refused from the anniversary of the
oldest unpaid due date, with the rule, the dates and the source (12 CFR 1006.26(b))."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError
from arrears.domain.limitation import Limitation, TimeBar, barred_from, oldest_due, refusal

RULE = Limitation("us.time_barred", 3, frozenset({"lawyers_letter", "legal_review"}),
                  "12 CFR 1006.26(b)", verified=False)  # fmt: skip


def test_a_debt_is_barred_from_the_anniversary_of_its_oldest_unpaid_due_date() -> None:
    oldest = date(2021, 3, 1)
    assert barred_from(oldest, 3) == date(2024, 3, 1)
    assert refusal(RULE, 3, "lawyers_letter", oldest, date(2024, 2, 29)) is None
    why = refusal(RULE, 3, "lawyers_letter", oldest, date(2024, 3, 1))
    assert str(why) == (
        "us.time_barred (unverified): time-barred since 2024-03-01 (oldest unpaid instalment "
        "due 2021-03-01, limitation 3 years): no lawyers_letter — 12 CFR 1006.26(b)"
    )
    # The product's own period decides when it is given.
    assert refusal(RULE, 6, "legal_review", oldest, date(2024, 3, 1)) is None
    assert refusal(RULE, 6, "legal_review", oldest, date(2027, 3, 1)) is not None


def test_a_29_february_is_barred_from_28_february() -> None:
    assert barred_from(date(2020, 2, 29), 3) == date(2023, 2, 28)
    assert barred_from(date(2020, 2, 29), 4) == date(2024, 2, 28)  # conservative: not the 29th
    assert barred_from(date(9990, 1, 1), 30) == date.max  # past the calendar: never, not a 500


def test_other_actions_and_debts_not_past_due_are_not_refused() -> None:
    far = date(2030, 1, 1)
    assert refusal(RULE, 3, "call", date(2020, 1, 1), far) is None  # collecting is lawful
    assert refusal(RULE, 3, "lawyers_letter", None, far) is None  # nothing past due


@given(st.dates(date(2000, 1, 1), date(2040, 12, 31)), st.integers(0, 4000))
def test_the_oldest_due_date_comes_back_from_a_states_dpd(as_of: date, dpd: int) -> None:
    oldest = oldest_due(as_of, dpd)
    assert oldest == (as_of - timedelta(days=dpd) if dpd else None)


def test_a_time_bar_tells_its_day_and_refuses_only_the_rules_actions() -> None:
    bar = TimeBar(RULE, 3, date(2021, 3, 1))
    assert bar.since() == date(2024, 3, 1)
    assert bar.refusal("legal_review", date(2024, 3, 1)) is not None
    assert bar.refusal("legal_review", date(2024, 2, 29)) is None
    assert bar.refusal("call", date(2030, 1, 1)) is None
    assert TimeBar(RULE, 3, None).since() is None  # nothing past due


@pytest.mark.parametrize(
    ("years", "actions", "source", "message"),
    [
        (0, {"lawyers_letter"}, "x", "between 1 and 30, got 0"),
        (31, {"lawyers_letter"}, "x", "between 1 and 30, got 31"),
        (3, {"lawsuit"}, "x", r"actions must name some of .*; got \['lawsuit'\]"),
        (3, set(), "x", "actions must name some of"),
        (3, {"lawyers_letter"}, " ", "every rule cites its legal source"),
    ],
)
def test_a_bad_rule_is_refused(years: int, actions: set[str], source: str, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        Limitation("xx.barred", years, frozenset(actions), source, verified=True)
