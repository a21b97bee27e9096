"""Stage expressions equal the domain's assign_stage; promises are judged kept or broken."""

import tomllib
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters.strategy_file import load_ladder, parse_ladder
from arrears.batch.book import PAYMENT_SCHEMA
from arrears.batch.due_treatments import due_candidates
from arrears.batch.plan_people import KnownHistory
from arrears.batch.promises import PROMISE_SCHEMA, evaluate_promises, judged_afresh
from arrears.batch.stages import CASE_SCHEMA, stage_expr, transition
from arrears.domain.delinquency import bucket_for
from arrears.domain.entry_rules import LoanFacts
from arrears.domain.escalation import ActionRecord, done_since
from arrears.domain.experiments import arm_for
from arrears.domain.ladder import Ladder, assign_arms, assign_stage, due_treatments
from arrears.domain.loan import Payment
from arrears.domain.promises import Promise, judge_promise

LADDERS = [load_ladder(key) for key in ("cn", "us", "uk")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 5_000_000), st.booleans(),
                  st.one_of(st.none(), st.integers(-5, 40)), st.integers(0, 5), st.booleans(),
                  st.sampled_from([True, True, True, False])),
        min_size=1, max_size=30,
    ),
    st.sampled_from(LADDERS),
)  # fmt: skip
def test_the_compiled_ladder_assigns_the_domains_stage(
    rows: list[tuple[int, int, bool, int | None, int, bool, bool]], ladder: Ladder
) -> None:
    facts = [
        LoanFacts(f"L{n}", dpd, amount, amount, bucket_for(dpd, grace), settled, due,
                  flags=frozenset({"legal"}) if referred else frozenset(), lent=lent)
        for n, (dpd, amount, settled, due, grace, referred, lent) in enumerate(rows)
    ]  # fmt: skip
    frame = pl.DataFrame(
        {
            "dpd": [f.dpd for f in facts],
            "overdue_total": [f.overdue_total for f in facts],
            "bucket": [f.bucket for f in facts],
            "settled": [f.settled for f in facts],
            "lent": [f.lent for f in facts],
            "to_next_due": pl.Series([f.days_to_next_due for f in facts], dtype=pl.Int64),
            "segment": pl.Series([None] * len(facts), dtype=pl.String),
            "score": pl.Series([None] * len(facts), dtype=pl.Int64),
            "flags": pl.Series([sorted(f.flags) for f in facts], dtype=pl.List(pl.String)),
        }
    )
    got = frame.select(stage_expr(ladder).alias("stage")).get_column("stage").to_list()
    assert got == [assign_stage(ladder, f).stage for f in facts]


def test_promises_are_kept_on_the_day_payments_reach_them_and_broken_after_their_day() -> None:
    promises = pl.DataFrame(
        [("kept", "L1", 10_000, date(2026, 3, 1), date(2026, 3, 5), "open", None, 0),
         ("broken", "L2", 10_000, date(2026, 3, 1), date(2026, 3, 5), "open", None, 0),
         ("waiting", "L3", 10_000, date(2026, 3, 1), date(2026, 3, 9), "open", None, 0)],
        schema=PROMISE_SCHEMA, orient="row",
    )  # fmt: skip
    payments = pl.DataFrame(
        [("P1", "L1", 6_000, date(2026, 3, 2)), ("P2", "L1", 4_000, date(2026, 3, 4)),
         ("P3", "L2", 9_999, date(2026, 3, 5)), ("P4", "L2", 1, date(2026, 3, 6)),
         ("P5", "L3", 500, date(2026, 2, 27))],
        schema=["payment_id", "loan_id", "amount", "paid_on"], orient="row",
    )  # fmt: skip
    judged = evaluate_promises(promises, payments, date(2026, 3, 6))
    got = {r["promise_id"]: (r["status"], r["settled_on"]) for r in judged.iter_rows(named=True)}
    assert got == {
        "kept": ("kept", date(2026, 3, 4)),
        "broken": ("broken", date(2026, 3, 6)),  # a fen short by the day; late money too late
        "waiting": ("open", None),  # money before the promise does not count towards it
    }
    assert judged.filter(pl.col("promise_id") == "kept").item(0, "paid") == 10_000


