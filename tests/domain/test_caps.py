"""The all-in cost cap: cut day, cut amount, interest that alone breaks it, 4 × LPR."""

from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest

from arrears.domain.caps import OWN_CAP_RULE, CapPolicy, OwnCap, allowance, cap_rule_for
from arrears.domain.errors import DomainError, LprNotKnown
from arrears.domain.loan import Payment
from arrears.domain.lpr import LprFixing, LprTable
from arrears.domain.product import Product
from tests.factories import CONTRACT, LICENSED, day, evaluate, one_instalment_loan

NO_GRACE = Product("cn-cash", grace_days=0)
# 10,000.00 at 12 %/yr for 30 days = 100.00 interest; the 24 % cap allows 66.666… a day on
# the principal, the 36 % penalty costs 10.00 a day: the charges catch the cap after 30 days.
LOAN = one_instalment_loan(interest=10_000, due=date(2026, 1, 31))


def test_allowance_counts_days_from_the_contract_date_excluding_the_day_itself() -> None:
    # 算头不算尾: on day d the allowance covers contract date .. d - 1.
    assert allowance(LICENSED, 0, 360, 1_000_000) == 0
    assert allowance(LICENSED, 30 * 1_000_000, 360, 1_000_000) == 20_000
    assert allowance(LICENSED, 31 * 1_000_000, 360, 1_000_000) == 20_666  # 20,666.67 floored


def test_no_cut_while_the_charges_fit_and_the_first_cut_on_the_exact_day() -> None:
    fits = evaluate(LOAN, [], day(30), NO_GRACE, LICENSED)
    assert fits.cap_cuts == ()
    assert fits.charged == fits.allowance == 40_000  # 100.00 + 30 × 10.00 = 24 % × 60 days
    cut = evaluate(LOAN, [], day(31), NO_GRACE, LICENSED)
    assert [(c.day, c.kind, c.amount) for c in cut.cap_cuts] == [(day(31), "penalty", 334)]
    assert cut.charged == cut.allowance == 40_666
    assert cut.cap_cuts[0].rule_id == "cn.cap.licensed"
    assert cut.cap_cuts[0].source == LICENSED.source


def test_after_the_cut_penalty_grows_only_with_the_allowance() -> None:
    later = evaluate(LOAN, [], day(90), NO_GRACE, LICENSED)
    assert later.charged == later.allowance == (1_000_000 * 24 * 120) // (100 * 360)


def test_scheduled_interest_that_alone_breaks_the_cap_is_cut_and_flagged() -> None:
    loan = one_instalment_loan(interest=30_000, rate="0.36")  # 36 %/yr for 30 days
    state = evaluate(loan, [], date(2026, 1, 31), NO_GRACE, LICENSED)
    assert state.installments[0].interest_cut == 10_000
    assert [(c.kind, c.amount, c.day) for c in state.cap_cuts] == [
        ("interest", 10_000, date(2026, 1, 31))
    ]
    assert state.installments[0].interest == 20_000


def test_prepaid_interest_that_the_cap_cuts_goes_back_to_the_borrower_as_credit() -> None:
    # Repaid in full on 01-10: the principal ran 9 days (01-01..01-09), so the cap allows
    # 24 % × 10,000.00 × 9 / 360 = 60.00 of the 300.00 interest prepaid; 240.00 is credit.
    loan = one_instalment_loan(interest=30_000, rate="0.36")
    state = evaluate(loan, [Payment("P1", 1_030_000, date(2026, 1, 10))], date(2026, 2, 1),
                     NO_GRACE, LICENSED)  # fmt: skip
    assert state.credit == 24_000
    refunds = [a for a in state.allocations if a.payment_id == "cap_refund"]
    assert [(a.component, a.amount) for a in refunds] == [("interest", -24_000)]
    assert state.installments[0].interest_cut == 24_000
    assert state.overdue.total == 0


def test_payments_shrink_the_allowance_with_the_principal() -> None:
    # 5,000.00 paid on the contract date: 100.00 of (future) interest first, then 4,900.00
    # of principal, so 5,100.00 runs for 30 days.
    paid = evaluate(LOAN, [Payment("P1", 500_000, CONTRACT)], day(0), NO_GRACE, LICENSED)
    assert paid.outstanding_principal == 510_000
    assert paid.allowance == (510_000 * 30 * 24) // (100 * 360)


