"""Champion/challenger: a weighted split that is the same on every run and machine."""

from collections import Counter

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.experiments import split_point
from arrears.domain.strategy import EntryRule, Experiment, Ladder, Stage, arm_for, assign_arms

EARLY = Experiment("early-first-call", "cn-early-2026", (("champion", 80), ("challenger", 20)))
IDS = [f"L{n:07d}" for n in range(10_000)]


def test_a_loan_always_falls_in_the_same_arm() -> None:
    # Pinned: sha256("cn-early-2026:L0000001"), so a change of hash or walk order fails here.
    assert split_point("cn-early-2026", "L0000001", 100) == 25
    assert arm_for("L0000001", EARLY) == "champion"
    assert [arm_for(i, EARLY) for i in ("L0000000", "L0000002", "L0000003")] == [
        "challenger",
        "champion",
        "challenger",
    ]
    assert all(arm_for(i, EARLY) == arm_for(i, EARLY) for i in IDS[:100])


def test_the_split_follows_the_weights_on_ten_thousand_loans() -> None:
    counts = Counter(arm_for(i, EARLY) for i in IDS)
    # Binomial sd at p = 0.2, n = 10,000 is 40 loans: ±150 is almost 4 sd.
    assert abs(counts["challenger"] - 2_000) <= 150
    assert counts["champion"] + counts["challenger"] == 10_000


def test_three_arms_split_by_their_weights() -> None:
    three = Experiment("three", "s3", (("a", 50), ("b", 30), ("c", 20)))
    counts = Counter(arm_for(i, three) for i in IDS)
    assert abs(counts["a"] - 5_000) <= 200
    assert abs(counts["b"] - 3_000) <= 200
    assert abs(counts["c"] - 2_000) <= 150


def test_reordering_the_arms_in_a_file_changes_no_loan() -> None:
    swapped = Experiment(EARLY.name, EARLY.salt, (("challenger", 20), ("champion", 80)))
    assert all(arm_for(i, EARLY) == arm_for(i, swapped) for i in IDS)


def test_raising_the_challenger_weight_only_moves_loans_into_the_challenger() -> None:
    wider = Experiment(EARLY.name, EARLY.salt, (("champion", 70), ("challenger", 30)))
    moved = [i for i in IDS if arm_for(i, EARLY) != arm_for(i, wider)]
    assert moved
    assert all(arm_for(i, EARLY) == "champion" and arm_for(i, wider) == "challenger" for i in moved)


def test_a_new_salt_draws_an_independent_split() -> None:
    other = Experiment("other", "another-salt", EARLY.arms)
    challengers = [i for i in IDS if arm_for(i, EARLY) == "challenger"]
    again = sum(arm_for(i, other) == "challenger" for i in challengers)
    assert abs(again / len(challengers) - 0.2) < 0.05


def test_the_ladder_gives_a_loan_its_arm_in_each_experiment() -> None:
    ladder = Ladder(
        "t",
        1,
        (Stage("early", "初期", "Early", (EntryRule(dpd_min=1),)),),
        (EARLY, Experiment("tone", "tone-1", (("soft", 1), ("firm", 1)))),
    )
    arms = assign_arms(ladder, "L0000003")
    assert arms == {
        "early-first-call": "challenger",
        "tone": arm_for("L0000003", ladder.experiments[1]),
    }


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        (
            (("champion", 80), ("challenger", 0)),
            "'challenger' weight must be a positive integer, got 0",
        ),
        ((("champion", -5),), "weight must be a positive integer, got -5"),
        ((("champion", True),), "weight must be a positive integer, got True"),
        ((), "needs at least one arm"),
        ((("a", 1), ("a", 2)), "arm names must be unique"),
    ],
)
def test_bad_experiments_are_refused(arms: tuple[tuple[str, int], ...], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        Experiment("e", "salt", arms)


def test_an_arm_name_may_belong_to_one_experiment_only() -> None:
    with pytest.raises(DomainError, match="arm 'champion' is in more than one experiment"):
        Ladder(
            "t",
            1,
            (Stage("early", "初期", "Early", (EntryRule(dpd_min=1),)),),
            (EARLY, Experiment("again", "x", (("champion", 1), ("b", 1)))),
        )


@pytest.mark.parametrize(
    ("name", "arms"),
    [("e", (("a=b", 1),)), ("e", (("a;b", 1),)), ("tone=1", (("a", 1),)), ("t;x", (("a", 1),))],
)
def test_a_name_the_case_record_cannot_hold_is_refused(
    name: str, arms: tuple[tuple[str, int], ...]
) -> None:
    # A case records 'experiment=arm;…': 'a=b' was read back as 'b', 'a;b' as 'a' and 'b',
    # and the arm's treatments were never planned.
    bad = next(n for n in (name, *(a for a, _ in arms)) if "=" in n or ";" in n)
    with pytest.raises(DomainError) as refused:
        Experiment(name, "salt", arms)
    assert str(refused.value) == (
        f"{bad!r}: an experiment's or arm's name must not contain '=' or ';'"
    )
