"""The limitation rule: a lawyer's letter or legal review refused from the anniversary of the
oldest unpaid due date, with the rule, the dates and the source (12 CFR 1006.26(b))."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError
from arrears.domain.limitation import (
    Limitation,
    LimitationPeriod,
    PeriodRun,
    TimeBar,
    barred_from,
    oldest_due,
    period_run,
    refusal,
)

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


PERIOD = LimitationPeriod("cn.limitation_period", 3, "民法典 Art. 188, 189, 195", verified=True)
LAST_DUE = date(2025, 6, 30)


def test_a_cn_period_runs_from_the_last_instalment_or_the_latest_interruption() -> None:
    from arrears.domain.escalation import ActionRecord

    today = date(2027, 1, 1)
    # Nothing since: three years from the last instalment's due date (Art. 189, 188).
    assert period_run(PERIOD, LAST_DUE, [], [], today) == PeriodRun(
        LAST_DUE, "last_due", date(2028, 6, 30)
    )
    # Only what reached the borrower interrupts (Art. 195): a connected call, a notice sent;
    # not an unanswered call, an SMS reminder or a notice that failed.
    records = [
        ActionRecord("call", date(2026, 1, 5), "connected"),
        ActionRecord("formal_notice", date(2026, 3, 1), "sent"),
        ActionRecord("call", date(2026, 5, 1), "no_answer"),
        ActionRecord("sms", date(2026, 5, 2), "delivered"),
        ActionRecord("formal_notice", date(2026, 5, 3), "failed"),
    ]
    assert period_run(PERIOD, LAST_DUE, records, [], today) == PeriodRun(
        date(2026, 3, 1), "formal_notice", date(2029, 3, 1)
    )
    # A payment, a promise or a filing too (the debtor's agreement, a suit); what is dated
    # after the day asked about is not yet on record.
    others = [(date(2026, 4, 1), "payment"), (date(2026, 8, 8), "promise"),
              (date(2027, 2, 1), "filing")]  # fmt: skip
    assert period_run(PERIOD, LAST_DUE, records, others, today) == PeriodRun(
        date(2026, 8, 8), "promise", date(2029, 8, 8)
    )
    # Before the last instalment falls due, the period has not begun.
    assert period_run(PERIOD, date(2027, 6, 30), records, others, today).because == "last_due"
    # A 29 February: the month's last day (Art. 202).
    leap = period_run(PERIOD, date(2028, 2, 29), [], [], today)
    assert leap.runs_out == date(2031, 2, 28)


def test_a_period_of_information_cites_its_source_and_a_sane_length() -> None:
    with pytest.raises(DomainError, match="every rule cites its legal source"):
        LimitationPeriod("x", 3, " ", verified=True)
    with pytest.raises(DomainError, match="limitation years must be between 1 and 30"):
        LimitationPeriod("x", 0, "law", verified=True)
