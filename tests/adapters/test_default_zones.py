"""A borrower's default zone: the contact pack's of the jurisdiction of their first loan's
product, whether the products come as texts (the loans input) or categories (the loan table)."""

from datetime import date

import polars as pl
import pytest

from arrears.adapters.book_tables import with_default_zone
from arrears.adapters.parquet_store import pack_zones
from arrears.bootstrap import build_app

BORROWERS = pl.DataFrame({
    "borrower_id": ["B1", "B2", "B3", "B4"],
    "phone": ["+8613800000001", "+12125550100", "+447700900123", "+8613800000004"],
    "timezone": [None, None, None, "Asia/Urumqi"],
})  # fmt: skip
# B2's first loan is American, B3's British; B4 has none.
LOANS = pl.DataFrame({
    "loan_id": ["L1", "L2", "L3", "L4", "L5"],
    "borrower_id": ["B1", "B2", "B2", "B3", "B1"],
    "product": ["cn-cash", "us-installment", "cn-cash", "uk-installment", "us-installment"],
})  # fmt: skip


@pytest.mark.parametrize("product", [pl.String(), pl.Categorical()])
def test_each_borrower_takes_the_zone_of_their_first_loans_jurisdiction(
    product: pl.DataType,
) -> None:
    terms = build_app(None, None).run_context(date(2025, 11, 18)).terms
    loans = LOANS.with_columns(pl.col("product").cast(product))
    zoned = with_default_zone(BORROWERS, loans, terms, pack_zones())
    assert zoned.select("borrower_id", "default_zone").sort("borrower_id").rows() == [
        ("B1", "Asia/Shanghai"), ("B2", "America/New_York"), ("B3", "Europe/London"),
        ("B4", "Asia/Shanghai"),  # no loan: the fallback zone
    ]  # fmt: skip
    assert zoned.get_column("timezone").to_list() == BORROWERS.get_column("timezone").to_list()


@pytest.mark.parametrize("product", [pl.String(), pl.Categorical()])
def test_a_book_of_one_jurisdiction_gives_every_borrower_its_zone(product: pl.DataType) -> None:
    terms = build_app(None, None).run_context(date(2025, 11, 18)).terms
    loans = LOANS.filter(pl.col("product") == "us-installment").with_columns(
        pl.col("product").cast(product)
    )
    zoned = with_default_zone(BORROWERS, loans, terms, pack_zones())
    assert set(zoned.get_column("default_zone")) == {"America/New_York"}
