"""A loan's action history for the guards: its borrower's calls and its actions carried out,
the same however the questions are split over a night."""

from datetime import UTC, date, datetime

import polars as pl

from arrears.adapters.book_tables import DONE_SCHEMA, INPUTS
from arrears.adapters.people_index import LoanHistory
from arrears.batch.plan_people import REACH_SCHEMA, FrameReach
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


# B1 and B2 in Shanghai, B3 in Los Angeles (their numbers, and the zones their days count in).
REACH = FrameReach(pl.DataFrame(
    [("B1", "cn", "+8613800000001", "Asia/Shanghai", "Asia/Shanghai"),
     ("B2", "cn", "+8613800000002", "Asia/Shanghai", "Asia/Shanghai"),
     ("B3", "us", "+12135550103", "America/Los_Angeles", "America/Los_Angeles")],
    schema=REACH_SCHEMA, orient="row",
))  # fmt: skip


def history(attempts: pl.DataFrame = ATTEMPTS, owners: pl.DataFrame = OWNERS) -> LoanHistory:
    return LoanHistory(attempts, DONE, owners, REACH)


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
    shuffled = history(owners=OWNERS.reverse())
    assert shuffled.of(["L1", "L3", "L4"]) == expected
    assert history().of(["L1", "L3", "L4", "L9"]) == expected  # L9: no such loan


def test_only_the_borrowers_own_calls_count_each_on_their_local_day() -> None:
    """A call to a registered contact, or to a number that is not the borrower's, is not the
    borrower's attempt (CONTRACT.md): it must not open a guard that wants failed calls. A
    call's day is the borrower's: 19:00 and 20:00 in Los Angeles are 02:00 and 03:00 UTC the
    next day, one local day with the call at 09:00, not two."""
    la = [datetime(2026, 9, 10, 16, tzinfo=UTC), datetime(2026, 9, 11, 2, tzinfo=UTC),
          datetime(2026, 9, 11, 3, tzinfo=UTC)]  # fmt: skip
    rows: list[tuple[str, str | None, str, str | None, datetime, str]] = [
        ("B3", None, "call", "+12135550103", at, "no_answer") for at in la
    ]
    rows += [
        ("B3", "C3", "call", "+12135550199", la[0], "no_answer"),  # a registered contact
        ("B3", "C3", "call", None, la[0], "no_answer"),  # the same, its number not written
        ("B3", None, "call", "+12135550177", la[0], "busy"),  # a number nobody gave
        ("B3", None, "call", None, datetime(2025, 1, 5, 20, tzinfo=UTC), "refused"),
    ]
    attempts = pl.DataFrame(rows, schema=INPUTS["contact_attempts"], orient="row")
    owners = pl.DataFrame({"loan_id": ["L5"], "borrower_id": ["B3"]})
    got = history(attempts, owners).of(["L5"])["L5"]
    # The call of 2025 counts too: a requirement without `within_days` reads the whole record.
    assert got == [
        ActionRecord("call", date(2026, 9, 10), "no_answer"),
        ActionRecord("call", date(2026, 9, 10), "no_answer"),
        ActionRecord("call", date(2026, 9, 10), "no_answer"),
        ActionRecord("call", date(2025, 1, 5), "refused"),
    ]


def test_a_call_to_the_borrowers_number_written_nationally_is_theirs() -> None:
    """A book may write the number dialled as a national number: read in the country of the
    borrower's own number (as `contact log --to` is), it is theirs and counts."""
    at = datetime(2026, 4, 20, 2, tzinfo=UTC)
    rows = [("B1", None, "call", "13800000001", at, "no_answer"),
            ("B3", None, "call", "(213) 555-0103", at, "busy"),
            ("B3", None, "call", "213 555 0177", at, "busy"),  # another number
            ("B3", None, "call", "not a number", at, "busy")]  # fmt: skip
    attempts = pl.DataFrame(rows, schema=INPUTS["contact_attempts"], orient="row")
    owners = pl.DataFrame({"loan_id": ["L1", "L5"], "borrower_id": ["B1", "B3"]})
    got = history(attempts, owners).of(["L1", "L5"])
    assert got["L1"][0] == ActionRecord("call", date(2026, 4, 20), "no_answer")
    assert got["L5"] == [ActionRecord("call", date(2026, 4, 19), "busy")]  # 19:00 in LA


def test_a_call_the_rules_refused_is_no_gentler_step_tried() -> None:
    # Logged anyway and flagged (allowed = false: at 23:30, say), it does not count for the
    # guards: six such calls had opened the way to a field visit (found by helper-52).
    judged = ATTEMPTS.with_columns(pl.Series("allowed", [False, True, True]))
    assert history(judged).of(["L1"]) == {
        "L1": [ActionRecord("formal_notice", date(2026, 2, 20), "sent")]
    }
    lawful = judged.with_columns(pl.lit(True).alias("allowed"))
    assert history(lawful).of(["L1"]) == history().of(["L1"])
