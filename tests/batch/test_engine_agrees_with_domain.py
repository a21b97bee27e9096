"""The columnar engine equals evaluate_loan on every loan of random books, to the fen."""

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction
from random import Random

import polars as pl
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from arrears.batch import advance as advance_module
from arrears.batch.advance import advance
from arrears.batch.ageing import Watch, loan_states, summarise_loans
from arrears.domain.calendar import BusinessCalendar
from arrears.domain.caps import CapPolicy, OwnCap
from arrears.domain.contact import Hold
from arrears.domain.late_fees import LateFeeLimit
from arrears.domain.loan import Installment, Loan, Payment
from arrears.domain.lpr import LprFixing, LprTable
from arrears.domain.product import COMPONENTS, Product
from arrears.domain.revisions import Revision
from arrears.domain.terms import Terms
from tests.batch.domain_book import book_of, renewed

START = date(2026, 1, 1)
CALENDAR = BusinessCalendar(
    frozenset({date(2026, 2, 17), date(2026, 2, 18), date(2026, 5, 1)}),
    frozenset({date(2026, 2, 14)}),
    frozenset(range(2025, 2028)),
)
LPR = LprTable((LprFixing(date(2025, 5, 20), Fraction("0.03"), "LPR"),), date(2026, 12, 31))
POLICIES = {
    "cn": {
        "licensed": CapPolicy("cn.cap.licensed", "src", rate=Fraction("0.24")),
        "private": CapPolicy("cn.cap.private", "src", lpr_multiple=Fraction(4)),
    }
}


def products(
    grace: int,
    fee: int,
    order: tuple[str, ...],
    cap: str,
    rule: str,
    pauses: tuple[tuple[str, ...], tuple[str, ...]] = ((), ()),
    own: OwnCap | None = None,
    late: LateFeeLimit | None = None,
) -> dict[str, Product]:
    # No cap only outside China, whose pack caps every loan (caps.cap_rule_for).
    return {"p": Product("p", "us" if cap == "none" else "cn", cap=cap, grace_days=grace,
                         late_fee=fee, allocation=order, holiday_rule=rule,
                         pause_ageing=pauses[0], pause_charges=pauses[1],
                         own_cap=own, late_fee_limit=late)}  # fmt: skip


# A product's own cap: none, below every pack cap, between the private and licensed caps
# (binding under private's 12 % only where it is lower), or looser than both.
OWN_CAPS = st.sampled_from([None, None, "0.08", "0.18", "2.92"]).map(
    lambda rate: None if rate is None else OwnCap(Fraction(rate), "own")
)
# With no pack cap (cap "none"), a limit on total charges besides: none, one the charges meet
# within days (5 % of the principal), or within weeks (20 %), or the UK's 100 %.
TOTALS = st.sampled_from([None, Fraction("0.05"), Fraction("0.2"), Fraction(1)])
# A limit on the late fees of 10.00 each: none, below one fee, exactly one, one and a half.
LATE_LIMITS = st.sampled_from([None, 300, 1_000, 1_500]).map(
    lambda total: None if total is None else LateFeeLimit(total, "own")
)


@st.composite
def own_caps(draw: st.DrawFn, cap: str) -> OwnCap | None:
    """An own cap for a product of cap kind `cap`, with a total only where the pack has none."""
    own = draw(OWN_CAPS)
    if own is None or cap != "none":
        return own
    return replace(own, total=draw(TOTALS))


Holds = dict[str, list[Hold]]
Revised = dict[str, list[Revision]]
Case = tuple[Terms, list[tuple[Loan, list[Payment]]], date, Holds, Revised]
KINDS = st.lists(st.sampled_from(["dispute", "hardship"]), max_size=2, unique=True).map(tuple)


@st.composite
def holds(draw: st.DrawFn) -> Holds:
    """Each borrower's holds (half the books none): some open, some over a due date or grace."""
    if draw(st.booleans()):
        return {}
    found: Holds = {}
    for borrower in ("B0", "B1"):
        for _ in range(draw(st.integers(0, 2))):
            first = START + timedelta(days=draw(st.integers(-3, 100)))
            days = draw(st.one_of(st.none(), st.integers(0, 30)))
            end = None if days is None else first + timedelta(days=days)
            kind = draw(st.sampled_from(["dispute", "hardship", "deceased"]))
            found.setdefault(borrower, []).append(Hold(kind, first, end))
    return found