LPR = LprTable(
    (
        LprFixing(date(2023, 8, 21), Fraction("0.0345"), "LPR 2023-08-21"),
        LprFixing(date(2024, 7, 22), Fraction("0.0335"), "LPR 2024-07-22"),
    ),
    known_through=date(2024, 8, 19),
)
PRIVATE = {"private": CapPolicy("cn.cap.private", "法释〔2020〕17号", lpr_multiple=Fraction(4))}


def test_private_cap_is_four_times_the_lpr_in_force_on_the_contract_date() -> None:
    before = cap_rule_for("private", date(2024, 7, 21), PRIVATE, LPR)
    on = cap_rule_for("private", date(2024, 7, 22), PRIVATE, LPR)
    assert before.rate == Fraction("0.138")
    assert on.rate == Fraction("0.134")
    assert "LPR 2024-07-22" in on.source
    assert "法释〔2020〕17号" in on.source
    assert "13.4%" in str(on.detail)


def test_an_lpr_outside_the_table_is_refused_with_the_dates_named() -> None:
    with pytest.raises(LprNotKnown, match="known through 2024-08-19"):
        cap_rule_for("private", date(2024, 8, 20), PRIVATE, LPR)
    with pytest.raises(LprNotKnown, match="first fixing is 2023-08-21"):
        cap_rule_for("private", date(2023, 8, 20), PRIVATE, LPR)


def test_no_cap_is_refused_where_the_jurisdiction_caps_every_loan() -> None:
    # Whoever built the product: a lender may only make a pack stricter (REGULATIONS.md).
    with pytest.raises(DomainError, match=r"cap 'none' is looser .* caps every loan \(private\)"):
        cap_rule_for("none", date(2024, 7, 22), PRIVATE, LPR)
    assert cap_rule_for("none", date(2024, 7, 22), {}, LPR).rate is None  # us, uk: no cap


HCSTC = OwnCap(Fraction("2.92"), "FCA CONC 5A.3.3R")  # 0.8 % a day over 365


def test_an_own_cap_binds_where_the_pack_has_none() -> None:
    rule = cap_rule_for("none", date(2024, 7, 22), {}, LPR, HCSTC)
    assert (rule.rule_id, rule.rate, rule.source) == (OWN_CAP_RULE, Fraction("2.92"), HCSTC.source)
    assert str(rule.detail) == "292%/yr, the product's own cap"


def test_an_own_cap_binds_only_on_the_dates_it_is_below_the_packs() -> None:
    # 4 × LPR is 13.8 % for a loan signed before 2024-07-22 and 13.4 % from then on: an own
    # cap of 13.6 % binds the later loans only; at 13.4 % exactly the pack's rule is cited.
    own = OwnCap(Fraction("0.136"), "lender policy")
    before = cap_rule_for("private", date(2024, 7, 21), PRIVATE, LPR, own)
    after = cap_rule_for("private", date(2024, 7, 22), PRIVATE, LPR, own)
    assert (before.rule_id, before.rate) == (OWN_CAP_RULE, Fraction("0.136"))
    assert str(before.detail) == "13.6%/yr, the product's own cap, below the pack's 13.8%/yr"
    assert (after.rule_id, after.rate) == ("cn.cap.private", Fraction("0.134"))
    tie = cap_rule_for("private", date(2024, 7, 22), PRIVATE, LPR,
                       OwnCap(Fraction("0.134"), "lender policy"))  # fmt: skip
    assert tie.rule_id == "cn.cap.private"


def test_an_own_cap_must_be_above_zero_and_name_its_source() -> None:
    with pytest.raises(DomainError, match="must be above zero, got 0%"):
        OwnCap(Fraction(0), "policy")
    with pytest.raises(DomainError, match="needs its source"):
        OwnCap(Fraction("0.36"), "  ")


