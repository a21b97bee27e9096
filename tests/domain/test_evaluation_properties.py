"""Invariants of evaluate_loan over random books (hypothesis)."""

from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.caps import CapRule, a_year
from arrears.domain.evaluation import CAP_REFUND, CREDIT
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.pauses import AGEING, CHARGES, NO_PAUSES, Pauses, Span, merged
from arrears.domain.product import COMPONENTS, Product
from arrears.domain.revisions import Revision
from arrears.domain.statement import LoanState, posted_within
from tests.factories import UNCAPPED, evaluate

START = date(2026, 1, 1)
Case = tuple[Loan, list[Payment], Product, CapRule, date, Pauses, list[Revision]]
CAPS = [UNCAPPED] + [
    CapRule("cap", Fraction(r), "src", a_year(Fraction(r))) for r in ("0.24", "0.138", "0.05")
]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    count = draw(st.integers(1, 4))
    offsets = sorted(draw(st.lists(st.integers(1, 60), min_size=count, max_size=count)))
    items = tuple(
        Installment(
            seq,
            START + timedelta(days=offset),
            draw(st.integers(1, 300_000)),
            draw(st.integers(0, 20_000)),
            draw(st.sampled_from([0, 0, 500])),
        )
        for seq, offset in enumerate(offsets, start=1)
    )
    rate = Fraction(draw(st.sampled_from(["0", "0.12", "0.24", "0.36"])))
    penalty = draw(st.sampled_from([None, Fraction("0.18"), Fraction("0.365"), Fraction("0.5")]))
    loan = Loan("L", "B", "p", "CNY", sum(i.principal_due for i in items), rate, START, items,
                penalty)  # fmt: skip
    product = Product(
        "p",
        grace_days=draw(st.integers(0, 5)),
        late_fee=draw(st.sampled_from([0, 1_000, 5_000])),
        allocation=tuple(draw(st.permutations(COMPONENTS))),
        day_count=draw(st.sampled_from([360, 365])),
    )
    payments = [
        Payment(
            f"P{n}",
            draw(st.integers(1, 400_000)),
            START + timedelta(days=draw(st.integers(0, 100))),
        )
        for n in range(draw(st.integers(0, 4)))
    ]
    as_of = START + timedelta(days=draw(st.integers(0, 100)))
    rule = draw(st.sampled_from(CAPS))
    return loan, payments, product, rule, as_of, draw(pauses()), draw(extensions())


@st.composite
def extensions(draw: st.DrawFn) -> list[Revision]:
    """Half the books without revisions; the others with one to three extensions, plans (of
    2 to 4 months) or settlements (of 1 fen to 4,000.00 within 0 to 20 days)."""
    if draw(st.booleans()):
        return []
    found = []
    for _ in range(draw(st.integers(1, 3))):
        on = START + timedelta(days=draw(st.integers(0, 100)))
        kind = draw(st.sampled_from(["extension", "plan", "settlement"]))
        if kind == "extension":
            found.append(Revision("extension", on, draw(st.integers(1, 40))))
        elif kind == "plan":
            found.append(Revision("plan", on, months=draw(st.integers(2, 4))))
        else:
            found.append(
                Revision(
                    "settlement",
                    on,
                    amount=draw(st.integers(1, 400_000)),
                    deadline=on + timedelta(days=draw(st.integers(0, 20))),
                )
            )
    return found


@st.composite
def spans(draw: st.DrawFn) -> tuple[Span, ...]:
    """A few holds' days (some open), anywhere from before the loan to past the window."""
    found = []
    for _ in range(draw(st.integers(0, 3))):
        first = START + timedelta(days=draw(st.integers(-5, 100)))
        length = draw(st.one_of(st.none(), st.integers(0, 40)))
        found.append((first, None if length is None else first + timedelta(days=length)))
    return merged(found)


@st.composite
def pauses(draw: st.DrawFn) -> Pauses:
    """Half the books without pauses; the others stop one clock, the other or both."""
    if draw(st.booleans()):
        return NO_PAUSES
    return Pauses(ageing=draw(spans()), charges=draw(spans()))


def run(case: Case, as_of: date, pauses: Pauses | None = None) -> LoanState:
    loan, payments, product, rule, _, stops, revisions = case
    return evaluate(loan, payments, as_of, product, rule, pauses=stops if pauses is None
                    else pauses, revisions=revisions)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(cases())
