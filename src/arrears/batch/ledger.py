"""What a run posts besides balances: charge records, cap cuts and allocations, as frames."""

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

POSITION = "loan_position"  # a record's loan's position in the book the run advanced
CHARGE_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String,
        "seq": pl.Int64,
        "kind": pl.String,
        "posted_on": pl.Date,
        "first_day": pl.Date,
        "last_day": pl.Date,
        "base": pl.Int64,
        "daily": pl.Int64,
        "amount": pl.Int64,
    }
)
CUT_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String,
        "seq": pl.Int64,
        "kind": pl.String,
        "day": pl.Date,
        "amount": pl.Int64,
    }
)
ALLOCATION_SCHEMA = pl.Schema(
    {
        "loan_id": pl.String,
        "payment_id": pl.String,
        "seq": pl.Int64,  # 0: held as credit
        "component": pl.String,
        "amount": pl.Int64,
        "paid_on": pl.Date,
    }
)
# What each loan posted on the days a run counts (those after its last run), by kind: the
# summary adds them up by the loans' currencies (two currencies are never added).
POSTED_SCHEMA = pl.Schema(
    {"loan_id": pl.String, "interest": pl.Int64, "penalty": pl.Int64, "fees": pl.Int64}
)
# What an earlier run of the same day posted and cut for a loan a re-run replays.
RESTATED_SCHEMA = pl.Schema(
    {"loan_id": pl.String, "interest": pl.Int64, "penalty": pl.Int64, "fees": pl.Int64,
     "cut": pl.Int64}
)  # fmt: skip


# What a sum of a book's amounts is worked out in. Each amount fits Int64 (a loan's, bounded:
# docs/MONEY_RULES.md), but a book holds any number of loans, and an Int64 sum of them wraps
# without a word (20,000 loans of 9,999,999,999,999.99 each added up to a negative total). An
# Int128 sum holds 2^64 amounts of 2^63 fen each: more loans than any machine can hold.
EXACT: pl.DataType = pl.Int128()


def exact_total(amounts: pl.Series | npt.NDArray[np.int64]) -> int:
    """The sum of Int64 amounts (minor units) as a Python int: exact, never wrapped."""
    if isinstance(amounts, pl.Series):  # nulls add nothing, as Polars' sum takes them
        amounts = amounts.drop_nulls().cast(pl.Int64).to_numpy()
    values = amounts
    if values.size == 0:
        return 0
    largest = max(abs(int(values.min())), abs(int(values.max())))
    if largest * values.size < 2**63:
        # No partial sum can pass Int64: added as they are, without a copy of every amount
        # in Int128 (16 bytes each: a night adds up the million loans' resting penalties).
        return int(values.sum())
    return int(pl.Series(values).cast(EXACT).sum())


@dataclass
class Postings:
    """Frames posted by the days of one run, gathered and concatenated once at the end."""

    charges: list[pl.DataFrame] = field(default_factory=list)
    cuts: list[pl.DataFrame] = field(default_factory=list)
    allocations: list[pl.DataFrame] = field(default_factory=list)
    posted: list[pl.DataFrame] = field(default_factory=list)  # POSTED_SCHEMA
    totals: dict[str, int] = field(default_factory=dict)  # posted this run: interest/penalty/fees
    days: int = 0  # days stepped
    advanced: bool = False  # whether any loan moved

    def count(self, kind: str, amount: int) -> None:
        """Add to the amount of a kind posted by this run."""
        self.totals[kind] = self.totals.get(kind, 0) + amount

    def add(self, kind: str, frame: pl.DataFrame) -> None:
        """Keep a non-empty frame of one kind."""
        if frame.height:
            getattr(self, kind).append(frame)

    def frame(self, kind: str, *, positions: bool = False) -> pl.DataFrame:
        """Everything of one kind posted so far (with each record's loan position too)."""
        schema = {"charges": CHARGE_SCHEMA, "cuts": CUT_SCHEMA, "allocations": ALLOCATION_SCHEMA,
                  "posted": POSTED_SCHEMA}  # fmt: skip
        wanted = pl.Schema({**schema[kind], POSITION: pl.Int64()} if positions else schema[kind])
        parts = [part.select(list(wanted)).cast(wanted) for part in getattr(self, kind)]
        return pl.concat(parts) if parts else pl.DataFrame(schema=wanted)