@st.composite
def books(draw: st.DrawFn) -> Case:
    cap = draw(st.sampled_from(["licensed", "private", "none"]))
    fee = draw(st.sampled_from([0, 1_000]))
    product = products(
        draw(st.integers(0, 4)), fee,
        tuple(draw(st.permutations(COMPONENTS))), cap,
        draw(st.sampled_from(["none", "next_business_day"])),
        (draw(KINDS), draw(KINDS)),
        draw(own_caps(cap)), draw(LATE_LIMITS) if fee else None,
    )  # fmt: skip
    terms = Terms(product, POLICIES, LPR, lambda _j, _a, _b: CALENDAR)
    loans = []
    revised: Revised = {}
    for n in range(draw(st.integers(1, 5))):
        count = draw(st.integers(1, 4))
        offsets = sorted(draw(st.lists(st.integers(1, 70), min_size=count, max_size=count)))
        items = tuple(
            Installment(seq, START + timedelta(days=o), draw(st.integers(1, 300_000)),
                        draw(st.integers(0, 30_000)), draw(st.sampled_from([0, 0, 700])))
            for seq, o in enumerate(offsets, start=1)
        )  # fmt: skip
        rate = Fraction(draw(st.sampled_from(["0.12", "0.24", "0.36"])))
        penalty = draw(st.sampled_from([None, Fraction("0.18"), Fraction("0.365")]))
        # Some schedules leave part of the principal unscheduled: it stays outstanding.
        lent = sum(i.principal_due for i in items) + draw(st.sampled_from([0, 0, 150_000]))
        loan = Loan(f"L{n}", f"B{n % 2}", "p", "CNY", lent, rate, START, items, penalty)
        pays = [
            Payment(f"P{n}-{k}", draw(st.integers(1, 350_000)),
                    START + timedelta(days=draw(st.integers(0, 110))))
            for k in range(draw(st.integers(0, 4)))
        ]  # fmt: skip
        loans.append((loan, pays))
        if draw(st.integers(0, 2)) == 0:  # a third of the loans extended once or twice
            # Near a due date mostly: inside grace, just beyond it, or well past it.
            revised[loan.loan_id] = [
                Revision("extension", draw(st.sampled_from(items)).due_date
                         + timedelta(days=draw(st.integers(-3, 30))), draw(st.integers(1, 40)))
                for _ in range(draw(st.integers(1, 2)))
            ]  # fmt: skip
        if draw(st.integers(0, 2)) == 0:  # a third on a plan or two, some before extensions
            for _ in range(draw(st.integers(1, 2))):
                on = draw(st.sampled_from(items)).due_date + timedelta(
                    days=draw(st.integers(-5, 40)))  # fmt: skip
                revised.setdefault(loan.loan_id, []).append(
                    Revision("plan", max(START, on), months=draw(st.integers(2, 4)))
                )
                # Some money on a part's day, or late, or a part of it.
                if draw(st.booleans()):
                    pays.append(Payment(
                        f"Q{n}-{len(pays)}", draw(st.integers(1, 200_000)),
                        max(START, on) + timedelta(days=draw(st.sampled_from([28, 31, 33, 60]))),
                    ))  # fmt: skip
        if draw(st.integers(0, 2)) == 0:  # a third settled (or not: lapsed, pending)
            deal, paid = draw(settlement(loan.loan_id, items))
            revised.setdefault(loan.loan_id, []).append(deal)
            pays.extend(paid)
    return terms, loans, START + timedelta(days=draw(st.integers(0, 110))), draw(holds()), revised


# How a settlement's money comes: in time (in one or two parts), a day after its deadline
# (lapsed), in part only, exactly on its deadline, more than asked, or none at all.
MODES = ("in_time", "late", "partly", "on_deadline", "overpaid", "none")


