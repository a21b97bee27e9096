"""A synthetic Chinese consumer-loan book generated column-wise (numpy + Polars), for benchmarks.

Unlike `synthetic_book` (row by row, for the demo's CSV feeds), this builds a million loans in
seconds: every column is drawn as an array, schedules are exploded per loan, and payments
follow a behaviour drawn per loan. The book is as of the end of `as_of`: payments on `as_of`
are included, later ones are not.
"""

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

_PREFIXES = ["138", "139", "150", "151", "186", "187", "135", "177"]
# Behaviours and their shares, tuned so that about a tenth of the book is past due on as_of,
# part of it deeply (borrowers who never paid, or stopped paying months ago).
_BEHAVIOURS = ["prompt", "late", "drifter", "never"]
_SHARES = [0.80, 0.13, 0.05, 0.02]
_RATE_BP = {"0.10": 1_000, "0.12": 1_200, "0.18": 1_800, "0.216": 2_160, "0.24": 2_400}
_COUNTS = [6, 9, 12, 12]  # instalments per loan: about ten on average
_CALL_OUTCOMES = ["connected", "no_answer", "no_answer", "busy", "refused"]
_SMS_OUTCOMES = ["sent", "delivered"]


def synthetic_frames(
    loans: int, as_of: date, seed: int = 7, history_days: int = 330
) -> dict[str, pl.DataFrame]:
    """The book's input tables: borrowers, loans, installments, payments, contacts, promises.

    Contracts are signed over the `history_days` before `as_of` (at least 20 days before).
    """
    rng = np.random.default_rng(seed)
    drawn = _loans(rng, loans, as_of, history_days)
    schedule = _schedule(drawn)
    borrowers = _borrowers(rng, drawn)
    return {
        "borrowers": borrowers,
        "loans": drawn.drop("count", "behaviour", "stop"),
        "installments": schedule.select(
            "loan_id", "seq", "due_date", "principal_due", "interest_due", "fee_due"
        ),
        "payments": _payments(rng, schedule, as_of),
        "contact_attempts": _attempts(rng, drawn, borrowers, as_of),
        "promises": _promises(rng, drawn, as_of),
    }


def _pick(
    rng: np.random.Generator, values: list[str], n: int, p: list[float] | None = None
) -> pl.Series:
    """n strings drawn from `values` (as a categorical draw of indices, then a lookup)."""
    index = rng.choice(len(values), n, p=p)
    return pl.Series(values, dtype=pl.String).gather(index)


def _loans(rng: np.random.Generator, n: int, as_of: date, history_days: int) -> pl.DataFrame:
    """Loans: about one borrower in six holds a second loan; 15 % private loans (民间借贷)."""
    borrowers = max(1, int(n * 0.85))
    owner = np.concatenate([np.arange(borrowers), rng.integers(0, borrowers, n - borrowers)])
    private = rng.random(n) < 0.15
    rates = pl.select(
        pl.when(pl.Series(private))
        .then(_pick(rng, ["0.10", "0.12"], n))
        .otherwise(_pick(rng, ["0.18", "0.216", "0.24"], n))
    ).to_series()
    frame = pl.DataFrame(
        {
            "n": np.arange(1, n + 1),
            "b": owner + 1,
            "private": private,
            "age": rng.integers(20, max(21, history_days), n),  # days since the contract
            "principal": rng.integers(10, 500, n).astype(np.int64) * 10_000,
            "annual_rate": rates,
            "count": pl.Series(_COUNTS, dtype=pl.Int64).gather(rng.integers(0, len(_COUNTS), n)),
            "behaviour": _pick(rng, _BEHAVIOURS, n, _SHARES),
            "stop": rng.integers(1, 13, n),  # a drifter's last paid instalment
        }
    )
    return frame.select(
        pl.format("L{}", pl.col("n").cast(pl.String).str.zfill(8)).alias("loan_id"),
        pl.format("B{}", pl.col("b").cast(pl.String).str.zfill(8)).alias("borrower_id"),
        pl.when("private").then(pl.lit("cn-private")).otherwise(pl.lit("cn-cash")).alias("product"),
        (pl.lit(as_of) - pl.duration(days=pl.col("age"))).cast(pl.Date).alias("contract_date"),
        "principal",
        "annual_rate",
        pl.lit(None, pl.String).alias("penalty_rate"),
        "count",
        "behaviour",
        "stop",
    ).sort("loan_id")


