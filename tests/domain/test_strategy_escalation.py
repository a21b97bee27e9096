"""Escalation guards: no field visit or legal step until the gentler steps are on record."""

from datetime import date, timedelta

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.strategy import (
    ActionRecord,
    EntryRule,
    Guard,
    Ladder,
    Requirement,
    Stage,
    check_escalation,
)

AS_OF = date(2026, 6, 30)
FAILED = ("failed", "no_answer", "busy", "refused")
NOTICE = Requirement("formal_notice", ("sent", "delivered"))
PLACED = Requirement("agency_placement", ("done",))
GUARDS = (
    Guard("field_visit_request", (Requirement("call", FAILED, 6, 3, 60), NOTICE, PLACED)),
    Guard("lawyers_letter", (NOTICE, PLACED)),
    Guard("legal_review", (Requirement("lawyers_letter", ("sent", "delivered")),)),
)
LADDER = Ladder(
    "cn-test",
    3,
    (
        Stage(
            "legal",
            "法律",
            "Legal",
            (EntryRule(dpd_min=181),),
            heavy=("lawyers_letter", "legal_review"),
        ),
        Stage("late", "后期", "Late", (EntryRule(dpd_min=91),), heavy=("field_visit_request",)),
        Stage("mid", "中期", "Mid", (EntryRule(dpd_min=31),)),
    ),
    guards=GUARDS,
)


def days_ago(n: int) -> date:
    return AS_OF - timedelta(days=n)


def failed_calls(
    count: int, days: int, start: int = 1, outcome: str = "no_answer"
) -> list[ActionRecord]:
    return [ActionRecord("call", days_ago(start + n % days), outcome) for n in range(count)]


NOTICE_SENT = ActionRecord("formal_notice", days_ago(40), "sent")
AGENCY_DONE = ActionRecord("agency_placement", days_ago(20), "done")
EVERYTHING = [*failed_calls(6, 3), NOTICE_SENT, AGENCY_DONE]


def test_a_field_visit_with_nothing_on_record_names_every_missing_step() -> None:
    decision = check_escalation(LADDER, "field_visit_request", [], AS_OF)
    assert not decision.allowed
    assert decision.reasons == (
        "missing: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 days in the last 60 days "
        "(found none)",
        "missing: formal_notice sent|delivered (found none)",
        "missing: agency_placement done (found none)",
        "missing: supervisor approval",
    )


@pytest.mark.parametrize(
    ("left_out", "named"),
    [
        (NOTICE_SENT, "formal_notice"),
        (AGENCY_DONE, "agency_placement"),
    ],
)
def test_a_field_visit_is_refused_until_each_step_is_recorded(
    left_out: ActionRecord, named: str
) -> None:
    history = [r for r in EVERYTHING if r is not left_out]
    decision = check_escalation(LADDER, "field_visit_request", history, AS_OF, approved=True)
    assert not decision.allowed
    assert len(decision.reasons) == 1
    assert decision.reasons[0].startswith(f"missing: {named} ")


@pytest.mark.parametrize(
    ("calls", "found"),
    [
        (failed_calls(6, 2), "found 6 on 2 day(s)"),  # enough calls, too few days
        (failed_calls(5, 3), "found 5 on 3 day(s)"),  # enough days, too few calls
        (failed_calls(6, 3, start=61), "found none"),  # too long ago to show anything now
        (failed_calls(6, 3, outcome="promise"), "found none"),  # promises are not failures
        (failed_calls(6, 3, outcome="connected"), "found none"),
        (failed_calls(6, 3, start=-5), "found none"),  # recorded after as_of: not yet
    ],
)
def test_a_field_visit_needs_six_failed_calls_on_three_days_in_sixty(
    calls: list[ActionRecord], found: str
) -> None:
    decision = check_escalation(
        LADDER, "field_visit_request", [*calls, NOTICE_SENT, AGENCY_DONE], AS_OF, approved=True
    )
    assert not decision.allowed
    assert decision.reasons == (
        "missing: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 days in the last 60 days "
        f"({found})",
    )