def test_a_promise_counts_on_from_what_earlier_runs_counted() -> None:
    # 6,000 counted by an earlier run; tonight's 4,000 keeps it (the 6,000 is not passed again).
    promise = pl.DataFrame(
        [("p", "L1", 10_000, date(2026, 3, 1), date(2026, 3, 5), "open", None, 6_000)],
        schema=PROMISE_SCHEMA, orient="row",
    )  # fmt: skip
    tonight = pl.DataFrame(
        [("P2", "L1", 4_000, date(2026, 3, 4))],
        schema=["payment_id", "loan_id", "amount", "paid_on"], orient="row",
    )  # fmt: skip
    judged = evaluate_promises(promise, tonight, date(2026, 3, 4)).row(0, named=True)
    assert (judged["status"], judged["settled_on"], judged["paid"]) == (
        "kept",
        date(2026, 3, 4),
        10_000,
    )
    short = evaluate_promises(promise, tonight.with_columns(pl.lit(3_999).alias("amount")),
                              date(2026, 3, 4)).row(0, named=True)  # fmt: skip
    assert (short["status"], short["paid"]) == ("open", 9_999)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["p-cn", "p-us", "p-cn2"]), st.integers(0, 400),
                  st.integers(0, 5_000_000), st.booleans(),
                  st.one_of(st.none(), st.integers(-5, 40)), st.booleans()),
        min_size=1, max_size=30,
    ),
)  # fmt: skip
def test_cases_on_two_ladders_get_each_ladders_stage_reason_and_arm_in_loan_order(
    rows: list[tuple[str, int, int, bool, int | None, bool]],
) -> None:
    """Loans of products on two ladders (two products share one), side by side: each loan
    entering a stage gets its own ladder's stage and reason and, without an arm yet, its own
    arms of the experiments its stage runs, as the domain assigns them; a loan staying in its
    stage keeps its case."""
    ladders = {"p-cn": LADDERS[0], "p-cn2": LADDERS[0], "p-us": LADDERS[1]}
    as_of, since = date(2025, 11, 18), date(2025, 10, 1)
    facts = [
        LoanFacts(f"L{n:03}", dpd, amount, amount, bucket_for(dpd, 3), settled, due)
        for n, (_, dpd, amount, settled, due, _) in enumerate(rows)
    ]
    decided = [assign_stage(ladders[row[0]], f) for row, f in zip(rows, facts, strict=True)]
    frame = pl.DataFrame({
        "loan_id": [f.loan_id for f in facts], "borrower_id": "B",
        "product": [row[0] for row in rows], "dpd": [f.dpd for f in facts],
        "overdue_total": [f.overdue_total for f in facts], "bucket": [f.bucket for f in facts],
        "settled": [f.settled for f in facts], "lent": True,
        "to_next_due": pl.Series([f.days_to_next_due for f in facts], dtype=pl.Int64),
    })  # fmt: skip
    # A loan drawn to stay (the last flag) has its last case in today's stage; the others had
    # one in another stage. Every other loan has an arm already. Every third has no case yet.
    previous = pl.DataFrame({
        "loan_id": frame.get_column("loan_id"),
        "stage": [d.stage if row[5] else "nowhere" for row, d in zip(rows, decided, strict=True)],
        "entered_on": since, "reason": "before",
        "arm": [None if n % 2 else recorded(ladders[row[0]], n) for n, row in enumerate(rows)],
    }).filter(pl.int_range(pl.len()) % 3 != 1)  # fmt: skip
    got = transition(frame, previous.cast({c: CASE_SCHEMA[c] for c in ("stage", "reason", "arm")}),
                     ladders, as_of)  # fmt: skip
    assert got.get_column("loan_id").to_list() == frame.get_column("loan_id").to_list()
    for n, (row, f, decision) in enumerate(zip(rows, facts, decided, strict=True)):
        case = got.row(n, named=True)
        assert (case["stage"], case["ladder"]) == (decision.stage, ladders[row[0]].label)
        new = n % 3 == 1
        if row[5] and not new:
            assert (case["entered_on"], case["reason"]) == (since, "before")
        else:
            assert (case["entered_on"], case["reason"]) == (as_of, decision.reason)
        # Drawn for the experiments today's stage runs (the cn ladder's runs in "early") on
        # entering it from a stage it does not run in ("nowhere"), and where none is recorded
        # (a new case, or an odd one) or the recorded one is of an experiment the ladder no
        # longer runs (n % 4 == 2); an arm recorded under the ladder's experiments is kept
        # otherwise, in every stage (n % 4 == 0).
        drawn = assign_arms(ladders[row[0]], f.loan_id, decision.stage)
        new_arm = ";".join(f"{k}={v}" for k, v in sorted(drawn.items())) or "-"
        entering = bool(drawn) and not row[5]
        kept = n % 4 == 0 and not entering and not new
        expected = recorded(ladders[row[0]], n) if kept else new_arm
        assert case["arm"] == expected


