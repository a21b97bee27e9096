"""A book of absurd but lawful amounts: each instalment owes the largest interest a feed takes
(9,999,999,999,999.99), so a book of 1,000 loans of 20 daily instalments owes more than Int64
holds."""

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from arrears.batch.book import PAYMENT_SCHEMA
from arrears.domain.money import format_amount, parse_amount

LOANS, INSTALMENTS = 1_000, 20
MOST = 10**15 - 1  # fen: 13 digits of major units (adapters/feeds/cells.MAX_WHOLE_DIGITS)
CONTRACT, DUE, AS_OF = date(2025, 1, 2), date(2025, 2, 3), date(2025, 3, 5)
# Half in dollars on an uncapped product (its interest posts whole), half in yuan under the
# 24 % cap (its interest is cut): each half's interest is 10,000 × MOST, past 2^63 - 1.
HALF = LOANS // 2


def huge_book(count: int = LOANS) -> dict[str, pl.DataFrame]:
    """The book's input tables (amounts in fen), of `count` loans."""
    number = pl.int_range(count).cast(pl.String).str.zfill(8)
    ids = pl.select(
        loan_id=pl.format("L{}", number),
        borrower_id=pl.format("B{}", number),
        phone=pl.format("+86138{}", number),
        usd=pl.int_range(count) % 2 == 0,
    )
    loans = ids.select(
        "loan_id", "borrower_id",
        product=pl.when("usd").then(pl.lit("us-installment")).otherwise(pl.lit("cn-cash")),
        currency=pl.when("usd").then(pl.lit("USD")).otherwise(pl.lit("CNY")),
        contract_date=pl.lit(CONTRACT), principal=pl.lit(10_000, pl.Int64),
        annual_rate=pl.lit("0.18"), penalty_rate=pl.lit(None, pl.String),
    )  # fmt: skip
    seqs = pl.DataFrame({"seq": range(1, INSTALMENTS + 1)}, schema={"seq": pl.Int64})
    schedule = ids.select("loan_id").join(seqs, how="cross").select(
        "loan_id", "seq", due_date=pl.lit(DUE) + pl.duration(days=pl.col("seq") - 1),
        principal_due=pl.lit(10_000 // INSTALMENTS, pl.Int64),
        interest_due=pl.lit(MOST, pl.Int64), fee_due=pl.lit(0, pl.Int64),
    )  # fmt: skip
    borrowers = ids.select("borrower_id", "phone", timezone=pl.lit("Asia/Shanghai"))
    payments = pl.DataFrame(schema=PAYMENT_SCHEMA)
    return {"borrowers": borrowers, "loans": loans, "installments": schedule,
            "payments": payments}  # fmt: skip


def write_feeds(tables: dict[str, pl.DataFrame], folder: Path) -> dict[str, Path]:
    """The book as CSV feeds (money in major units), by kind."""
    money = ("principal", "principal_due", "interest_due", "fee_due", "amount")
    paths = {}
    for kind in ("borrowers", "loans", "installments"):
        frame = (
            tables[kind]
            .with_columns(
                pl.col(c).map_elements(format_amount, return_dtype=pl.String)
                for c in money
                if c in tables[kind].columns
            )
            .drop("penalty_rate", strict=False)
        )
        if kind == "borrowers":  # (the feed asks a name; a Parquet book does not)
            frame = frame.with_columns(name=pl.col("borrower_id"))
        paths[kind] = folder / f"{kind}.csv"
        frame.write_csv(paths[kind])
    return paths


AMOUNTS = ("interest_posted", "penalty_posted", "fees_posted", "cap_cut")


def assert_exact_totals(summary: dict[str, Any], pair: dict[str, Any]) -> None:
    """The run's totals are the book's to the fen, nothing wrapped: the loans of each
    currency are alike, so each total is HALF times that of a book of one loan of each
    (`pair`'s summary), and the dollars' interest is posted whole."""
    usd = HALF * INSTALMENTS * MOST
    assert summary["by_currency"]["USD"]["interest_posted"] == format_amount(usd)
    for key in AMOUNTS:
        assert summary[key] == format_amount(HALF * parse_amount(pair[key])), key
        for currency in ("CNY", "USD"):
            mine, one = summary["by_currency"][currency], pair["by_currency"][currency]
            assert mine[key] == format_amount(HALF * parse_amount(one[key])), (currency, key)
