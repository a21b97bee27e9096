"""A loan's action history for the guards: its borrower's calls and its actions carried out,
the same however the questions are split over a night."""

from datetime import UTC, date, datetime

import polars as pl

from arrears.adapters.book_tables import DONE_SCHEMA, INPUTS
from arrears.adapters.people_index import LoanHistory
from arrears.domain.escalation import ActionRecord

ATTEMPTS = pl.DataFrame(
    [("B1", None, "call", "+8613800000001", datetime(2026, 3, 1, 2, tzinfo=UTC), "no_answer"),
     ("B1", None, "sms", "+8613800000001", datetime(2026, 3, 1, 3, tzinfo=UTC), "sent"),
     ("B2", None, "call", "+8613800000002", datetime(2026, 3, 2, 2, tzinfo=UTC), "busy")],
    schema=INPUTS["contact_attempts"], orient="row",
)  # fmt: skip
DONE = pl.DataFrame(
    [("L1", "formal_notice", date(2026, 2, 20), "done", "sent"),
     ("L1", "call", date(2026, 3, 1), "failed", "no_answer"),  # the logged call, planned
     ("L3", "agency_placement", date(2026, 2, 25), "failed", None)],
    schema=DONE_SCHEMA, orient="row",
)  # fmt: skip
OWNERS = pl.DataFrame(
    {"loan_id": ["L1", "L2", "L3", "L4"], "borrower_id": ["B1", "B2", "B1", "B9"]}
)


def history() -> LoanHistory:
    return LoanHistory(ATTEMPTS, DONE, OWNERS)


def test_each_loan_gets_its_borrowers_calls_and_its_own_actions() -> None:
    """A planned call is in the contact log and the outbox: the guards count it once."""
    got = history().of(["L1", "L3", "L4"])
    assert got == {
        "L1": [ActionRecord("call", date(2026, 3, 1), "no_answer"),
               ActionRecord("formal_notice", date(2026, 2, 20), "sent")],
        "L3": [ActionRecord("call", date(2026, 3, 1), "no_answer"),
               ActionRecord("agency_placement", date(2026, 2, 25), "failed")],
    }  # fmt: skip
    assert "L4" not in got  # nothing on record


def test_asking_in_parts_gives_what_asking_once_gives() -> None:
    split = history()
    first = split.of(["L1"])
    second = split.of(["L2", "L1", "L4"])
    assert first == {"L1": history().of(["L1"])["L1"]}
    assert second == history().of(["L2", "L1", "L4"])
    assert set(second) == {"L1", "L2"}


def test_loans_in_any_order_or_unknown_give_the_same_history() -> None:
    """The asked loans are found by bisection when the loans come in loan_id order, else
    (another order, a loan not there) by a filter: the answer is the same."""
    expected = history().of(["L1", "L3", "L4"])
    shuffled = LoanHistory(ATTEMPTS, DONE, OWNERS.reverse())
    assert shuffled.of(["L1", "L3", "L4"]) == expected
    assert history().of(["L1", "L3", "L4", "L9"]) == expected  # L9: no such loan
