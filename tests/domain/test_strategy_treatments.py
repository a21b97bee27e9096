"""Treatments: which action falls on which day of a stage, repeats, and experiment arms."""

from datetime import date

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.strategy import (
    ActionRecord,
    EntryRule,
    Experiment,
    Ladder,
    Stage,
    Treatment,
    done_since,
    due_treatments,
)

SMS = Treatment(0, "sms", "early_sms")
CHAMPION_CALL = Treatment(1, "call", "early_call", every=2, arms=frozenset({"champion"}))
CHALLENGER_CALL = Treatment(0, "call", "early_call", every=2, arms=frozenset({"challenger"}))
WEEKLY_EMAIL = Treatment(7, "email", "early_email", every=7, until=21)
LADDER = Ladder(
    "test",
    1,
    (
        Stage(
            "early",
            "逾期初期",
            "Early",
            (EntryRule(dpd_min=1, dpd_max=30),),
            (SMS, CHAMPION_CALL, CHALLENGER_CALL, WEEKLY_EMAIL),
        ),
    ),
    (Experiment("first-call", "salt", (("champion", 80), ("challenger", 20))),),
)


def actions(day: int, arm: str | None = "champion") -> list[str]:
    return [f"{t.action}:{t.template}" for t in due_treatments(LADDER, "early", day, arm)]


def test_day_zero_is_the_day_the_loan_entered_the_stage() -> None:
    assert actions(0) == ["sms:early_sms"]
    assert actions(0, "challenger") == ["sms:early_sms", "call:early_call"]


def test_every_n_days_repeats_from_the_first_day_while_in_the_stage() -> None:
    calls = [d for d in range(12) if "call:early_call" in actions(d)]
    assert calls == [1, 3, 5, 7, 9, 11]
    challenger_calls = [d for d in range(12) if "call:early_call" in actions(d, "challenger")]
    assert challenger_calls == [0, 2, 4, 6, 8, 10]  # a day earlier than the champion


def test_repeats_stop_after_until() -> None:
    emails = [d for d in range(40) if "email:early_email" in actions(d)]
    assert emails == [7, 14, 21]


def test_without_an_arm_a_loan_gets_only_the_treatments_for_everyone() -> None:
    assert actions(1, None) == []
    assert actions(7, None) == ["email:early_email"]


def test_a_loan_in_several_experiments_gives_all_its_arms() -> None:
    due = due_treatments(LADDER, "early", 1, ["champion", "other-arm"])
    assert [t.action for t in due] == ["call"]


PLACEMENT = Treatment(0, "agency_placement", "placement", every=7, until_done=True)
LATE_SMS = Treatment(0, "sms", "late_sms", every=7)
LATE = Ladder(
    "late", 1, (Stage("late", "逾期后期", "Late", (EntryRule(dpd_min=91),), (PLACEMENT, LATE_SMS)),)
)


def test_an_until_done_treatment_repeats_until_its_action_is_done_since_the_stage_began() -> None:
    entered = date(2026, 3, 1)
    refused = [ActionRecord("agency_placement", date(2026, 3, 1), "failed")]
    placed = [*refused, ActionRecord("agency_placement", date(2026, 3, 8), "done")]
    before = [ActionRecord("agency_placement", date(2026, 2, 1), "done")]  # an earlier stint

    def due(day: int, records: list[ActionRecord]) -> list[str]:
        done = done_since(records, entered)
        return [t.action for t in due_treatments(LATE, "late", day, None, done)]

    assert [d for d in range(22) if "agency_placement" in due(d, refused)] == [0, 7, 14, 21]
    assert due(14, placed) == ["sms"]  # placed on day 7: not again; the plain repeat goes on
    assert due(7, before) == ["agency_placement", "sms"]  # done before this stage: counts not
    assert due(3, []) == []


def test_a_when_done_treatment_waits_for_its_prerequisite_on_record() -> None:
    recall = Treatment(0, "agency_recall", "recall", when_done="agency_placement")
    legal = Ladder("legal", 1, (Stage("legal", "法律程序", "Legal", (EntryRule(dpd_min=181),),
                                      (recall,)),))  # fmt: skip
    assert due_treatments(legal, "legal", 0, None, (), ever=("agency_placement",)) == [recall]
    assert due_treatments(legal, "legal", 0, None, (), ever=("formal_notice",)) == []
    with pytest.raises(DomainError, match="action 'agency' is unknown"):
        Treatment(0, "agency_recall", "recall", when_done="agency")


