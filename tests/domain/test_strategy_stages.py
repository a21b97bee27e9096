"""Stage assignment: worst-first, first match wins, each boundary of the default ladder."""

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arrears.domain.delinquency import BUCKETS, bucket_for
from arrears.domain.entry_rules import reason_words
from arrears.domain.errors import DomainError
from arrears.domain.strategy import EntryRule, Ladder, LoanFacts, Stage, assign_stage


def stage(name: str, *entry: EntryRule) -> Stage:
    return Stage(name, name, name.title(), entry)


# The shape of the shipped China ladder, built in code (the file is tested in the adapters).
LADDER = Ladder(
    "test",
    1,
    (
        stage("legal", EntryRule(dpd_min=181), EntryRule(flags=frozenset({"legal"}))),
        stage("late", EntryRule(dpd_min=91, dpd_max=180)),
        stage("mid", EntryRule(dpd_min=31, dpd_max=90)),
        stage("early", EntryRule(dpd_min=1, dpd_max=30, buckets=frozenset({"M1"}))),
        stage("grace", EntryRule(dpd_min=1, buckets=frozenset({"M0"}))),
        stage("pre_due", EntryRule(dpd_max=0, due_within=3)),
    ),
)


def facts(
    dpd: int,
    grace: int = 3,
    overdue: int = 100_000,
    due_in: int | None = None,
    segment: str | None = None,
    score: int | None = None,
    flags: frozenset[str] = frozenset(),
    settled: bool = False,
    lent: bool = True,
) -> LoanFacts:
    return LoanFacts(
        "L1",
        dpd,
        overdue,
        500_000,
        bucket_for(dpd, grace),
        settled,
        due_in,
        segment,
        score,
        flags,
        lent,
    )


@pytest.mark.parametrize(
    ("dpd", "grace", "expected"),
    [
        (0, 3, "current"),
        (1, 3, "grace"),
        (3, 3, "grace"),  # the last grace day
        (4, 3, "early"),  # grace + 1
        (1, 0, "early"),  # no grace: overdue is early from day 1
        (15, 15, "grace"),
        (16, 15, "early"),
        (30, 3, "early"),
        (31, 3, "mid"),
        (90, 3, "mid"),
        (91, 3, "late"),
        (180, 3, "late"),
        (181, 3, "legal"),
        (400, 3, "legal"),
    ],
)
def test_each_dpd_boundary_lands_in_its_stage(dpd: int, grace: int, expected: str) -> None:
    assert assign_stage(LADDER, facts(dpd, grace)).stage == expected


@pytest.mark.parametrize(("due_in", "expected"), [(0, "pre_due"), (3, "pre_due"), (4, "current")])
def test_pre_due_is_a_current_loan_due_within_three_days(due_in: int, expected: str) -> None:
    assert assign_stage(LADDER, facts(0, due_in=due_in)).stage == expected


def test_the_reason_names_the_rule_that_matched() -> None:
    assert assign_stage(LADDER, facts(52)).reason == "dpd 52 in 31..90"
    assert assign_stage(LADDER, facts(200)).reason == "dpd 200 ≥ 181"
    assert assign_stage(LADDER, facts(12)).reason == "dpd 12 in 1..30, bucket M1"
    assert assign_stage(LADDER, facts(0, due_in=2)).reason == "dpd 0 ≤ 0, due in 2 day(s) ≤ 3"
    assert assign_stage(LADDER, facts(0)).reason == "no stage rule matched (dpd 0)"


def test_an_explicit_legal_flag_takes_a_loan_to_legal_at_any_dpd() -> None:
    decision = assign_stage(LADDER, facts(40, flags=frozenset({"legal", "vip"})))
    assert (decision.stage, decision.reason) == ("legal", "flag legal")


def test_a_settled_loan_is_settled_whatever_the_rules_say() -> None:
    decision = assign_stage(LADDER, facts(200, settled=True))
    assert (decision.stage, decision.reason) == ("settled", "loan settled")


