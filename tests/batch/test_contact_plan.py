"""The contact plan never breaks a rule: over random histories, every planned contact is still
allowed with everything else planned that day counted; what is refused names its rule."""

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters.strategy_file import load_ladder
from arrears.batch.contact_plan import CHANNEL_OF, PRESSING, plan_actions
from arrears.batch.due_treatments import due_candidates
from arrears.batch.plan_people import KnownHistory, People
from arrears.domain.compliance import decide_contact
from arrears.domain.contact import ContactAttempt, ContactFacts, ContactRequest, Hold, OptOut
from arrears.domain.escalation import ActionRecord
from tests.contact_factories import CN, CN_PHONE, SHANGHAI, US, local, people_of

DAY = date(2026, 3, 2)
LADDER = load_ladder("cn")
ACTIONS = ("sms", "call", "email", "letter", "formal_notice")
PACKS = {"cn": CN, "us": US}


def candidates_of(*due: tuple[str, str]) -> pl.DataFrame:
    """Loan L1 of borrower B on the champion arm with each (stage, action) due, template t."""
    columns = ["loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template"]
    rows = [("L1", "B", stage, LADDER.label, "x=champion", action, "t") for stage, action in due]
    return pl.DataFrame(rows, schema=columns, orient="row")


@st.composite
def histories(draw: st.DrawFn) -> tuple[People, dict[str, ContactFacts], pl.DataFrame]:
    borrowers = [f"B{n}" for n in range(draw(st.integers(1, 3)))]
    attempts: dict[str, list[ContactAttempt]] = {}
    holds: dict[str, list[Hold]] = {}
    opt_outs: dict[str, list[OptOut]] = {}
    for borrower in borrowers:
        made = []
        for _ in range(draw(st.integers(0, 8))):
            day = DAY - timedelta(days=draw(st.integers(0, 8)))
            at = local(day, f"{draw(st.integers(8, 21)):02d}:{draw(st.integers(0, 59)):02d}")
            channel = draw(st.sampled_from(["call", "call", "sms"]))
            outcomes = ["connected", "no_answer", "busy"] if channel == "call" else ["sent"]
            made.append(
                ContactAttempt(at, channel, CN_PHONE, None, draw(st.sampled_from(outcomes)))
            )
        attempts[borrower] = made
        if draw(st.integers(0, 9)) == 0:
            holds[borrower] = [Hold("dispute", DAY - timedelta(days=3))]
        if draw(st.integers(0, 9)) == 0:
            opt_outs[borrower] = [OptOut("sms", local(DAY - timedelta(days=20), "10:00"))]
    people = people_of(borrowers, attempts, holds, opt_outs)
    rows = [
        (f"L{b}-{k}", b, "early", LADDER.label, "x=champion", draw(st.sampled_from(ACTIONS)),
         f"t{k}")
        for b in borrowers
        for k in range(draw(st.integers(1, 6)))
    ]  # fmt: skip
    columns = ["loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template"]
    facts = {
        b: ContactFacts((SHANGHAI,), SHANGHAI, tuple(attempts[b]), tuple(holds.get(b, ())),
                        tuple(opt_outs.get(b, ())))
        for b in borrowers
    }  # fmt: skip
    return people, facts, pl.DataFrame(rows, schema=columns, orient="row")


@settings(max_examples=120, deadline=None)
@given(histories())
def test_no_planned_contact_breaks_a_rule(
    case: tuple[People, dict[str, ContactFacts], pl.DataFrame],
) -> None:
    people, facts, candidates = case
    plan, blocked = plan_actions(
        candidates, {LADDER.label: LADDER}, PACKS, {LADDER.label: "cn"}, people, {}, DAY
    )
    assert plan.height + blocked.select("loan_id", "action").unique().height <= candidates.height
    for item in plan.iter_rows(named=True):
        borrower = item["borrower_id"]
        others = [
            ContactAttempt(p["window_start"], p["channel"], CN_PHONE, None,
                           "connected" if p["channel"] == "call" else "sent")
            for p in plan.iter_rows(named=True)
            if p["borrower_id"] == borrower and p["action_key"] != item["action_key"]
        ]  # fmt: skip
        known = facts[borrower]
        known = type(known)(known.zones, known.day_zone, known.attempts + tuple(others),
                            known.holds, known.opt_outs)  # fmt: skip
        for at in (item["window_start"], item["window_end"] - timedelta(seconds=1)):
            request = ContactRequest(borrower, item["channel"], at, CN_PHONE)
            decision = decide_contact(request, known, CN)
            assert decision.allowed, (item, list(decision.broken))
    for row in blocked.iter_rows(named=True):
        assert row["rule"]
        assert row["detail"]