def test_the_default_and_settled_stages_have_nothing_due_unless_declared() -> None:
    assert due_treatments(LADDER, "current", 0) == []
    assert due_treatments(LADDER, "settled", 5) == []


def test_an_unknown_stage_or_a_negative_day_is_refused() -> None:
    with pytest.raises(DomainError, match="stage 'mid' is not in ladder test v1"):
        due_treatments(LADDER, "mid", 0)
    with pytest.raises(DomainError, match="days_in_stage must not be negative"):
        due_treatments(LADDER, "early", -1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day": -1}, "day must not be negative, got -1"),
        ({"action": "fax"}, "action 'fax' is unknown"),
        ({"every": 0}, "every must be at least 1"),
        ({"until": 5}, "until 5 needs `every`"),
        ({"until_done": True}, "until_done needs `every`"),
        ({"template": ""}, "template must not be empty"),
        ({"arms": frozenset()}, "arms must not be empty"),
    ],
)
def test_bad_treatments_are_refused(kwargs: dict[str, object], message: str) -> None:
    spec: dict[str, object] = {"day": 0, "action": "sms", "template": "t", **kwargs}
    with pytest.raises(DomainError, match=message):
        Treatment(**spec)  # type: ignore[arg-type]


def test_a_treatment_for_an_arm_of_no_experiment_is_refused() -> None:
    with pytest.raises(DomainError, match=r"treatment 1: arm\(s\) \['challenger'\] are not arms"):
        Ladder(
            "t",
            1,
            (
                Stage(
                    "early",
                    "初期",
                    "Early",
                    (EntryRule(dpd_min=1),),
                    (Treatment(0, "call", "c", arms=frozenset({"challenger"})),),
                ),
            ),
        )


def test_a_declared_default_stage_carries_treatments_but_no_entry_rule() -> None:
    welcome = Treatment(0, "email", "welcome")
    ladder = Ladder(
        "t",
        1,
        (
            Stage("early", "初期", "Early", (EntryRule(dpd_min=1),)),
            Stage("current", "正常", "Current", (), (welcome,)),
        ),
    )
    assert due_treatments(ladder, "current", 0) == [welcome]
    with pytest.raises(DomainError, match="is the default stage, entered when no rule matches"):
        Ladder("t", 1, (Stage("current", "正常", "Current", (EntryRule(dpd_max=0),)),))


def test_owed_treatments_come_in_harsher_stages_once_and_only_while_never_done() -> None:
    notice = Treatment(0, "formal_notice", "notice", owed=True)
    offer = Treatment(0, "letter", "offer", owed=True)
    ladder = Ladder("owed", 1, (
        Stage("legal", "法律", "Legal", (EntryRule(dpd_min=181),), (SMS,)),
        # "late" sends the notice itself: the owed copy from "mid" must not come too.
        Stage("late", "后期", "Late", (EntryRule(dpd_min=91, dpd_max=180),),
              (Treatment(0, "formal_notice", "notice"),)),
        Stage("mid", "中期", "Mid", (EntryRule(dpd_min=31, dpd_max=90),), (notice, offer)),
        Stage("early", "初期", "Early", (EntryRule(dpd_min=1, dpd_max=30),),
              (Treatment(0, "letter", "offer", owed=True),)),
    ))  # fmt: skip

    def due(stage: str, day: int, *ever: str) -> list[str]:
        return [f"{t.action}:{t.template}" for t in due_treatments(ladder, stage, day, ever=ever)]

    assert due("late", 0) == ["formal_notice:notice", "letter:offer"]  # the offer once
    assert due("legal", 0) == ["sms:early_sms", "formal_notice:notice", "letter:offer"]
    assert due("legal", 0, "letter", "formal_notice") == ["sms:early_sms"]
    assert due("legal", 1) == []
    # In its own stage an owed treatment comes on its day as any other.
    assert due("mid", 0, "letter", "formal_notice") == ["formal_notice:notice", "letter:offer"]