def test_a_loan_not_yet_lent_is_in_no_stage_of_the_ladder() -> None:
    # Signed after the day: no pre-due reminder, not even a legal flag moves it.
    for loan in (facts(0, due_in=1, lent=False), facts(0, flags=frozenset({"legal"}), lent=False)):
        decision = assign_stage(LADDER, loan)
        assert (decision.stage, decision.reason) == ("not_lent", "loan not yet lent")
        assert reason_words(decision.reason) == decision.words
    assert assign_stage(LADDER, facts(0, due_in=1)).stage == "pre_due"


@pytest.mark.parametrize("name", ["settled", "not_lent"])
def test_the_reserved_stages_are_refused_in_a_ladder(name: str) -> None:
    with pytest.raises(DomainError, match="reserved"):
        Ladder("mine", 1, (stage(name, EntryRule(dpd_min=1)),))
    with pytest.raises(DomainError, match="default_stage must name a stage"):
        Ladder("mine", 1, (stage("early", EntryRule(dpd_min=1)),), default_stage=name)


def test_first_match_wins_between_overlapping_stages() -> None:
    ladder = Ladder(
        "overlap",
        1,
        (
            stage("mid-large", EntryRule(dpd_min=31, dpd_max=90, amount_min=500_000)),
            stage("mid", EntryRule(dpd_min=31, dpd_max=90)),
        ),
    )
    assert assign_stage(ladder, facts(40, overdue=500_000)).stage == "mid-large"
    assert assign_stage(ladder, facts(40, overdue=499_999)).stage == "mid"
    reason = assign_stage(ladder, facts(40, overdue=600_000)).reason
    assert reason == "dpd 40 in 31..90, overdue 6000.00 ≥ 5000.00"


def test_amount_bounds_are_inclusive_on_the_overdue_total() -> None:
    rule = EntryRule(amount_min=10_000, amount_max=20_000)
    assert [rule.matches(facts(5, overdue=v)) for v in (9_999, 10_000, 20_000, 20_001)] == [
        False,
        True,
        True,
        False,
    ]


def test_segment_rules_match_only_the_listed_segments() -> None:
    ladder = Ladder(
        "segments",
        1,
        (
            stage("hardship", EntryRule(dpd_min=1, segments=frozenset({"hardship", "student"}))),
            stage("early", EntryRule(dpd_min=1)),
        ),
    )
    assert assign_stage(ladder, facts(10, segment="student")).stage == "hardship"
    assert assign_stage(ladder, facts(10, segment="student")).reason == (
        "dpd 10 ≥ 1, segment student"
    )
    assert assign_stage(ladder, facts(10, segment="prime")).stage == "early"
    assert assign_stage(ladder, facts(10)).stage == "early"