def recorded(ladder: Ladder, n: int) -> str:
    """An arm a case recorded before: every fourth loan's the ladder's experiments' (for the
    cn ladder, its challenger arm, whatever the loan draws today), the others' under an
    experiment a later version renamed."""
    if n % 4 == 2:
        return "first-call-2025=champion"
    return ";".join(f"{e.name}=challenger" for e in ladder.experiments) or "-"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["pre_due", "grace", "early", "mid", "late", "legal"]),
                       st.one_of(st.integers(0, 120), st.integers(0, 17).map(lambda k: 7 * k)),
                       st.sampled_from(["champion", "challenger"]),
                       st.one_of(st.none(), st.tuples(st.integers(-30, 120),
                                                      st.sampled_from(["done", "failed"])))),
             min_size=1, max_size=40),
    st.lists(st.sampled_from(["formal_notice", "credit_pre_notice"]), max_size=2),
)  # fmt: skip
def test_due_treatments_in_frames_equal_the_domains(
    rows: list[tuple[str, int, str, tuple[int, str] | None]], sent: list[str]
) -> None:
    """Also with an agency placement on record: the late stage tries it until done, the legal
    stage recalls only a placed account; and with the notices owed from "mid" on record as
    sent long ago, or not (the even loans), which the harsher stages then send."""
    ladder = LADDERS[0]
    as_of = date(2026, 6, 30)
    experiment = ladder.experiments[0].name
    cases = pl.DataFrame(
        [(f"L{n}", "B", stage, as_of - timedelta(days=days), ladder.label, f"{experiment}={arm}")
         for n, (stage, days, arm, _) in enumerate(rows)],
        schema=["loan_id", "borrower_id", "stage", "entered_on", "ladder", "arm"], orient="row",
    )  # fmt: skip
    records = {
        f"L{n}": [ActionRecord("agency_placement", as_of - timedelta(days=days - at), outcome)]
        for n, (_, days, _, placed) in enumerate(rows)
        if placed is not None
        for at, outcome in [placed]
    }
    for n in range(0, len(rows), 2):
        records.setdefault(f"L{n}", []).extend(
            ActionRecord(action, as_of - timedelta(days=400), "sent") for action in sent
        )
    got = due_candidates(cases, {"p": ladder}, as_of, KnownHistory(records))
    mine = sorted((r["loan_id"], r["action"], r["template"]) for r in got.iter_rows(named=True))
    expected = sorted(
        (f"L{n}", t.action, t.template)
        for n, (stage, days, arm, _) in enumerate(rows)
        for t in due_treatments(
            ladder, stage, days, arm,
            done_since(records.get(f"L{n}", []), as_of - timedelta(days=days)),
            done_since(records.get(f"L{n}", []), date.min),
        )
    )  # fmt: skip
    assert mine == expected