def test_every_payment_is_allocated_exactly_once_in_full(case: Case) -> None:
    _loan, payments, _, _, as_of, _, _ = case
    state = run(case, as_of)
    by_payment: defaultdict[str, int] = defaultdict(int)
    for allocation in state.allocations:
        by_payment[allocation.payment_id] += allocation.amount
    for payment in payments:
        assert by_payment[payment.payment_id] == (payment.amount if payment.paid_on <= as_of else 0)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_nothing_is_paid_beyond_what_was_charged(case: Case) -> None:
    loan, _, _, _, as_of, _, _ = case
    state = run(case, as_of)
    paid: defaultdict[tuple[int | None, str], int] = defaultdict(int)
    for a in state.allocations:
        paid[(a.seq, a.component)] += a.amount
    charged: defaultdict[tuple[int, str], int] = defaultdict(int)
    component_of = {"interest": "interest", "fee": "fees", "late_fee": "fees", "penalty": "penalty"}
    for c in state.charges:
        charged[(c.seq, component_of[c.kind])] += c.amount
    schedule = [line for line in state.installments if line.seq > 0]  # a plan's parts: < 0
    for item, line in zip(sorted(loan.installments, key=lambda i: (i.due_date, i.seq)),
                          schedule, strict=True):  # fmt: skip
        # Posted by as_of (a revision may have moved it; a settlement waives it unposted).
        posted = line.effective_due_date is not None
        owed = {"principal": line.principal, "interest": line.interest, "fees": line.fees,
                "penalty": line.penalty}  # fmt: skip
        total = {
            "principal": item.principal_due,
            "interest": charged[(item.seq, "interest")] if posted else item.interest_due,
            "fees": charged[(item.seq, "fees")] if posted else item.fee_due,
            "penalty": charged[(item.seq, "penalty")],
        }
        for component in COMPONENTS:
            assert owed[component] >= 0
            assert paid[(item.seq, component)] + owed[component] == total[component]
    # A plan's parts owe what they re-split less what was paid (or waived) on them; the
    # instalments it took it from count it as paid (allocations of the source "plan").
    lines = {line.seq: line for line in state.installments}
    for plan in state.plans:
        for part in plan.parts:
            line = lines[part.seq]
            assert paid[(part.seq, "principal")] + line.principal == part.principal
            assert paid[(part.seq, "interest")] + line.interest == part.interest
    credit_in = paid[(None, CREDIT)] - sum(
        a.amount for a in state.allocations if a.payment_id == CAP_REFUND
    )
    credit_used = sum(a.amount for a in state.allocations if a.payment_id == CREDIT)
    assert state.credit == credit_in - credit_used >= 0


@settings(max_examples=60, deadline=None)
@given(cases())
def test_the_cap_holds_every_day_and_history_never_changes(case: Case) -> None:
    loan, _, _, rule, as_of, _, _ = case
    final = run(case, as_of)
    day = loan.contract_date
    while day <= as_of:
        state = run(case, day)
        if rule.rate is not None:
            assert state.allowance is not None
            assert state.charged <= state.allowance
        # Evaluating on day d agrees with the postings up to d of a later evaluation.
        assert sum(posted_within(c, date.min, day) for c in final.charges) == state.charged
        day += timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(cases())
def test_overdue_and_outstanding_agree_with_the_instalments(case: Case) -> None:
    _loan, _, _, _, as_of, pauses, _ = case
    state = run(case, as_of)
    assert state.outstanding_principal == sum(i.principal for i in state.installments)
    assert state.overdue.total >= 0
    assert state.overdue.principal <= state.outstanding_principal
    # Past due ⇔ some principal or interest of an instalment whose due date has passed is
    # unpaid (a loan whose every day since is paused is past due at 0 days).
    past_due = state.overdue.principal + state.overdue.interest > 0
    assert (state.dpd > 0) == past_due or (past_due and state.dpd == 0 and pauses.ageing)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_a_paused_day_is_not_aged_and_accrues_no_penalty(case: Case) -> None:
    _loan, _, _, _, as_of, pauses, _ = case
    state = run(case, as_of)
    oldest = state.oldest_past_due
    if oldest is None:
        assert state.dpd == 0
    else:
        assert state.dpd == (as_of - oldest).days - pauses.days_stopped(AGEING, oldest, as_of)
    for charge in state.charges:
        if charge.kind == "penalty":
            first, last = charge.first_day, charge.last_day
            assert pauses.days_stopped(CHARGES, first - timedelta(days=1), last) == 0
    # Without pauses, the same loan's days and penalty are never fewer.
    plain = run(case, as_of, NO_PAUSES)
    assert plain.dpd >= state.dpd
    if not pauses.charges:
        assert plain.charges == state.charges


@settings(max_examples=150, deadline=None)
@given(cases())
def test_a_settlement_not_reached_changes_nothing_and_one_reached_settles_the_loan(
    case: Case,
) -> None:
    loan, payments, product, rule, as_of, stops, revisions = case
    state = run(case, as_of)
    without = [r for r in revisions if r.kind != "settlement"]
    plain = evaluate(loan, payments, as_of, product, rule, pauses=stops, revisions=without)
    reached = [s for s in state.settlements if s.status == "settled"]
    if not reached:  # pending or lapsed: owed exactly as without it
        assert (state.overdue, state.charges, state.allocations, state.credit, state.dpd) == (
            plain.overdue, plain.charges, plain.allocations, plain.credit, plain.dpd
        )  # fmt: skip
        return
    first = min(s.settled_on for s in reached if s.settled_on is not None)
    assert (state.dpd, state.stage, state.overdue.total) == (0, "settled", 0)
    assert all(not s.open for s in state.installments)
    # Nothing is posted after the day it was settled; the waiver is recorded on that day.
    assert all(c.posted_on <= first and c.last_day <= first for c in state.charges)
    waivers = [a for a in state.allocations if a.payment_id == "waiver"]
    assert {a.paid_on for a in waivers} <= {first}
    assert sum(a.amount for a in waivers) == sum(s.waived_total for s in state.settlements)
    # Reached: the payments from its day up to the day reached (its deadline at most).
    for s in reached:
        assert s.settled_on is not None
        assert s.settled_on <= (s.revision.deadline or first)
        counted = [p.amount for p in payments
                   if s.revision.effective_on <= p.paid_on <= s.settled_on]  # fmt: skip
        assert s.paid == sum(counted) >= s.revision.amount
