"""The run refuses a legal review (or lawyer's letter) on a time-barred US debt under the us
pack's `us.time_barred`, whether the loan was worked tonight or rests, with the domain's
reason; a loan whose age is unknown is refused too, and other products are not governed."""

from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.strategy_file import load_ladder
from arrears.batch.contact_plan import plan_actions
from arrears.batch.pipeline import STORED_SCHEMA
from arrears.batch.time_barred import UNKNOWN, product_rules, time_bars
from arrears.bootstrap import build_app
from arrears.domain.escalation import ActionRecord
from arrears.domain.limitation import refusal
from tests.contact_factories import US, people_of

DAY = date(2026, 3, 2)
LADDER = load_ladder("us")
PACKS = contact_packs()
PRODUCTS = build_app(None, None).run_context(DAY).terms.products
BARRED, YOUNGER = DAY - timedelta(days=1096), DAY - timedelta(days=1095)  # 2023-03-02, -03


def test_only_products_of_a_pack_with_a_limitation_are_governed() -> None:
    rules = product_rules(PRODUCTS, PACKS)
    assert set(rules) == {code for code, p in PRODUCTS.items() if p.jurisdiction == "us"}
    assert rules["us-installment"] == (PACKS["us"].limitation, 3)
    longer = {"us-6": replace(PRODUCTS["us-installment"], code="us-6", limitation_years=6)}
    assert product_rules(longer, PACKS)["us-6"][1] == 6  # the product's own period


def test_a_legal_review_on_a_time_barred_debt_is_refused_worked_or_resting() -> None:
    assert date(2023, 3, 2) == BARRED  # three years to the day before DAY
    loans = ["L-worked-barred", "L-worked-young", "L-rest-barred", "L-rest-young", "L-none",
             "L-cn", "L-worked-paused"]  # fmt: skip
    candidates = pl.DataFrame(
        [(loan, f"B{n}", "charged_off", LADDER.label, "x=champion", "legal_review", "t")
         for n, loan in enumerate(loans)],
        schema=["loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template"],
        orient="row",
    )  # fmt: skip
    # A state's `oldest`: its oldest line owing, whatever days its ageing clock stood still
    # (L-worked-paused: disputed ever since, 0 days past due, and barred all the same).
    states = pl.DataFrame(
        [("L-worked-barred", "us-installment", (DAY - BARRED).days, BARRED),
         ("L-worked-young", "us-installment", (DAY - YOUNGER).days, YOUNGER),
         ("L-cn", "cn-cash", 4000, DAY - timedelta(days=4000)),
         ("L-worked-paused", "us-installment", 0, BARRED)],
        schema=["loan_id", "product", "dpd", "oldest"], orient="row",
    )  # fmt: skip
    stored = pl.DataFrame(
        [("L-worked-barred", True, None, 0, "us-installment", date(2000, 1, 1)),  # stale
         ("L-rest-barred", False, 7, 0, "us-installment", BARRED),
         ("L-rest-young", False, 7, 0, "us-installment", YOUNGER)],
        schema=STORED_SCHEMA, orient="row",
    )  # fmt: skip
    # The US ladder's guard of the review: the agency had it and the notice went out.
    done = [ActionRecord("agency_placement", DAY - timedelta(days=30), "done"),
            ActionRecord("formal_notice", DAY - timedelta(days=60), "sent")]  # fmt: skip
    history = dict.fromkeys(loans, done)
    bars = time_bars(PRODUCTS, PACKS, states, stored)
    assert bars is not None
    assert bars.jurisdictions == {"us"}
    people = people_of([f"B{n}" for n in range(len(loans))], {}, {}, {})
    plan, blocked = plan_actions(
        candidates, {LADDER.label: LADDER}, {"us": US}, {LADDER.label: "us"}, people, history,
        DAY, bars,
    )  # fmt: skip
    assert sorted(plan.get_column("loan_id")) == ["L-cn", "L-rest-young", "L-worked-young"]
    refused = {row["loan_id"]: row for row in blocked.iter_rows(named=True)}
    assert {loan: row["rule"] for loan, row in refused.items()} == {
        "L-worked-barred": "us.time_barred",
        "L-rest-barred": "us.time_barred",
        "L-none": UNKNOWN,
        "L-worked-paused": "us.time_barred",
    }
    limitation = PACKS["us"].limitation
    assert limitation is not None
    expected = str(refusal(limitation, 3, "legal_review", BARRED, DAY))
    assert refused["L-rest-barred"]["detail"] == expected
    assert refused["L-worked-barred"]["detail"] == expected  # tonight's state, not the stale row
    assert refused["L-worked-paused"]["detail"] == expected
    assert "whether its debt is time-barred is unknown" in refused["L-none"]["detail"]
    # Without the limitation rule, the same candidates all pass (the guard is met).
    plan, _ = plan_actions(
        candidates.filter(pl.col("loan_id") != "L-none"), {LADDER.label: LADDER}, {"us": US},
        {LADDER.label: "us"}, people, history, DAY,
    )  # fmt: skip
    assert plan.height == 6