def test_an_arm_is_drawn_when_the_case_enters_the_experiments_stages_and_kept_there() -> None:
    # The cn ladder's experiment runs in "early". A loan booked (a case in "current") under
    # an 80/20 split and reaching "early" after the split became 50/50 falls by the 50/50
    # one: drawn when it opened, it had kept the old split's arm (found by helper-48). A case
    # keeps its arm while it stays in "early" (its stage day 0 moves on, not its arm).
    v4 = LADDERS[0]
    [experiment] = v4.experiments
    even = replace(experiment, arms=(("champion", 50), ("challenger", 50)))
    v5 = replace(v4, version=5, experiments=(even,))
    loan = next(f"L{n:04}" for n in range(1000)
                if (arm_for(f"L{n:04}", experiment), arm_for(f"L{n:04}", even))
                == ("champion", "challenger"))  # fmt: skip

    def night(ladder: Ladder, dpd: int, due_in: int | None, before: pl.DataFrame) -> Any:
        facts = pl.DataFrame({
            "loan_id": [loan], "borrower_id": "B", "product": "p", "dpd": [dpd],
            "overdue_total": [100_000 if dpd else 0], "bucket": [bucket_for(dpd, 3)],
            "settled": [False], "lent": True,
            "to_next_due": pl.Series([due_in], dtype=pl.Int64),
        })  # fmt: skip
        return transition(facts, before, {"p": ladder}, date(2025, 11, 18)).row(0, named=True)

    opened = night(v4, 0, 20, pl.DataFrame(schema=CASE_SCHEMA))
    assert (opened["stage"], opened["arm"]) == ("current", "-")
    early = night(v5, 5, None, pl.DataFrame([opened], schema=CASE_SCHEMA))
    assert (early["stage"], early["arm"]) == ("early", "early-first-call=challenger")
    stays = night(v5, 6, None, pl.DataFrame([early], schema=CASE_SCHEMA))
    assert (stays["stage"], stays["arm"]) == ("early", "early-first-call=challenger")
    # Cured, it keeps its arm; late again, it enters the experiment again and draws by the
    # split of that night (the same arm under the same split).
    cured = night(v5, 0, 20, pl.DataFrame([stays], schema=CASE_SCHEMA))
    assert (cured["stage"], cured["arm"]) == ("current", "early-first-call=challenger")
    again = night(v5, 6, None, pl.DataFrame([cured], schema=CASE_SCHEMA))
    assert again["arm"] == "early-first-call=challenger"
    back = night(v4, 6, None, pl.DataFrame([cured], schema=CASE_SCHEMA))
    assert back["arm"] == "early-first-call=champion"
    # A case opened under the old rule drew every arm in "current": it draws again on
    # entering "early", by that night's split.
    legacy = {**opened, "arm": "early-first-call=champion"}
    entered = night(v5, 5, None, pl.DataFrame([legacy], schema=CASE_SCHEMA))
    assert entered["arm"] == "early-first-call=challenger"


