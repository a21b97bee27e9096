"""Checks of a parsed feed against what the store holds: references, key clashes, re-imports.

Each check returns a mask of rows to write; rows it refuses are logged (and make the file fail),
while payments already stored with identical content are left out silently (idempotent import).
"""

from collections.abc import Callable, Collection

import polars as pl

from arrears.adapters.feeds.error_log import ErrorLog
from arrears.services.feed import FeedKind
from arrears.services.ports import StoredKeys

StoredCheckFn = Callable[[pl.DataFrame, StoredKeys, ErrorLog], pl.Series]


def _flag(frame: pl.DataFrame, log: ErrorLog, column: str, when: pl.Expr, message: pl.Expr) -> None:
    """Log `message` on every row where `when` holds."""
    log.add_cells(frame["_row"], column, frame.select(pl.when(when).then(message)).to_series())


def _stored(values: Collection[str]) -> pl.Expr:
    """Stored ids as one list value, for `is_in` (a bare Series there is deprecated: ambiguous)."""
    return pl.lit(pl.Series(list(values), dtype=pl.String).implode())


def _all_rows(frame: pl.DataFrame) -> pl.Series:
    """Write every row."""
    return pl.Series([True] * frame.height, dtype=pl.Boolean)


def _refuse_stored(
    frame: pl.DataFrame, log: ErrorLog, column: str, stored: Collection[str], what: str
) -> None:
    """A key already stored is an error (only payments may be re-imported)."""
    key = pl.col(column)
    _flag(
        frame,
        log,
        column,
        key.is_in(_stored(stored)),
        pl.format(f"{what} {{}} is already in the database", key),
    )


def _require(
    frame: pl.DataFrame, log: ErrorLog, column: str, stored: Collection[str], what: str
) -> None:
    """A reference to an id the store does not hold is an error."""
    key = pl.col(column)
    missing = key.is_not_null() & ~key.is_in(_stored(stored))
    message = pl.format(f"{what} {{}} is not in the database (import {what}s first)", key)
    _flag(frame, log, column, missing, message)


def _with_contract_dates(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> pl.DataFrame:
    """The frame with each row's loan contract date; rows naming an unknown loan are logged."""
    _require(frame, log, "loan_id", stored.loans.keys(), "loan")
    loans = pl.DataFrame(
        {"loan_id": list(stored.loans), "contract_date": list(stored.loans.values())},
        schema={"loan_id": pl.String, "contract_date": pl.Date},
    )
    return frame.join(loans, on="loan_id", how="left", maintain_order="left")


def _check_borrowers(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> pl.Series:
    """New borrowers only."""
    _refuse_stored(frame, log, "borrower_id", stored.borrowers, "borrower")
    return _all_rows(frame)


def _check_contacts(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> pl.Series:
    """New contacts of stored borrowers."""
    _refuse_stored(frame, log, "contact_id", stored.contacts, "contact")
    _require(frame, log, "borrower_id", stored.borrowers, "borrower")
    return _all_rows(frame)


def _check_loans(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> pl.Series:
    """New loans of stored borrowers."""
    _refuse_stored(frame, log, "loan_id", stored.loans.keys(), "loan")
    _require(frame, log, "borrower_id", stored.borrowers, "borrower")
    return _all_rows(frame)


def _check_installments(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> pl.Series:
    """New instalments of stored loans, due after the contract date."""
    dated = _with_contract_dates(frame, stored, log)
    due, contract = pl.col("due_date"), pl.col("contract_date")
    message = pl.format("due date {} is not after the loan's contract date {}", due, contract)
    _flag(dated, log, "due_date", due <= contract, message)
    keys = pl.DataFrame(
        [(loan_id, seq, True) for loan_id, seq in stored.installments],
        schema={"loan_id": pl.String, "seq": pl.Int32, "stored": pl.Boolean},
        orient="row",
    )
    known = frame.join(keys, on=["loan_id", "seq"], how="left", maintain_order="left")
    message = pl.format(
        "loan {} already has instalment {} in the database", pl.col("loan_id"), pl.col("seq")
    )
    _flag(known, log, "seq", pl.col("stored").is_not_null(), message)
    _refuse_over_principal(known, stored, log)
    return _all_rows(frame)


def _refuse_over_principal(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> None:
    """A loan's instalments, stored and new, may schedule no more principal than the loan
    lent: the cost cap's allowance runs on the principal they leave outstanding (CONTRACT.md,
    cap days), so more would let charges past the cap. A row giving an instalment already
    stored (`stored`, refused as such) adds nothing: its principal is counted once, stored."""
    known = pl.DataFrame(
        {"loan_id": list(stored.principals), "lent": list(stored.principals.values()),
         "before": [stored.scheduled.get(loan_id, 0) for loan_id in stored.principals]},
        schema={"loan_id": pl.String, "lent": pl.Int64, "before": pl.Int64},
    )  # fmt: skip
    # In file order: the rows from the one that goes past what was lent are refused.
    new = pl.when(pl.col("stored").is_null()).then(pl.col("principal_due").fill_null(0))
    so_far = new.otherwise(0).cum_sum().over("loan_id")
    totals = frame.join(known, on="loan_id", how="left", maintain_order="left").with_columns(
        (pl.col("before") + so_far).alias("scheduled")
    )
    message = pl.format(
        "loan {}'s instalments schedule {} of principal by this row, more than the {} it lent",
        pl.col("loan_id"), _shown(pl.col("scheduled")), _shown(pl.col("lent")),
    )  # fmt: skip
    over = (
        (pl.col("scheduled") > pl.col("lent"))
        & (pl.col("principal_due") > 0)
        & pl.col("stored").is_null()
    )
    _flag(totals, log, "principal_due", over, message)


def _shown(minor: pl.Expr) -> pl.Expr:
    """Minor units as decimal text (12345 → 123.45)."""
    return pl.format("{}.{}", minor // 100, (minor % 100).cast(pl.String).str.pad_start(2, "0"))


def _check_payments(frame: pl.DataFrame, stored: StoredKeys, log: ErrorLog) -> pl.Series:
    """Payments of stored loans from their contract on; known payments skipped if identical."""
    dated = _with_contract_dates(frame, stored, log)
    paid, contract = pl.col("paid_on"), pl.col("contract_date")
    message = pl.format("paid on {}, before the loan's contract date {}", paid, contract)
    _flag(dated, log, "paid_on", paid < contract, message)
    known = pl.DataFrame(
        [(key, p.loan_id, p.amount, p.paid_on) for key, p in stored.payments.items()],
        schema={
            "payment_id": pl.String,
            "s_loan": pl.String,
            "s_amount": pl.Int64,
            "s_paid_on": pl.Date,
        },
        orient="row",
    )
    both = frame.join(known, on="payment_id", how="left", maintain_order="left")
    same = (
        (pl.col("s_loan") == pl.col("loan_id"))
        & (pl.col("s_amount") == pl.col("amount"))
        & (pl.col("s_paid_on") == pl.col("paid_on"))
    ).fill_null(False)
    amount = _shown(pl.col("s_amount"))
    message = pl.format(
        "payment {} already imported with amount {} on {} for loan {}",
        pl.col("payment_id"),
        amount,
        pl.col("s_paid_on"),
        pl.col("s_loan"),
    )
    _flag(both, log, "payment_id", pl.col("s_loan").is_not_null() & ~same, message)
    return both.select(~same).to_series()


CHECKS: dict[FeedKind, StoredCheckFn] = {
    "borrowers": _check_borrowers,
    "contacts": _check_contacts,
    "loans": _check_loans,
    "installments": _check_installments,
    "payments": _check_payments,
}
