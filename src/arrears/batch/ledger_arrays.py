"""The book's loans and instalments as numpy columns while the ledger steps through days.

Loans keep their frame's order (by loan_id) and instalments theirs (by loan, due date, seq);
each instalment knows its loan's position (`li`), so a loan's terms reach its lines by a
gather and the lines' amounts reach their loan by a grouped sum, with no join. Dates are days
since 1970-01-01 (Polars' own Date representation); a missing date is a sentinel.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from arrears.batch.grouped import sums_by_key
from arrears.domain.calendar import effective_due_date
from arrears.domain.errors import DomainError
from arrears.domain.product import COMPONENTS
from arrears.domain.terms import Terms

EPOCH = date(1970, 1, 1)
NO_DAY = int(np.iinfo(np.int32).min)  # a missing pending_first / run_first / run_last
NOT_YET = int(np.iinfo(np.int32).max)  # an effective due date not yet known: never before a day
AMOUNTS = (
    "seq", "principal_due", "interest_due", "fee_due", "interest_charged", "fees_charged",
    "penalty_charged", "paid_fees", "paid_penalty", "paid_interest", "paid_principal", "pending",
    "pending_days", "pending_base", "pending_daily", "run_base", "run_daily",
)  # fmt: skip
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
Flags = npt.NDArray[np.bool_]


def day_number(day: date) -> int:
    """A date as days since 1970-01-01."""
    return (day - EPOCH).days


def day_of(number: int) -> date:
    """Days since 1970-01-01 as a date."""
    return EPOCH + timedelta(days=number)


def _ints(frame: pl.DataFrame, column: str, missing: int = 0) -> Ints:
    """A frame column as int64 values (dates as day numbers; nulls as `missing`)."""
    series = frame.get_column(column)
    if series.dtype == pl.Date:
        series = series.to_physical()
    if series.null_count():
        series = series.fill_null(missing)
    # One copy: the ledger writes into these arrays (a frame's buffers are read-only).
    return series.to_numpy().astype(np.int64, copy=True)


@dataclass
class LedgerArrays:
    """Loans and their lines as columns; `rows` maps a column name to its array."""

    loans: pl.DataFrame
    instalments: pl.DataFrame
    li: Ints  # each line's loan position
    state: Ints  # each loan's state date (day number)
    charged: Ints
    principal_days: Ints
    credit: Ints
    outstanding: Ints
    tail_principal: Ints  # principal owed on lines the store left out (book.TAIL_SCHEMA)
    pen_num: Ints
    pen_den: Ints
    day_count: Ints
    grace_days: Ints
    late_fee: Ints
    capped: Flags
    cap_num: Ints
    cap_den: Ints
    ranks: Ints  # (loans, 4): position of each of COMPONENTS in the loan's allocation order
    rows: dict[str, Ints]
    beyond_grace: Flags

    @classmethod
    def of(
        cls, loans: pl.DataFrame, instalments: pl.DataFrame, li: Ints | None = None
    ) -> "LedgerArrays":
        """Columns of loans (sorted by loan_id) and their lines (each loan's together, in due
        order); `li`: each line's loan position, when the book already knows it."""
        li = loan_positions(loans, instalments, li)
        rows = {name: _ints(instalments, name) for name in AMOUNTS}
        rows |= {name: _ints(instalments, name, missing) for name, missing in DAYS.items()}
        principal = rows["principal_due"] - rows["paid_principal"]
        capped = loans.get_column("cap_num").is_not_null().to_numpy()
        tail = _tail_principal(loans)
        return cls(
            loans, instalments, li, _ints(loans, "state_date"), _ints(loans, "charged"),
            _ints(loans, "principal_days"), _ints(loans, "credit"),
            sums_by_key(li, principal, loans.height) + tail, tail,
            _ints(loans, "pen_num"), _ints(loans, "pen_den"), _ints(loans, "day_count"),
            _ints(loans, "grace_days"), _ints(loans, "late_fee"), capped,
            _ints(loans, "cap_num"), _ints(loans, "cap_den", 1),
            np.stack([_ints(loans, f"rank_{c}") for c in COMPONENTS], axis=1), rows,
            instalments.get_column("beyond_grace").to_numpy().astype(np.bool_, copy=True),
        )  # fmt: skip

    def fill_effective_due(self, terms: Terms, upto: date) -> None:
        """Effective due dates of lines falling due by `upto` that do not have one yet."""
        due, eff = self.rows["due_date"], self.rows["eff_due"]
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
        return self.loans.with_columns(
            pl.Series("state_date", self.state, pl.Int64).cast(pl.Int32).cast(pl.Date),
            pl.Series("charged", self.charged, pl.Int64),
            pl.Series("principal_days", self.principal_days, pl.Int64),
            pl.Series("credit", self.credit, pl.Int64),
        )

    def instalments_frame(self) -> pl.DataFrame:
        """The lines with their balances as they stand."""
        values = pl.DataFrame(
            {name: self.rows[name] for name in CHANGING if name != "beyond_grace"}
        ).with_columns(pl.Series("beyond_grace", self.beyond_grace, pl.Boolean))
        dates = [
            pl.when(pl.col(name) == missing).then(None).otherwise(pl.col(name))
            .cast(pl.Int32).cast(pl.Date).alias(name)
            for name, missing in DAYS.items() if name in CHANGING
        ]  # fmt: skip
        return self.instalments.with_columns(values.with_columns(dates))

    def loan_ids(self, positions: Ints) -> pl.Series:
        """The loan ids at some loan positions."""
        return self.loans.get_column("loan_id").gather(positions)


def _tail_principal(loans: pl.DataFrame) -> Ints:
    """The principal owed on lines the store left out (book.TAIL_SCHEMA; none: 0)."""
    if "tail_principal" not in loans.columns:
        return np.zeros(loans.height, dtype=np.int64)
    return _ints(loans, "tail_principal")


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
