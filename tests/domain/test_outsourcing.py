"""The outsourcing rule: a case is placed only with an agency on the white list, evaluated
within the pack's months before the desk's day (cn.outsourcing: CBA 2026, GB/T 45251-2025)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError, Term
from arrears.domain.outsourcing import (
    Agency,
    AgencyNotCleared,
    OutsourcingRule,
    check_agency,
    evaluation_holds_through,
    months_after,
)

RULE = OutsourcingRule("cn.outsourcing", 12, "CBA 2026", verified=False)


def agency(listed: bool = True, evaluated_on: date | None = date(2025, 3, 15)) -> Agency:
    return Agency("agency-hz", "杭州信达", "0.18", listed, evaluated_on)


def refused(rule: OutsourcingRule | None, made: Agency, on: date) -> AgencyNotCleared | None:
    try:
        check_agency(rule, made, on)
    except AgencyNotCleared as error:
        return error
    return None


def test_an_evaluation_holds_twelve_months_to_the_day_and_not_a_day_more() -> None:
    assert refused(RULE, agency(), date(2026, 3, 15)) is None
    late = refused(RULE, agency(), date(2026, 3, 16))
    assert late is not None
    assert str(late) == (
        "agency 'agency-hz' (杭州信达) was last evaluated on 2025-03-15, more than 12 months "
        "before 2026-03-16: evaluate it again before a case is placed with it "
        "(cn.outsourcing: CBA 2026 (unverified))"
    )
    assert late.values["source"] == Term("CBA 2026 (unverified)", "CBA 2026 (unverified)")
    assert refused(RULE, agency(), date(2025, 3, 15)) is None  # evaluated that morning


def test_a_month_without_the_day_ends_the_evaluation_on_its_last_day() -> None:
    # 29 February and 31 August: the interval ends on the shorter month's last day, never
    # in the month after (the stricter reading).
    assert evaluation_holds_through(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert refused(RULE, agency(evaluated_on=date(2024, 2, 29)), date(2025, 2, 28)) is None
    assert refused(RULE, agency(evaluated_on=date(2024, 2, 29)), date(2025, 3, 1)) is not None
    assert evaluation_holds_through(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert evaluation_holds_through(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert evaluation_holds_through(date(2027, 2, 28), 12) == date(2028, 2, 28)
    assert months_after(date(9999, 6, 1), 12) == date.max


def test_an_agency_never_evaluated_is_refused_naming_it() -> None:
    never = refused(RULE, agency(evaluated_on=None), date(2025, 10, 1))
    assert never is not None
    assert str(never).startswith(
        "agency 'agency-hz' (杭州信达) has never been evaluated: a case is placed only with an "
        "agency evaluated in the last 12 months; record its evaluation first (cn.outsourcing: "
    )
    # Never evaluated and not listed either: the evaluation is what to do first.
    assert "never been evaluated" in str(refused(RULE, agency(False, None), date(2025, 10, 1)))


def test_an_agency_off_the_white_list_is_refused_even_when_evaluated_that_day() -> None:
    delisted = refused(RULE, agency(listed=False), date(2025, 3, 15))
    assert delisted is not None
    assert str(delisted).startswith(
        "agency 'agency-hz' (杭州信达) is not on the lender's white list of collection agencies"
    )


def test_an_evaluation_after_the_desks_day_does_not_clear_it_that_day() -> None:
    before = refused(RULE, agency(), date(2025, 3, 14))
    assert before is not None
    assert "was evaluated on 2025-03-15, after 2025-03-14" in str(before)


def test_without_the_rule_any_agency_is_placed_with() -> None:
    # The us and uk packs have no outsourcing rule: the agency's standing is lender policy.
    assert refused(None, agency(False, None), date(2025, 10, 1)) is None


@pytest.mark.parametrize("months", [0, -1, 61])
def test_an_interval_outside_its_range_is_refused(months: int) -> None:
    with pytest.raises(DomainError, match="evaluation_months must be between 1 and 60"):
        OutsourcingRule("xx.outsourcing", months, "a law", verified=True)
    with pytest.raises(DomainError, match="every rule cites its legal source"):
        OutsourcingRule("xx.outsourcing", 12, " ", verified=True)


@given(
    st.dates(date(2000, 1, 1), date(2100, 12, 31)),
    st.integers(1, 60),
    st.integers(-40, 40),
)
def test_a_placement_is_allowed_exactly_through_the_last_day(
    evaluated: date, months: int, shift: int
) -> None:
    rule = OutsourcingRule("xx.outsourcing", months, "a law", verified=True)
    last = evaluation_holds_through(evaluated, months)
    on = last + timedelta(days=shift)
    allowed = refused(rule, agency(evaluated_on=evaluated), on) is None
    assert allowed == (evaluated <= on <= last)
    # Never earlier than the months counted on the calendar, never past the next month's start.
    assert last.month == (evaluated.month - 1 + months) % 12 + 1
    assert last.day <= evaluated.day
