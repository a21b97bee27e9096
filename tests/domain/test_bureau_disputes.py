"""A dispute of a furnished credit-bureau record is answered within its pack's days: the day it
is due, where it stands, and the answers refused."""

from datetime import date

import pytest

from arrears.domain.bureau_disputes import (
    ANSWERED,
    ANSWERED_LATE,
    OPEN,
    OVERDUE,
    Dispute,
    DisputeRule,
    refuse_answer,
    refuse_receipt,
)
from arrears.domain.errors import DomainError, Refusal

RULE = DisputeRule("cn.credit_dispute", 20, "征信业管理条例 第二十五条", True)
RECEIVED = date(2025, 10, 5)
DISPUTE = Dispute(7, "L1", date(2025, 9, 1), RECEIVED, RULE.answer_by(RECEIVED), "cn",
                  RULE.rule_id, "paid on time")  # fmt: skip


def test_a_dispute_is_answered_within_twenty_days_of_its_receipt() -> None:
    # 自收到异议之日起20日内: the day of receipt not counted.
    assert RULE.answer_by(RECEIVED) == date(2025, 10, 25)
    assert DISPUTE.state(date(2025, 10, 25)) == OPEN
    assert DISPUTE.state(date(2025, 10, 26)) == OVERDUE
    on_time = Dispute(**{**DISPUTE.__dict__, "answered_on": date(2025, 10, 25),
                         "outcome": "upheld"})  # fmt: skip
    late = Dispute(**{**DISPUTE.__dict__, "answered_on": date(2025, 10, 26),
                      "outcome": "corrected"})  # fmt: skip
    assert (on_time.state(date(2025, 12, 1)), late.state(date(2025, 12, 1))) == (
        ANSWERED,
        ANSWERED_LATE,
    )


def test_a_dispute_is_received_after_its_month_and_by_today() -> None:
    end = date(2025, 9, 30)
    refuse_receipt(date(2025, 10, 1), end, date(2025, 10, 5))
    refuse_receipt(date(2025, 10, 5), end, date(2025, 10, 5))
    with pytest.raises(Refusal, match=r"by today \(2025-10-05\), not on 2025-10-06"):
        refuse_receipt(date(2025, 10, 6), end, date(2025, 10, 5))
    # helper-96: a record of September cannot be disputed before it could exist.
    with pytest.raises(Refusal, match=r"ending on 2025-09-30 is received after it"):
        refuse_receipt(date(2025, 9, 30), end, date(2025, 10, 5))


def test_an_answer_is_once_of_a_known_outcome_on_a_day_from_receipt_to_today() -> None:
    today = date(2025, 10, 20)
    refuse_answer(DISPUTE, "corrected", RECEIVED, today)
    refuse_answer(DISPUTE, "upheld", today, today)
    with pytest.raises(Refusal, match="corrected or upheld, not 'dismissed'"):
        refuse_answer(DISPUTE, "dismissed", today, today)
    with pytest.raises(Refusal, match=r"from its receipt \(2025-10-05\) to today"):
        refuse_answer(DISPUTE, "upheld", date(2025, 10, 4), today)
    with pytest.raises(Refusal, match="not 2025-10-21"):
        refuse_answer(DISPUTE, "upheld", date(2025, 10, 21), today)
    answered = Dispute(**{**DISPUTE.__dict__, "answered_on": today, "outcome": "upheld"})
    with pytest.raises(Refusal, match="answered on 2025-10-20 already"):
        refuse_answer(answered, "corrected", today, today)


@pytest.mark.parametrize(
    ("days", "source", "message"),
    [(0, "s", "between 1 and 90"), (91, "s", "between 1 and 90"), (20, " ", "legal source")],
)
def test_a_bad_dispute_rule_is_refused(days: int, source: str, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        DisputeRule("r", days, source, True)