def test_a_field_visit_with_every_step_on_record_still_needs_approval() -> None:
    refused = check_escalation(LADDER, "field_visit_request", EVERYTHING, AS_OF)
    assert (refused.allowed, refused.reasons) == (False, ("missing: supervisor approval",))
    allowed = check_escalation(LADDER, "field_visit_request", EVERYTHING, AS_OF, approved=True)
    assert allowed.allowed
    assert allowed.reasons == (
        "met: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 days in the last 60 days "
        "(found 6 on 3 day(s))",
        "met: formal_notice sent|delivered (found 1 on 1 day(s))",
        "met: agency_placement done (found 1 on 1 day(s))",
        "met: approved by a supervisor",
    )


def test_a_field_visit_is_only_offered_where_the_ladder_offers_it() -> None:
    decision = check_escalation(
        LADDER, "field_visit_request", EVERYTHING, AS_OF, approved=True, stage="mid"
    )
    assert decision.reasons == ("missing: field_visit_request is not offered in stage 'mid'",)
    assert check_escalation(
        LADDER, "field_visit_request", EVERYTHING, AS_OF, approved=True, stage="late"
    ).allowed


def test_a_lawyers_letter_needs_the_formal_notice_and_the_agency() -> None:
    assert check_escalation(LADDER, "lawyers_letter", [], AS_OF).reasons == (
        "missing: formal_notice sent|delivered (found none)",
        "missing: agency_placement done (found none)",
    )
    only_notice = check_escalation(LADDER, "lawyers_letter", [NOTICE_SENT], AS_OF)
    assert only_notice.reasons == ("missing: agency_placement done (found none)",)
    bounced = ActionRecord("formal_notice", days_ago(40), "bounced")
    assert not check_escalation(LADDER, "lawyers_letter", [bounced, AGENCY_DONE], AS_OF).allowed
    assert check_escalation(LADDER, "lawyers_letter", [NOTICE_SENT, AGENCY_DONE], AS_OF).allowed


def test_a_legal_review_needs_the_lawyers_letter() -> None:
    refused = check_escalation(LADDER, "legal_review", EVERYTHING, AS_OF)
    assert refused.reasons == ("missing: lawyers_letter sent|delivered (found none)",)
    letter = ActionRecord("lawyers_letter", days_ago(15), "delivered")
    assert check_escalation(LADDER, "legal_review", [letter], AS_OF).allowed


def test_an_unguarded_light_action_is_allowed_with_its_reason() -> None:
    decision = check_escalation(LADDER, "sms", [], AS_OF)
    assert (decision.allowed, decision.reasons) == (True, ("met: sms needs no earlier step",))


def test_a_heavy_action_the_ladder_does_not_guard_is_refused() -> None:
    bare = Ladder("bare", 1, (Stage("mid", "中期", "Mid", (EntryRule(dpd_min=31),)),))
    decision = check_escalation(bare, "lawyers_letter", EVERYTHING, AS_OF)
    assert decision.reasons == ("missing: a guard for lawyers_letter in ladder bare v1",)


def test_a_ladder_that_offers_a_heavy_action_must_guard_it() -> None:
    with pytest.raises(DomainError, match="stage 'late' heavy: field_visit_request has no guard"):
        Ladder(
            "t",
            1,
            (
                Stage(
                    "late", "后期", "Late", (EntryRule(dpd_min=91),), heavy=("field_visit_request",)
                ),
            ),
        )