@st.composite
def settlement(draw: st.DrawFn, loan_id: str, items: tuple[Installment, ...]) -> tuple[
    Revision, list[Payment]
]:  # fmt: skip
    """A settlement near a due date (before it, inside grace, beyond) and the payments
    made towards it."""
    near = draw(st.sampled_from(items)).due_date + timedelta(days=draw(st.integers(-10, 30)))
    on = max(START, near)
    by = on + timedelta(days=draw(st.integers(0, 15)))
    amount = draw(st.integers(1, 200_000))
    mode = draw(st.sampled_from(MODES))
    days = (by - on).days

    def paid(n: int, day: date, value: int) -> Payment:
        return Payment(f"S{loan_id}-{n}", value, day)

    within = on + timedelta(days=draw(st.integers(0, days)))
    payments = {
        "in_time": [paid(0, within, amount)],
        "late": [paid(0, by + timedelta(days=draw(st.integers(1, 5))), amount)],
        "partly": [paid(0, within, max(1, amount // 2))] if amount > 1 else [],
        "on_deadline": [paid(0, on, amount // 3), paid(1, by, amount - amount // 3)],
        "overpaid": [paid(0, within, amount + draw(st.integers(1, 100_000)))],
        "none": [],
    }[mode]
    return Revision("settlement", on, amount=amount, deadline=by), [
        p for p in payments if p.amount > 0
    ]


def reworked(revised: "Revised", since: date, stop: date) -> list[str]:
    """The loans a run up to `stop` (after one up to `since`) works from their contract
    date, as the stores do: an extension or a plan falling due in it, or a settlement
    effective."""
    return sorted(loan for loan, mine in revised.items() if any(
        (r.kind in ("extension", "plan") and since < r.effective_on <= stop)
        or (r.kind == "settlement" and r.effective_on <= stop) for r in mine
    ))  # fmt: skip


# Extended inside grace (due on day 20, grace 3, extended on day 22): the two days of
# pending penalty are not owed, grace runs again from the new date.
IN_GRACE: Case = (
    Terms(products(3, 1_000, COMPONENTS, "none", "none"), POLICIES, LPR,
          lambda _j, _a, _b: CALENDAR),
    [(Loan("L0", "B0", "p", "CNY", 100_000, Fraction("0.24"), START,
           (Installment(1, START + timedelta(days=20), 100_000, 0),), Fraction("0.365")), [])],
    START + timedelta(days=40), {},
    {"L0": [Revision("extension", START + timedelta(days=22), 5)]},
)  # fmt: skip


# A plan 10 days past due (beyond grace), its first part paid in part on its day, an
# extension after it moving the parts; the second loan's plan on the day its second
# instalment falls due, an extension the same day (the plan first).
PLANNED: Case = (
    Terms(products(3, 1_000, COMPONENTS, "licensed", "next_business_day"), POLICIES, LPR,
          lambda _j, _a, _b: CALENDAR),
    [(Loan("L0", "B0", "p", "CNY", 100_001, Fraction("0.24"), START,
           (Installment(1, START + timedelta(days=20), 100_001, 1_003),), Fraction("0.365")),
      [Payment("P0", 40_000, START + timedelta(days=61))]),
     (Loan("L1", "B1", "p", "CNY", 200_000, Fraction("0.24"), START,
           (Installment(1, START + timedelta(days=10), 100_000, 999),
            Installment(2, START + timedelta(days=40), 100_000, 999)), None),
      [Payment("P1", 5_000, START + timedelta(days=75))])],
    START + timedelta(days=110), {},
    {"L0": [Revision("plan", START + timedelta(days=30), months=3),
            Revision("extension", START + timedelta(days=70), 7)],
     "L1": [Revision("extension", START + timedelta(days=40), 5),
            Revision("plan", START + timedelta(days=40), months=2)]},
)  # fmt: skip


# The UK's two caps at a tighter total (5 % of the principal lent, 5,000.00 here): 1,000.00 of
# interest, then 100.00 of penalty a day past due, cut whole from the day the total is met.
TOTAL_CAPPED: Case = (
    Terms(products(0, 0, COMPONENTS, "none", "none",
                   own=OwnCap(Fraction("2.92"), "own", Fraction("0.05"))), POLICIES, LPR,
          lambda _j, _a, _b: CALENDAR),
    [(Loan("L0", "B0", "p", "CNY", 100_000, Fraction("0.24"), START,
           (Installment(1, START + timedelta(days=20), 100_000, 1_000),), Fraction("0.365")),
      [Payment("P0", 2_000, START + timedelta(days=70))])],
    START + timedelta(days=110), {}, {},
)  # fmt: skip


# Late fees of 10.00 limited to 15.00 in all: three instalments unpaid cross grace on three
# days, asked 10.00, then 5.00, then nothing; the loan's own cap cuts none of them.
LATE_LIMITED: Case = (
    Terms(products(3, 1_000, COMPONENTS, "none", "none",
                   own=OwnCap(Fraction("2.92"), "own"), late=LateFeeLimit(1_500, "own")),
          POLICIES, LPR, lambda _j, _a, _b: CALENDAR),
    [(Loan("L0", "B0", "p", "CNY", 90_000, Fraction("0.24"), START,
           tuple(Installment(n, START + timedelta(days=10 * n), 30_000, 500)
                 for n in (1, 2, 3))), [])],
    START + timedelta(days=60), {}, {},
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(books(), st.integers(0, 3))
@example(LATE_LIMITED, 0)
@example(LATE_LIMITED, 2)
@example(TOTAL_CAPPED, 0)
@example(TOTAL_CAPPED, 2)
@example(IN_GRACE, 0)
@example(IN_GRACE, 2)
@example(PLANNED, 0)
@example(PLANNED, 3)
def test_the_columnar_run_equals_evaluate_loan_on_every_loan(case: Case, splits: int) -> None:
    terms, loans, as_of, held, revised = case
    book = fresh = book_of(loans, terms, held, revised)
    # Run in one go or in several runs: the result must not depend on it. A run works a
    # loan with a revision falling due in it from its contract date, as the stores do (its
    # earlier runs' postings are dropped, as a store drops a replayed loan's).
    stops = sorted({START + (as_of - START) * k // (splits + 1) for k in range(1, splits + 1)})
    charges: list[pl.DataFrame] = []
    cuts: list[pl.DataFrame] = []
    allocations: list[pl.DataFrame] = []
    since = START - timedelta(days=1)
    for stop in [*stops, as_of]:
        due = reworked(revised, since, stop)
        book = renewed(book, fresh, due)
        if due:
            kept = ~pl.col("loan_id").is_in(due)
            charges, cuts, allocations = ([f.filter(kept) for f in frames]
                                          for frames in (charges, cuts, allocations))  # fmt: skip
        book, out = advance(book, stop, terms)
        charges.append(out.frame("charges"))
        cuts.append(out.frame("cuts"))
        allocations.append(out.frame("allocations"))
        since = stop
    states = {
        row["loan_id"]: row
        for row in loan_states(book.loans, book.instalments, as_of, book.pauses).iter_rows(
            named=True
        )
    }
    # The late fees each loan's state counts (what a limit on them leaves room by).
    late = dict(book.loans.select("loan_id", "late_fees_charged").iter_rows())
    for loan, pays in loans:
        ref = terms.evaluate(loan, pays, as_of, held.get(loan.borrower_id, []),
                             revised.get(loan.loan_id, []))  # fmt: skip
        row = states[loan.loan_id]
        assert (row["dpd"], row["bucket"], row["stage"]) == (ref.dpd, ref.bucket, ref.stage)
        assert (row["overdue_principal"], row["overdue_interest"], row["overdue_penalty"],
                row["overdue_fees"]) == (ref.overdue.principal, ref.overdue.interest,
                                         ref.overdue.penalty, ref.overdue.fees)  # fmt: skip
        assert row["outstanding_principal"] == ref.outstanding_principal
        assert (row["credit"], row["charged"]) == (ref.credit, ref.charged)
        assert late[loan.loan_id] == ref.total_charged("late_fee")
    _same_postings(loans, terms, as_of, charges, cuts, allocations, held, revised)


@settings(max_examples=60, deadline=None)
@given(books(), st.integers(0, 3))
def test_the_summary_of_the_ledgers_matrix_is_the_summary_of_its_frames(
    case: Case, splits: int
) -> None:
    # The night sums the lines in the matrix the ledger has just run them in (Book.line_matrix),
    # the other runs from the frames: the summaries must be the same.
    terms, loans, as_of, held, revised = case
    book = fresh = book_of(loans, terms, held, revised)
    stops = sorted({START + (as_of - START) * k // (splits + 1) for k in range(1, splits + 1)})
    since = START - timedelta(days=1)
    for stop in [*stops, as_of]:
        due = reworked(revised, since, stop)
        book, _ = advance(renewed(book, fresh, due), stop, terms)
        since = stop
    assume(book.line_matrix is not None)  # the ledger ran
    watch = Watch(due_within=(1, 3), dpd=(1, 4, 31), amounts=(1_000, 100_000), buckets=True)
    from_matrix = summarise_loans(book.loans, book.instalments, as_of, watch, book.line_loans,
                                  book.line_matrix, book.pauses)  # fmt: skip
    assert from_matrix.equals(
        summarise_loans(book.loans, book.instalments, as_of, watch, pauses=book.pauses)
    )


def _same_postings(
    loans: list[tuple[Loan, list[Payment]]],
    terms: Terms,
    as_of: date,
    charges: list[pl.DataFrame],
    cuts: list[pl.DataFrame],
    allocations: list[pl.DataFrame],
    held: Holds,
    revised: Revised,
) -> None:
    got_charges = _latest_charges(pl.concat(charges))
    got_cuts = pl.concat(cuts).group_by("loan_id", "seq", "kind", "day").agg(pl.col("amount").sum())
    got_alloc = pl.concat(allocations)
    for loan, pays in loans:
        ref = terms.evaluate(loan, pays, as_of, held.get(loan.borrower_id, []),
                             revised.get(loan.loan_id, []))  # fmt: skip
        mine = got_charges.filter(pl.col("loan_id") == loan.loan_id)
        totals: defaultdict[tuple[int, str], int] = defaultdict(int)
        for c in ref.charges:
            totals[(c.seq, c.kind)] += c.amount
        summed = mine.group_by("seq", "kind").agg(pl.col("amount").sum())
        assert totals == {(r["seq"], r["kind"]): r["amount"] for r in summed.iter_rows(named=True)}
        ref_cuts: defaultdict[tuple[int, str, date], int] = defaultdict(int)
        for cut in ref.cap_cuts:
            ref_cuts[(cut.seq, cut.kind, cut.day)] += cut.amount
        mine_cuts = got_cuts.filter(pl.col("loan_id") == loan.loan_id)
        assert dict(ref_cuts) == {
            (r["seq"], r["kind"], r["day"]): r["amount"] for r in mine_cuts.iter_rows(named=True)
        }
        ref_alloc: defaultdict[tuple[str, int, str, date], int] = defaultdict(int)
        for a in ref.allocations:
            ref_alloc[(a.payment_id, a.seq or 0, a.component, a.paid_on)] += a.amount
        mine_alloc: defaultdict[tuple[str, int, str, date], int] = defaultdict(int)
        for r in got_alloc.filter(pl.col("loan_id") == loan.loan_id).iter_rows(named=True):
            mine_alloc[(r["payment_id"], r["seq"], r["component"], r["paid_on"])] += r["amount"]
        assert dict(ref_alloc) == dict(mine_alloc)


def _latest_charges(frame: pl.DataFrame) -> pl.DataFrame:
    """Records keyed like the store: a later run's record of the same key replaces it."""
    return frame.unique(
        ["loan_id", "seq", "kind", "first_day", "posted_on"], keep="last", maintain_order=True
    )


@settings(max_examples=40, deadline=None)
@given(books(), st.randoms(use_true_random=False))
def test_the_order_of_the_loans_lines_does_not_matter(case: Case, shuffle: Random) -> None:
    # A store may hand over each loan's lines together but the loans in any order (as they
    # come out of its segments): the run is the same as on lines in loan order.
    terms, loans, as_of, held, revised = case
    book = book_of(loans, terms, held, revised)
    order = book.loans.get_column("loan_id").to_list()
    shuffle.shuffle(order)
    rank = pl.DataFrame({"loan_id": order, "_r": range(len(order))})
    mixed = book.instalments.join(rank, on="loan_id").sort("_r", "due_date", "seq").drop("_r")
    sorted_book, sorted_out = advance(book, as_of, terms)
    mixed_book, mixed_out = advance(book.with_frames(instalments=mixed), as_of, terms)
    keys = ["loan_id", "due_date", "seq"]
    assert mixed_book.instalments.sort(keys).equals(sorted_book.instalments.sort(keys))
    assert mixed_book.loans.equals(sorted_book.loans)
    for kind in ("charges", "cuts", "allocations"):
        ours, theirs = mixed_out.frame(kind), sorted_out.frame(kind)
        assert ours.sort(ours.columns).equals(theirs.sort(theirs.columns)), kind
    assert loan_states(mixed_book.loans, mixed_book.instalments, as_of).equals(
        loan_states(sorted_book.loans, sorted_book.instalments, as_of)
    )


@settings(max_examples=40, deadline=None)
@given(books())
def test_record_buffers_filling_up_change_nothing(case: Case) -> None:
    # The compiled ledger hands its records over whenever its buffers are full and goes on
    # from the next loan (advance._run): with room for one loan at a time it must post the
    # same as with room for all.
    terms, loans, as_of, held, revised = case
    book = book_of(loans, terms, held, revised)
    roomy_book, roomy = advance(book, as_of, terms)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(advance_module, "_BUFFER_ROWS", 1)
        cramped_book, cramped = advance(book, as_of, terms)
    assert cramped_book.loans.equals(roomy_book.loans)
    assert cramped_book.instalments.equals(roomy_book.instalments)
    for kind in ("charges", "cuts", "allocations"):
        assert cramped.frame(kind).equals(roomy.frame(kind)), kind
    assert cramped.totals == roomy.totals