def test_score_rules_need_a_score_inside_the_bounds() -> None:
    rule = EntryRule(score_max=550)
    assert rule.matches(facts(10, score=550))
    assert not rule.matches(facts(10, score=551))
    assert not rule.matches(facts(10))  # an unscored loan is not a low-score loan


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"dpd_min": 90, "dpd_max": 31}, "dpd_min 90 > dpd_max 31"),
        ({"amount_min": 2, "amount_max": 1}, "amount_min 2 > amount_max 1"),
        ({"score_min": 700, "score_max": 600}, "score_min 700 > score_max 600"),
        ({"dpd_min": -1}, "dpd_min must not be negative"),
        ({"buckets": frozenset({"M9"})}, r"bucket\(s\) \['M9'\] unknown"),
        ({"segments": frozenset()}, "segments must not be empty"),
        ({"flags": frozenset({"vip"})}, r"flag 'vip' is unknown \(known: legal\)"),
        ({}, "needs at least one condition"),
        (
            {"dpd_max": 30, "buckets": frozenset({"M4"})},
            r"bucket\(s\) \['M4'\] are never at dpd 0..30: the rule can never match",
        ),
        ({"dpd_max": 0, "buckets": frozenset({"M2", "M1"})}, r"\['M1', 'M2'\] are never"),
        ({"dpd_min": 367, "buckets": frozenset({"M0"})}, r"never at dpd 367..: the rule"),
    ],
)
def test_impossible_entry_rules_are_refused(rule: dict[str, object], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        EntryRule(**rule)  # type: ignore[arg-type]


def test_a_stage_hidden_behind_the_union_of_earlier_stages_is_refused() -> None:
    with pytest.raises(
        DomainError, match=r"stage 'stray' entry 1 can never match: .*'early', 'mid'"
    ):
        Ladder(
            "hidden",
            1,
            (
                stage("mid", EntryRule(dpd_min=31, dpd_max=90)),
                stage("early", EntryRule(dpd_min=1, dpd_max=30)),
                stage("stray", EntryRule(dpd_min=10, dpd_max=60, segments=frozenset({"x"}))),
            ),
        )


def test_a_narrower_earlier_stage_does_not_hide_a_wider_later_one() -> None:
    ladder = Ladder(
        "fine",
        1,
        (
            stage("vip", EntryRule(dpd_min=1, segments=frozenset({"vip"}))),
            stage("early", EntryRule(dpd_min=1, dpd_max=30)),
            stage("late", EntryRule(dpd_min=20)),  # partly overlapped, still reachable at 31+
        ),
    )
    assert assign_stage(ladder, facts(45)).stage == "late"


def test_an_open_ended_stage_behind_an_open_ended_one_is_refused() -> None:
    with pytest.raises(DomainError, match="stage 'legal' entry 1 can never match"):
        Ladder(
            "open",
            1,
            (stage("late", EntryRule(dpd_min=91)), stage("legal", EntryRule(dpd_min=181))),
        )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.none(), st.integers(0, 400)), st.one_of(st.none(), st.integers(0, 400)),
    st.frozensets(st.sampled_from(BUCKETS), min_size=1),
)  # fmt: skip
def test_a_rule_of_buckets_and_days_is_refused_exactly_when_no_loan_can_match_it(
    low: int | None, high: int | None, buckets: frozenset[str]
) -> None:
    # At d days past due a loan is in bucket_for(d, 0), or in M0 when its grace covers d
    # (grace up to 366 days): those are every bucket a loan can be in at d.
    assume(low is None or high is None or low <= high)
    days = range(low or 0, (400 if high is None else high) + 1)
    possible = any(bucket_for(d, 0) in buckets or (d <= 366 and "M0" in buckets) for d in days)
    if possible:
        EntryRule(dpd_min=low, dpd_max=high, buckets=buckets)
    else:
        with pytest.raises(DomainError, match="can never match"):
            EntryRule(dpd_min=low, dpd_max=high, buckets=buckets)


@pytest.mark.parametrize(
    ("rule", "loan"),
    [
        (EntryRule(dpd_min=181), facts(200)),
        (EntryRule(dpd_min=31, dpd_max=90), facts(45)),
        (EntryRule(dpd_min=1, dpd_max=30, buckets=frozenset({"M1"})), facts(12)),
        (EntryRule(dpd_max=0, due_within=3), facts(0, due_in=2)),
        (EntryRule(flags=frozenset({"legal"})), facts(5, flags=frozenset({"legal"}))),
        (EntryRule(amount_min=50_000, score_max=600), facts(40, score=550)),
        (EntryRule(segments=frozenset({"a, b", "c"}), dpd_min=1), facts(9, segment="a, b")),
        (EntryRule(segments=frozenset({"x"})), facts(9, segment="x")),
    ],
)
def test_a_stored_reason_reads_back_into_its_words(rule: EntryRule, loan: LoanFacts) -> None:
    # The run stores the reason as text; a page reads it back to show it in its reader's
    # language (the same words, so the same English).
    assert rule.matches(loan)
    assert reason_words(rule.describe(loan)) == rule.words(loan)
    assert str(rule.words(loan)) == rule.describe(loan)


def test_the_reasons_of_no_rule_read_back_and_other_texts_do_not() -> None:
    for loan in (facts(0), facts(0, settled=True)):
        decision = assign_stage(LADDER, loan)
        assert reason_words(decision.reason) == decision.words
    assert reason_words("reviewed by hand") is None
    assert reason_words("dpd 5 somewhere") is None
    assert reason_words("bucket M1, reviewed by hand") is None