def test_guards_that_require_each_other_are_refused() -> None:
    with pytest.raises(DomainError, match=r"cycle.*lawyers_letter → legal_review → lawyers_letter"):
        Ladder(
            "t",
            1,
            (Stage("legal", "法律", "Legal", (EntryRule(dpd_min=181),)),),
            guards=(
                Guard("lawyers_letter", (Requirement("legal_review"),)),
                Guard("legal_review", (Requirement("lawyers_letter"),)),
            ),
        )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ActionRecord("call", AS_OF, "hung_up"), "outcome 'hung_up' is unknown"),
        (lambda: ActionRecord("visit", AS_OF, "done"), "action 'visit' is unknown"),
        (lambda: Guard("field_visit_request", approval=False), "always needs approval"),
        # Nobody would approve a placement or a letter: the step would be refused for ever.
        (
            lambda: Guard("agency_placement", (Requirement("call"),), approval=True),
            r"agency_placement has no approval step \(only field_visit_request is requested, "
            r"then approved\): approval cannot be true",
        ),
        (lambda: Guard("legal_review", (Requirement("legal_review"),)), "cannot require itself"),
        (lambda: Requirement("call", ("failed",), at_least=0), "at_least must be at least 1"),
        (lambda: Requirement("call", ("gone",)), r"outcome\(s\) \['gone'\] unknown"),
        # as_of − within_days would fall off the calendar and stop the run.
        (lambda: Requirement("call", within_days=10**9), "within_days must be at most 109572"),
    ],
)
def test_bad_records_and_guards_are_refused(build: object, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        build()  # type: ignore[operator]


def test_every_contact_outcome_is_a_recorded_outcome_the_guards_can_read() -> None:
    # A call to an invalid number is on record; the guards reading the record must not fail.
    from arrears.domain.contact import ALL_OUTCOMES
    from arrears.domain.escalation import ActionRecord

    for outcome in ALL_OUTCOMES:
        assert ActionRecord("call", date(2025, 1, 1), outcome).outcome == outcome


STANDING = Requirement("agency_placement", ("done",), min_days=7)
LETTER_AFTER_A_WEEK = Ladder(
    "cn-test", 4, LADDER.stages, guards=(*GUARDS[::2], Guard("lawyers_letter", (NOTICE, STANDING)))
)


def placed(on: int, recalled: int | None = None) -> list[ActionRecord]:
    """A placement `on` days ago, recalled `recalled` days ago (None: still with the agency)."""
    records = [ActionRecord("agency_placement", days_ago(on), "done")]
    if recalled is not None:
        records.append(ActionRecord("agency_recall", days_ago(recalled), "done"))
    return records


@pytest.mark.parametrize(
    ("history", "allowed", "found"),
    [
        # Placed and recalled the same minute: no agency tried, today or a year on (helper).
        (placed(0, 0), False, "found none"),
        (placed(365, 365), False, "found none"),
        (placed(6), False, "found none"),  # with the agency six days: not yet a week
        (placed(7), True, "found 1 on 1 day(s)"),  # a week today
        (placed(30, 24), False, "found none"),  # recalled after six days
        (placed(30, 23), True, "found 1 on 1 day(s)"),  # recalled after a week
        # A recall not yet made on the day asked about does not end it.
        ([*placed(10), ActionRecord("agency_recall", days_ago(-1), "done")], True, "found 1"),
        # A recall the agency refused (failed) ends nothing.
        ([*placed(10), ActionRecord("agency_recall", days_ago(9), "failed")], True, "found 1"),
        # Each recall ends the oldest placement standing: placed, recalled and placed again
        # the same day, the second placement stands on.
        ([*placed(40, 10), *placed(10)], True, "found 2 on 2 day(s)"),
        # Placed and recalled twice at once: neither stood.
        ([*placed(40, 40), *placed(10, 10)], False, "found none"),
    ],
)
def test_a_placement_counts_once_it_stood_its_min_days(
    history: list[ActionRecord], allowed: bool, found: str
) -> None:
    decision = check_escalation(LETTER_AFTER_A_WEEK, "lawyers_letter", [NOTICE_SENT, *history],
                                AS_OF)  # fmt: skip
    assert decision.allowed is allowed, decision.reasons
    [reason] = {r for r in (*decision.reasons, *decision.met) if "agency_placement" in r}
    assert "agency_placement done standing ≥ 7 days" in reason
    assert found in reason


def test_min_days_that_no_record_of_its_window_can_meet_is_refused() -> None:
    with pytest.raises(DomainError, match="min_days 31 cannot be met by a record of the last 30"):
        Requirement("agency_placement", ("done",), within_days=30, min_days=31)
    with pytest.raises(DomainError, match="min_days must be at least 1, got 0"):
        Requirement("agency_placement", ("done",), min_days=0)
    with pytest.raises(DomainError, match="min_days must be at most 109572"):
        Requirement("agency_placement", ("done",), min_days=10**9)
