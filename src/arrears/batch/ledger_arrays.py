"""The book's loans and instalments as integer matrices while the ledger steps through days.

Loans keep their frame's order (by loan_id) and instalments theirs (by loan, due date, seq);
each instalment knows its loan's position (`li`), and each loan where its lines are, so the
compiled ledger (ledger_kernel.py) works a loan's lines in place with no join. Dates are days
since 1970-01-01 (Polars' own Date representation); a missing date is a sentinel.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from arrears.batch import ledger_kernel as k
from arrears.batch.capping import UNLIMITED
from arrears.batch.grouped import group_starts, sums_by_key
from arrears.domain.calendar import effective_due_date
from arrears.domain.errors import DomainError
from arrears.domain.terms import Terms

EPOCH = date(1970, 1, 1)
NO_DAY = k.NO_DAY  # a missing pending_first / run_first / run_last
_INT32 = np.iinfo(np.int32)
NOT_YET = int(_INT32.max)  # an effective due date not yet known: never before a day
DAYS = {"due_date": NO_DAY, "eff_due": NOT_YET, "pending_first": NO_DAY, "run_first": NO_DAY,
        "run_last": NO_DAY}  # fmt: skip
# What the day steps change (what is written back into the frame at the end).
CHANGING = (
    "interest_charged", "fees_charged", "penalty_charged", "paid_fees", "paid_penalty",
    "paid_interest", "paid_principal", "pending", "pending_days", "pending_base",
    "pending_daily", "run_base", "run_daily", "eff_due", "pending_first", "run_first",
    "run_last", "beyond_grace",
)  # fmt: skip
Ints = npt.NDArray[np.int64]


def day_number(day: date) -> int:
    """A date as days since 1970-01-01."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    """Days since 1970-01-01 as a date."""
    return EPOCH + timedelta(days=number)


def day_numbers(dates: pl.Series, missing: int) -> Ints:
    """A date column as day numbers (no date: `missing`, a 32-bit sentinel). The nulls are
    filled in the dates' own 32 bits and widened by numpy: filled after a cast to 64 bits,
    a million dates took a fresh night 7–11 ms, this way 2–3 ms."""
    days: Ints = dates.to_physical().fill_null(missing).to_numpy().astype(np.int64)
    return days


def dates_of(days: Ints, missing: int) -> pl.Series:
    """Day numbers as a date column (`missing`, a 32-bit sentinel: no date); the inverse of
    day_numbers."""
    if days.size and (days.min() < _INT32.min or days.max() > _INT32.max):
        raise OverflowError("day numbers beyond 32 bits")
    narrow = pl.Series(days.astype(np.int32))
    return pl.select(pl.when(narrow != missing).then(narrow)).to_series().cast(pl.Date)


def _ints(column: str, missing: int = 0) -> pl.Expr:
    """A frame column as Int64 values (dates as day numbers, flags as 0/1; nulls as
    `missing`)."""
    return pl.col(column).to_physical().cast(pl.Int64).fill_null(missing)


def _matrix(frame: pl.DataFrame, columns: list[pl.Expr]) -> Ints:
    """Columns as one writable Int64 matrix, column after column (one copy of each)."""
    matrix: Ints = frame.select(columns).to_numpy(order="fortran", writable=True)
    return matrix


@dataclass
class LedgerArrays:
    """Loans and their lines as matrices (ledger_kernel.LOAN_COLUMNS, LINE_COLUMNS)."""

    loans: pl.DataFrame
    instalments: pl.DataFrame
    li: Ints  # each line's loan position
    loan: Ints  # (loans, LOAN_COLUMNS)
    line: Ints  # (lines, LINE_COLUMNS)

    @classmethod
    def of(
        cls, loans: pl.DataFrame, instalments: pl.DataFrame, li: Ints | None = None
    ) -> "LedgerArrays":
        """Matrices of loans (sorted by loan_id) and their lines (each loan's together, in due
        order); `li`: each line's loan position, when the book already knows it."""
        li = loan_positions(loans, instalments, li)
        line = _matrix(instalments, [_ints(n, DAYS.get(n, 0)) for n in k.LINE_COLUMNS])
        principal = line[:, k.P_DUE] - line[:, k.PD_P]
        tail = _off_lines(loans)
        start, end = _line_ranges(li, loans.height)
        none = np.zeros(loans.height, np.int64)
        computed = {
            "outstanding": sums_by_key(li, principal, loans.height) + tail,
            "off_lines": tail,
            "line_start": start, "line_end": end, "pay_start": none, "pay_end": none,
        }  # fmt: skip
        special = {
            "state": _ints("state_date"),
            "capped": pl.col("cap_num").is_not_null().cast(pl.Int64),
            "cap_den": _ints("cap_den", 1),
            "cap_total": _ints("cap_total", UNLIMITED),
            "late_fee_total": _ints("late_fee_total", UNLIMITED),
        }
        loan = _matrix(
            loans.with_columns(pl.Series(n, v, pl.Int64) for n, v in computed.items()),
            [special.get(n, _ints(n)).alias(n) for n in k.LOAN_COLUMNS],
        )
        return cls(loans, instalments, li, loan, line)

    def column(self, name: str) -> Ints:
        """A line column (a view: writing to it writes the matrix)."""
        view: Ints = self.line[:, k.LINE_COLUMNS.index(name)]
        return view

    def fill_effective_due(self, terms: Terms, upto: date) -> None:
        """Effective due dates of lines falling due by `upto` that do not have one yet."""
        due, eff = self.column("due_date"), self.column("eff_due")
        wanted = np.flatnonzero((eff == NOT_YET) & (due <= day_number(upto)))
        if wanted.size == 0:
            return
        products = self.loans.get_column("product").gather(self.li[wanted])
        pairs = pl.DataFrame({"product": products, "due": due[wanted]})
        table = pairs.unique()
        found = []
        for product_code, number in table.iter_rows():
            product = terms.products[product_code]
            day = day_of(number)
            calendar = terms.calendar_for(product.jurisdiction, day.year, day.year + 1)
            found.append(day_number(effective_due_date(day, product.holiday_rule, calendar)))
        table = table.with_columns(pl.Series("eff", found, pl.Int64))
        filled = pairs.join(table, on=["product", "due"], how="left", maintain_order="left")
        eff[wanted] = filled.get_column("eff").to_numpy()

    def loans_frame(self) -> pl.DataFrame:
        """The loans with their running totals as they stand."""
        loan = self.loan
        return self.loans.with_columns(
            pl.Series("state_date", loan[:, k.STATE], pl.Int64).cast(pl.Int32).cast(pl.Date),
            pl.Series("charged", loan[:, k.CHARGED], pl.Int64),
            pl.Series("principal_days", loan[:, k.PDAYS], pl.Int64),
            pl.Series("credit", loan[:, k.CREDIT], pl.Int64),
            pl.Series("late_fees_charged", loan[:, k.LATE_CHARGED], pl.Int64),
        )

    def instalments_frame(
        self, *, with_due_dates: bool = False, with_amounts: bool = False
    ) -> pl.DataFrame:
        """The lines with their balances as they stand (and their due dates, which only a
        revision changes, and principal and interest due, which only a plan gives its
        parts: domain/revisions.py)."""
        changed = (*CHANGING, "due_date") if with_due_dates else CHANGING
        if with_amounts:
            changed = (*changed, "principal_due", "interest_due")
        values = pl.DataFrame({name: self.column(name) for name in changed}).with_columns(
            pl.col("beyond_grace").cast(pl.Boolean)
        )
        dates = [
            pl.when(pl.col(name) == missing).then(None).otherwise(pl.col(name))
            .cast(pl.Int32).cast(pl.Date).alias(name)
            for name, missing in DAYS.items() if name in changed
        ]  # fmt: skip
        return self.instalments.with_columns(values.with_columns(dates))

    def loan_ids(self, positions: Ints) -> pl.Series:
        """The loan ids at some loan positions."""
        return self.loans.get_column("loan_id").gather(positions)