def test_loans_entering_the_experiments_stage_together_each_draw_their_own_arm() -> None:
    # Two hundred loans go from "current" to "early" on one night: the same move, each by its
    # own loan id's split point (arm_for), both arms among them.
    [experiment] = LADDERS[0].experiments
    loans = [f"L{n:04}" for n in range(200)]
    facts = pl.DataFrame({
        "loan_id": loans, "borrower_id": "B", "product": "p", "dpd": 5,
        "overdue_total": 100_000, "bucket": bucket_for(5, 3), "settled": False, "lent": True,
        "to_next_due": pl.Series([None] * len(loans), dtype=pl.Int64),
    })  # fmt: skip
    before = pl.DataFrame(
        [(loan, "B", "current", date(2025, 10, 1), "opened", LADDERS[0].label, "-",
          date(2025, 11, 17)) for loan in loans],
        schema=CASE_SCHEMA, orient="row",
    )  # fmt: skip
    cases = transition(facts, before, {"p": LADDERS[0]}, date(2025, 11, 18))
    drawn = dict(zip(cases.get_column("loan_id"), cases.get_column("arm"), strict=True))
    assert drawn == {loan: f"{experiment.name}={arm_for(loan, experiment)}" for loan in loans}
    assert len(set(drawn.values())) == len(experiment.arm_names)


OWED_BY_ARM = """
name = "owed-by-arm"
version = 1
[[stage]]
name = "mid"
label_zh = "中期"
label_en = "Mid"
entry = [{ dpd_min = 31, dpd_max = 90 }]
treatment = [{ day = 0, action = "letter", template = "notice", arms = ["challenger"] }]
[[stage]]
name = "early"
label_zh = "初期"
label_en = "Early"
entry = [{ dpd_min = 1, dpd_max = 30 }]
treatment = [
  { day = 0, action = "letter", template = "notice", owed = true },
  { day = 0, action = "sms", template = "s", arms = ["a"], owed = true },
  { day = 1, action = "sms", template = "s", arms = ["x"], owed = true },
]
[[experiment]]
name = "tone"
salt = "t"
arms = { champion = 1, challenger = 1 }
[[experiment]]
name = "first"
salt = "f"
arms = { a = 1, b = 1 }
[[experiment]]
name = "second"
salt = "s"
arms = { x = 1, y = 1 }
"""


def test_each_loan_is_owed_the_steps_of_its_own_arms_in_frames_as_in_the_domain() -> None:
    # A step owed to every loan is still owed where the stage lists it for one arm only (the
    # champion loan in "mid" had been owed nothing), and an arm's owed step is not dropped
    # for another experiment's (a loan in b and x had been owed nothing): found by helper-51.
    ladder = parse_ladder(tomllib.loads(OWED_BY_ARM), "owed-by-arm")
    as_of = date(2026, 6, 30)
    combos = [(tone, first, second) for tone in ("champion", "challenger")
              for first in ("a", "b") for second in ("x", "y")]  # fmt: skip
    cases = pl.DataFrame(
        [(f"L{n}-{day}", "B", "mid", as_of - timedelta(days=day), ladder.label,
          f"first={first};second={second};tone={tone}")
         for n, (tone, first, second) in enumerate(combos) for day in (0, 1)],
        schema=["loan_id", "borrower_id", "stage", "entered_on", "ladder", "arm"], orient="row",
    )  # fmt: skip
    got = due_candidates(cases, {"p": ladder}, as_of)
    mine = sorted((r["loan_id"], r["action"], r["template"]) for r in got.iter_rows(named=True))
    expected = sorted(
        (f"L{n}-{day}", t.action, t.template)
        for n, arms in enumerate(combos) for day in (0, 1)
        for t in due_treatments(ladder, "mid", day, arms)
    )  # fmt: skip
    assert mine == expected
    owed = {(loan, action) for loan, action, _ in mine}
    champion_a_y, challenger_b_x = combos.index(("champion", "a", "y")), combos.index(
        ("challenger", "b", "x"))  # fmt: skip
    assert (f"L{champion_a_y}-0", "letter") in owed  # the owed notice, not the challenger's
    assert (f"L{champion_a_y}-0", "sms") in owed  # arm a's, day 0
    assert (f"L{challenger_b_x}-1", "sms") in owed  # arm x's, day 1


DAY0 = date(2026, 3, 1)
# A payment or a promise: its loan, its day (DAY0 + n), its amount, and after which run it
# reaches the store (its index among the runs: the one of its day, a later one, or earlier).
Arrival = tuple[int, int, int, int]