def _schedule(loans: pl.DataFrame) -> pl.DataFrame:
    """Equal-principal monthly instalments; interest on the declining balance, actual/360."""
    lines = loans.with_columns(pl.int_ranges(1, pl.col("count") + 1).alias("seq")).explode("seq")
    part = pl.col("principal") // pl.col("count")
    due = pl.col("contract_date").dt.offset_by(pl.format("{}mo", pl.col("seq")))
    lines = lines.with_columns(
        due.alias("due_date"),
        pl.when(pl.col("seq") < pl.col("count"))
        .then(part)
        .otherwise(pl.col("principal") - part * (pl.col("count") - 1))
        .alias("principal_due"),
        (pl.col("principal") - part * (pl.col("seq") - 1)).alias("balance"),
        pl.col("annual_rate").replace_strict(_RATE_BP, return_dtype=pl.Int64).alias("rate_bp"),
    )
    previous = pl.col("due_date").shift(1).over("loan_id").fill_null(pl.col("contract_date"))
    days = (pl.col("due_date") - previous).dt.total_days()
    # Floored, so a product priced at the cap never exceeds it by a rounding fen.
    return lines.with_columns(
        (pl.col("balance") * pl.col("rate_bp") * days // 3_600_000).alias("interest_due"),
        pl.lit(0, pl.Int64).alias("fee_due"),
        pl.col("seq").cast(pl.Int64),
    )


def _payments(rng: np.random.Generator, schedule: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Each paying line paid once: prompt payers a day or two early, late payers 1–25 days late."""
    n = schedule.height
    lines = schedule.with_columns(
        pl.Series("early", rng.integers(0, 3, n)), pl.Series("lateness", rng.integers(1, 26, n))
    )
    pays = (
        (pl.col("behaviour") == "prompt")
        | (pl.col("behaviour") == "late")
        | ((pl.col("behaviour") == "drifter") & (pl.col("seq") <= pl.col("stop")))
    )
    delay = pl.when(pl.col("behaviour") == "late").then("lateness").otherwise(-pl.col("early"))
    # A late payer adds roughly the penalty they owe; residuals stay unpaid, as in real books.
    extra = pl.when(delay > 0).then(pl.col("principal_due") * 27 * delay // 36_000).otherwise(0)
    return (
        lines.filter(pays)
        .with_columns(
            (pl.col("due_date") + pl.duration(days=delay)).alias("paid_on"),
            (pl.col("principal_due") + pl.col("interest_due") + extra).alias("amount"),
        )
        .filter(pl.col("paid_on") <= as_of)
        .select(
            pl.format("P{}-{}", pl.col("loan_id"), pl.col("seq")).alias("payment_id"),
            "loan_id",
            pl.col("amount").cast(pl.Int64),
            "paid_on",
        )
    )


def _borrowers(rng: np.random.Generator, loans: pl.DataFrame) -> pl.DataFrame:
    """One row a borrower: an E.164 mobile number; 70 % with a recorded time zone."""
    ids = loans.select("borrower_id").unique().sort("borrower_id")
    n = ids.height
    digits = pl.Series(rng.integers(0, 10**8, n)).cast(pl.String).str.zfill(8)
    return ids.with_columns(
        (pl.lit("+86") + _pick(rng, _PREFIXES, n) + digits).alias("phone"),
        pl.when(pl.Series(rng.random(n) < 0.7))
        .then(pl.lit("Asia/Shanghai"))
        .otherwise(pl.lit(None, pl.String))
        .alias("timezone"),
    )


def _attempts(
    rng: np.random.Generator, loans: pl.DataFrame, borrowers: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """Calls and SMS of the last month to the borrowers of loans that are paid late or not."""
    # In borrower order: each draw below goes to the same borrower for the same seed (a
    # hashed unique's order changes from one process to the next).
    troubled = (
        loans.filter(pl.col("behaviour") != "prompt").select("borrower_id").unique()
        .sort("borrower_id")
    )  # fmt: skip
    counts = rng.integers(0, 6, troubled.height)
    rows = troubled.with_columns(pl.Series("times", counts)).filter(pl.col("times") > 0)
    rows = rows.with_columns(pl.int_ranges(0, pl.col("times")).alias("k")).explode("k")
    n = rows.height
    call = pl.Series(rng.random(n) < 0.7)
    # 01:00–12:00 UTC is 09:00–20:00 in Beijing: inside the lawful hours.
    seconds = rng.integers(1 * 3600, 12 * 3600, n) + rng.integers(1, 31, n) * -86_400
    start = pl.lit(as_of).cast(pl.Datetime("us", "UTC"))
    phones = borrowers.select("borrower_id", "phone")
    return rows.join(phones, on="borrower_id", maintain_order="left").select(
        "borrower_id",
        pl.lit(None, pl.String).alias("contact_id"),
        pl.when(call).then(pl.lit("call")).otherwise(pl.lit("sms")).alias("channel"),
        pl.col("phone").alias("to_phone"),
        (start + pl.duration(seconds=pl.lit(pl.Series(seconds)))).alias("at"),
        pl.when(call)
        .then(_pick(rng, _CALL_OUTCOMES, n))
        .otherwise(_pick(rng, _SMS_OUTCOMES, n))
        .alias("outcome"),
    )


def _promises(rng: np.random.Generator, loans: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Promises to pay made in the last ten days by one in ten of the late or drifting loans."""
    late = loans.filter(pl.col("behaviour").is_in(["late", "drifter"]))
    chosen = late.filter(pl.Series(rng.random(late.height) < 0.1))
    n = chosen.height
    made = pl.lit(as_of) - pl.duration(days=pl.lit(pl.Series(rng.integers(1, 11, n))))
    wait = pl.duration(days=pl.lit(pl.Series(rng.integers(1, 11, n))))
    return chosen.select(
        pl.format("PR{}", pl.col("loan_id")).alias("promise_id"),
        "loan_id",
        (pl.col("principal") // pl.col("count")).alias("amount"),
        made.cast(pl.Date).alias("made_on"),
        (made + wait).cast(pl.Date).alias("due_on"),
    )


def write_book(tables: dict[str, pl.DataFrame], directory: Path) -> Path:
    """Write the input tables as a book folder (DIR/<table>.parquet)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_parquet(directory / f"{name}.parquet")
    return directory