def test_charges_are_cut_at_the_own_cap_citing_it() -> None:
    # 10,000.00 under 0.8 % a day (2.92 over a 365-day year) may bear 80.00 of charges a
    # day; its 365 % penalty costs 100.00 a day past due, so the cap catches it.
    product = Product("uk-hcstc", "uk", cap="none", grace_days=0, day_count=365, own_cap=HCSTC)
    rule = cap_rule_for("none", CONTRACT, {}, LPR, HCSTC)
    loan = one_instalment_loan(rate="0", penalty_rate="3.65")
    state = evaluate(loan, [], day(200), product, rule)
    days = (day(200) - CONTRACT).days
    assert state.allowance == 1_000_000 * days * 8 // 1000
    assert state.charged == state.allowance
    assert state.cap_cuts
    assert {(c.rule_id, c.source) for c in state.cap_cuts} == {(OWN_CAP_RULE, HCSTC.source)}


# The UK's high-cost short-term credit caps together: 0.8 % a day (CONC 5A.3.3R) and charges
# never above the credit provided (CONC 5A.3.2R, a total of 1 × the principal lent).
HCSTC_TOTAL = OwnCap(Fraction("2.92"), "FCA CONC 5A.3.2R, 5A.3.3R", Fraction(1))


def test_a_limit_on_total_charges_caps_the_allowance_at_its_multiple_of_the_principal() -> None:
    rule = cap_rule_for("none", date(2024, 7, 22), {}, LPR, HCSTC_TOTAL)
    assert rule.total == 1
    assert str(rule.detail) == (
        "292%/yr, the product's own cap, and charges in all at most 100% of the principal lent"
    )
    # 10,000.00 lent: 80.00 a day of allowance until it meets the 10,000.00 total on day 125.
    assert allowance(rule, 124 * 1_000_000, 365, 1_000_000) == 992_000
    assert allowance(rule, 125 * 1_000_000, 365, 1_000_000) == 1_000_000
    assert allowance(rule, 400 * 1_000_000, 365, 1_000_000) == 1_000_000
    half = replace(rule, total=Fraction(1, 2))
    assert allowance(half, 400 * 1_000_000, 365, 1_000_001) == 500_000  # floored to the fen


def test_an_own_cap_on_total_charges_is_refused_under_a_pack_that_caps() -> None:
    # A cut must cite the rule that bound: under the pack's rule it would not be the own cap.
    own = OwnCap(Fraction("0.10"), "lender policy", Fraction(1))
    with pytest.raises(DomainError, match=r"needs cap 'none' .* cn.cap.private"):
        cap_rule_for("private", date(2024, 7, 22), PRIVATE, LPR, own)
    with pytest.raises(DomainError, match="total charges must be above zero, got 0%"):
        OwnCap(Fraction("2.92"), "policy", Fraction(0))


def test_charges_stop_at_the_total_cap_however_long_the_loan_stays_unpaid() -> None:
    product = Product("uk-hcstc", "uk", cap="none", grace_days=0, day_count=365,
                      own_cap=HCSTC_TOTAL)  # fmt: skip
    rule = cap_rule_for("none", CONTRACT, {}, LPR, HCSTC_TOTAL)
    loan = one_instalment_loan(rate="0", penalty_rate="3.65")
    # 90 days after the contract the rate alone binds: 7,200.00 of allowance, below 10,000.00.
    early = evaluate(loan, [], day(60), product, rule)
    assert early.allowance == 1_000_000 * (day(60) - CONTRACT).days * 8 // 1000 == 720_000
    late = evaluate(loan, [], day(400), product, rule)
    assert late.allowance == late.charged == 1_000_000  # the principal lent, not a fen more
    assert {(c.rule_id, c.source) for c in late.cap_cuts} == {(OWN_CAP_RULE, HCSTC_TOTAL.source)}
    # What the total refused is cut, not lost: the same penalty asked as under the rate alone.
    alone = evaluate(loan, [], day(400), replace(product, own_cap=HCSTC),
                     cap_rule_for("none", CONTRACT, {}, LPR, HCSTC))  # fmt: skip
    assert alone.charged > 3_000_000
    cut = sum(c.amount for c in late.cap_cuts) - sum(c.amount for c in alone.cap_cuts)
    assert cut == alone.charged - late.charged