@settings(max_examples=150, deadline=None)
@given(
    st.sets(st.integers(0, 20), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20), st.integers(1, 5),
                       st.integers(0, 5)), max_size=10),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 20), st.integers(1, 9),
                       st.integers(0, 5), st.integers(0, 6)), min_size=1, max_size=6),
)  # fmt: skip
def test_every_run_judges_each_promise_as_the_domain_does_whatever_came_before(
    days: set[int], paid: list[Arrival], promised: list[tuple[int, int, int, int, int]]
) -> None:
    """Runs on some days; payments and promises reaching the store after any run (money dated
    before a run already made, a promise made on a day already run, money of the day a
    promise is made). A store hands the promises over as the stores do: one judged by the
    last run as it stands, counting on with the payments the run applies; one not judged yet,
    or of a loan rebuilt for money dated before the last run, to be judged afresh (`paid`
    null) with every payment of its loan up to the last run besides. Each run's verdict is
    the domain's on the payments known by then."""
    runs = sorted(days)
    judged = pl.DataFrame(schema=PROMISE_SCHEMA)
    for k, offset in enumerate(runs):
        as_of = DAY0 + timedelta(days=offset)
        last = DAY0 + timedelta(days=runs[k - 1]) if k else None
        known = pl.DataFrame(
            [(f"P{n}", f"L{loan}", amount, DAY0 + timedelta(days=day))
             for n, (loan, day, amount, came) in enumerate(paid) if min(came, len(runs) - 1) <= k],
            schema=PAYMENT_SCHEMA, orient="row",
        )  # fmt: skip
        given = pl.DataFrame(
            [(f"R{n}", f"L{loan}", amount, DAY0 + timedelta(days=day),
              DAY0 + timedelta(days=day + length), "open", None, None)
             for n, (loan, day, amount, came, length) in enumerate(promised) if came <= k],
            schema=PROMISE_SCHEMA, orient="row",
        )  # fmt: skip
        dated = pl.col("paid_on")
        # Money that reached the store since the last run dated on or before it: its loan is
        # rebuilt, its promises judged afresh and all its payments applied again.
        came_late = [f"L{loan}" for loan, day, _, came in paid
                     if min(came, len(runs) - 1) == k and last is not None
                     and DAY0 + timedelta(days=day) <= last]  # fmt: skip
        rebuilt = pl.col("loan_id").is_in(came_late)
        since = dated > last if last is not None else pl.lit(value=True)
        applied = known.filter((since | rebuilt) & (dated <= as_of))
        before = judged.select(
            "promise_id",
            pl.col("status").alias("s"),
            pl.col("settled_on").alias("o"),
            pl.col("paid").alias("p"),
        )
        promises = judged_afresh(
            given.join(before, on="promise_id", how="left", maintain_order="left").select(
                *list(PROMISE_SCHEMA)[:5], pl.coalesce("s", "status").alias("status"),
                pl.col("o").alias("settled_on"), pl.col("p").alias("paid"),
            ),
            rebuilt,
        )  # fmt: skip
        # What a night gives besides: the earlier payments of the loans judged afresh.
        afresh = promises.filter(pl.col("paid").is_null()).get_column("loan_id").implode()
        earlier = known.filter(pl.col("loan_id").is_in(afresh) & ~since & ~rebuilt)
        judged = evaluate_promises(promises, applied, as_of, pl.concat([applied, earlier]))
        for row in judged.iter_rows(named=True):
            promise = Promise(row["promise_id"], row["amount"], row["made_on"], row["due_on"])
            money = [Payment(p, amount, on) for p, loan, amount, on in known.iter_rows()
                     if loan == row["loan_id"]]  # fmt: skip
            verdict = judge_promise(promise, money, as_of)
            assert (row["status"], row["settled_on"], row["paid"]) == (
                verdict.status,
                verdict.settled_on,
                verdict.paid,
            ), (k, row)
