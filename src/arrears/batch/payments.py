"""The payment waterfall over columns: credit held, then the day's payments, oldest due first."""

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from arrears.batch.grouped import Ints, group_starts, running_before, sums_by_key
from arrears.batch.ledger import Postings
from arrears.batch.ledger_arrays import Flags, LedgerArrays
from arrears.batch.records import allocation_records
from arrears.domain.product import COMPONENTS

_PAID = tuple(f"paid_{c}" for c in COMPONENTS)


@dataclass(frozen=True)
class DayPayments:
    """Payments of the book's loans to apply, in (day, loan position, payment id) order."""

    day: Ints
    li: Ints
    amount: Ints
    ids: pl.Series

    @classmethod
    def of(
        cls, payments: pl.DataFrame, loan_ids: pl.Series, first: date, last: date
    ) -> "DayPayments":
        """The payments dated first..last of loans in `loan_ids` (sorted)."""
        dated = payments.filter(pl.col("paid_on").is_between(first, last))
        found = loan_ids.search_sorted(dated.get_column("loan_id"), side="left").cast(pl.Int64)
        clipped = found.clip(upper_bound=max(loan_ids.len() - 1, 0))
        known = (
            loan_ids.gather(clipped).to_numpy() == dated.get_column("loan_id").to_numpy()
            if loan_ids.len()
            else np.zeros(dated.height, dtype=np.bool_)
        )
        frame = dated.with_columns(pl.Series("li", found)).filter(pl.Series(known))
        frame = frame.sort("paid_on", "li", "payment_id")
        return cls(
            frame.get_column("paid_on").to_physical().cast(pl.Int64).to_numpy(),
            frame.get_column("li").to_numpy(), frame.get_column("amount").to_numpy(),
            frame.get_column("payment_id"),
        )  # fmt: skip

    def on(self, day: int) -> "DayPayments":
        """The payments of one day (a day number)."""
        low, high = np.searchsorted(self.day, [day, day + 1])
        return DayPayments(self.day[low:high], self.li[low:high], self.amount[low:high],
                           self.ids.slice(int(low), int(high - low)))  # fmt: skip


def paying_loans(ledger: LedgerArrays, today: DayPayments, day: int) -> Flags:
    """Loans with money to apply today: a payment dated today, credit held, or prepaid
    interest or fees falling due today (the cap may send part of them back as credit)."""
    paying = ledger.credit > 0
    paying[today.li] = True
    rows = ledger.rows
    prepaid = (rows["due_date"] == day) & ((rows["paid_interest"] + rows["paid_fees"]) > 0)
    paying[ledger.li[prepaid]] = True
    return paying


def take_payments(
    ledger: LedgerArrays, mine: Ints, active: Flags, today: DayPayments, day: int, out: Postings
) -> None:
    """Apply credit and today's payments down each active loan's waterfall.

    Money and dues are laid end to end: each source (credit first, then payments by id) covers
    a stretch of the loan's money, each due (instalments oldest first, components in the
    product's order) a stretch of its waterfall; what a source pays a due is the overlap.
    This equals paying source by source, each greedily down the waterfall. `mine` holds every
    line of every loan with money to apply.
    """
    credit_li = np.flatnonzero(active & (ledger.credit > 0))
    usable = active[today.li]
    src_li = np.concatenate([credit_li, today.li[usable]])
    if src_li.size == 0:
        return
    src_amount = np.concatenate([ledger.credit[credit_li], today.amount[usable]])
    rank = np.concatenate([np.zeros(credit_li.size, np.int64), np.arange(1, usable.sum() + 1)])
    order = np.lexsort((rank, src_li))
    src_li, src_amount, is_credit = src_li[order], src_amount[order], rank[order] == 0
    ids = pl.concat([pl.Series(["credit"] * credit_li.size, dtype=pl.String),
                     today.ids.filter(pl.Series(usable))]).gather(order)  # fmt: skip
    s_end = running_before(src_li, src_amount) + src_amount
    due_row, due_comp, d_end, owed = _dues(ledger, mine, src_li, day)
    d_li = ledger.li[due_row]
    # Each loan's dues are together (its lines are): where they start and how many there are.
    count = np.bincount(d_li, minlength=ledger.credit.size)
    first = np.zeros(ledger.credit.size, dtype=np.int64)
    starts = group_starts(d_li)
    first[d_li[starts]] = starts
    per_source = count[src_li]
    pair_src = np.repeat(np.arange(src_li.size), per_source)
    within = np.arange(per_source.sum()) - np.repeat(np.cumsum(per_source) - per_source, per_source)
    pair_due = first[src_li[pair_src]] + within
    overlap = np.minimum(s_end[pair_src], d_end[pair_due]) - np.maximum(
        s_end[pair_src] - src_amount[pair_src], d_end[pair_due] - owed[pair_due]
    )
    amount = np.clip(overlap, 0, None)
    got = np.flatnonzero(amount > 0)
    rows, comps, paid = due_row[pair_due[got]], due_comp[pair_due[got]], amount[got]
    out.add("allocations", allocation_records(
        ledger, src_li[pair_src[got]], ids.gather(pair_src[got]), ledger.rows["seq"][rows],
        pl.Series(COMPONENTS).gather(comps), paid, day,
    ))  # fmt: skip
    left = src_amount - sums_by_key(pair_src, amount, src_li.size)
    held = np.flatnonzero((left > 0) & ~is_credit)
    out.add("allocations", allocation_records(
        ledger, src_li[held], ids.gather(held), np.zeros(held.size, np.int64),
        pl.Series(["credit"] * held.size, dtype=pl.String), left[held], day,
    ))  # fmt: skip
    has = np.zeros(ledger.credit.size, dtype=np.bool_)
    has[src_li] = True
    ledger.credit = np.where(has, sums_by_key(src_li, left, ledger.credit.size), ledger.credit)
    for c, column in enumerate(_PAID):
        mask = comps == c
        np.add.at(ledger.rows[column], rows[mask], paid[mask])


def _dues(
    ledger: LedgerArrays, mine: Ints, src_li: Ints, day: int
) -> tuple[Ints, Ints, Ints, Ints]:
    """Every component of every line of the loans with money, as stretches of the loan's
    waterfall in paying order: (line, component index, stretch end, owed)."""
    has = np.zeros(ledger.credit.size, dtype=np.bool_)
    has[src_li] = True
    lines = mine[has[ledger.li[mine]]]
    r = ledger.rows
    posted = r["due_date"][lines] <= day
    owed = np.stack([
        np.where(posted, r["fees_charged"][lines], r["fee_due"][lines]) - r["paid_fees"][lines],
        r["penalty_charged"][lines] - r["paid_penalty"][lines],
        np.where(posted, r["interest_charged"][lines], r["interest_due"][lines])
        - r["paid_interest"][lines],
        r["principal_due"][lines] - r["paid_principal"][lines],
    ], axis=1)  # fmt: skip
    by_rank = np.argsort(ledger.ranks[ledger.li[lines]], axis=1, kind="stable")
    flat = np.take_along_axis(owed, by_rank, axis=1).ravel()
    row = np.repeat(lines, len(COMPONENTS))
    end = running_before(ledger.li[row], flat) + flat
    return row, by_rank.ravel(), end, flat