def _line_ranges(li: Ints, loans: int) -> tuple[Ints, Ints]:
    """Where each loan's lines start and end (none: an empty range); every loan's lines must
    lie together."""
    starts = group_starts(li)
    owners = li[starts]
    if owners.size and np.bincount(owners, minlength=loans).max() > 1:
        raise DomainError("a loan's instalment lines are not together")
    start = np.zeros(loans, dtype=np.int64)
    end = np.zeros(loans, dtype=np.int64)
    start[owners] = starts
    end[owners] = np.append(starts[1:], li.size)
    return start, end


def _off_lines(loans: pl.DataFrame) -> Ints:
    """The principal owed off the lines given: on lines the store left out (book.TAIL_SCHEMA;
    none: 0) and lent but never scheduled (book.LOAN_SCHEMA's `unscheduled`)."""
    names = [n for n in ("tail_principal", "unscheduled") if n in loans.columns]
    if not names:
        return np.zeros(loans.height, dtype=np.int64)
    total = pl.sum_horizontal(pl.col(n).cast(pl.Int64).fill_null(0) for n in names)
    tail: Ints = loans.select(total).to_series().to_numpy()
    return tail


def loan_positions(loans: pl.DataFrame, instalments: pl.DataFrame, known: Ints | None) -> Ints:
    """Each line's loan position: `known` when the book already has it (Book.line_loans),
    else looked up (line_positions)."""
    if known is not None:
        return known
    return line_positions(loans.get_column("loan_id"), instalments.get_column("loan_id"))


def line_positions(loan_ids: pl.Series, line_loans: pl.Series) -> Ints:
    """Each line's loan position (loans sorted by loan_id, each loan's lines together); every
    line's loan must be there.

    Lines come in runs of one loan: only the runs' loans are looked up."""
    runs = line_loans.rle()
    values, lengths = runs.struct.field("value"), runs.struct.field("len")
    found = loan_ids.search_sorted(values, side="left").cast(pl.Int64)
    clipped = found.clip(upper_bound=max(loan_ids.len() - 1, 0))
    if values.len() and (
        loan_ids.len() == 0 or not loan_ids.gather(clipped).equals(values.rename(loan_ids.name))
    ):
        raise DomainError("instalments of loans the book does not hold")
    return np.repeat(found.to_numpy(), lengths.to_numpy()).astype(np.int64)