def test_a_held_borrower_gets_no_contact_and_the_hold_is_named() -> None:
    people = people_of(["B"], {}, {"B": [Hold("dispute", DAY - timedelta(days=1))]}, {})
    candidates = candidates_of(("early", "sms"), ("early", "agency_recall"))
    plan, blocked = plan_actions(
        candidates, {LADDER.label: LADDER}, PACKS, {LADDER.label: "cn"}, people, {}, DAY
    )
    assert plan.get_column("action").to_list() == ["agency_recall"]  # internal: nobody contacted
    assert CHANNEL_OF["agency_recall"] is None
    assert blocked.get_column("rule").to_list() == ["cn.hold"]


@pytest.mark.parametrize("action", sorted(PRESSING))
def test_a_hold_stops_the_steps_that_press_for_payment_without_contacting_anyone(
    action: str,
) -> None:
    # A placement, a visit request or a legal review contacts nobody, but presses for payment:
    # a dispute stops it as it stops a call (cn.hold: GB/T 45251-2025), as the desk's filing.
    def blocked_rules(hold: Hold) -> list[str]:
        people = people_of(["B"], {}, {"B": [hold]}, {})
        candidates = candidates_of(("late", action))
        _, blocked = plan_actions(
            candidates, {LADDER.label: LADDER}, PACKS, {LADDER.label: "cn"}, people, {}, DAY
        )
        return blocked.get_column("rule").to_list()

    held = blocked_rules(Hold("dispute", DAY - timedelta(days=5)))
    assert "cn.hold" in held
    # A hold that ended the day before stops nothing.
    assert "cn.hold" not in blocked_rules(
        Hold("dispute", DAY - timedelta(days=5), DAY - timedelta(days=1))
    )


def test_heavy_actions_wait_for_their_guard() -> None:
    people = people_of(["B"], {}, {}, {})
    candidates = candidates_of(("legal", "lawyers_letter"))
    plan, blocked = plan_actions(
        candidates, {LADDER.label: LADDER}, PACKS, {LADDER.label: "cn"}, people, {}, DAY
    )
    assert plan.height == 0
    [row] = blocked.iter_rows(named=True)
    assert row["rule"] == "escalation.lawyers_letter"
    assert "missing" in row["detail"]


def test_the_night_takes_no_placement_recalled_at_once_as_the_agency_tried() -> None:
    # The same guard as the desk's (check_escalation): a placement and its recall of one day
    # never stood, so the letter waits; one the agency held a week opens it.
    people = people_of(["B"], {}, {}, {})
    candidates = candidates_of(("legal", "lawyers_letter"))
    notice = ActionRecord("formal_notice", DAY - timedelta(days=40), "sent")
    placed = ActionRecord("agency_placement", DAY - timedelta(days=20), "done")
    recalled = ActionRecord("agency_recall", DAY - timedelta(days=20), "done")

    def letters(records: list[ActionRecord]) -> tuple[int, list[str]]:
        plan, blocked = plan_actions(
            candidates, {LADDER.label: LADDER}, PACKS, {LADDER.label: "cn"}, people,
            {"L1": records}, DAY,
        )  # fmt: skip
        return plan.height, blocked.get_column("detail").to_list()

    assert letters([notice, placed, recalled]) == (
        0, ["missing: agency_placement done standing ≥ 7 days (found none)"]
    )  # fmt: skip
    assert letters([notice, placed]) == (1, [])


def test_a_placement_its_guard_refused_is_tried_again_a_week_later_until_it_is_done() -> None:
    people = people_of(["B"], {}, {}, {})
    cases = pl.DataFrame(
        [("L1", "B", "late", DAY, LADDER.label, "early-first-call=champion")],
        schema=["loan_id", "borrower_id", "stage", "entered_on", "ladder", "arm"], orient="row",
    )  # fmt: skip
    gentle = [ActionRecord("formal_notice", DAY - timedelta(days=40), "sent")] + [
        ActionRecord("call", DAY + timedelta(days=d), "no_answer") for d in (1, 2, 2)
    ]
    placed = [*gentle, ActionRecord("agency_placement", DAY + timedelta(days=7), "done")]

    def placement(day: int, records: list[ActionRecord]) -> tuple[int, list[str]]:
        """(planned, refusing rules) of the placement on day `day` of the stage."""
        as_of = DAY + timedelta(days=day)
        history = KnownHistory({"L1": records})
        due = due_candidates(cases, {"p": LADDER}, as_of, history)
        due = due.filter(pl.col("action") == "agency_placement")
        plan, blocked = plan_actions(
            due, {LADDER.label: LADDER}, PACKS, {LADDER.label: "cn"}, people, history, as_of
        )
        return plan.height, blocked.get_column("rule").to_list()

    assert placement(0, []) == (0, ["escalation.agency_placement"])  # no gentler steps yet
    assert placement(3, gentle) == (0, [])  # not a day to try
    assert placement(7, gentle) == (1, [])  # tried again: now the guard lets it through
    assert placement(14, placed) == (0, [])  # done on day 7: not repeated
